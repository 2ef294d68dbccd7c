// long_mode.h — the x86-64 state a kernel-less guest needs to start at CPL3 in 64-bit mode.
//
// Pure functions: they write the GDT, TSS, IDT, syscall and fault stubs and page tables into
// GuestMemory, and compute register values as plain KVM structs. Nothing here issues an ioctl, so all of it is unit-tested
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
// FN_PORT_FAULT is denied like every other port (it must be: see fn_abi.h); the fault stubs reach
// it at CPL0, where the bitmap is not consulted (CPL <= IOPL).
// The stack pointers the CPU loads when it enters CPL0: RSP0 (offset 4) and IST1 (offset 0x24) both
// hold the top of the IST page. Every IDT gate names IST1, so a fault never runs on the guest's own
// stack (which may be the very thing that faulted, as in a stack overflow).
constexpr uint32_t kIoBitmapBytes = 32;
constexpr uint32_t kDoorbellAccessBytes = 4;
constexpr uint32_t kTssBytes = FN_TSS_IOMAP_OFFSET + kIoBitmapBytes + 1;
constexpr uint32_t kTssLimit = kTssBytes - 1;
constexpr uint32_t kTssRsp0Offset = 0x04;
constexpr uint32_t kTssIst1Offset = 0x24;
constexpr uint64_t kIstTop = FN_IST_STACK_ADDR + FN_PAGE_SIZE;
static_assert(FN_PORT_FAULT >= FN_PORT_DOORBELL + kDoorbellAccessBytes || FN_PORT_FAULT + 4 <= FN_PORT_DOORBELL,
              "the fault port must lie outside the doorbell dword, which CPL3 can reach");
static_assert(FN_PORT_FAULT < kIoBitmapBytes * 8, "the fault port must be one the bitmap explicitly denies");
std::vector<uint8_t> build_tss();

// ---- syscall stub (runs at CPL0 after a stray `syscall`) ----------------------------------------
//   mov edx, FN_PORT_SYSCALL ; out dx, eax ; 1: hlt ; jmp 1b
std::vector<uint8_t> syscall_stub();
constexpr uint64_t kStubHltOffset = 6;  // offset of the hlt the jmp loops back to
constexpr uint64_t kSyscallStubBytes = 9;

// ---- IDT and fault stubs (run at CPL0 on the IST stack when the guest faults) -------------------
// Why: on AMD, KVM resets the vCPU before it reports a triple fault (KVM_EXIT_SHUTDOWN), so the
// registers read afterwards are the reset values (RIP 0xfff0): with no IDT, every fault report was
// empty. So the guest catches its own faults. The IDT at FN_IDT_ADDR has a 64-bit interrupt gate
// (DPL 0, so `int n` at CPL3 is a #GP instead of a forged fault; CS kSelKernelCode; IST 1) for
// each CPU exception vector 0..31, each pointing at its own stub in the page of the syscall stub:
//   [push 0]           only where the CPU pushes no error code, so every frame looks alike
//   push <vector>
//   out FN_PORT_FAULT, al
//   1: hlt ; jmp 1b
// The VMM takes the report from the frame on the IST stack (vcpu_runner.cc); the value of AL is
// meaningless (the stub leaves the guest's registers alone). A fault inside a stub (it cannot
// happen unless these pages are broken) escalates to a double, then triple fault: KVM_EXIT_SHUTDOWN
// remains the fallback. Vectors 32 and up lie past the IDT limit: `int n` there is a #GP too.
constexpr unsigned kIdtVectors = 32;
constexpr uint16_t kIdtLimit = kIdtVectors * 16 - 1;
constexpr uint8_t kFaultIst = 1;
constexpr uint64_t kFaultStubsAddr = FN_SYSCALL_STUB_ADDR + 0x100;
constexpr uint64_t kFaultStubStride = 16;
constexpr uint64_t kFaultStubsEnd = kFaultStubsAddr + kIdtVectors * kFaultStubStride;
static_assert(FN_SYSCALL_STUB_ADDR + kSyscallStubBytes <= kFaultStubsAddr && kFaultStubsEnd <= FN_SYSCALL_STUB_ADDR + FN_PAGE_SIZE,
              "the stubs share one page and must not overlap");
// The frame at RSP when a stub rings FN_PORT_FAULT: the stub's two pushes, then the CPU's.
constexpr uint64_t kFrameVector = 0, kFrameErrorCode = 8, kFrameRip = 16, kFrameCs = 24, kFrameRflags = 32,
                   kFrameRsp = 40, kFrameSs = 48;
constexpr uint64_t kFaultFrameBytes = 56;
constexpr uint64_t kFaultFrameRsp = kIstTop - kFaultFrameBytes;  // the CPU aligns an IST stack to 16 bytes first
// Whether the CPU pushes an error code for exception `vector` (#DF, #TS, #NP, #SS, #GP, #PF, #AC,
// #CP, #VC, #SX).
bool cpu_pushes_error_code(unsigned vector);
// A 16-byte 64-bit interrupt gate (type 0xE).
std::array<uint64_t, 2> interrupt_gate(uint64_t offset, uint16_t selector, uint8_t ist, uint8_t dpl);
std::vector<uint8_t> build_idt();                // kIdtVectors gates, each to its stub
std::vector<uint8_t> fault_stub(unsigned vector);  // at kFaultStubsAddr + vector * kFaultStubStride

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

// Guest RAM is [0, mem_size) with kMinRamBytes <= mem_size <= kMaxRamBytes, a multiple of 2 MiB.
// The minimum keeps the first and the last 2 MiB apart (each has its own 4 KiB page table); the
// maximum is what one page directory per GiB of RAM leaves room for in the page-table pages (and it
// matches MicroVm's limit, kMaxMemoryBytes in microvm.h).
constexpr uint64_t kMinRamBytes = 2 * k2MiB;
constexpr uint64_t kMaxRamGiBs = 3;
constexpr uint64_t kMaxRamBytes = kMaxRamGiBs * k1GiB;

// The page-table pages, all inside [FN_PAGE_TABLES_ADDR, FN_PAGE_TABLES_END) = 0x8000..0x10000:
//   0x8000  PML4                  one entry: the PDPT
//   0x9000  PDPT                  entries 0..2: the RAM page directories; entry 4: the window's
//   0xA000  page table, low       4 KiB pages for RAM [0, 2 MiB): page 0 absent, system pages
//   0xB000  page table, high      4 KiB pages for RAM [mem_size - 2 MiB, mem_size): the stack guard
//                                 page absent
//   0xC000  page directory, GiB 0  2 MiB pages for RAM (each PD is in use only if RAM reaches its GiB)
//   0xD000  page directory, GiB 1  ditto
//   0xE000  page directory, GiB 2  ditto
//   0xF000  page directory, window 2 MiB pages for [FN_WINDOW_ADDR, FN_WINDOW_ADDR + FN_WINDOW_SIZE)
// All eight pages are in use; there is no room for a fourth GiB of RAM.
constexpr uint64_t kPml4Addr = FN_PAGE_TABLES_ADDR;
constexpr uint64_t kPdptAddr = FN_PAGE_TABLES_ADDR + 0x1000;
constexpr uint64_t kPtLowAddr = FN_PAGE_TABLES_ADDR + 0x2000;
constexpr uint64_t kPtHighAddr = FN_PAGE_TABLES_ADDR + 0x3000;
constexpr uint64_t kPdRamBase = FN_PAGE_TABLES_ADDR + 0x4000;
constexpr uint64_t kPdWindowAddr = kPdRamBase + kMaxRamGiBs * 0x1000;
constexpr uint64_t kWindowGiB = FN_WINDOW_ADDR / k1GiB;
constexpr uint64_t kPdptEntries = kWindowGiB + 1;  // PDPT entries in use at most: RAM GiBs, gap, window
// The page directory covering guest-physical GiB `gib` (a RAM GiB below kMaxRamGiBs, or kWindowGiB).
constexpr uint64_t pd_addr(uint64_t gib) { return gib == kWindowGiB ? kPdWindowAddr : kPdRamBase + gib * 0x1000; }
static_assert(kPdWindowAddr + 0x1000 <= FN_PAGE_TABLES_END, "page tables do not fit their pages");
static_assert(kMaxRamBytes <= FN_WINDOW_ADDR && kMaxRamGiBs <= kWindowGiB, "RAM would reach the window's GiB");
static_assert(FN_WINDOW_ADDR % k2MiB == 0 && FN_WINDOW_SIZE % k2MiB == 0, "window must be 2 MiB aligned");
static_assert((FN_WINDOW_ADDR + FN_WINDOW_SIZE - 1) / k1GiB == kWindowGiB, "window must sit in one GiB");
// The stack and its guard page lie inside the last 2 MiB of RAM, which the high page table maps, and
// that 2 MiB never reaches the low one's (kMinRamBytes).
static_assert(FN_STACK_SIZE % FN_PAGE_SIZE == 0 && FN_STACK_GUARD_SIZE == FN_PAGE_SIZE, "guard must be one page");
static_assert(FN_STACK_SIZE + FN_STACK_GUARD_SIZE <= k2MiB, "stack and guard must fit the last 2 MiB");

// The stack guard page of a guest with mem_size bytes of RAM (see fn_abi.h).
constexpr uint64_t stack_guard_addr(uint64_t mem_size) { return mem_size - FN_STACK_SIZE - FN_STACK_GUARD_SIZE; }

struct GuestRange {
  GuestAddress start;
  uint64_t len;
};

// Identity map of RAM [0, mem_size) (a multiple of 2 MiB in [kMinRamBytes, kMaxRamBytes]) and of the
// window. The first 2 MiB use 4 KiB pages: page 0 not present; GDT, TSS, IDT, IST stack, stubs and
// page tables supervisor-only (the stubs' page the only executable one, the IST stack and the GDT
// the only writable ones); boot info user read-only; TLS user read/write; the rest user read/write. The last
// 2 MiB use 4 KiB pages too, all user read/write except the stack guard page (stack_guard_addr), which
// is not present, so a stack overflow faults. Everything in between uses 2 MiB user read/write pages.
// RAM pages are no-execute unless they overlap one of `exec` (the ELF's PF_X segments); the window is
// never executable. Accessed/dirty bits are preset so the CPU never writes to the tables. Throws
// ConfigError.
void write_page_tables(GuestMemory& mem, uint64_t mem_size, const std::vector<GuestRange>& exec);

// Writes GDT, TSS, IDT, the (zeroed) IST stack page, the syscall and fault stubs at their fn_abi.h
// addresses.
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
// SCE: with it clear, `syscall` raises #UD on Intel and AMD CPUs (only PVM, which forces SCE on,
// went to LSTAR anyway); with it set a stray syscall reaches the stub at LSTAR and is reported as
// a syscall with its number.
constexpr uint64_t kEfer = (1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11);  // SCE | LME | LMA | NXE

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
