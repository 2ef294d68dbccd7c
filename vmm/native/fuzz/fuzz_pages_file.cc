// fuzz_pages_file — pages.bin as a restore reads it (snapshot_format.c through the C++ wrapper of
// snapshot_files.cc). The file comes from disk, where anything may have written it: every input
// must be refused with a SnapshotError or accepted, and an accepted file must encode back to
// exactly its own bytes (the format has no slack a writer could fill differently).
//
// Each input is decoded twice: as it is (magic, length and CRC refusals), then with its run count
// and CRC repaired and its own mem_size expected, so the fuzzer reaches the checks behind them.
#include <vector>

#include "errors.h"
#include "fuzz_support.h"
#include "snapshot_files.h"

using namespace fnvmm;

static void decode_one(const uint8_t* d, size_t n, uint64_t mem) {
  fn_pages_info info{};
  fn_snapshot_refusal why{};
  const int rc = fn_pages_decode(d, n, mem, &info, &why);
  PagesFile f;
  bool accepted = false;
  try {
    f = decode_pages_file(d, n, mem, "pages.bin");
    accepted = true;
  } catch (const SnapshotError& e) {
    FUZZ_CHECK(rc != 0, "the C++ wrapper refused a file the C codec accepted");
    FUZZ_CHECK(!e.name().empty() && !e.reason().empty() && std::strlen(e.what()) > 0, "a refusal without a name, reason or message");
  }
  if (!accepted) return;
  FUZZ_CHECK(rc == 0, "the C++ wrapper accepted a file the C codec refused");
  FUZZ_CHECK(f.mem_size == mem && f.runs.size() == info.run_count, "decoded fields differ from the codec's");
  uint64_t next = 0;
  for (const PageRun& r : f.runs) {
    FUZZ_CHECK(r.count > 0 && r.first >= next && (r.first + r.count) * FN_SNAPSHOT_PAGE_SIZE <= mem,
               "an accepted run is empty, out of order or past the end of RAM");
    next = r.first + r.count;
  }
  const std::vector<uint8_t> again = encode_pages_file(f);
  FUZZ_CHECK(again.size() == n && std::memcmp(again.data(), d, n) == 0, "an accepted pages.bin does not encode back to its bytes");
  uint8_t id[FN_SNAPSHOT_ID_BYTES];
  FUZZ_CHECK(fn_pages_peek_id(d, n, id) == 0 && std::memcmp(id, f.id.bytes.data(), sizeof id) == 0, "peek_id disagrees");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  decode_one(data, size, 64ull << 20);
  uint8_t id[FN_SNAPSHOT_ID_BYTES];
  (void)fn_pages_peek_id(data, size, id);
  if (size < FN_PAGES_HEADER_BYTES + 4) return 0;
  // Repaired: the run count that fits the length, the CRC, and the RAM size the file names.
  const size_t runs = (size - FN_PAGES_HEADER_BYTES - 4) / 8;
  std::vector<uint8_t> fixed(data, data + FN_PAGES_HEADER_BYTES + runs * 8 + 4);
  fuzz::put32(fixed.data() + 28, static_cast<uint32_t>(runs));
  fuzz::seal_crc(fixed.data(), fixed.size());
  decode_one(fixed.data(), fixed.size(), fuzz::get64(fixed.data() + 16));
  return 0;
}
