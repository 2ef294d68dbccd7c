#include "long_mode.h"

#include <cstring>

#include "errors.h"

namespace fnvmm {
namespace long_mode {

namespace {
using ull = unsigned long long;

constexpr uint8_t kAccessPresent = 0x80;
constexpr uint8_t kAccessS = 0x10;  // code/data (not system)
constexpr uint8_t kTypeCodeExecReadAccessed = 0xB;
constexpr uint8_t kTypeDataRwAccessed = 0x3;
constexpr uint8_t kTypeTss64Busy = 0xB;
constexpr uint8_t kFlagG = 0x8;
constexpr uint8_t kFlagDb = 0x4;
constexpr uint8_t kFlagL = 0x2;

constexpr uint8_t dpl(unsigned d) { return static_cast<uint8_t>(d << 5); }

bool overlaps(uint64_t a, uint64_t alen, const GuestRange& r) {
  return a < r.start.raw() + r.len && r.start.raw() < a + alen;
}
bool overlaps_any(uint64_t a, uint64_t alen, const std::vector<GuestRange>& rs) {
  for (const GuestRange& r : rs)
    if (r.len != 0 && overlaps(a, alen, r)) return true;
  return false;
}

// Flags for an ordinary 4 KiB page of RAM: user read/write, executable only where the ELF says so.
uint64_t ram_page_flags(uint64_t addr, const std::vector<GuestRange>& exec) {
  uint64_t f = kPtePresent | kPteWritable | kPteUser | kPteAccessed | kPteDirty;
  if (!overlaps_any(addr, FN_PAGE_SIZE, exec)) f |= kPteNx;
  return f;
}

// Flags for the 4 KiB pages of the first 2 MiB.
uint64_t low_page_flags(uint64_t addr, const std::vector<GuestRange>& exec) {
  constexpr uint64_t A = kPteAccessed, D = kPteDirty;
  if (addr == 0) return 0;                                                 // NULL page
  if (addr == FN_GDT_ADDR) return kPtePresent | kPteWritable | A | D | kPteNx;  // supervisor
  if (addr == FN_TSS_ADDR) return kPtePresent | A | kPteNx;                     // supervisor RO
  if (addr == FN_IDT_ADDR) return kPtePresent | A | kPteNx;                     // supervisor RO
  if (addr == FN_IST_STACK_ADDR) return kPtePresent | kPteWritable | A | D | kPteNx;  // supervisor RW
  if (addr == FN_SYSCALL_STUB_ADDR) return kPtePresent | A;                     // supervisor RO, exec
  if (addr == FN_BOOT_INFO_ADDR) return kPtePresent | kPteUser | A | kPteNx;    // user RO
  if (addr == FN_TLS_ADDR) return kPtePresent | kPteWritable | kPteUser | A | D | kPteNx;
  if (addr >= FN_PAGE_TABLES_ADDR && addr < FN_PAGE_TABLES_END) return kPtePresent | A | kPteNx;
  if (addr < FN_PAGE_TABLES_END) return 0;  // unused system pages
  return ram_page_flags(addr, exec);
}

// Flags for the 4 KiB pages of the last 2 MiB: the stack, the guard page below it, the top of the heap.
uint64_t high_page_flags(uint64_t addr, uint64_t mem_size, const std::vector<GuestRange>& exec) {
  if (addr >= stack_guard_addr(mem_size) && addr < stack_guard_addr(mem_size) + FN_STACK_GUARD_SIZE) return 0;
  return ram_page_flags(addr, exec);
}

// Fills a 4 KiB page table mapping [base, base + 2 MiB) with flags(addr) per page (0: not present).
template <typename Flags>
void write_page_table(GuestMemory& mem, uint64_t table_addr, uint64_t base, Flags flags) {
  for (uint64_t a = base; a < base + k2MiB; a += FN_PAGE_SIZE) {
    uint64_t f = flags(a);
    mem.write_obj<uint64_t>(GuestAddress(table_addr + ((a - base) / FN_PAGE_SIZE) * 8), f ? (a | f) : 0);
  }
}
}  // namespace

uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  return (uint64_t{limit} & 0xFFFF) | ((uint64_t{base} & 0xFFFFFF) << 16) | (uint64_t{access} << 40) |
         (((uint64_t{limit} >> 16) & 0xF) << 48) | ((uint64_t{flags} & 0xF) << 52) |
         (((uint64_t{base} >> 24) & 0xFF) << 56);
}

std::array<uint64_t, 2> tss_descriptor(uint64_t base, uint32_t limit, uint8_t type) {
  uint64_t lo = segment_descriptor(static_cast<uint32_t>(base), limit,
                                   static_cast<uint8_t>(kAccessPresent | dpl(0) | (type & 0xF)), 0);
  return {lo, base >> 32};
}

std::array<uint64_t, kGdtSlots> build_gdt() {
  std::array<uint64_t, kGdtSlots> g{};
  g[0] = 0;
  g[kSelKernelCode / 8] =
      segment_descriptor(0, 0xFFFFF, kAccessPresent | dpl(0) | kAccessS | kTypeCodeExecReadAccessed, kFlagG | kFlagL);
  g[kSelKernelData / 8] =
      segment_descriptor(0, 0xFFFFF, kAccessPresent | dpl(0) | kAccessS | kTypeDataRwAccessed, kFlagG | kFlagDb);
  g[kSelUserData / 8] =
      segment_descriptor(0, 0xFFFFF, kAccessPresent | dpl(3) | kAccessS | kTypeDataRwAccessed, kFlagG | kFlagDb);
  g[kSelUserCode / 8] =
      segment_descriptor(0, 0xFFFFF, kAccessPresent | dpl(3) | kAccessS | kTypeCodeExecReadAccessed, kFlagG | kFlagL);
  std::array<uint64_t, 2> t = tss_descriptor(FN_TSS_ADDR, kTssLimit, kTypeTss64Busy);
  g[kSelTss / 8] = t[0];
  g[kSelTss / 8 + 1] = t[1];
  return g;
}

std::vector<uint8_t> build_tss() {
  std::vector<uint8_t> tss(kTssBytes, 0);
  // I/O map base address: the 16-bit field at offset 0x66 of the 64-bit TSS.
  uint16_t iomap = FN_TSS_IOMAP_OFFSET;
  std::memcpy(&tss[0x66], &iomap, sizeof iomap);
  static_assert(FN_PORT_DOORBELL + kDoorbellAccessBytes <= kIoBitmapBytes * 8, "doorbell port outside the I/O bitmap");
  for (uint32_t i = 0; i < kIoBitmapBytes; ++i) tss[FN_TSS_IOMAP_OFFSET + i] = 0xFF;
  for (uint32_t port = FN_PORT_DOORBELL; port < FN_PORT_DOORBELL + kDoorbellAccessBytes; ++port)
    tss[FN_TSS_IOMAP_OFFSET + port / 8] &= static_cast<uint8_t>(~(1u << (port % 8)));
  tss[FN_TSS_IOMAP_OFFSET + kIoBitmapBytes] = 0xFF;  // terminator
  const uint64_t top = kIstTop;
  std::memcpy(&tss[kTssRsp0Offset], &top, sizeof top);
  std::memcpy(&tss[kTssIst1Offset], &top, sizeof top);
  return tss;
}

std::vector<uint8_t> syscall_stub() {
  static_assert(FN_PORT_SYSCALL <= 0xFFFF, "port must fit dx");
  // Entered at CPL0 (STAR's CS) with the guest's RSP, RAX = the syscall number, RCX = the return
  // RIP; it touches no memory, so the guest's stack does not matter.
  return {
      0xBA, FN_PORT_SYSCALL & 0xFF, (FN_PORT_SYSCALL >> 8) & 0xFF, 0x00, 0x00,  // mov edx, imm32
      0xEF,                                                                    // out dx, eax
      0xF4,                                                                    // hlt
      0xEB, 0xFD,                                                              // jmp back to hlt
  };
}

bool cpu_pushes_error_code(unsigned vector) {
  switch (vector) {
    case 8: case 10: case 11: case 12: case 13: case 14: case 17: case 21: case 29: case 30: return true;
    default: return false;
  }
}

std::array<uint64_t, 2> interrupt_gate(uint64_t offset, uint16_t selector, uint8_t ist, uint8_t gate_dpl) {
  constexpr uint64_t kTypeInterruptGate64 = 0xE;
  const uint64_t lo = (offset & 0xFFFF) | (uint64_t{selector} << 16) | (uint64_t{ist & 7u} << 32) |
                      (kTypeInterruptGate64 << 40) | (uint64_t{gate_dpl & 3u} << 45) | (uint64_t{1} << 47) |
                      (((offset >> 16) & 0xFFFF) << 48);
  return {lo, offset >> 32};
}

std::vector<uint8_t> build_idt() {
  std::vector<uint8_t> idt(kIdtVectors * 16, 0);
  for (unsigned v = 0; v < kIdtVectors; ++v) {
    std::array<uint64_t, 2> g = interrupt_gate(kFaultStubsAddr + v * kFaultStubStride, kSelKernelCode, kFaultIst, 0);
    std::memcpy(&idt[v * 16], g.data(), 16);
  }
  return idt;
}

std::vector<uint8_t> fault_stub(unsigned vector) {
  static_assert(FN_PORT_FAULT <= 0xFF, "`out imm8, al` takes a one-byte port");
  static_assert(kIdtVectors <= 0x80, "`push imm8` sign-extends the vector");
  std::vector<uint8_t> b;
  if (!cpu_pushes_error_code(vector)) b.insert(b.end(), {0x6A, 0x00});  // push 0
  b.insert(b.end(), {0x6A, static_cast<uint8_t>(vector)});               // push vector
  b.insert(b.end(), {0xE6, static_cast<uint8_t>(FN_PORT_FAULT)});        // out FN_PORT_FAULT, al
  b.insert(b.end(), {0xF4, 0xEB, 0xFD});                                 // 1: hlt ; jmp 1b
  return b;
}

void write_descriptor_tables(GuestMemory& mem) {
  std::array<uint64_t, kGdtSlots> gdt = build_gdt();
  mem.fill(GuestAddress(FN_GDT_ADDR), 0, FN_PAGE_SIZE);
  mem.write(GuestAddress(FN_GDT_ADDR), gdt.data(), sizeof(uint64_t) * gdt.size());

  std::vector<uint8_t> tss = build_tss();
  mem.fill(GuestAddress(FN_TSS_ADDR), 0, FN_PAGE_SIZE);
  mem.write(GuestAddress(FN_TSS_ADDR), tss.data(), tss.size());

  std::vector<uint8_t> idt = build_idt();
  mem.fill(GuestAddress(FN_IDT_ADDR), 0, FN_PAGE_SIZE);
  mem.write(GuestAddress(FN_IDT_ADDR), idt.data(), idt.size());
  mem.fill(GuestAddress(FN_IST_STACK_ADDR), 0, FN_PAGE_SIZE);

  std::vector<uint8_t> stub = syscall_stub();
  mem.fill(GuestAddress(FN_SYSCALL_STUB_ADDR), 0xF4, FN_PAGE_SIZE);  // hlt everywhere else in the page
  mem.write(GuestAddress(FN_SYSCALL_STUB_ADDR), stub.data(), stub.size());
  for (unsigned v = 0; v < kIdtVectors; ++v) {
    std::vector<uint8_t> f = fault_stub(v);
    mem.write(GuestAddress(kFaultStubsAddr + v * kFaultStubStride), f.data(), f.size());
  }
}

void write_page_tables(GuestMemory& mem, uint64_t mem_size, const std::vector<GuestRange>& exec) {
  if (mem_size < kMinRamBytes || mem_size % k2MiB != 0 || mem_size > kMaxRamBytes)
    throw ConfigError(format("guest RAM size 0x%llx must be a multiple of 2 MiB between 0x%llx and 0x%llx",
                             (ull)mem_size, (ull)kMinRamBytes, (ull)kMaxRamBytes));
  const uint64_t table = kPtePresent | kPteWritable | kPteUser | kPteAccessed;  // non-leaf entries
  const uint64_t big = kPtePresent | kPteWritable | kPteUser | kPteAccessed | kPteDirty | kPteLarge;
  // Two distinct 2 MiB regions get 4 KiB page tables (mem_size >= kMinRamBytes keeps them apart).
  const uint64_t high_base = mem_size - k2MiB;

  mem.fill(GuestAddress(FN_PAGE_TABLES_ADDR), 0, FN_PAGE_TABLES_END - FN_PAGE_TABLES_ADDR);

  mem.write_obj<uint64_t>(GuestAddress(kPml4Addr), kPdptAddr | table);

  // Page directories for RAM.
  const uint64_t ram_gibs = (mem_size + k1GiB - 1) / k1GiB;
  for (uint64_t g = 0; g < ram_gibs; ++g) mem.write_obj<uint64_t>(GuestAddress(kPdptAddr + g * 8), pd_addr(g) | table);
  for (uint64_t a = 0; a < mem_size; a += k2MiB) {
    uint64_t pde;
    if (a == 0) {
      pde = kPtLowAddr | table;
    } else if (a == high_base) {
      pde = kPtHighAddr | table;
    } else {
      pde = a | big;
      if (!overlaps_any(a, k2MiB, exec)) pde |= kPteNx;
    }
    mem.write_obj<uint64_t>(GuestAddress(pd_addr(a / k1GiB) + ((a % k1GiB) / k2MiB) * 8), pde);
  }
  // The first and the last 2 MiB in 4 KiB pages.
  write_page_table(mem, kPtLowAddr, 0, [&](uint64_t a) { return low_page_flags(a, exec); });
  write_page_table(mem, kPtHighAddr, high_base, [&](uint64_t a) { return high_page_flags(a, mem_size, exec); });
  // The window: user read/write, never executable.
  mem.write_obj<uint64_t>(GuestAddress(kPdptAddr + kWindowGiB * 8), pd_addr(kWindowGiB) | table);
  for (uint64_t a = FN_WINDOW_ADDR; a < FN_WINDOW_ADDR + FN_WINDOW_SIZE; a += k2MiB)
    mem.write_obj<uint64_t>(GuestAddress(pd_addr(kWindowGiB) + ((a % k1GiB) / k2MiB) * 8), a | big | kPteNx);
}

Translation translate(const GuestMemory& mem, uint64_t cr3, uint64_t vaddr) {
  Translation t;
  // Canonical check: bits 63..47 all equal.
  uint64_t top = vaddr >> 47;
  if (top != 0 && top != 0x1FFFF) return t;
  uint64_t table = cr3 & kPteAddrMask;
  bool user = true, writable = true, nx = false;
  const int shifts[4] = {39, 30, 21, 12};
  for (int level = 0; level < 4; ++level) {
    uint64_t idx = (vaddr >> shifts[level]) & 0x1FF;
    GuestAddress ea(table + idx * 8);
    if (!mem.contains(ea, 8)) return t;
    uint64_t e = mem.read_obj<uint64_t>(ea);
    if (!(e & kPtePresent)) return t;
    user = user && (e & kPteUser);
    writable = writable && (e & kPteWritable);
    nx = nx || (e & kPteNx);
    bool leaf = level == 3 || ((level == 1 || level == 2) && (e & kPteLarge));
    if (leaf) {
      uint64_t size = 1ull << shifts[level];
      t.present = true;
      t.page_size = size;
      t.phys = (e & kPteAddrMask & ~(size - 1)) | (vaddr & (size - 1));
      t.user = user;
      t.writable = writable;
      t.nx = nx;
      return t;
    }
    table = e & kPteAddrMask;
  }
  return t;
}

namespace {
kvm_segment code_segment(uint16_t selector, unsigned d) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xFFFFFFFF;
  s.selector = selector;
  s.type = kTypeCodeExecReadAccessed;
  s.present = 1;
  s.dpl = static_cast<uint8_t>(d);
  s.db = 0;
  s.s = 1;
  s.l = 1;
  s.g = 1;
  return s;
}
kvm_segment data_segment(uint16_t selector, unsigned d, uint64_t base) {
  kvm_segment s{};
  s.base = base;
  s.limit = 0xFFFFFFFF;
  s.selector = selector;
  s.type = kTypeDataRwAccessed;
  s.present = 1;
  s.dpl = static_cast<uint8_t>(d);
  s.db = 1;
  s.s = 1;
  s.l = 0;
  s.g = 1;
  return s;
}
}  // namespace

void setup_sregs(kvm_sregs& s) {
  const uint16_t user_data = kSelUserData | 3;
  s.cs = code_segment(kSelUserCode | 3, 3);
  s.ss = data_segment(user_data, 3, 0);
  s.ds = data_segment(user_data, 3, 0);
  s.es = data_segment(user_data, 3, 0);
  s.fs = data_segment(user_data, 3, FN_TLS_ADDR);
  s.gs = data_segment(user_data, 3, 0);

  s.tr = kvm_segment{};
  s.tr.base = FN_TSS_ADDR;
  s.tr.limit = kTssLimit;
  s.tr.selector = kSelTss;
  s.tr.type = kTypeTss64Busy;
  s.tr.present = 1;
  s.tr.dpl = 0;
  s.tr.s = 0;
  s.tr.g = 0;

  s.ldt = kvm_segment{};
  s.ldt.type = 0x2;  // LDT, marked unusable
  s.ldt.unusable = 1;

  s.gdt = kvm_dtable{};
  s.gdt.base = FN_GDT_ADDR;
  s.gdt.limit = kGdtLimit;
  s.idt = kvm_dtable{};
  s.idt.base = FN_IDT_ADDR;  // every exception goes to a fault stub (see long_mode.h)
  s.idt.limit = kIdtLimit;

  s.cr0 = kCr0;
  s.cr2 = 0;
  s.cr3 = kPml4Addr;
  s.cr4 = kCr4;
  s.cr8 = 0;
  s.efer = kEfer;
}

kvm_regs initial_regs(GuestAddress entry, uint64_t mem_size) {
  kvm_regs r{};
  r.rip = entry.raw();
  r.rsp = mem_size & ~uint64_t{15};
  r.rdi = FN_BOOT_INFO_ADDR;
  r.rflags = 0x2;
  return r;
}

kvm_fpu initial_fpu() {
  kvm_fpu f{};
  f.fcw = 0x37f;
  f.mxcsr = 0x1f80;
  return f;
}

std::vector<MsrValue> syscall_msrs() {
  const uint64_t star = (uint64_t{kSelKernelData} << 48) | (uint64_t{kSelKernelCode} << 32);
  return {
      {kMsrStar, star},
      {kMsrLstar, FN_SYSCALL_STUB_ADDR},
      {kMsrSfmask, kSfmask},
      {kMsrCstar, FN_SYSCALL_STUB_ADDR},
  };
}

}  // namespace long_mode
}  // namespace fnvmm
