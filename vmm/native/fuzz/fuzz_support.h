// fuzz_support.h — what the fuzz targets share: a failed property ends the run like a crash
// (libFuzzer saves the input), and the little-endian field access of the snapshot files.
#ifndef FN_FUZZ_SUPPORT_H
#define FN_FUZZ_SUPPORT_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "snapshot_format.h"

// A property that must hold for every input. abort() so that libFuzzer reports a crash and
// writes the input to its artifact file.
#define FUZZ_CHECK(cond, what)                                                        \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "fuzz property failed at %s:%d: %s\n", __FILE__, __LINE__, what); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

namespace fuzz {

inline uint32_t get32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t get64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

// Stores the CRC of everything before the last four bytes, as a writer would. Without this the
// fuzzer would almost never get past the CRC check to the checks behind it.
inline void seal_crc(uint8_t* d, size_t n) {
  if (n >= 4) put32(d + n - 4, fn_crc32(0, d, n - 4));
}

}  // namespace fuzz

#endif
