// cpu_model.h — the little a CPU does that the fakes must do the way a CPU does it: deliver an
// exception through the IDT in 64-bit mode, execute `syscall`, run the VMM's stubs, and check an
// `out` at CPL3 against the TSS I/O permission bitmap. It reads the tables from guest memory (what
// the VMM wrote there, through its own page walk), not from long_mode.h's constants, so a fake built
// on it can disagree with the VMM: a wrong gate, IST, TSS field, stub byte or page permission ends in
// a triple fault or a wrong report here, as on hardware. Used by fake_kvm.cc (the LD_PRELOAD
// /dev/kvm) and fake_vcpu.h (the runner's unit tests). Not an x86 emulator: the stubs use six
// instructions and those are all it knows.
//
// References: Intel SDM vol. 3A 6.14 (64-bit mode exception delivery), 7.7 (TSS, IST), 4.5 (paging);
// vol. 1 19.5 (the I/O permission bitmap); AMD APM vol. 2 8.9.
#ifndef FN_VMM_TEST_CPU_MODEL_H
#define FN_VMM_TEST_CPU_MODEL_H

#include <linux/kvm.h>

#include <cstdint>
#include <cstring>

namespace fntest {
namespace cpu {

// Guest-physical memory as the model sees it.
class Memory {
 public:
  virtual ~Memory() = default;
  // Host pointer to [gpa, gpa + len) if it lies in guest memory, else nullptr.
  virtual uint8_t* host(uint64_t gpa, uint64_t len) = 0;
  // Called after the CPU wrote [gpa, gpa + len) (a fake KVM logs it as dirty).
  virtual void wrote(uint64_t gpa, uint64_t len) {}
};

enum class Access { Read, Write, Fetch };

// The 4-level walk with 2 MiB / 1 GiB leaves and the permission check the CPU makes (CR0.WP = 1,
// EFER.NXE = 1, no SMEP/SMAP). Identity paging is not assumed: returns the physical address.
inline bool translate(Memory& m, const kvm_sregs& s, uint64_t va, Access a, bool user, uint64_t* pa) {
  constexpr uint64_t kAddr = 0x000FFFFFFFFFF000ull;
  const uint64_t top = va >> 47;
  if (top != 0 && top != 0x1FFFF) return false;
  uint64_t table = s.cr3 & kAddr;
  bool u = true, w = true, nx = false;
  for (int shift = 39; shift >= 12; shift -= 9) {
    uint8_t* p = m.host(table + ((va >> shift) & 0x1FF) * 8, 8);
    if (p == nullptr) return false;
    uint64_t e;
    std::memcpy(&e, p, 8);
    if (!(e & 1)) return false;
    w = w && (e & 2);
    u = u && (e & 4);
    nx = nx || (e >> 63);
    const bool leaf = shift == 12 || ((shift == 21 || shift == 30) && (e & 0x80));
    if (!leaf) {
      table = e & kAddr;
      continue;
    }
    if (user && !u) return false;
    if (a == Access::Write && !w) return false;  // CR0.WP: supervisor writes honour R/W too
    if (a == Access::Fetch && nx) return false;
    const uint64_t size = 1ull << shift;
    *pa = (e & kAddr & ~(size - 1)) | (va & (size - 1));
    return true;
  }
  return false;
}

// Whether the walk for `va` reaches a present leaf (permissions aside): the P bit of a #PF's
// error code.
inline bool mapped(Memory& m, const kvm_sregs& s, uint64_t va) {
  constexpr uint64_t kAddr = 0x000FFFFFFFFFF000ull;
  uint64_t table = s.cr3 & kAddr;
  for (int shift = 39; shift >= 12; shift -= 9) {
    uint8_t* p = m.host(table + ((va >> shift) & 0x1FF) * 8, 8);
    if (p == nullptr) return false;
    uint64_t e;
    std::memcpy(&e, p, 8);
    if (!(e & 1)) return false;
    if (shift == 12 || ((shift == 21 || shift == 30) && (e & 0x80))) return true;
    table = e & kAddr;
  }
  return false;
}

// The #PF error code the CPU pushes for an access `translate` refused: P, W/R, U/S, I/D.
inline uint64_t page_fault_code(Memory& m, const kvm_sregs& s, uint64_t va, Access a, bool user) {
  return (mapped(m, s, va) ? 1u : 0u) | (a == Access::Write ? 2u : 0u) | (user ? 4u : 0u) | (a == Access::Fetch ? 0x10u : 0u);
}

inline unsigned cpl(const kvm_sregs& s) { return s.cs.selector & 3u; }

// One linear read/write of `len` bytes (no page crossing: the model's accesses are aligned qwords).
inline bool read_lin(Memory& m, const kvm_sregs& s, uint64_t va, void* out, uint64_t len, bool user) {
  uint64_t pa;
  if (!translate(m, s, va, Access::Read, user, &pa)) return false;
  uint8_t* p = m.host(pa, len);
  if (p == nullptr) return false;
  std::memcpy(out, p, len);
  return true;
}
inline bool write_lin(Memory& m, const kvm_sregs& s, uint64_t va, const void* in, uint64_t len, bool user) {
  uint64_t pa;
  if (!translate(m, s, va, Access::Write, user, &pa)) return false;
  uint8_t* p = m.host(pa, len);
  if (p == nullptr) return false;
  std::memcpy(p, in, len);
  m.wrote(pa, len);
  return true;
}

// Delivers exception `vector` through the IDT from the current state, as in 64-bit mode: the gate
// (present 64-bit interrupt or trap gate within the IDT limit), its code segment (a present
// 64-bit code segment in the GDT), the new stack (TSS IST entry, or RSP0 on a privilege change,
// 16-byte aligned), the frame SS, RSP, RFLAGS, CS, RIP[, error code] written with supervisor
// rights, then CS:RIP from the gate, SS null, RFLAGS.TF/NT/RF (and IF for an interrupt gate)
// cleared. Returns false where the CPU would raise another exception instead (the caller then
// tries #DF, and a failed #DF is a triple fault). Descriptor-table reads are supervisor reads.
inline bool deliver(Memory& m, kvm_regs& r, kvm_sregs& s, unsigned vector, bool has_error, uint64_t error) {
  if (vector * 16u + 15u > s.idt.limit) return false;
  uint64_t gate[2];
  if (!read_lin(m, s, s.idt.base + vector * 16u, gate, 16, false)) return false;
  const unsigned type = (gate[0] >> 40) & 0xF, present = (gate[0] >> 47) & 1, ist = (gate[0] >> 32) & 7;
  if (!present || (type != 0xE && type != 0xF)) return false;
  const uint16_t selector = static_cast<uint16_t>(gate[0] >> 16);
  const uint64_t offset = (gate[0] & 0xFFFF) | ((gate[0] >> 32) & 0xFFFF0000ull) | (gate[1] << 32);
  if ((selector & ~7u) == 0 || (selector & 4) || (selector | 7u) > s.gdt.limit) return false;
  uint64_t desc;
  if (!read_lin(m, s, s.gdt.base + (selector & ~7u), &desc, 8, false)) return false;
  const unsigned d_type = (desc >> 40) & 0xF, d_s = (desc >> 44) & 1, d_dpl = (desc >> 45) & 3, d_p = (desc >> 47) & 1,
                 d_l = (desc >> 53) & 1;
  if (!d_s || !(d_type & 8) || !d_p || !d_l || d_dpl > cpl(s)) return false;
  const unsigned new_cpl = d_dpl, old_cpl = cpl(s);
  uint64_t rsp = r.rsp;
  if (ist != 0 || new_cpl != cpl(s)) {
    const uint32_t field = ist != 0 ? 0x24 + (ist - 1) * 8 : 4 + new_cpl * 8;
    if (field + 7u > s.tr.limit) return false;
    if (!read_lin(m, s, s.tr.base + field, &rsp, 8, false)) return false;
  }
  rsp &= ~uint64_t{15};
  const uint64_t frame[6] = {error, r.rip, s.cs.selector, r.rflags, r.rsp, s.ss.selector};
  const unsigned first = has_error ? 0 : 1;
  for (unsigned i = 6; i-- > first;) {
    rsp -= 8;
    if (!write_lin(m, s, rsp, &frame[i], 8, false)) return false;
  }
  r.rsp = rsp;
  r.rip = offset;
  r.rflags &= ~((1ull << 8) | (1ull << 14) | (1ull << 16) | (type == 0xE ? (1ull << 9) : 0));
  s.cs.selector = static_cast<uint16_t>((selector & ~3u) | new_cpl);
  s.cs.dpl = static_cast<uint8_t>(new_cpl);
  s.cs.l = 1;
  s.cs.db = 0;
  if (new_cpl != old_cpl) {  // 64-bit mode: SS becomes a null selector with RPL = the new CPL
    s.ss = kvm_segment{};
    s.ss.selector = static_cast<uint16_t>(new_cpl);
    s.ss.unusable = 1;
  }
  return true;
}

// What the CPU does with an exception: deliver it; if that fails, deliver #DF; if that fails too,
// give up: a triple fault (false).
inline bool raise(Memory& m, kvm_regs& r, kvm_sregs& s, unsigned vector, uint64_t error);

// The error codes CPU exceptions carry.
inline bool has_error_code(unsigned v) {
  return v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 || v == 21 || v == 29 || v == 30;
}

inline bool raise(Memory& m, kvm_regs& r, kvm_sregs& s, unsigned vector, uint64_t error) {
  const kvm_regs r0 = r;
  const kvm_sregs s0 = s;
  if (deliver(m, r, s, vector, has_error_code(vector), error)) return true;
  r = r0;
  s = s0;
  return vector != 8 && deliver(m, r, s, 8, true, 0);
}

// `syscall` in 64-bit mode: #UD unless EFER.SCE; else RCX = next RIP, R11 = RFLAGS, RFLAGS &=
// ~SFMASK, CS = STAR[47:32] (CPL0), SS = that + 8, RIP = LSTAR. Returns false for #UD.
inline bool syscall(kvm_regs& r, kvm_sregs& s, uint64_t star, uint64_t lstar, uint64_t sfmask, uint64_t next_rip) {
  if (!(s.efer & 1)) return false;
  r.rcx = next_rip;
  r.r11 = r.rflags;
  r.rflags &= ~sfmask;
  r.rflags |= 2;
  const uint16_t cs = static_cast<uint16_t>((star >> 32) & 0xFFFC);
  s.cs.selector = cs;
  s.cs.dpl = 0;
  s.cs.l = 1;
  s.ss.selector = static_cast<uint16_t>(cs + 8);
  s.ss.dpl = 0;
  r.rip = lstar;
  return true;
}

// Whether `out` of `size` bytes to `port` is allowed: at CPL <= IOPL always; else the TSS's I/O
// bitmap (two bytes read from iomap_base + port / 8, within the TSS limit, all `size` bits clear).
// With `qemu_tr_check`, as QEMU's emulated check also wants the TR type to be 9 (nested_quirks.h).
inline bool io_allowed(Memory& m, const kvm_regs& r, const kvm_sregs& s, uint16_t port, unsigned size,
                       bool qemu_tr_check) {
  if (cpl(s) <= ((r.rflags >> 12) & 3)) return true;
  if (qemu_tr_check && s.tr.type != 9) return false;
  if (s.tr.limit < 0x67) return false;
  uint16_t base;
  if (!read_lin(m, s, s.tr.base + 0x66, &base, 2, false)) return false;
  const uint32_t at = base + port / 8u;
  if (at + 1u > s.tr.limit) return false;
  uint8_t two[2];
  if (!read_lin(m, s, s.tr.base + at, &two[0], 1, false) || !read_lin(m, s, s.tr.base + at + 1, &two[1], 1, false))
    return false;
  const unsigned bits = (two[0] | (two[1] << 8)) >> (port & 7);
  return (bits & ((1u << size) - 1)) == 0;
}

// Where running a stub stopped.
struct StubStop {
  enum Kind { Out, Hlt, Fault } kind = Fault;
  uint16_t port = 0;
  uint8_t size = 0;
  uint32_t value = 0;
};

// Runs from RIP (at CPL0: the VMM's stubs) until an `out` (RIP left on it, as KVM reports an I/O
// exit), a `hlt` (RIP past it) or anything it does not know (Fault: a CPU would raise #UD or #PF,
// which for a stub means a broken VMM). Instructions: push imm8 (6A), mov edx, imm32 (BA),
// out imm8, al (E6), out dx, eax (EF), hlt (F4), jmp rel8 (EB).
inline StubStop run_stub(Memory& m, kvm_regs& r, kvm_sregs& s) {
  StubStop stop;
  for (int steps = 0; steps < 64; ++steps) {
    uint64_t pa;
    if (!translate(m, s, r.rip, Access::Fetch, cpl(s) == 3, &pa)) return stop;
    const uint8_t* b = m.host(pa, 5);
    if (b == nullptr) return stop;
    switch (b[0]) {
      case 0x6A: {
        const uint64_t v = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(b[1])));
        if (!write_lin(m, s, r.rsp - 8, &v, 8, cpl(s) == 3)) return stop;
        r.rsp -= 8;
        r.rip += 2;
        break;
      }
      case 0xBA: {
        uint32_t imm;
        std::memcpy(&imm, b + 1, 4);
        r.rdx = imm;  // a 32-bit move zero-extends
        r.rip += 5;
        break;
      }
      case 0xE6:
        stop.kind = StubStop::Out;
        stop.port = b[1];
        stop.size = 1;
        stop.value = static_cast<uint8_t>(r.rax);
        return stop;
      case 0xEF:
        stop.kind = StubStop::Out;
        stop.port = static_cast<uint16_t>(r.rdx);
        stop.size = 4;
        stop.value = static_cast<uint32_t>(r.rax);
        return stop;
      case 0xF4:
        r.rip += 1;
        stop.kind = StubStop::Hlt;
        return stop;
      case 0xEB:
        r.rip += 2 + static_cast<int8_t>(b[1]);
        break;
      default:
        return stop;
    }
  }
  return stop;
}

}  // namespace cpu
}  // namespace fntest

#endif
