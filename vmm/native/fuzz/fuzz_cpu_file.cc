// fuzz_cpu_file — cpu.bin as a KVM restore reads it: the envelope (snapshot_format.c) and KVM's
// tagged sections (cpu_state.cc). A crafted cpu.bin is how a poisoned snapshot would try to start
// a guest at CPL0 or with the host's system tables, so besides "refused or accepted, never a
// crash", an accepted file must hold a CPL3 long-mode guest's registers, and encoding what was
// decoded must give a file that decodes to the same state.
//
// Each input is decoded as it is, then with its length field and CRC repaired and its own
// mem_size and ABI version expected, so the fuzzer reaches the section parser.
#include <vector>

#include "cpu_state.h"
#include "errors.h"
#include "fn_abi.h"
#include "fuzz_support.h"

using namespace fnvmm;

static bool decode(const uint8_t* d, size_t n, uint64_t mem, CpuState* s, CpuFileInfo* info) {
  try {
    *s = decode_cpu_file(d, n, mem, "cpu.bin", info);
    return true;
  } catch (const SnapshotError& e) {
    FUZZ_CHECK(!e.name().empty() && !e.reason().empty() && std::strlen(e.what()) > 0, "a refusal without a name, reason or message");
    return false;
  }
}

static void decode_one(const uint8_t* d, size_t n, uint64_t mem) {
  CpuState s;
  CpuFileInfo info;
  if (!decode(d, n, mem, &s, &info)) return;
  FUZZ_CHECK((s.sregs.cs.selector & 3) == 3 && (s.sregs.ss.selector & 3) == 3 && s.sregs.cs.l == 1,
             "an accepted cpu.bin runs the guest outside CPL3 long mode");
  FUZZ_CHECK(s.regs.rip < mem, "an accepted cpu.bin starts the guest outside its RAM");
  FUZZ_CHECK(s.xsave.empty() || s.xsave.size() >= kXsaveRegionBytes, "an accepted XSAVE area is short");
  const std::vector<uint8_t> once = encode_cpu_file(s, info);
  CpuState t;
  CpuFileInfo info2;
  FUZZ_CHECK(decode(once.data(), once.size(), mem, &t, &info2), "a re-encoded cpu.bin is refused");
  const std::vector<uint8_t> twice = encode_cpu_file(t, info2);
  FUZZ_CHECK(once == twice, "decode and encode of cpu.bin do not round-trip");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  decode_one(data, size, 64ull << 20);
  if (size < FN_CPU_HEADER_BYTES + 4) return 0;
  std::vector<uint8_t> fixed(data, data + size);
  fuzz::put32(fixed.data() + 12, static_cast<uint32_t>(size));
  fuzz::put32(fixed.data() + 48, FN_ABI_VERSION);
  fuzz::seal_crc(fixed.data(), fixed.size());
  decode_one(fixed.data(), fixed.size(), fuzz::get64(fixed.data() + 40));
  return 0;
}
