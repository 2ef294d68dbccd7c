// Long-mode setup: page tables (walked in software), GDT/TSS/IDT encoding, the I/O bitmap as the CPU
// reads it, the syscall and fault stubs (run by the CPU model of cpu_model.h), and the register values.
#include <cstring>

#include "../errors.h"
#include "../long_mode.h"
#include "check.h"
#include "cpu_model.h"
#include "fake_vcpu.h"
#include "fn_abi.h"

using namespace fnvmm;
using namespace fnvmm::long_mode;

namespace {

constexpr uint64_t kMem = 64ull << 20;

GuestMemory make_memory(uint64_t ram = kMem) {
  GuestMemory m;
  m.add_region(GuestAddress(0), ram);
  m.add_region(GuestAddress(FN_WINDOW_ADDR), FN_WINDOW_SIZE);
  return m;
}

// An independent decoder for an 8-byte code/data descriptor.
struct Desc {
  uint32_t base, limit;
  unsigned type, s, dpl, p, avl, l, db, g;
};
Desc decode(uint64_t d) {
  Desc x;
  x.limit = static_cast<uint32_t>((d & 0xFFFF) | ((d >> 32) & 0xF0000));
  x.base = static_cast<uint32_t>(((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000));
  x.type = (d >> 40) & 0xF;
  x.s = (d >> 44) & 1;
  x.dpl = (d >> 45) & 3;
  x.p = (d >> 47) & 1;
  x.avl = (d >> 52) & 1;
  x.l = (d >> 53) & 1;
  x.db = (d >> 54) & 1;
  x.g = (d >> 55) & 1;
  return x;
}

// The CPU's I/O permission check for CPL > IOPL: the bytes at iomap_base + port/8 (two of them) must
// lie within the TSS limit, and the `size` bits from port%8 must all be clear.
bool io_allowed(const std::vector<uint8_t>& tss, uint32_t tss_limit, uint16_t port, unsigned size) {
  uint16_t base;
  std::memcpy(&base, &tss[0x66], 2);
  uint32_t at = base + port / 8u;
  if (at + 1 > tss_limit) return false;
  uint16_t perm = static_cast<uint16_t>(tss[at] | (tss[at + 1] << 8));
  unsigned mask = (1u << size) - 1;
  return ((perm >> (port & 7)) & mask) == 0;
}

}  // namespace

TEST(page_tables_map_the_layout) {
  GuestMemory mem = make_memory();
  std::vector<GuestRange> exec = {{GuestAddress(0x401000), 0x1f7}};
  write_page_tables(mem, kMem, exec);
  const uint64_t cr3 = kPml4Addr;

  struct Expect {
    uint64_t addr;
    bool present, user, writable, nx;
    uint64_t page;
  };
  const Expect cases[] = {
      {0x0, false, false, false, false, 0},                 // NULL page
      {0xFF8, false, false, false, false, 0},
      {FN_GDT_ADDR, true, false, true, true, 0x1000},       // supervisor only
      {FN_TSS_ADDR + 0x68, true, false, false, true, 0x1000},
      {FN_IDT_ADDR, true, false, false, true, 0x1000},      // supervisor read-only
      {FN_IST_STACK_ADDR + 0xFF8, true, false, true, true, 0x1000},  // supervisor read/write, NX
      {FN_SYSCALL_STUB_ADDR, true, false, false, false, 0x1000},  // supervisor, executable
      {long_mode::kFaultStubsAddr + 0x20, true, false, false, false, 0x1000},
      {FN_BOOT_INFO_ADDR, true, true, false, true, 0x1000},       // user read-only
      {FN_TLS_ADDR + 0x28, true, true, true, true, 0x1000},       // user read/write
      {FN_PAGE_TABLES_ADDR, true, false, false, true, 0x1000},
      {FN_PAGE_TABLES_END - 8, true, false, false, true, 0x1000},
      {FN_PAGE_TABLES_END, true, true, true, true, 0x1000},       // ordinary RAM from here
      {0x1FF000, true, true, true, true, 0x1000},
      {0x200000, true, true, true, true, 2ull << 20},
      {0x401000, true, true, true, false, 2ull << 20},            // text: executable
      {0x600000, true, true, true, true, 2ull << 20},             // data, heap: NX
      {kMem - (2ull << 20) - 8, true, true, true, true, 2ull << 20},  // the last 2 MiB page
      {kMem - (2ull << 20), true, true, true, true, 0x1000},      // the last 2 MiB: 4 KiB pages
      {kMem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE - 8, true, true, true, true, 0x1000},  // heap top
      {kMem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE, false, false, false, false, 0},       // stack guard
      {kMem - FN_STACK_SIZE - 1, false, false, false, false, 0},
      {kMem - FN_STACK_SIZE, true, true, true, true, 0x1000},     // stack: NX
      {kMem - 8, true, true, true, true, 0x1000},
      {kMem, false, false, false, false, 0},                      // past RAM
      {1ull << 30, false, false, false, false, 0},
      {FN_WINDOW_ADDR, true, true, true, true, 2ull << 20},       // the window
      {FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET, true, true, true, true, 2ull << 20},
      {FN_WINDOW_ADDR + FN_WINDOW_SIZE - 1, true, true, true, true, 2ull << 20},
      {FN_WINDOW_ADDR + FN_WINDOW_SIZE, false, false, false, false, 0},
      {FN_WINDOW_ADDR - 1, false, false, false, false, 0},
      {0x0000800000000000ull, false, false, false, false, 0},     // non-canonical
      {0xFFFF800000000000ull, false, false, false, false, 0},     // canonical, unmapped
  };
  for (const Expect& e : cases) {
    Translation t = translate(mem, cr3, e.addr);
    CHECK_MSG(t.present == e.present, "0x%llx present=%d, expected %d", (unsigned long long)e.addr, t.present, e.present);
    if (!t.present || !e.present) continue;
    CHECK_MSG(t.phys == e.addr, "0x%llx maps to 0x%llx, not identity", (unsigned long long)e.addr, (unsigned long long)t.phys);
    CHECK_MSG(t.user == e.user, "0x%llx user=%d, expected %d", (unsigned long long)e.addr, t.user, e.user);
    CHECK_MSG(t.writable == e.writable, "0x%llx writable=%d, expected %d", (unsigned long long)e.addr, t.writable, e.writable);
    CHECK_MSG(t.nx == e.nx, "0x%llx nx=%d, expected %d", (unsigned long long)e.addr, t.nx, e.nx);
    CHECK_MSG(t.page_size == e.page, "0x%llx page size 0x%llx, expected 0x%llx", (unsigned long long)e.addr,
              (unsigned long long)t.page_size, (unsigned long long)e.page);
  }
}

TEST(page_tables_identity_map_every_2mib_page_of_ram) {
  for (uint64_t ram : {4ull << 20, 8ull << 20, 64ull << 20, 1ull << 30, (1ull << 30) + (2ull << 20), 3ull << 30}) {
    GuestMemory mem = make_memory(ram);
    write_page_tables(mem, ram, {});
    for (uint64_t a = 2ull << 20; a < ram; a += 2ull << 20) {  // +0x1234 misses the guard page
      Translation t = translate(mem, kPml4Addr, a + 0x1234);
      if (!t.present || t.phys != a + 0x1234 || !t.user || !t.writable || !t.nx) {
        CHECK_MSG(false, "RAM %llu MiB: 0x%llx badly mapped", (unsigned long long)(ram >> 20), (unsigned long long)a);
        break;
      }
    }
    CHECK_MSG(!translate(mem, kPml4Addr, ram).present, "RAM %llu MiB: end mapped", (unsigned long long)(ram >> 20));
    CHECK(translate(mem, kPml4Addr, FN_WINDOW_ADDR).present);
  }
}

TEST(page_tables_stay_inside_their_pages_and_preset_accessed_bits) {
  GuestMemory mem = make_memory();
  write_page_tables(mem, kMem, {});
  CHECK_EQ(mem.read_obj<uint64_t>(GuestAddress(kPml4Addr)) & kPteAddrMask, kPdptAddr);
  for (uint64_t g = 0; g < kPdptEntries; ++g) {
    uint64_t e = mem.read_obj<uint64_t>(GuestAddress(kPdptAddr + g * 8));
    if (!(e & kPtePresent)) continue;
    uint64_t t = e & kPteAddrMask;
    CHECK_MSG(t >= FN_PAGE_TABLES_ADDR && t < FN_PAGE_TABLES_END, "PD %llu at 0x%llx", (unsigned long long)g, (unsigned long long)t);
    CHECK(e & kPteAccessed);
  }
  // Leaf entries carry accessed + dirty so the CPU never writes to the tables.
  uint64_t leaf = mem.read_obj<uint64_t>(GuestAddress(pd_addr(0) + 8));  // 2..4 MiB
  CHECK((leaf & (kPteAccessed | kPteDirty | kPteLarge)) == (kPteAccessed | kPteDirty | kPteLarge));
  // Only one PD for a 64 MiB guest, plus the window's.
  CHECK_EQ(mem.read_obj<uint64_t>(GuestAddress(kPdptAddr + 8)), 0u);
  CHECK(mem.read_obj<uint64_t>(GuestAddress(kPdptAddr + kWindowGiB * 8)) & kPtePresent);
}

namespace {
// Every table the walk can reach from CR3, by level (0 = PML4): each must be one of the documented
// page-table pages, at the level long_mode.h assigns it, and no page may serve twice.
void check_table_pages(const GuestMemory& mem, uint64_t ram) {
  const auto name = [](uint64_t t) -> int {
    if (t == kPml4Addr) return 0;
    if (t == kPdptAddr) return 1;
    if (t == kPdWindowAddr) return 2;
    for (uint64_t g = 0; g < kMaxRamGiBs; ++g)
      if (t == kPdRamBase + g * 0x1000) return 2;
    if (t == kPtLowAddr || t == kPtHighAddr) return 3;
    return -1;
  };
  std::vector<uint64_t> seen;
  std::vector<std::pair<uint64_t, int>> todo = {{kPml4Addr, 0}};
  while (!todo.empty()) {
    auto [table, level] = todo.back();
    todo.pop_back();
    CHECK_MSG(name(table) == level, "RAM %llu MiB: table 0x%llx used at level %d", (unsigned long long)(ram >> 20),
              (unsigned long long)table, level);
    CHECK_MSG(table >= FN_PAGE_TABLES_ADDR && table + 0x1000 <= FN_PAGE_TABLES_END, "table 0x%llx outside its area",
              (unsigned long long)table);
    for (uint64_t s : seen) CHECK_MSG(s != table, "table 0x%llx reached twice", (unsigned long long)table);
    seen.push_back(table);
    if (level == 3) continue;
    for (uint64_t i = 0; i < 512; ++i) {
      uint64_t e = mem.read_obj<uint64_t>(GuestAddress(table + i * 8));
      if ((e & kPtePresent) && !(level == 2 && (e & kPteLarge))) todo.push_back({e & kPteAddrMask, level + 1});
    }
  }
  // PML4, PDPT, the PDs for RAM and the window, and both 4 KiB page tables.
  CHECK_EQ(seen.size(), 2 + (ram + (1ull << 30) - 1) / (1ull << 30) + 1 + 2);
}
}  // namespace

TEST(page_table_pages_are_the_documented_ones) {
  static_assert(kPml4Addr == 0x8000 && kPdptAddr == 0x9000 && kPtLowAddr == 0xA000 && kPtHighAddr == 0xB000 &&
                    pd_addr(0) == 0xC000 && pd_addr(1) == 0xD000 && pd_addr(2) == 0xE000 &&
                    pd_addr(kWindowGiB) == 0xF000 && kPdWindowAddr + 0x1000 == FN_PAGE_TABLES_END,
                "long_mode.h documents these addresses");
  const std::vector<uint64_t> sizes = {kMinRamBytes, 8ull << 20,  64ull << 20, 1ull << 30, (1ull << 30) + (2ull << 20),
                                       2ull << 30,   kMaxRamBytes};
  for (uint64_t ram : sizes) {
    GuestMemory mem = make_memory(ram);
    write_page_tables(mem, ram, {});
    check_table_pages(mem, ram);
  }
}

TEST(page_tables_leave_out_exactly_the_stack_guard_page) {
  for (uint64_t mib : {4ull, 8ull, 16ull, 18ull, 64ull, 1024ull, 1026ull, 3072ull}) {
    const uint64_t ram = mib << 20;
    GuestMemory mem = make_memory(ram);
    write_page_tables(mem, ram, {{GuestAddress(0x401000), 0x100}});
    const uint64_t guard = stack_guard_addr(ram);
    CHECK_EQ(guard, ram - FN_STACK_SIZE - FN_PAGE_SIZE);
    const auto walk = [&](uint64_t a) { return translate(mem, kPml4Addr, a); };
    const auto user_rw_4k = [&](uint64_t a, const char* what) {
      Translation t = walk(a);
      CHECK_MSG(t.present && t.phys == a && t.user && t.writable && t.nx && t.page_size == FN_PAGE_SIZE,
                "%llu MiB: %s 0x%llx present=%d phys=0x%llx user=%d writable=%d nx=%d page=0x%llx",
                (unsigned long long)mib, what, (unsigned long long)a, t.present, (unsigned long long)t.phys, t.user,
                t.writable, t.nx, (unsigned long long)t.page_size);
    };
    // The guard page: not present, first byte to last.
    for (uint64_t a : std::vector<uint64_t>{guard, guard + 8, guard + 0x800, guard + FN_PAGE_SIZE - 1})
      CHECK_MSG(!walk(a).present, "%llu MiB: guard byte 0x%llx is mapped", (unsigned long long)mib, (unsigned long long)a);
    // Its neighbours: the top of the heap below, the bottom of the stack above, both user read/write.
    user_rw_4k(guard - 1, "heap top");
    user_rw_4k(guard - FN_PAGE_SIZE, "heap top page");
    user_rw_4k(guard + FN_PAGE_SIZE, "stack bottom");
    user_rw_4k(ram - FN_STACK_SIZE, "stack bottom");
    user_rw_4k(ram - 8, "stack top");  // the first push from RSP = mem_size
    // Exactly one page of the last 2 MiB is missing; every other one is identity mapped.
    unsigned missing = 0;
    for (uint64_t a = ram - (2ull << 20); a < ram; a += FN_PAGE_SIZE) {
      Translation t = walk(a);
      if (!t.present) {
        ++missing;
        CHECK_MSG(a == guard, "%llu MiB: 0x%llx not present", (unsigned long long)mib, (unsigned long long)a);
      } else if (t.phys != a || !t.user || !t.writable || !t.nx) {
        CHECK_MSG(false, "%llu MiB: 0x%llx badly mapped", (unsigned long long)mib, (unsigned long long)a);
      }
    }
    CHECK_EQ(missing, 1u);
    CHECK(!walk(ram).present);
    // The rest of RAM is as before: the first 2 MiB keep their layout, the middle its 2 MiB pages.
    CHECK(!walk(0).present);
    CHECK(!walk(FN_PAGE_TABLES_ADDR).user);
    user_rw_4k(FN_PAGE_TABLES_END, "low RAM");
    if (ram > (4ull << 20)) {
      Translation mid = walk(ram - (2ull << 20) - 1);
      CHECK_MSG(mid.present && mid.page_size == (2ull << 20) && mid.user && mid.writable,
                "%llu MiB: the 2 MiB below the last is not a 2 MiB page", (unsigned long long)mib);
      CHECK(walk(0x401000).present && !walk(0x401000).nx);
    }
  }
}

TEST(page_tables_keep_exec_ranges_in_the_last_2mib) {
  // A small guest whose text reaches into the last 2 MiB (still below the guard page): those 4 KiB
  // pages stay executable, their neighbours and the stack stay no-execute.
  const uint64_t ram = 8ull << 20;
  const uint64_t text = stack_guard_addr(ram) - 0x3000;
  GuestMemory mem = make_memory(ram);
  write_page_tables(mem, ram, {{GuestAddress(text), 0x1001}});
  CHECK(translate(mem, kPml4Addr, text - 1).nx);
  CHECK(!translate(mem, kPml4Addr, text).nx);
  CHECK(!translate(mem, kPml4Addr, text + 0x1000).nx);
  CHECK(translate(mem, kPml4Addr, text + 0x2000).nx);
  CHECK(!translate(mem, kPml4Addr, stack_guard_addr(ram)).present);
  CHECK(translate(mem, kPml4Addr, ram - 8).nx);
  CHECK(translate(mem, kPml4Addr, ram - (2ull << 20) - 1).nx);  // the 2 MiB page below: no text there
}

TEST(page_tables_reject_bad_sizes) {
  GuestMemory mem = make_memory();
  CHECK_THROWS(ConfigError, write_page_tables(mem, kMem + 4096, {}), "multiple of 2 MiB");
  CHECK_THROWS(ConfigError, write_page_tables(mem, 0, {}), "multiple of 2 MiB");
  CHECK_THROWS(ConfigError, write_page_tables(mem, FN_WINDOW_ADDR + (2ull << 20), {}), "multiple of 2 MiB");
  // 2 MiB: the first and the last 2 MiB would be the same region.
  CHECK_THROWS(ConfigError, write_page_tables(mem, 2ull << 20, {}), "multiple of 2 MiB");
  // Past the PDs there is room for (and past MicroVm's limit).
  CHECK_THROWS(ConfigError, write_page_tables(mem, kMaxRamBytes + (2ull << 20), {}), "multiple of 2 MiB");
  CHECK_THROWS(ConfigError, write_page_tables(mem, FN_WINDOW_ADDR, {}), "multiple of 2 MiB");
}

TEST(gdt_descriptors) {
  auto g = build_gdt();
  CHECK_EQ(g[0], 0u);
  CHECK_EQ(g[kSelKernelCode / 8], 0x00AF9B000000FFFFull);
  CHECK_EQ(g[kSelKernelData / 8], 0x00CF93000000FFFFull);
  CHECK_EQ(g[kSelUserData / 8], 0x00CFF3000000FFFFull);
  CHECK_EQ(g[kSelUserCode / 8], 0x00AFFB000000FFFFull);

  Desc uc = decode(g[kSelUserCode / 8]);
  CHECK(uc.p == 1 && uc.dpl == 3 && uc.s == 1 && uc.type == 0xB && uc.l == 1 && uc.db == 0 && uc.g == 1);
  Desc ud = decode(g[kSelUserData / 8]);
  CHECK(ud.p == 1 && ud.dpl == 3 && ud.s == 1 && ud.type == 0x3 && ud.l == 0 && ud.g == 1);
  Desc kc = decode(g[kSelKernelCode / 8]);
  CHECK(kc.dpl == 0 && kc.l == 1 && kc.type == 0xB);
  Desc kd = decode(g[kSelKernelData / 8]);
  CHECK(kd.dpl == 0 && kd.type == 0x3);

  // The 16-byte TSS descriptor.
  Desc t = decode(g[kSelTss / 8]);
  uint64_t base = t.base | (g[kSelTss / 8 + 1] << 32);
  CHECK_EQ(base, FN_TSS_ADDR);
  CHECK_EQ(t.limit, kTssLimit);
  CHECK(t.p == 1 && t.s == 0 && t.dpl == 0 && t.type == 0xB && t.g == 0);
  CHECK_EQ(g[kSelTss / 8 + 1] >> 32, 0u);  // reserved upper half
  CHECK_EQ(kGdtLimit, kGdtSlots * 8 - 1);

  // Written where fn_abi.h says.
  GuestMemory mem = make_memory();
  write_descriptor_tables(mem);
  CHECK_EQ(mem.read_obj<uint64_t>(GuestAddress(FN_GDT_ADDR + kSelUserCode)), g[kSelUserCode / 8]);
}

TEST(tss_io_bitmap_allows_only_the_doorbell) {
  std::vector<uint8_t> tss = build_tss();
  CHECK_EQ(tss.size(), kTssLimit + 1u);
  uint16_t base;
  std::memcpy(&base, &tss[0x66], 2);
  CHECK_EQ(base, FN_TSS_IOMAP_OFFSET);
  CHECK_EQ(tss[FN_TSS_IOMAP_OFFSET + kIoBitmapBytes], 0xFFu);  // terminator
  CHECK_EQ(kTssLimit, FN_TSS_IOMAP_OFFSET + kIoBitmapBytes);   // the terminator is inside the limit

  // The doorbell, as the guest uses it (`out dx, eax`), and narrower accesses to it.
  CHECK(io_allowed(tss, kTssLimit, FN_PORT_DOORBELL, 4));
  CHECK(io_allowed(tss, kTssLimit, FN_PORT_DOORBELL, 2));
  CHECK(io_allowed(tss, kTssLimit, FN_PORT_DOORBELL, 1));
  // Everything else, every width, every port number up to 0xFFFF, except inside the doorbell dword.
  for (uint32_t port = 0; port <= 0xFFFF; ++port) {
    for (unsigned size : {1u, 2u, 4u}) {
      bool inside = port >= FN_PORT_DOORBELL && port + size <= FN_PORT_DOORBELL + kDoorbellAccessBytes;
      bool ok = io_allowed(tss, kTssLimit, static_cast<uint16_t>(port), size);
      if (ok != inside) {
        CHECK_MSG(false, "port 0x%x size %u allowed=%d, expected %d", port, size, ok, inside);
        return;
      }
    }
  }
  // In particular: the syscall port is not reachable with a dword, nor serial, nor the POST port.
  CHECK(!io_allowed(tss, kTssLimit, FN_PORT_SYSCALL, 4));
  CHECK(!io_allowed(tss, kTssLimit, 0x3F8, 1));
  CHECK(!io_allowed(tss, kTssLimit, 0x80, 1));
  CHECK(!io_allowed(tss, kTssLimit, 0xFF, 1));   // reads the terminator
  CHECK(!io_allowed(tss, kTssLimit, 0xDF, 2));   // straddles into the doorbell
}

TEST(syscall_stub_bytes) {
  std::vector<uint8_t> s = syscall_stub();
  const std::vector<uint8_t> want = {0xBA, FN_PORT_SYSCALL, 0, 0, 0, 0xEF, 0xF4, 0xEB, 0xFD};
  CHECK(s == want);
  // The jmp (rel8 at offset 8, next instruction at 9) goes back to the hlt.
  CHECK_EQ(9 + static_cast<int8_t>(s[8]), static_cast<int>(kStubHltOffset));
  CHECK_EQ(s[kStubHltOffset], 0xF4u);
  GuestMemory mem = make_memory();
  write_descriptor_tables(mem);
  CHECK_EQ(mem.read_obj<uint8_t>(GuestAddress(FN_SYSCALL_STUB_ADDR + 5)), 0xEFu);
  CHECK_EQ(mem.read_obj<uint8_t>(GuestAddress(FN_SYSCALL_STUB_ADDR + 100)), 0xF4u);  // hlt padding
}

TEST(registers_for_cpl3_long_mode) {
  kvm_sregs s;
  std::memset(&s, 0xA5, sizeof s);  // whatever KVM_GET_SREGS returned
  s.apic_base = 0xFEE00900;
  setup_sregs(s);
  CHECK_EQ(s.apic_base, 0xFEE00900u);  // untouched
  CHECK_EQ(s.cs.selector, kSelUserCode | 3);
  CHECK(s.cs.dpl == 3 && s.cs.l == 1 && s.cs.db == 0 && s.cs.present == 1 && s.cs.s == 1 && s.cs.type == 0xB && s.cs.g == 1);
  CHECK_EQ(s.cs.limit, 0xFFFFFFFFu);
  for (const kvm_segment* seg : {&s.ss, &s.ds, &s.es, &s.fs, &s.gs}) {
    CHECK_EQ(seg->selector, kSelUserData | 3);
    CHECK(seg->dpl == 3 && seg->present == 1 && seg->type == 0x3 && seg->s == 1 && seg->unusable == 0);
  }
  CHECK_EQ(s.fs.base, FN_TLS_ADDR);
  CHECK_EQ(s.gs.base, 0u);
  CHECK_EQ(s.tr.selector, kSelTss);
  CHECK_EQ(s.tr.base, FN_TSS_ADDR);
  CHECK_EQ(s.tr.limit, kTssLimit);
  CHECK(s.tr.type == 0xB && s.tr.present == 1 && s.tr.s == 0);
  CHECK(s.ldt.unusable == 1);
  CHECK_EQ(s.gdt.base, FN_GDT_ADDR);
  CHECK_EQ(s.gdt.limit, kGdtLimit);
  CHECK_EQ(s.idt.base, FN_IDT_ADDR);
  CHECK_EQ(s.idt.limit, 32u * 16 - 1);
  CHECK_EQ(s.cr0, 0x80010033ull);
  CHECK_EQ(s.cr3, FN_PAGE_TABLES_ADDR);
  CHECK_EQ(s.cr4, 0x620ull);
  CHECK_EQ(s.efer, 0xD01ull);
  CHECK_EQ(s.efer & 1, 1u);  // SCE: without it `syscall` is #UD on Intel and AMD, never the stub
  // The selectors point at descriptors that agree with the cached segment state.
  auto g = build_gdt();
  CHECK_EQ(decode(g[s.cs.selector >> 3]).dpl, 3u);
  CHECK_EQ(decode(g[s.ss.selector >> 3]).dpl, 3u);
  CHECK_EQ(decode(g[s.tr.selector >> 3]).type, s.tr.type);

  kvm_regs r = initial_regs(GuestAddress(0x401000), kMem);
  CHECK_EQ(r.rip, 0x401000u);
  CHECK_EQ(r.rsp, kMem);
  CHECK_EQ(r.rsp % 16, 0u);
  CHECK_EQ(r.rdi, FN_BOOT_INFO_ADDR);
  CHECK_EQ(r.rflags, 2u);
  CHECK_EQ(r.rax, 0u);

  kvm_fpu f = initial_fpu();
  CHECK_EQ(f.fcw, 0x37Fu);
  CHECK_EQ(f.mxcsr, 0x1F80u);
}

TEST(syscall_msrs_land_on_the_stub) {
  std::vector<MsrValue> m = syscall_msrs();
  CHECK_EQ(m.size(), 4u);
  CHECK_EQ(m[0].index, kMsrStar);
  CHECK_EQ((m[0].value >> 32) & 0xFFFF, kSelKernelCode);       // SYSCALL CS (SS = CS + 8)
  CHECK_EQ(((m[0].value >> 32) & 0xFFFF) + 8, kSelKernelData);
  CHECK_EQ(m[1].index, kMsrLstar);
  CHECK_EQ(m[1].value, FN_SYSCALL_STUB_ADDR);
  CHECK_EQ(m[2].index, kMsrSfmask);
  CHECK((m[2].value & 0x700) == 0x700);  // TF, IF, DF cleared
  CHECK_EQ(m[3].index, kMsrCstar);
  CHECK_EQ(kRequiredMsrCount, 3u);
}

TEST(tss_points_rsp0_and_ist1_at_the_ist_page_and_denies_the_fault_port) {
  std::vector<uint8_t> tss = build_tss();
  uint64_t rsp0, ist1, ist2;
  std::memcpy(&rsp0, &tss[4], 8);
  std::memcpy(&ist1, &tss[0x24], 8);
  std::memcpy(&ist2, &tss[0x2C], 8);
  CHECK_EQ(rsp0, FN_IST_STACK_ADDR + FN_PAGE_SIZE);
  CHECK_EQ(ist1, FN_IST_STACK_ADDR + FN_PAGE_SIZE);
  CHECK_EQ(ist2, 0u);
  // CPL3 reaches neither the fault port nor the syscall port with the dword the doorbell uses.
  for (unsigned size : {1u, 2u, 4u}) CHECK(!io_allowed(tss, kTssLimit, FN_PORT_FAULT, size));
  CHECK(FN_PORT_FAULT >= FN_PORT_DOORBELL + 4 || FN_PORT_FAULT + 4 <= FN_PORT_DOORBELL);
}

TEST(idt_gates_decode_as_the_cpu_reads_them) {
  GuestMemory mem = make_memory();
  write_descriptor_tables(mem);
  kvm_sregs s{};
  setup_sregs(s);
  CHECK_EQ(s.idt.limit + 1u, 32u * 16);  // the 32 exception vectors, nothing past them
  for (unsigned v = 0; v < 32; ++v) {
    const uint64_t lo = mem.read_obj<uint64_t>(GuestAddress(FN_IDT_ADDR + v * 16));
    const uint64_t hi = mem.read_obj<uint64_t>(GuestAddress(FN_IDT_ADDR + v * 16 + 8));
    const uint64_t offset = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF0000ull) | (hi << 32);
    const unsigned selector = (lo >> 16) & 0xFFFF, ist = (lo >> 32) & 7, type = (lo >> 40) & 0xF, dpl = (lo >> 45) & 3,
                   present = (lo >> 47) & 1;
    CHECK_MSG(present == 1 && type == 0xE && dpl == 0 && ist == 1 && selector == kSelKernelCode,
              "vector %u: p %u type 0x%x dpl %u ist %u selector 0x%x", v, present, type, dpl, ist, selector);
    CHECK_EQ(offset, kFaultStubsAddr + v * kFaultStubStride);
    CHECK_EQ(hi >> 32, 0u);  // reserved
  }
  // The gates' code segment is the DPL0 64-bit one.
  Desc kc = decode(build_gdt()[kSelKernelCode / 8]);
  CHECK(kc.p == 1 && kc.dpl == 0 && kc.l == 1 && kc.s == 1 && (kc.type & 8));
}

TEST(fault_stub_bytes) {
  // No error code from the CPU: a dummy one first, so every frame has the same layout.
  const std::vector<uint8_t> ud = {0x6A, 0x00, 0x6A, 6, 0xE6, FN_PORT_FAULT, 0xF4, 0xEB, 0xFD};
  CHECK(fault_stub(6) == ud);
  const std::vector<uint8_t> pf = {0x6A, 14, 0xE6, FN_PORT_FAULT, 0xF4, 0xEB, 0xFD};
  CHECK(fault_stub(14) == pf);
  for (unsigned v = 0; v < kIdtVectors; ++v) {
    CHECK(fault_stub(v).size() <= kFaultStubStride);
    CHECK_MSG(cpu_pushes_error_code(v) == fntest::cpu::has_error_code(v), "vector %u", v);
  }
}

namespace {
// Takes exception `vector` from the CPL3 state in g as the CPU would, runs the stub, and checks
// that it stops on its `out` to the fault port at CPL0 with the documented frame at RSP.
void check_delivery(fntest::TestGuest& g, unsigned vector, uint64_t error) {
  fntest::GuestMemoryCpu m(g.mem);
  const kvm_regs before = g.regs;
  const kvm_sregs sbefore = g.sregs;
  CHECK_MSG(fntest::cpu::raise(m, g.regs, g.sregs, vector, error), "vector %u not delivered", vector);
  const uint64_t stub = kFaultStubsAddr + vector * kFaultStubStride;
  CHECK_MSG(g.regs.rip == stub, "vector %u lands at 0x%llx", vector, (unsigned long long)g.regs.rip);
  fntest::cpu::StubStop st = fntest::cpu::run_stub(m, g.regs, g.sregs);
  CHECK_MSG(st.kind == fntest::cpu::StubStop::Out && st.port == FN_PORT_FAULT, "vector %u: stop %d port 0x%x", vector,
            st.kind, st.port);
  CHECK(g.regs.rip > stub && g.regs.rip < stub + kFaultStubStride);
  CHECK_EQ(g.sregs.cs.selector & 3u, 0u);
  CHECK_EQ(g.regs.rsp, kFaultFrameRsp);
  auto at = [&](uint64_t off) { return g.mem.read_obj<uint64_t>(GuestAddress(g.regs.rsp + off)); };
  CHECK_EQ(at(kFrameVector), vector);
  CHECK_EQ(at(kFrameErrorCode), fntest::cpu::has_error_code(vector) ? error : 0);
  CHECK_EQ(at(kFrameRip), before.rip);
  CHECK_EQ(at(kFrameCs), sbefore.cs.selector);
  CHECK_EQ(at(kFrameRflags), before.rflags);
  CHECK_EQ(at(kFrameRsp), before.rsp);
  CHECK_EQ(at(kFrameSs), sbefore.ss.selector);
  // The guest's registers are as the fault left them (the stub uses only the stack).
  CHECK_EQ(g.regs.rax, before.rax);
  CHECK_EQ(g.regs.rdx, before.rdx);
  // Past the `out` (KVM completes it), the stub halts and stays halted.
  g.regs.rip += 2;
  st = fntest::cpu::run_stub(m, g.regs, g.sregs);
  CHECK(st.kind == fntest::cpu::StubStop::Hlt && g.regs.rip > stub && g.regs.rip < stub + kFaultStubStride);
  st = fntest::cpu::run_stub(m, g.regs, g.sregs);
  CHECK(st.kind == fntest::cpu::StubStop::Hlt);
}
}  // namespace

TEST(every_exception_is_delivered_to_its_stub_on_the_ist_stack) {
  for (unsigned v = 0; v < kIdtVectors; ++v) {
    fntest::TestGuest g;
    g.regs.rip = 0x401abc;
    g.regs.rsp = fntest::TestGuest::kRam - 0x1238;
    g.regs.rax = 0x1111;
    g.regs.rdx = 0x2222;
    g.regs.rflags = 0x246;
    check_delivery(g, v, 0x1234);
  }
}

TEST(a_fault_with_the_guest_stack_unusable_is_still_delivered) {
  // A stack overflow: RSP inside the stack guard page. The IST stack does not depend on it.
  fntest::TestGuest g;
  g.regs.rsp = stack_guard_addr(fntest::TestGuest::kRam) + 0x10;
  check_delivery(g, 14, 0x6);
  // Without IST (as the CPU would do with RSP0 only on a privilege change): still the IST page, via RSP0.
  fntest::TestGuest g2;
  g2.regs.rsp = 0;
  g2.mem.write_obj<uint8_t>(GuestAddress(FN_IDT_ADDR + 13 * 16 + 4), 0);  // gate 13: IST 0
  check_delivery(g2, 13, 0);
}

TEST(broken_tables_end_in_a_triple_fault_in_the_cpu_model) {
  // The model must be able to fail, or the tests above prove nothing: each table broken in turn.
  const auto raises = [](void (*breakit)(fntest::TestGuest&)) {
    fntest::TestGuest g;
    breakit(g);
    fntest::GuestMemoryCpu m(g.mem);
    return fntest::cpu::raise(m, g.regs, g.sregs, 14, 2);
  };
  CHECK(raises([](fntest::TestGuest&) {}));
  CHECK(!raises([](fntest::TestGuest& g) { g.sregs.idt = kvm_dtable{}; }));
  CHECK(!raises([](fntest::TestGuest& g) { g.mem.fill(GuestAddress(FN_IDT_ADDR), 0, FN_PAGE_SIZE); }));
  CHECK(!raises([](fntest::TestGuest& g) {  // the IST page read-only
    write_page_tables(g.mem, fntest::TestGuest::kRam, {});
    g.mem.write_obj<uint64_t>(GuestAddress(kPtLowAddr + (FN_IST_STACK_ADDR / FN_PAGE_SIZE) * 8), FN_IST_STACK_ADDR | 1);
  }));
  CHECK(!raises([](fntest::TestGuest& g) { g.mem.fill(GuestAddress(FN_TSS_ADDR + 0x24), 0, 8); }));  // IST1 = 0: page 0
}

TEST(syscall_reaches_the_stub_only_with_efer_sce) {
  std::vector<MsrValue> msrs = syscall_msrs();
  fntest::TestGuest g;
  fntest::GuestMemoryCpu m(g.mem);
  g.regs.rax = 39;
  g.regs.rip = 0x401100;
  CHECK(fntest::cpu::syscall(g.regs, g.sregs, msrs[0].value, msrs[1].value, msrs[2].value, 0x401102));
  fntest::cpu::StubStop st = fntest::cpu::run_stub(m, g.regs, g.sregs);
  CHECK(st.kind == fntest::cpu::StubStop::Out && st.port == FN_PORT_SYSCALL && st.size == 4 && st.value == 39);
  CHECK_EQ(g.regs.rcx, 0x401102u);
  CHECK_EQ(g.sregs.cs.selector & 3u, 0u);
  kvm_sregs no_sce = fntest::TestGuest().sregs;
  no_sce.efer &= ~1ull;
  kvm_regs r{};
  CHECK(!fntest::cpu::syscall(r, no_sce, msrs[0].value, msrs[1].value, msrs[2].value, 0));  // #UD
}
