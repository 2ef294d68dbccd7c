#include "host_clock.h"

#include <time.h>
#include <x86intrin.h>

namespace fnvmm {

namespace {
uint64_t clock_ns(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint32_t measure() {
  // Three 3 ms samples; keep the median to shrug off one preemption.
  uint64_t khz[3];
  for (uint64_t& k : khz) {
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    uint64_t c0 = __rdtsc();
    uint64_t t1;
    do {
      t1 = clock_ns(CLOCK_MONOTONIC);
    } while (t1 - t0 < 3000000);
    uint64_t c1 = __rdtsc();
    k = (c1 - c0) * 1000000ull / (t1 - t0);  // cycles per ms = kHz
  }
  if (khz[0] > khz[1]) { uint64_t t = khz[0]; khz[0] = khz[1]; khz[1] = t; }
  if (khz[1] > khz[2]) { uint64_t t = khz[1]; khz[1] = khz[2]; khz[2] = t; }
  if (khz[0] > khz[1]) { uint64_t t = khz[0]; khz[0] = khz[1]; khz[1] = t; }
  return khz[1] > 0xFFFFFFFFull ? 0 : static_cast<uint32_t>(khz[1]);
}
}  // namespace

uint64_t realtime_ns() { return clock_ns(CLOCK_REALTIME); }
uint64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }

uint32_t measured_tsc_khz() {
  static const uint32_t khz = measure();
  return khz;
}

}  // namespace fnvmm
