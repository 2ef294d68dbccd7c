// Snapshot files and page work without KVM: cpu.bin and pages.bin round trips and refusals, the
// sparse memory image (holes really are holes), diffs against a base, the restore mapping plan and
// its mappings over real files, reset's page work and the window scrub.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../cpu_state.h"
#include "../errors.h"
#include "../guest_memory.h"
#include "../long_mode.h"
#include "../memory_image.h"
#include "../memory_snapshot.h"
#include "../page_bitmap.h"
#include "../snapshot_files.h"
#include "check.h"
#include "fn_abi.h"

using namespace fnvmm;

namespace {

constexpr uint64_t kMem = 64ull << 20;
constexpr uint64_t kPages = kMem / kPageSize;

// A temporary directory, removed with everything in it.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/fn-snapshot-test-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    path = p ? p : "";
  }
  ~TempDir() {
    if (!path.empty()) std::system(("rm -rf '" + path + "'").c_str());
  }
  std::string file(const char* name) const { return join_path(path, name); }
};

// Runs `stmt`, expects a SnapshotError with that name (and reason, if given).
#define CHECK_SNAPSHOT_ERROR(stmt, want_name, want_reason)                                                    \
  do {                                                                                                        \
    bool thrown_ = false;                                                                                     \
    try {                                                                                                     \
      stmt;                                                                                                   \
    } catch (const SnapshotError& e_) {                                                                       \
      thrown_ = true;                                                                                         \
      CHECK_MSG(e_.name() == (want_name), "name %s, expected %s: %s", e_.name().c_str(), want_name, e_.what()); \
      const char* r_ = (want_reason);                                                                         \
      CHECK_MSG(r_ == nullptr || e_.reason() == r_, "reason %s, expected %s: %s", e_.reason().c_str(),        \
                r_ ? r_ : "", e_.what());                                                                     \
    }                                                                                                         \
    CHECK_MSG(thrown_, "expected a SnapshotError from: %s", #stmt);                                           \
  } while (0)

// A CPU state as a snapshot of this VMM would hold it, every field distinct.
CpuState sample_state(bool xsave) {
  CpuState s;
  kvm_sregs sr{};
  long_mode::setup_sregs(sr);
  sr.apic_base = 0xfee00900;
  s.sregs = sr;
  s.regs = long_mode::initial_regs(GuestAddress(0x401000), kMem);
  s.regs.rax = 0x1111;
  s.regs.r14 = 42;
  s.regs.rip = 0x401011;
  if (xsave) {
    s.xsave.assign(4096, 0);
    for (size_t i = 0; i < s.xsave.size(); ++i) s.xsave[i] = static_cast<uint8_t>(i * 7);
  } else {
    s.fpu = long_mode::initial_fpu();
    s.fpu.xmm[3][5] = 0x77;
  }
  s.msrs = {{long_mode::kMsrStar, 0x0010000800000000ull}, {long_mode::kMsrLstar, FN_SYSCALL_STUB_ADDR},
            {long_mode::kMsrSfmask, long_mode::kSfmask}, {kMsrTsc, 123456789}};
  s.features = {{1, 0, 2, 0x40000000}, {7, 0, 1, 0x209}};
  s.tsc_khz = 2500000;
  return s;
}

SnapshotId id_of(uint8_t seed) {
  SnapshotId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(seed + i);
  return id;
}

// Recomputes the length field and CRC of a cpu.bin after a test changed it, so that the check
// under test (not the CRC) is what refuses it.
void reseal_cpu(std::vector<uint8_t>& b) {
  uint32_t len = static_cast<uint32_t>(b.size());
  std::memcpy(&b[12], &len, 4);
  uint32_t crc = crc32(0, b.data(), b.size() - 4);
  std::memcpy(&b[b.size() - 4], &crc, 4);
}
void reseal_pages(std::vector<uint8_t>& b) {
  uint32_t crc = crc32(0, b.data(), b.size() - 4);
  std::memcpy(&b[b.size() - 4], &crc, 4);
}

CpuState decode(const std::vector<uint8_t>& b, CpuFileInfo* info = nullptr) {
  return decode_cpu_file(b.data(), b.size(), kMem, "cpu.bin", info);
}

// Where the sections start (after the 56-byte header): {offset of the tag, tag}.
std::vector<std::pair<size_t, uint32_t>> sections(const std::vector<uint8_t>& b) {
  std::vector<std::pair<size_t, uint32_t>> out;
  for (size_t pos = 56; pos + 8 <= b.size() - 4;) {
    uint32_t tag, len;
    std::memcpy(&tag, &b[pos], 4);
    std::memcpy(&len, &b[pos + 4], 4);
    out.push_back({pos, tag});
    pos += 8 + ((len + 7) & ~7u);
  }
  return out;
}

// An anonymous mapping of guest RAM size.
struct Ram {
  uint8_t* p;
  uint64_t size;
  explicit Ram(uint64_t s = kMem) : size(s) {
    void* m = ::mmap(nullptr, s, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    p = m == MAP_FAILED ? nullptr : static_cast<uint8_t*>(m);
  }
  ~Ram() {
    if (p) ::munmap(p, size);
  }
  uint8_t* page(uint64_t n) { return p + n * kPageSize; }
};

void fill_page(uint8_t* page, uint8_t seed) {
  for (uint64_t i = 0; i < kPageSize; ++i) page[i] = static_cast<uint8_t>(seed + i * 13);
}
bool page_is(const uint8_t* page, uint8_t seed) {
  for (uint64_t i = 0; i < kPageSize; ++i)
    if (page[i] != static_cast<uint8_t>(seed + i * 13)) return false;
  return true;
}

// Writes a sparse memory file of kMem bytes with `pages` filled (page number → seed).
void write_image(const std::string& path, const std::vector<std::pair<uint64_t, uint8_t>>& pages, uint64_t size = kMem) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) std::abort();
  uint8_t buf[kPageSize];
  for (const auto& pg : pages) {
    fill_page(buf, pg.second);
    if (::pwrite(fd, buf, kPageSize, static_cast<off_t>(pg.first * kPageSize)) != static_cast<ssize_t>(kPageSize)) std::abort();
  }
  ::close(fd);
}

uint64_t allocated_bytes(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : ~0ull;
}

}  // namespace

// ---- cpu.bin -----------------------------------------------------------------------------------

TEST(cpu_file_round_trip_is_byte_exact) {
  for (bool xsave : {true, false}) {
    const CpuState s = sample_state(xsave);
    const CpuFileInfo info{id_of(9), kMem};
    const std::vector<uint8_t> a = encode_cpu_file(s, info);
    CHECK(std::memcmp(a.data(), "FNCPUST\0", 8) == 0);
    CHECK(std::memcmp(a.data() + 16, "kvm\0\0\0\0\0", 8) == 0);
    CpuFileInfo got_info;
    const CpuState d = decode(a, &got_info);
    CHECK(got_info.id == info.id && got_info.mem_size == kMem);
    CHECK(std::memcmp(&d.regs, &s.regs, sizeof s.regs) == 0);
    CHECK(std::memcmp(&d.sregs, &s.sregs, sizeof s.sregs) == 0);
    CHECK(d.xsave == s.xsave);
    if (!xsave) CHECK(std::memcmp(&d.fpu, &s.fpu, sizeof s.fpu) == 0);
    CHECK_EQ(d.msrs.size(), s.msrs.size());
    CHECK_EQ(d.features.size(), s.features.size());
    CHECK_EQ(d.tsc_khz, s.tsc_khz);
    const std::vector<uint8_t> b = encode_cpu_file(d, got_info);  // save -> restore -> save
    CHECK(a == b);
    CHECK_EQ(a.size() % 4, 0u);
  }
}

TEST(cpu_file_refuses_wrong_magic_and_every_truncation) {
  const std::vector<uint8_t> good = encode_cpu_file(sample_state(true), CpuFileInfo{id_of(1), kMem});
  CHECK_SNAPSHOT_ERROR(decode({}), "SnapshotMagicError", "magic");
  CHECK_SNAPSHOT_ERROR(decode(std::vector<uint8_t>(good.size(), 0)), "SnapshotMagicError", "magic");
  std::vector<uint8_t> pages_file = encode_pages_file(PagesFile{false, kMem, id_of(1), {}, 0, {}});
  CHECK_SNAPSHOT_ERROR(decode(pages_file), "SnapshotMagicError", "magic");  // the other file
  for (size_t n = 1; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
    CHECK_SNAPSHOT_ERROR(decode(cut), "SnapshotTruncatedError", "truncated");
  }
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  CHECK_SNAPSHOT_ERROR(decode(longer), "SnapshotCorruptError", nullptr);
}

TEST(cpu_file_refuses_damage_before_believing_the_version) {
  const std::vector<uint8_t> good = encode_cpu_file(sample_state(true), CpuFileInfo{id_of(1), kMem});
  for (size_t at : {size_t{8}, size_t{20}, size_t{40}, size_t{60}, good.size() / 2, good.size() - 5, good.size() - 1}) {
    std::vector<uint8_t> b = good;
    b[at] ^= 0x01;
    CHECK_SNAPSHOT_ERROR(decode(b), "SnapshotCorruptError", "corrupt");
  }
}

TEST(cpu_file_refuses_other_versions_platforms_sizes_and_abis) {
  const std::vector<uint8_t> good = encode_cpu_file(sample_state(true), CpuFileInfo{id_of(1), kMem});
  std::vector<uint8_t> b = good;
  b[8] = 2;
  reseal_cpu(b);
  CHECK_SNAPSHOT_ERROR(decode(b), "SnapshotVersionError", "version");
  b = good;
  std::memcpy(&b[16], "ptrace\0\0", 8);
  reseal_cpu(b);
  CHECK_SNAPSHOT_ERROR(decode(b), "SnapshotError", "platform");
  CHECK_SNAPSHOT_ERROR(decode_cpu_file(good.data(), good.size(), kMem * 2, "cpu.bin", nullptr), "SnapshotError",
                       "memory_size");
  b = good;
  b[48] ^= 0x40;
  reseal_cpu(b);
  CHECK_SNAPSHOT_ERROR(decode(b), "SnapshotError", "abi");
}

TEST(cpu_file_refuses_bad_sections) {
  const std::vector<uint8_t> good = encode_cpu_file(sample_state(true), CpuFileInfo{id_of(1), kMem});
  const auto secs = sections(good);
  CHECK_EQ(secs.size(), 6u);  // REGS SREGS XSAVE MSRS CPUID TSC
  // An unknown tag, a duplicate, a wrong length.
  std::vector<uint8_t> b = good;
  b[secs[5].first] = 99;
  reseal_cpu(b);
  CHECK_SNAPSHOT_ERROR(decode(b), "SnapshotCorruptError", "corrupt");
  b = good;
  b[secs[5].first] = 1;  // TSC relabelled REGS: REGS twice
  reseal_cpu(b);
  CHECK_SNAPSHOT_ERROR(decode(b), "SnapshotCorruptError", "corrupt");
  b = good;
  b[secs[0].first + 4] -= 8;  // REGS 136 bytes
  reseal_cpu(b);
  CHECK_SNAPSHOT_ERROR(decode(b), "SnapshotCorruptError", "corrupt");
  // A missing section: the file without its TSC section.
  b.assign(good.begin(), good.begin() + static_cast<long>(secs[5].first));
  b.resize(b.size() + 4);
  reseal_cpu(b);
  CHECK_SNAPSHOT_ERROR(decode(b), "SnapshotCorruptError", "corrupt");
  // A state without STAR.
  CpuState s = sample_state(true);
  s.msrs.erase(s.msrs.begin());
  b = encode_cpu_file(s, CpuFileInfo{id_of(1), kMem});
  CHECK_SNAPSHOT_ERROR(decode(b), "SnapshotCorruptError", "corrupt");
  // Too small an XSAVE area.
  s = sample_state(true);
  s.xsave.resize(512);
  b = encode_cpu_file(s, CpuFileInfo{id_of(1), kMem});
  CHECK_SNAPSHOT_ERROR(decode(b), "SnapshotCorruptError", "corrupt");
}

TEST(cpu_file_refuses_a_state_that_is_not_a_cpl3_long_mode_guest) {
  CpuState s = sample_state(true);
  s.sregs.cs.selector = long_mode::kSelKernelCode;  // CPL0
  CHECK_SNAPSHOT_ERROR(decode(encode_cpu_file(s, CpuFileInfo{id_of(1), kMem})), "SnapshotCorruptError", "state");
  s = sample_state(true);
  s.sregs.efer = 0;  // not long mode
  CHECK_SNAPSHOT_ERROR(decode(encode_cpu_file(s, CpuFileInfo{id_of(1), kMem})), "SnapshotCorruptError", "state");
  s = sample_state(true);
  s.regs.rip = kMem;  // not in RAM
  CHECK_SNAPSHOT_ERROR(decode(encode_cpu_file(s, CpuFileInfo{id_of(1), kMem})), "SnapshotCorruptError", "state");
}

TEST(cpu_file_refuses_system_tables_that_are_not_this_vmms) {
  // Each would hand CPL0 to guest-writable memory: an IDT, GDT, TSS or page tables of its own.
  const std::vector<void (*)(CpuState&)> crafted = {
      [](CpuState& s) { s.sregs.idt.base = 0x600000; },
      [](CpuState& s) { s.sregs.idt.limit = 0xFFF; },
      [](CpuState& s) { s.sregs.gdt.base = 0x600000; },
      [](CpuState& s) { s.sregs.gdt.limit = 0xFFFF; },
      [](CpuState& s) { s.sregs.tr.base = 0x600000; },
      [](CpuState& s) { s.sregs.cr3 = 0x600000; },
  };
  for (auto craft : crafted) {
    CpuState s = sample_state(true);
    craft(s);
    CHECK_SNAPSHOT_ERROR(decode(encode_cpu_file(s, CpuFileInfo{id_of(1), kMem})), "SnapshotCorruptError", "state");
  }
  // What is fine: a snapshot from before the IDT existed (empty IDT), and TR as either type
  // (KVM on SVM reports it busy; the nested machine's switch loads it available).
  CpuState old = sample_state(true);
  old.sregs.idt = kvm_dtable{};
  CHECK(decode(encode_cpu_file(old, CpuFileInfo{id_of(1), kMem})).sregs.idt.limit == 0);
  CpuState avail = sample_state(true);
  avail.sregs.tr.type = 0x9;
  CHECK(decode(encode_cpu_file(avail, CpuFileInfo{id_of(1), kMem})).sregs.tr.type == 0x9);
}

TEST(same_sregs_compares_fields_not_padding) {
  kvm_sregs a{};
  long_mode::setup_sregs(a);
  kvm_sregs b = a;
  b.cs.padding = 0x55;
  b.gdt.padding[1] = 0x66;
  CHECK(same_sregs(a, b));
  b = a;
  b.fs.base = 0;
  CHECK(!same_sregs(a, b));
  b = a;
  b.ds.unusable = 1;
  CHECK(!same_sregs(a, b));
  b = a;
  b.cr2 = 0x1000;
  CHECK(!same_sregs(a, b));
}

TEST(cpu_features_are_recorded_and_checked_as_a_subset) {
  std::vector<kvm_cpuid_entry2> host(3);
  host[0] = kvm_cpuid_entry2{};
  host[0].function = 1;
  host[0].ecx = 0x40000000 | (1u << 27);  // rdrand, OSXSAVE (dynamic: not recorded)
  host[0].edx = 0x178bfbff;
  host[1] = kvm_cpuid_entry2{};
  host[1].function = 7;
  host[1].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
  host[1].ebx = 0x209;
  host[2] = kvm_cpuid_entry2{};
  host[2].function = 7;
  host[2].index = 1;
  host[2].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
  host[2].ebx = 0xffff;
  const std::vector<CpuFeature> rec = cpu_features(host);
  bool leaf1_ecx = false;
  for (const CpuFeature& f : rec) {
    if (f.function == 1 && f.reg == 2) {
      leaf1_ecx = true;
      CHECK_EQ(f.bits, 0x40000000u);
    }
    if (f.function == 7 && f.reg == 1) CHECK_EQ(f.bits, 0x209u);  // index 0, not index 1
  }
  CHECK(leaf1_ecx);
  CHECK(missing_cpu_features(rec, host).empty());
  std::vector<kvm_cpuid_entry2> weaker = host;
  weaker[0].ecx = 0;
  const std::string why = missing_cpu_features(rec, weaker);
  CHECK_MSG(fntest::contains(why, "CPUID.1:ECX") && fntest::contains(why, "40000000"), "%s", why.c_str());
  std::vector<kvm_cpuid_entry2> stronger = host;
  stronger[1].ebx = 0xffffffff;
  CHECK(missing_cpu_features(rec, stronger).empty());
}

// ---- pages.bin ---------------------------------------------------------------------------------

TEST(pages_file_round_trip) {
  PagesFile f;
  f.layered = true;
  f.mem_size = kMem;
  f.id = id_of(3);
  f.base_id = id_of(40);
  f.data_pages = 7;
  f.runs = {{1, 2}, {5, 1}, {100, 30}};
  const std::vector<uint8_t> b = encode_pages_file(f);
  CHECK_EQ(b.size(), kPagesHeaderBytes + 3 * 8 + 4);
  CHECK(std::memcmp(b.data(), "FNPAGES\0", 8) == 0);
  const PagesFile d = decode_pages_file(b.data(), b.size(), kMem, "pages.bin");
  CHECK(d.layered && d.id == f.id && d.base_id == f.base_id && d.data_pages == 7 && d.runs == f.runs);
  CHECK(encode_pages_file(d) == b);
  PagesFile full;
  full.mem_size = kMem;
  full.id = id_of(4);
  const std::vector<uint8_t> fb = encode_pages_file(full);
  CHECK_EQ(fb.size(), kPagesHeaderBytes + 4);
  const PagesFile fd = decode_pages_file(fb.data(), fb.size(), kMem, "pages.bin");
  CHECK(!fd.layered && fd.runs.empty() && fd.base_id.is_zero());
}

TEST(pages_file_refusals) {
  PagesFile f;
  f.layered = true;
  f.mem_size = kMem;
  f.id = id_of(3);
  f.runs = {{1, 2}, {5, 1}};
  const std::vector<uint8_t> good = encode_pages_file(f);
  auto dec = [&](const std::vector<uint8_t>& b) { return decode_pages_file(b.data(), b.size(), kMem, "pages.bin"); };
  CHECK_SNAPSHOT_ERROR(dec({}), "SnapshotMagicError", "magic");
  CHECK_SNAPSHOT_ERROR(dec(encode_cpu_file(sample_state(true), CpuFileInfo{id_of(1), kMem})), "SnapshotMagicError", "magic");
  for (size_t n = 1; n < good.size(); ++n)
    CHECK_SNAPSHOT_ERROR(dec(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(n))),
                         "SnapshotTruncatedError", "truncated");
  std::vector<uint8_t> b = good;
  b[kPagesHeaderBytes + 2] ^= 1;
  CHECK_SNAPSHOT_ERROR(dec(b), "SnapshotCorruptError", "corrupt");
  b = good;
  b[8] = 2;
  reseal_pages(b);
  CHECK_SNAPSHOT_ERROR(dec(b), "SnapshotVersionError", "version");
  b = good;
  b[12] |= 4;  // an unknown flag
  reseal_pages(b);
  CHECK_SNAPSHOT_ERROR(dec(b), "SnapshotVersionError", "version");
  CHECK_SNAPSHOT_ERROR(decode_pages_file(good.data(), good.size(), kMem / 2, "pages.bin"), "SnapshotError", "memory_size");
  auto with_runs = [&](std::vector<PageRun> runs, bool layered = true) {
    PagesFile g = f;
    g.layered = layered;
    g.runs = std::move(runs);
    return encode_pages_file(g);
  };
  CHECK_SNAPSHOT_ERROR(dec(with_runs({{5, 1}, {1, 2}})), "SnapshotCorruptError", "corrupt");          // unsorted
  CHECK_SNAPSHOT_ERROR(dec(with_runs({{1, 5}, {4, 2}})), "SnapshotCorruptError", "corrupt");          // overlapping
  CHECK_SNAPSHOT_ERROR(dec(with_runs({{1, 0}})), "SnapshotCorruptError", "corrupt");                  // empty
  CHECK_SNAPSHOT_ERROR(dec(with_runs({{kPages - 1, 2}})), "SnapshotCorruptError", "corrupt");         // past RAM
  CHECK_SNAPSHOT_ERROR(dec(with_runs({{1, 2}}, false)), "SnapshotCorruptError", "corrupt");           // runs, not layered
  CHECK(dec(with_runs({{1, 2}, {3, 1}})).runs.size() == 2);                                          // touching is fine
  b = good;
  b[72] += 1;  // diff pages disagree with the runs
  reseal_pages(b);
  CHECK_SNAPSHOT_ERROR(dec(b), "SnapshotCorruptError", "corrupt");
}

// ---- files and the sparse memory image ----------------------------------------------------------

TEST(staged_file_is_invisible_until_published_and_gone_if_not) {
  TempDir dir;
  {
    StagedFile f(dir.path, "x.bin");
    f.write_at("abc", 3, 0);
    CHECK(::access(dir.file("x.bin").c_str(), F_OK) != 0);
  }
  CHECK(std::system(("test -z \"$(ls -A '" + dir.path + "')\"").c_str()) == 0);  // the temporary went too
  {
    StagedFile f(dir.path, "x.bin");
    f.write_at("abc", 3, 0);
    f.sync();
    f.publish();
  }
  std::vector<uint8_t> got = read_small_file(dir.file("x.bin"), 16, "x");
  CHECK(got.size() == 3 && got[0] == 'a');
  CHECK_SNAPSHOT_ERROR(read_small_file(dir.file("x.bin"), 2, "x"), "SnapshotCorruptError", "size");
  CHECK_SNAPSHOT_ERROR(read_small_file(dir.file("nope"), 2, "x"), "SnapshotError", "missing");
  CHECK_SNAPSHOT_ERROR(StagedFile(dir.file("no/such"), "y"), "SnapshotError", "io");
  CHECK_SNAPSHOT_ERROR(ensure_directory(dir.file("x.bin")), "SnapshotError", "io");
}

TEST(memory_image_is_exactly_mem_size_with_holes_for_unwritten_pages) {
  TempDir dir;
  Ram ram;
  CHECK(ram.p != nullptr);
  PageBitmap write(kPages);
  for (uint64_t p : {uint64_t{16}, uint64_t{17}, uint64_t{18}, uint64_t{4000}, kPages - 1}) {
    fill_page(ram.page(p), static_cast<uint8_t>(p));
    write.set(p);
  }
  fill_page(ram.page(20), 1);  // not selected: must not be written
  uint64_t bytes;
  {
    StagedFile f(dir.path, kMemoryFileName);
    bytes = write_memory_image(f, ram.p, kMem, write);
    f.sync();
    f.publish();
  }
  CHECK_EQ(bytes, 5 * kPageSize);
  const std::string path = dir.file(kMemoryFileName);
  struct stat st;
  CHECK(::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == kMem);
  CHECK_MSG(allocated_bytes(path) <= bytes + (64u << 10), "%llu bytes allocated for %llu written",
            (unsigned long long)allocated_bytes(path), (unsigned long long)bytes);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  uint8_t buf[kPageSize];
  for (uint64_t p : {uint64_t{16}, uint64_t{18}, uint64_t{4000}, kPages - 1}) {
    CHECK(::pread(fd, buf, kPageSize, static_cast<off_t>(p * kPageSize)) == static_cast<ssize_t>(kPageSize));
    CHECK_MSG(page_is(buf, static_cast<uint8_t>(p)), "page %llu", (unsigned long long)p);
  }
  CHECK(::pread(fd, buf, kPageSize, 20 * kPageSize) == static_cast<ssize_t>(kPageSize) && is_zero_page(buf));
  // SEEK_DATA sees exactly the written pages (ext4, xfs, btrfs, tmpfs report holes page-exactly).
  const PageBitmap data = file_data_pages(fd, kMem);
  CHECK_MSG(data == write, "file_data_pages found %llu pages", (unsigned long long)data.count());
  ::close(fd);
}

TEST(select_snapshot_pages_full_and_diff) {
  Ram ram, base;
  // RAM: 1 same as base, 2 changed, 3 zero where the base has data, 4 new, 5 zero and not in base.
  fill_page(ram.page(1), 1);
  fill_page(base.page(1), 1);
  fill_page(ram.page(2), 2);
  fill_page(base.page(2), 99);
  fill_page(base.page(3), 3);
  fill_page(ram.page(4), 4);
  fill_page(ram.page(9), 9);  // not a candidate: never looked at
  PageBitmap cand(kPages);
  for (uint64_t p : {1, 2, 3, 4, 5}) cand.set(p);

  SnapshotPages full = select_snapshot_pages(ram.p, kMem, cand, nullptr);
  CHECK_EQ(full.data_pages, 3u);
  CHECK(full.write.test(1) && full.write.test(2) && full.write.test(4) && !full.write.test(3) && !full.write.test(9));
  CHECK(full.diff.empty());

  SnapshotPages diff = select_snapshot_pages(ram.p, kMem, cand, base.p);
  CHECK_EQ(diff.data_pages, 3u);
  CHECK(diff.diff == (std::vector<PageRun>{{2, 3}}));  // 2, 3 (now zero: listed, a hole), 4
  CHECK(diff.write.test(2) && !diff.write.test(3) && diff.write.test(4) && !diff.write.test(1));
}

// ---- the restore plan and its mappings ---------------------------------------------------------

TEST(restore_plan_maps_the_base_then_each_run) {
  using L = LayerMapping::Layer;
  std::vector<LayerMapping> plan = plan_layer_mappings(kMem, kMem, -1, {});
  CHECK(plan == (std::vector<LayerMapping>{{L::Base, 0, kMem}}));
  plan = plan_layer_mappings(kMem, kMem + 4096, kMem, {{1, 2}, {3, 1}, {10, 5}});
  CHECK(plan == (std::vector<LayerMapping>{{L::Base, 0, kMem}, {L::Diff, 4096, 3 * 4096}, {L::Diff, 10 * 4096, 5 * 4096}}));
}

TEST(restore_plan_refuses_short_files_and_bad_runs) {
  CHECK_SNAPSHOT_ERROR(plan_layer_mappings(kMem, kMem - 4096, -1, {}), "SnapshotMemoryFileError", "size");
  CHECK_SNAPSHOT_ERROR(plan_layer_mappings(kMem, kMem, kMem - 1, {{1, 1}}), "SnapshotMemoryFileError", "size");
  CHECK_SNAPSHOT_ERROR(plan_layer_mappings(kMem, kMem, -1, {{1, 1}}), "SnapshotCorruptError", "layout");
  CHECK_SNAPSHOT_ERROR(plan_layer_mappings(kMem, kMem, kMem, {{kPages, 1}}), "SnapshotCorruptError", "corrupt");
  CHECK_SNAPSHOT_ERROR(plan_layer_mappings(kMem, kMem, kMem, {{kPages - 1, 2}}), "SnapshotCorruptError", "corrupt");
  CHECK_SNAPSHOT_ERROR(plan_layer_mappings(kMem, kMem, kMem, {{3, 2}, {4, 1}}), "SnapshotCorruptError", "corrupt");
  CHECK_SNAPSHOT_ERROR(plan_layer_mappings(kMem, kMem, kMem, {{3, 0}}), "SnapshotCorruptError", "corrupt");
  CHECK_SNAPSHOT_ERROR(plan_layer_mappings(0, 0, -1, {}), "SnapshotError", "memory_size");
}

TEST(memory_image_composes_base_and_diff_and_maps_it_private) {
  TempDir dir;
  const std::string base = dir.file("base.img"), diff = dir.file("diff.img");
  write_image(base, {{1, 11}, {2, 12}, {3, 13}, {50, 50}});
  // The diff replaces pages 2..4 and 50: 2 with new data, 3 with zeros (a hole), 4 new; 50 new.
  write_image(diff, {{2, 22}, {4, 24}, {50, 55}, {60, 66}});  // 60 is outside the runs: ignored
  const std::vector<PageRun> runs = {{2, 3}, {50, 1}};
  std::shared_ptr<const MemoryImage> img = MemoryImage::open(kMem, base, diff, runs);
  CHECK(img->layered() && img->pages() == kPages);
  const uint8_t* v = img->view();
  CHECK(page_is(v + 1 * kPageSize, 11));
  CHECK(page_is(v + 2 * kPageSize, 22));
  CHECK(is_zero_page(v + 3 * kPageSize));  // a hole in the diff overrides base data
  CHECK(page_is(v + 4 * kPageSize, 24));
  CHECK(page_is(v + 50 * kPageSize, 55));
  CHECK(is_zero_page(v + 60 * kPageSize));
  PageBitmap want(kPages);
  for (uint64_t p : {1, 2, 4, 50}) want.set(p);
  CHECK_MSG(img->data() == want, "data pages: %llu", (unsigned long long)img->data().count());

  MmapRegion ram = img->map_private();
  CHECK(std::memcmp(ram.host(), v, kMem) == 0);
  fill_page(ram.host() + 1 * kPageSize, 77);  // private: the file keeps its page
  CHECK(page_is(v + 1 * kPageSize, 11));
  std::shared_ptr<const MemoryImage> again = MemoryImage::open(kMem, base, diff, runs);
  CHECK(again.get() == img.get());  // shared by every VM of the process running from these files
  CHECK(MemoryImage::open(kMem, base, "", {}).get() != img.get());
}

TEST(memory_image_refuses_short_missing_and_odd_files) {
  TempDir dir;
  const std::string shortf = dir.file("short.img");
  write_image(shortf, {{1, 1}}, kMem - kPageSize);
  CHECK_SNAPSHOT_ERROR(MemoryImage::open(kMem, shortf, "", {}), "SnapshotMemoryFileError", "size");
  const std::string good = dir.file("good.img");
  write_image(good, {{1, 1}});
  CHECK_SNAPSHOT_ERROR(MemoryImage::open(kMem, good, shortf, {{1, 1}}), "SnapshotMemoryFileError", "size");
  CHECK_SNAPSHOT_ERROR(MemoryImage::open(kMem, dir.file("missing.img"), "", {}), "SnapshotMemoryFileError", "missing");
  CHECK_SNAPSHOT_ERROR(MemoryImage::open(kMem, dir.path, "", {}), "SnapshotMemoryFileError", "size");  // a directory
  CHECK_SNAPSHOT_ERROR(MemoryImage::open(kMem, good, good, {{kPages, 1}}), "SnapshotCorruptError", "corrupt");
}

// ---- reset's page work and the window ----------------------------------------------------------

TEST(reset_pages_copies_changed_pages_and_zeroes_or_drops_first_touched_ones) {
  TempDir dir;
  const std::string base = dir.file("memory.img");
  write_image(base, {{1, 1}, {2, 2}, {3, 3}});
  std::shared_ptr<const MemoryImage> img = MemoryImage::open(kMem, base, "", {});
  for (uint64_t threshold : {kDropThresholdPages, uint64_t{2}}) {
    MmapRegion ram = img->map_private();
    uint8_t* r = ram.host();
    fill_page(r + 1 * kPageSize, 9);                          // changed
    (void)*static_cast<volatile uint8_t*>(r + 2 * kPageSize);  // only read
    fill_page(r + 100 * kPageSize, 7);                        // first touched: holes in the image
    fill_page(r + 101 * kPageSize, 7);
    PageBitmap dirty(kPages);
    for (uint64_t p : {1, 3, 100, 101}) dirty.set(p);  // 3: logged dirty, but written back unchanged
    const ResetPagesResult res = reset_pages(r, *img, dirty, threshold);
    CHECK_EQ(res.dirty, 4u);
    CHECK_EQ(res.copied, 1u);
    const bool drop = threshold <= 2;
    CHECK_EQ(res.zeroed, drop ? 0u : 2u);
    CHECK_EQ(res.dropped, drop ? 2u : 0u);
    const PageBitmap present = touched_pages(r, kMem);
    CHECK_MSG(present.test(100) != drop && present.test(101) != drop, "zeroed pages stay mapped, dropped ones go");
    CHECK(page_is(r + 1 * kPageSize, 1) && page_is(r + 3 * kPageSize, 3));
    CHECK(is_zero_page(r + 100 * kPageSize) && is_zero_page(r + 101 * kPageSize));
    CHECK(std::memcmp(r, img->view(), kMem) == 0);
  }
}

TEST(scrub_window_zeroes_what_was_used_and_drops_what_the_guest_touched_elsewhere) {
  Ram win(FN_WINDOW_SIZE);
  std::memset(win.p, 0xAB, 3 * kPageSize);             // header + input/output: inside the extent
  std::memset(win.p + 100 * kPageSize, 0xCD, 8);       // the guest, beyond anything it reported
  (void)*static_cast<volatile uint8_t*>(win.p + 200 * kPageSize);  // only read
  const uint64_t cleaned = scrub_window(win.p, FN_WINDOW_SIZE, 2 * kPageSize + 10);
  CHECK_EQ(cleaned, 5u);  // 3 zeroed, 100 and 200 dropped
  const PageBitmap present = touched_pages(win.p, FN_WINDOW_SIZE);
  CHECK(present.test(0) && present.test(2) && !present.test(100) && !present.test(200));
  for (uint64_t p = 0; p < FN_WINDOW_SIZE / kPageSize; ++p)
    if (!is_zero_page(win.p + p * kPageSize)) CHECK_MSG(false, "window page %llu not zero", (unsigned long long)p);
  // With no extent everything present is dropped (the loop above touched every page).
  const uint64_t present_now = touched_pages(win.p, FN_WINDOW_SIZE).count();
  const uint64_t dropped = scrub_window(win.p, FN_WINDOW_SIZE, 0);
  CHECK_EQ(dropped, present_now);
  CHECK_EQ(touched_pages(win.p, FN_WINDOW_SIZE).count(), 0u);
}

TEST(touched_pages_reports_what_was_touched) {
  Ram ram;
  ram.page(3)[0] = 1;
  (void)*static_cast<volatile uint8_t*>(ram.page(7) + 100);  // a read maps the zero page: touched
  const PageBitmap t = touched_pages(ram.p, kMem);
  CHECK(t.test(3) && t.test(7) && !t.test(4));
}

TEST(page_bitmap_runs_and_set_operations) {
  PageBitmap a(200), b(200);
  for (uint64_t p : {0, 1, 2, 63, 64, 65, 199}) a.set(p);
  CHECK(a.runs() == (std::vector<PageRun>{{0, 3}, {63, 3}, {199, 1}}));
  CHECK_EQ(a.count(), 7u);
  b.set_range(60, 10);
  PageBitmap u = a;
  u |= b;
  CHECK_EQ(u.count(), 14u);
  PageBitmap i = a;
  i.intersect(b);
  CHECK(i.runs() == (std::vector<PageRun>{{63, 3}}));
  a.subtract(b);
  CHECK(a.runs() == (std::vector<PageRun>{{0, 3}, {199, 1}}));
  a.set(500);  // past the end: ignored
  CHECK_EQ(a.count(), 4u);
  CHECK(run_pages(a.runs()) == 4);
}

TEST(crc32_matches_zlib) {
  CHECK_EQ(crc32(0, "123456789", 9), 0xCBF43926u);  // the standard check value
  CHECK_EQ(crc32(crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}
