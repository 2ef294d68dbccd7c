// long_mode.h — the x86-64 state a kernel-less guest needs to start at CPL3 in 64-bit mode.
//
// Pure functions: they write the GDT, TSS, syscall stub and page tables into GuestMemory, and compute
// register values as plain KVM structs. Nothing here issues an ioctl, so all of it is unit-tested
// without /dev/kvm. The layout constants come from fn_abi.h.
#ifndef FN_VMM_LONG_MODE_H
#define FN_VMM_LONG_MODE_H

#include <linux/kvm.h>

#include <array>
#include <cstdint>
#include <vector>

#include "fn_abi.h"
#include "guest_address.h"
#include "guest_memory.h"

namespace fnvmm {
namespace long_mode {

// ---- GDT ---------------------------------------------------------------------------------------
// Slots: null, code64 DPL0, data DPL0, data DPL3, code64 DPL3, 64-bit TSS (two slots).
// This order also suits SYSCALL/SYSRET: STAR[47:32] = 0x08 (CS 0x08, SS 0x10) and
// STAR[63:48] = 0x10 (SYSRET CS 0x20|3, SS 0x18|3).
constexpr uint16_t kSelKernelCode = 0x08;
constexpr uint16_t kSelKernelData = 0x10;
constexpr uint16_t kSelUserData = 0x18;
constexpr uint16_t kSelUserCode = 0x20;
constexpr uint16_t kSelTss = 0x28;
constexpr unsigned kGdtSlots = 7;
constexpr uint16_t kGdtLimit = kGdtSlots * 8 - 1;

// access byte: P | DPL | S | type; flags nibble: G | D/B | L | AVL.
uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
// A 16-byte system descriptor for a 64-bit TSS of the given type (0x9 available, 0xB busy).
std::array<uint64_t, 2> tss_descriptor(uint64_t base, uint32_t limit, uint8_t type);
std::array<uint64_t, kGdtSlots> build_gdt();

// ---- TSS + I/O permission bitmap -----------------------------------------------------------------
// The bitmap covers ports 0..255 (32 bytes, one bit per port, 0 = allowed), followed by the 0xFF
// terminator byte the CPU needs because it reads two bytes per check. Ports 256 and up lie beyond
// the TSS limit and are therefore denied. Only the doorbell is allowed: a doubleword `out dx, eax`
// checks four consecutive bits (ports p..p+3), so the bits for FN_PORT_DOORBELL..+3 are clear and
// no others. The host treats an exit on the three extra ports as bad_io (see vcpu_runner.cc).
constexpr uint32_t kIoBitmapBytes = 32;
constexpr uint32_t kDoorbellAccessBytes = 4;
constexpr uint32_t kTssBytes = FN_TSS_IOMAP_OFFSET + kIoBitmapBytes + 1;
constexpr uint32_t kTssLimit = kTssBytes - 1;
std::vector<uint8_t> build_tss();

// ---- syscall stub (runs at CPL0 after a stray `syscall`) ----------------------------------------
//   mov edx, FN_PORT_SYSCALL ; out dx, eax ; 1: hlt ; jmp 1b
std::vector<uint8_t> syscall_stub();
constexpr uint64_t kStubHltOffset = 6;  // offset of the hlt the jmp loops back to

// ---- page tables -------------------------------------------------------------------------------
constexpr uint64_t kPtePresent = 1ull << 0;
constexpr uint64_t kPteWritable = 1ull << 1;
constexpr uint64_t kPteUser = 1ull << 2;
constexpr uint64_t kPteAccessed = 1ull << 5;
constexpr uint64_t kPteDirty = 1ull << 6;
constexpr uint64_t kPteLarge = 1ull << 7;
constexpr uint64_t kPteNx = 1ull << 63;
constexpr uint64_t kPteAddrMask = 0x000FFFFFFFFFF000ull;

constexpr uint64_t k2MiB = 2ull << 20;
constexpr uint64_t k1GiB = 1ull << 30;

// Pages inside [FN_PAGE_TABLES_ADDR, FN_PAGE_TABLES_END): PML4, PDPT, the 4 KiB page table for the
// first 2 MiB, then one page directory per GiB of guest physical space up to and including the
// window's GiB (index FN_WINDOW_ADDR / 1 GiB).
constexpr uint64_t kPml4Addr = FN_PAGE_TABLES_ADDR;
constexpr uint64_t kPdptAddr = FN_PAGE_TABLES_ADDR + 0x1000;
constexpr uint64_t kPtLowAddr = FN_PAGE_TABLES_ADDR + 0x2000;
constexpr uint64_t kPdBase = FN_PAGE_TABLES_ADDR + 0x3000;
constexpr uint64_t kWindowGiB = FN_WINDOW_ADDR / k1GiB;
constexpr uint64_t kPdCount = kWindowGiB + 1;
constexpr uint64_t pd_addr(uint64_t gib) { return kPdBase + gib * 0x1000; }
static_assert(pd_addr(kPdCount) <= FN_PAGE_TABLES_END, "page tables do not fit their pages");
static_assert(FN_WINDOW_ADDR % k2MiB == 0 && FN_WINDOW_SIZE % k2MiB == 0, "window must be 2 MiB aligned");
static_assert((FN_WINDOW_ADDR + FN_WINDOW_SIZE - 1) / k1GiB == kWindowGiB, "window must sit in one GiB");

// Guest RAM may not reach the window: [0, mem_size) with mem_size <= FN_WINDOW_ADDR.
constexpr uint64_t kMaxRamBytes = FN_WINDOW_ADDR;

struct GuestRange {
  GuestAddress start;
  uint64_t len;
};

// Identity map of RAM [0, mem_size) (mem_size a multiple of 2 MiB, <= kMaxRamBytes) and of the window.
// The first 2 MiB use 4 KiB pages: page 0 not present; GDT, TSS, stub and page tables supervisor-only;
// boot info user read-only; TLS user read/write; the rest user read/write. Everything else uses 2 MiB
// user read/write pages, no-execute unless the page overlaps one of `exec` (the ELF's PF_X segments).
// Accessed/dirty bits are preset so the CPU never writes to the tables. Throws ConfigError.
void write_page_tables(GuestMemory& mem, uint64_t mem_size, const std::vector<GuestRange>& exec);

// Writes GDT, TSS and syscall stub at their fn_abi.h addresses.
void write_descriptor_tables(GuestMemory& mem);

// A software page walk, for tests and for fault reports.
struct Translation {
  bool present = false;
  uint64_t phys = 0;
  uint64_t page_size = 0;
  bool user = false;      // every level has U/S set
  bool writable = false;  // every level has R/W set
  bool nx = false;        // some level has NX set
};
Translation translate(const GuestMemory& mem, uint64_t cr3, uint64_t vaddr);

// ---- registers ---------------------------------------------------------------------------------
constexpr uint64_t kCr0 = (1ull << 0) | (1ull << 1) | (1ull << 4) | (1ull << 5) | (1ull << 16) | (1ull << 31);
                                      // PE | MP | ET | NE | WP | PG
constexpr uint64_t kCr4 = (1ull << 5) | (1ull << 9) | (1ull << 10);  // PAE | OSFXSR | OSXMMEXCPT
constexpr uint64_t kEfer = (1ull << 8) | (1ull << 10) | (1ull << 11);  // LME | LMA | NXE (not SCE)

constexpr uint32_t kMsrStar = 0xC0000081;
constexpr uint32_t kMsrLstar = 0xC0000082;
constexpr uint32_t kMsrCstar = 0xC0000083;
constexpr uint32_t kMsrSfmask = 0xC0000084;
// TF | IF | DF | IOPL | NT | AC are cleared on a stray syscall.
constexpr uint64_t kSfmask = (1ull << 8) | (1ull << 9) | (1ull << 10) | (3ull << 12) | (1ull << 14) | (1ull << 18);

// Overwrites the segment, descriptor-table and control registers of `s` (start from KVM_GET_SREGS so
// apic_base and the interrupt bitmap keep KVM's values).
void setup_sregs(kvm_sregs& s);
// RIP = entry, RSP = top of RAM (16-byte aligned), RDI = FN_BOOT_INFO_ADDR, RFLAGS = 0x2.
kvm_regs initial_regs(GuestAddress entry, uint64_t mem_size);
// fcw 0x37f, mxcsr 0x1f80.
kvm_fpu initial_fpu();

struct MsrValue {
  uint32_t index;
  uint64_t value;
};
// STAR, LSTAR, SFMASK, CSTAR: a stray syscall lands on the stub at CPL0. CSTAR is last on purpose:
// it is unreachable (no compatibility-mode code segment) so the caller may tolerate its rejection.
std::vector<MsrValue> syscall_msrs();
constexpr size_t kRequiredMsrCount = 3;

}  // namespace long_mode
}  // namespace fnvmm

#endif
