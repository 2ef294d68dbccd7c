// Golden snapshot files (vmm/native/testdata/golden/, values in golden_values.h) through the KVM
// core's own codecs: cpu.bin with decode_cpu_file/encode_cpu_file, pages.bin with
// decode_pages_file/encode_pages_file. Each file is read, its values checked, and written again
// byte for byte. FN_WRITE_GOLDEN=1 writes them instead (done once, for format version 1; never to
// make a failing test pass: snapshots on users' disks look exactly like these files).
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../cpu_state.h"
#include "../errors.h"
#include "../long_mode.h"
#include "../snapshot_files.h"
#include "check.h"
#include "fn_abi.h"
#include "golden_values.h"

#ifndef FN_GOLDEN_DIR
#error "FN_GOLDEN_DIR must name vmm/native/testdata/golden (the Makefile defines it)"
#endif

using namespace fnvmm;

namespace {

std::string golden_path(const char* name) { return std::string(FN_GOLDEN_DIR) + "/" + name; }

std::vector<uint8_t> read_golden(const char* name) {
  std::ifstream in(golden_path(name), std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool writing() { return std::getenv("FN_WRITE_GOLDEN") != nullptr; }

void write_golden(const char* name, const std::vector<uint8_t>& b) {
  std::ofstream out(golden_path(name), std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

SnapshotId seeded_id(uint8_t seed) {
  SnapshotId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(seed + i);
  return id;
}

std::vector<PageRun> golden_runs() {
  const uint64_t runs[][2] = GOLDEN_LAYERED_RUNS;
  std::vector<PageRun> v;
  for (const auto& r : runs) v.push_back({r[0], r[1]});
  return v;
}

CpuState golden_kvm_state() {
  CpuState s;
  long_mode::setup_sregs(s.sregs);
  s.sregs.apic_base = 0xfee00900;
  s.regs = long_mode::initial_regs(GuestAddress(0x401000), GOLDEN_MEM_SIZE);
  s.regs.rax = GOLDEN_RAX;
  s.regs.r14 = GOLDEN_R14;
  s.regs.rip = GOLDEN_RIP;
  s.xsave.assign(GOLDEN_XSAVE_BYTES, 0);
  for (size_t i = 0; i < s.xsave.size(); ++i) s.xsave[i] = static_cast<uint8_t>(i * 7);
  s.msrs = {{long_mode::kMsrStar, 0x0010000800000000ull}, {long_mode::kMsrLstar, FN_SYSCALL_STUB_ADDR},
            {long_mode::kMsrSfmask, long_mode::kSfmask}, {kMsrTsc, GOLDEN_TSC_MSR_VALUE}};
  s.features = {{1, 0, 2, 0x40000000}, {7, 0, 1, 0x209}};
  s.tsc_khz = GOLDEN_TSC_KHZ;
  return s;
}

}  // namespace

TEST(golden_pages_files_decode_and_encode_byte_for_byte) {
  if (writing()) {
    write_golden("pages-full.bin",
                 encode_pages_file(PagesFile{false, GOLDEN_MEM_SIZE, seeded_id(GOLDEN_FULL_ID_SEED), {}, GOLDEN_FULL_DATA_PAGES, {}}));
    write_golden("pages-layered.bin",
                 encode_pages_file(PagesFile{true, GOLDEN_MEM_SIZE, seeded_id(GOLDEN_LAYERED_ID_SEED),
                                             seeded_id(GOLDEN_FULL_ID_SEED), GOLDEN_LAYERED_DATA_PAGES, golden_runs()}));
  }
  const std::vector<uint8_t> full = read_golden("pages-full.bin");
  const PagesFile f = decode_pages_file(full.data(), full.size(), GOLDEN_MEM_SIZE, "pages-full.bin");
  CHECK(!f.layered);
  CHECK(f.id == seeded_id(GOLDEN_FULL_ID_SEED));
  CHECK(f.base_id.is_zero());
  CHECK_EQ(f.data_pages, GOLDEN_FULL_DATA_PAGES);
  CHECK(f.runs.empty());
  CHECK(encode_pages_file(f) == full);

  const std::vector<uint8_t> layered = read_golden("pages-layered.bin");
  const PagesFile l = decode_pages_file(layered.data(), layered.size(), GOLDEN_MEM_SIZE, "pages-layered.bin");
  CHECK(l.layered);
  CHECK(l.id == seeded_id(GOLDEN_LAYERED_ID_SEED));
  CHECK(l.base_id == seeded_id(GOLDEN_FULL_ID_SEED));
  CHECK_EQ(l.data_pages, GOLDEN_LAYERED_DATA_PAGES);
  CHECK(l.runs == golden_runs());
  CHECK_EQ(run_pages(l.runs), GOLDEN_LAYERED_DIFF_PAGES);
  CHECK(encode_pages_file(l) == layered);
}

TEST(golden_kvm_cpu_file_decodes_and_encodes_byte_for_byte) {
  if (writing())
    write_golden("cpu-kvm.bin", encode_cpu_file(golden_kvm_state(), CpuFileInfo{seeded_id(GOLDEN_FULL_ID_SEED), GOLDEN_MEM_SIZE}));
  const std::vector<uint8_t> b = read_golden("cpu-kvm.bin");
  CpuFileInfo info;
  const CpuState s = decode_cpu_file(b.data(), b.size(), GOLDEN_MEM_SIZE, "cpu-kvm.bin", &info);
  CHECK(info.id == seeded_id(GOLDEN_FULL_ID_SEED));
  CHECK_EQ(info.mem_size, GOLDEN_MEM_SIZE);
  CHECK_EQ(s.regs.rip, GOLDEN_RIP);
  CHECK_EQ(s.regs.rax, GOLDEN_RAX);
  CHECK_EQ(s.regs.r14, GOLDEN_R14);
  CHECK_EQ(s.sregs.cs.selector & 3, 3u);
  CHECK_EQ(s.tsc_khz, GOLDEN_TSC_KHZ);
  CHECK_EQ(s.xsave.size(), GOLDEN_XSAVE_BYTES);
  bool pattern = s.xsave.size() == GOLDEN_XSAVE_BYTES;
  for (size_t i = 0; pattern && i < s.xsave.size(); ++i) pattern = s.xsave[i] == static_cast<uint8_t>(i * 7);
  CHECK(pattern);
  CHECK_EQ(s.msrs.size(), 4u);
  CHECK(s.msrs.size() == 4 && s.msrs[3].index == kMsrTsc && s.msrs[3].value == GOLDEN_TSC_MSR_VALUE);
  CHECK_EQ(s.features.size(), 2u);
  CHECK(s.features.size() == 2 && s.features[1].function == 7 && s.features[1].bits == 0x209);
  CHECK(encode_cpu_file(s, info) == b);
}

// The same files through snapshot_format.h from C (test_golden_c.c), as the ptrace VMM reads them.
extern "C" int golden_files_check_in_c(const char* dir);

TEST(golden_files_decode_and_encode_byte_for_byte_from_c) {
  const int failures = golden_files_check_in_c(FN_GOLDEN_DIR);
  CHECK_MSG(failures == 0, "%d checks failed in test_golden_c.c (printed above)", failures);
}
