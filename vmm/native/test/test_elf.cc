// ELF loader: the real guest (if built), a real ld-linked test guest, and hand-made broken images.
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "../boot_info.h"
#include "../elf_loader.h"
#include "../errors.h"
#include "../long_mode.h"
#include "check.h"
#include "elf_builder.h"
#include "fn_abi.h"

using namespace fnvmm;
using namespace fntest;

namespace {

constexpr uint64_t kMem = 64ull << 20;
// As MicroVm::create sets it: from the load address up to the stack guard page.
constexpr uint64_t kGuard = kMem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE;
const LoadWindow kWindow{GuestAddress(FN_GUEST_LOAD_ADDR), GuestAddress(kGuard)};

GuestMemory make_ram(uint64_t size = kMem) {
  GuestMemory m;
  m.add_region(GuestAddress(0), size);
  return m;
}

bool read_file(const char* path, std::vector<uint8_t>* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

void expect_bad(std::vector<uint8_t> img, const char* needle) {
  CHECK_THROWS(ElfError, parse_elf(img.data(), img.size(), kWindow), needle);
}

// Loads a real ELF file and checks the segments landed byte for byte.
void check_real_elf(const char* path, const char* what) {
  std::vector<uint8_t> img;
  if (!read_file(path, &img)) {
    std::printf("    (skipped %s: %s not found)\n", what, path);
    return;
  }
  GuestMemory mem = make_ram();
  ElfImage im = load_elf(img.data(), img.size(), kWindow, mem);
  CHECK_MSG(!im.segments.empty(), "%s has no segments", what);
  CHECK_MSG(im.entry >= kWindow.lo && im.entry < im.end, "%s entry 0x%llx", what, (unsigned long long)im.entry.raw());
  for (const ElfSegment& s : im.segments) {
    std::vector<uint8_t> got(s.mem_size);
    mem.read(s.addr, got.data(), s.mem_size);
    CHECK_MSG(std::equal(got.begin(), got.begin() + s.file_size, img.begin() + s.file_offset),
              "%s segment at 0x%llx differs from the file", what, (unsigned long long)s.addr.raw());
    bool zero = true;
    for (uint64_t i = s.file_size; i < s.mem_size; ++i) zero = zero && got[i] == 0;
    CHECK_MSG(zero, "%s bss of segment 0x%llx not zero", what, (unsigned long long)s.addr.raw());
  }
  fn_boot_info b = make_boot_info(kMem, im.end);
  CHECK(b.heap_start >= im.end.raw() && b.heap_start % FN_PAGE_SIZE == 0);
  std::printf("    %s: %zu bytes, %zu PT_LOAD, entry 0x%llx, image end 0x%llx\n", what, img.size(),
              im.segments.size(), (unsigned long long)im.entry.raw(), (unsigned long long)im.end.raw());
}

}  // namespace

TEST(elf_loads_the_real_guest) {
  const char* path = std::getenv("FN_GUEST_ELF");
  check_real_elf(path ? path : "../guest/build/fn-guest.elf", "fn-guest.elf");
}

TEST(elf_loads_the_ld_linked_probe_guest) {
  const char* path = std::getenv("FN_PROBE_GUEST_ELF");
  check_real_elf(path ? path : "build/native-test/probe_guest.elf", "probe_guest.elf");
}

TEST(elf_loads_a_valid_image_and_zero_fills_bss) {
  ElfSpec spec = valid_spec();
  std::vector<uint8_t> img = build_elf(spec);
  GuestMemory mem = make_ram();
  mem.fill(GuestAddress(0x600000), 0xAA, 0x4000);  // stale bytes the loader must clear
  ElfImage im = load_elf(img.data(), img.size(), kWindow, mem);
  CHECK_EQ(im.entry.raw(), 0x400010ull);
  CHECK_EQ(im.end.raw(), 0x603000ull);
  CHECK_EQ(im.segments.size(), 2u);
  uint8_t text[64];
  mem.read(GuestAddress(0x400000), text, sizeof text);
  CHECK(std::equal(text, text + 64, spec.segments[0].bytes.begin()));
  uint8_t data[8];
  mem.read(GuestAddress(0x600000), data, 8);
  CHECK(std::equal(data, data + 8, spec.segments[1].bytes.begin()));
  CHECK_EQ(mem.read_obj<uint8_t>(GuestAddress(0x600008)), 0u);
  CHECK_EQ(mem.read_obj<uint8_t>(GuestAddress(0x602FFF)), 0u);
  CHECK_EQ(mem.read_obj<uint8_t>(GuestAddress(0x603000)), 0xAAu);  // past memsz: untouched
}

TEST(elf_rejects_truncated_files) {
  std::vector<uint8_t> img = build_elf(valid_spec());
  CHECK_THROWS(ElfError, parse_elf(img.data(), 0, kWindow), "shorter than an ELF64 header");
  CHECK_THROWS(ElfError, parse_elf(img.data(), 63, kWindow), "shorter than an ELF64 header");
  CHECK_THROWS(ElfError, parse_elf(nullptr, 100, kWindow), "shorter than an ELF64 header");
  // Cut inside the program headers.
  CHECK_THROWS(ElfError, parse_elf(img.data(), sizeof(Elf64_Ehdr) + 60, kWindow), "program headers");
  // Cut inside the last segment's file bytes.
  CHECK_THROWS(ElfError, parse_elf(img.data(), img.size() - 1, kWindow), "past the end");
}

TEST(elf_rejects_wrong_identity) {
  std::vector<uint8_t> img = build_elf(valid_spec());
  { auto b = img; b[0] = 0x7E; expect_bad(b, "bad magic"); }
  { auto b = img; ehdr(b)->e_ident[EI_CLASS] = ELFCLASS32; expect_bad(b, "EI_CLASS is 1"); }
  { auto b = img; ehdr(b)->e_ident[EI_DATA] = ELFDATA2MSB; expect_bad(b, "EI_DATA is 2"); }
  { auto b = img; ehdr(b)->e_ident[EI_VERSION] = 0; expect_bad(b, "EI_VERSION"); }
  { auto b = img; ehdr(b)->e_machine = EM_AARCH64; expect_bad(b, "e_machine is 183"); }
  { auto b = img; ehdr(b)->e_machine = EM_386; expect_bad(b, "e_machine is 3"); }
  { auto b = img; ehdr(b)->e_type = ET_DYN; expect_bad(b, "e_type is 3"); }
  { auto b = img; ehdr(b)->e_version = 2; expect_bad(b, "e_version"); }
  { auto b = img; ehdr(b)->e_phentsize = 32; expect_bad(b, "e_phentsize is 32"); }
  { auto b = img; ehdr(b)->e_phnum = 0; expect_bad(b, "e_phnum is 0"); }
  { auto b = img; ehdr(b)->e_phnum = 0xFFFF; expect_bad(b, "e_phnum is 65535"); }
  { auto b = img; ehdr(b)->e_phoff = ~0ull - 8; expect_bad(b, "program headers"); }
}

TEST(elf_rejects_segments_out_of_bounds) {
  std::vector<uint8_t> img = build_elf(valid_spec());
  // In the stack guard page, in the stack.
  { auto b = img; phdr(b, 1)->p_vaddr = kGuard; expect_bad(b, "outside the loadable"); }
  { auto b = img; phdr(b, 1)->p_vaddr = kMem - FN_STACK_SIZE; expect_bad(b, "outside the loadable"); }
  { auto b = img; phdr(b, 1)->p_memsz = kMem; expect_bad(b, "outside the loadable"); }
  // Past the end of RAM entirely.
  { auto b = img; phdr(b, 1)->p_vaddr = 0x100000000ull; expect_bad(b, "outside the loadable"); }
  // Address arithmetic overflow.
  { auto b = img; phdr(b, 1)->p_vaddr = ~0ull - 0x10; expect_bad(b, "overflows"); }
  // File bytes beyond the file, and offset+size overflow.
  { auto b = img; phdr(b, 1)->p_offset = b.size(); expect_bad(b, "past the end"); }
  { auto b = img; phdr(b, 1)->p_offset = ~0ull - 2; expect_bad(b, "past the end"); }
}

TEST(elf_rejects_segments_over_the_system_pages) {
  std::vector<uint8_t> img = build_elf(valid_spec());
  for (uint64_t addr : {0x0ull, 0x1000ull, 0x5000ull, 0x8000ull, 0x10000ull, FN_GUEST_LOAD_ADDR - 0x1000}) {
    auto b = img;
    phdr(b, 1)->p_vaddr = addr;
    expect_bad(b, "outside the loadable");
  }
  // Starting above but reaching down is impossible; ending exactly at the guard page is fine, one
  // page further (into the guard page) is not.
  auto b = img;
  phdr(b, 1)->p_vaddr = kGuard - 0x3000;
  CHECK(parse_elf(b.data(), b.size(), kWindow).end.raw() == kGuard);
  phdr(b, 1)->p_vaddr = kGuard - 0x2000;
  expect_bad(b, "outside the loadable");
}

TEST(elf_rejects_filesz_larger_than_memsz) {
  std::vector<uint8_t> img = build_elf(valid_spec());
  phdr(img, 0)->p_memsz = 10;
  expect_bad(img, "p_filesz 0x40 is larger than p_memsz 0xa");
}

TEST(elf_rejects_overlaps_bad_entry_and_dynamic) {
  {
    ElfSpec s = valid_spec();
    s.segments[1].vaddr = 0x400020;  // inside the text segment
    expect_bad(build_elf(s), "overlap");
  }
  {
    ElfSpec s = valid_spec();
    s.eh.e_entry = 0x600000;  // data, not executable
    expect_bad(build_elf(s), "e_entry 0x600000");
  }
  {
    ElfSpec s = valid_spec();
    s.eh.e_entry = 0x400040;  // one past the text
    expect_bad(build_elf(s), "e_entry");
  }
  {
    ElfSpec s = valid_spec();
    SegmentSpec interp;
    interp.type = PT_INTERP;
    interp.bytes = {'/', 'l', 'd', 0};
    s.segments.insert(s.segments.begin(), interp);
    expect_bad(build_elf(s), "PT_INTERP");
  }
  {
    ElfSpec s = valid_spec();
    SegmentSpec dyn;
    dyn.type = PT_DYNAMIC;
    s.segments.push_back(dyn);
    expect_bad(build_elf(s), "PT_DYNAMIC");
  }
  {
    ElfSpec s = valid_spec();
    for (SegmentSpec& sg : s.segments) sg.type = PT_NOTE;
    expect_bad(build_elf(s), "no PT_LOAD");
  }
}

TEST(elf_ignores_non_load_headers_and_sorts_segments) {
  ElfSpec s = valid_spec();
  std::swap(s.segments[0], s.segments[1]);  // out of order in the file
  SegmentSpec tls;
  tls.type = PT_TLS;
  tls.vaddr = 0x10;  // would be out of bounds if it were loaded
  tls.bytes = {1};
  s.segments.push_back(tls);
  std::vector<uint8_t> img = build_elf(s);
  ElfImage im = parse_elf(img.data(), img.size(), kWindow);
  CHECK_EQ(im.segments.size(), 2u);
  CHECK_EQ(im.segments[0].addr.raw(), 0x400000ull);
  CHECK_EQ(im.segments[1].addr.raw(), 0x600000ull);
}

TEST(elf_load_refuses_memory_smaller_than_the_window) {
  std::vector<uint8_t> img = build_elf(valid_spec());
  GuestMemory small = make_ram(0x500000);  // the data segment at 0x600000 is past its end
  CHECK_THROWS(ElfError, load_elf(img.data(), img.size(), kWindow, small), "outside guest memory");
}

TEST(boot_info_layout) {
  fn_boot_info b = make_boot_info(kMem, GuestAddress(0x603001));
  CHECK_EQ(b.magic, FN_BOOT_MAGIC);
  CHECK_EQ(b.abi_version, FN_ABI_VERSION);
  CHECK_EQ(b.mem_size, kMem);
  CHECK_EQ(b.heap_start, 0x604000ull);
  CHECK_EQ(b.heap_end, kMem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE);  // the guard page sits between
  CHECK_EQ(b.window_addr, FN_WINDOW_ADDR);
  CHECK_EQ(b.window_size, FN_WINDOW_SIZE);
  CHECK_EQ(b.tls_addr, FN_TLS_ADDR);
  CHECK_EQ(make_boot_info(kMem, GuestAddress(0x604000)).heap_start, 0x604000ull);
  CHECK_THROWS(ElfError, make_boot_info(kMem, GuestAddress(kGuard)), "no heap");
  CHECK_THROWS(ElfError, make_boot_info(kMem, GuestAddress(kGuard - 1)), "no heap");
  CHECK_EQ(make_boot_info(kMem, GuestAddress(kGuard - FN_PAGE_SIZE)).heap_start, kGuard - FN_PAGE_SIZE);
  CHECK_THROWS(ElfError, make_boot_info(kMem, GuestAddress(kGuard + 1)), "above the stack guard page");
  CHECK_THROWS(ElfError, make_boot_info(kMem, GuestAddress(kMem - FN_STACK_SIZE)), "above the stack guard page");
  CHECK_THROWS(ElfError, make_boot_info(kMem, GuestAddress(kMem)), "above the stack");
  CHECK_THROWS(ElfError, make_boot_info(FN_STACK_SIZE + FN_STACK_GUARD_SIZE, GuestAddress(0x1000)), "above the stack");
  GuestMemory mem = make_ram();
  write_boot_info(mem, b);
  CHECK_EQ(mem.read_obj<fn_boot_info>(GuestAddress(FN_BOOT_INFO_ADDR)).heap_start, 0x604000ull);
}

TEST(boot_info_heap_ends_at_the_stack_guard_page_for_every_size) {
  for (uint64_t mib : {8ull, 16ull, 18ull, 64ull, 1024ull, 3072ull}) {
    const uint64_t m = mib << 20;
    fn_boot_info b = make_boot_info(m, GuestAddress(0x603001));
    CHECK_MSG(b.heap_end == m - FN_STACK_SIZE - FN_STACK_GUARD_SIZE, "%llu MiB: heap_end 0x%llx",
              (unsigned long long)mib, (unsigned long long)b.heap_end);
    CHECK_EQ(b.heap_end, long_mode::stack_guard_addr(m));            // where the page tables leave the hole
    CHECK_EQ(b.heap_end % FN_PAGE_SIZE, 0u);
    CHECK_EQ(b.heap_end + FN_STACK_GUARD_SIZE + FN_STACK_SIZE, m);   // guard, then the stack to the top
    CHECK_EQ(long_mode::initial_regs(GuestAddress(0x401000), m).rsp, m);  // RSP starts at the stack top
    CHECK_EQ(b.mem_size, m);
  }
}
