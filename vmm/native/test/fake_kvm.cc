// fake_kvm.cc — an LD_PRELOAD stand-in for /dev/kvm, so the real addon (ioctl sequence, vCPU thread,
// watchdog signals, ThreadSafeFunction delivery, close, finalizers) runs end to end on machines
// without KVM. It interposes open/open64/ioctl/mmap/mmap64/close for the fds it hands out and passes
// every other call through. It is NOT an x86 emulator: its "guest" is a script that reads the window
// like probe_guest.S does and answers with the exits a real guest would cause. It also checks what
// real KVM would refuse (CPUID before SREGS, long-mode state, boot info) and reports violations as
// KVM_EXIT_FAIL_ENTRY with a reason code, so the test sees them.
//
// Snapshots: it keeps each vCPU's registers, XSAVE area and MSRs; honours kvm_run's sync_regs
// (kvm_dirty_regs applied at the top of KVM_RUN, kvm_valid_regs copied out at the end, as KVM
// does); models the doorbell's pending I/O like KVM (RIP stays on the `out` until the next KVM_RUN
// completes it, also one with immediate_exit set, and is not moved if userspace moved RIP meanwhile);
// keeps a dirty bitmap per slot with KVM_MEM_LOG_DIRTY_PAGES for every write its guest makes; and
// lets a slot's flags change. Its guest keeps state where a real one would — a state page in guest
// RAM (magic, counter), a counter in R14, MXCSR, the FS segment — so a snapshot that lost memory or
// registers, a restore that mapped the wrong pages, or a reset that missed something shows up in
// the results (fail-entry codes 0xF00B, 0xF00C below, or wrong answers).
// CPU behaviour (cpu_model.h) it takes from the tables the VMM wrote into guest memory, as a CPU
// would: a fault of its guest (page walk refused, `hlt` or a denied port at CPL3, ud2, ...) is
// delivered through the IDT onto the IST stack and the stub it lands on is run to its `out`; a
// `syscall` needs EFER.SCE (else #UD) and runs the stub at LSTAR; an `out` at CPL3 is checked
// against the TSS I/O bitmap. What cannot be delivered is a triple fault, reported the way KVM on
// AMD reports it: the vCPU reset first (RIP 0xfff0), so nothing of the guest's state is left. Like
// KVM on SVM, KVM_GET_SREGS reports TR as busy whatever type was set.
// The flexible-array ioctls (CPUID, MSRs) are read and written in the kernel's C layout
// (kvm_ioctls.h), never through <linux/kvm.h>'s C++ view.
// Knobs (environment): FAKE_KVM_NO_SYNC_REGS, FAKE_KVM_NO_XSAVE (capabilities reported absent),
// FAKE_KVM_REFUSE_MSR=<hex index> (KVM_GET/SET_MSRS stop at it), FAKE_KVM_CPUID_1_ECX=<hex> (CPUID
// leaf 1 ECX of KVM_GET_SUPPORTED_CPUID; default 0x40000000, rdrand), FAKE_KVM_QEMU_TR_CHECK=1|0 (the
// nested test machine's quirk, nested_quirks.h: an `out` at CPL3 needs TR type 9, and boot accepts
// it; off, boot requires type 0xB, as Intel VM entry does; unset, on iff FN_KVM_NESTED_TR_AVAILABLE=1).
//
// Build: see Makefile (fake_kvm.so). Use: LD_PRELOAD=.../fake_kvm.so node native/test/fake_kvm_smoke.cjs
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "cpu_model.h"
#include "fn_abi.h"
#include "kvm_ioctls.h"  // the ioctl numbers and struct layouts as the kernel has them (not <linux/kvm.h>'s in C++)

namespace {

namespace kvm_abi = fnvmm::kvm_abi;
namespace cpu = fntest::cpu;

using open_fn = int (*)(const char*, int, ...);
using ioctl_fn = int (*)(int, unsigned long, ...);
using mmap_fn = void* (*)(void*, size_t, int, int, int, off_t);
using close_fn = int (*)(int);

template <typename T>
T real(const char* name) {
  return reinterpret_cast<T>(dlsym(RTLD_NEXT, name));
}

enum class Kind { System, Vm, Vcpu };

struct Slot {
  uint32_t id;
  uint32_t flags;
  uint64_t gpa, size;
  uint8_t* host;
  std::vector<uint64_t> dirty;  // with KVM_MEM_LOG_DIRTY_PAGES: one bit per page
};

// Where the fake guest's RIP is: on its doorbell `out dx, eax` (one byte), and just past it in its
// serve loop. Inside the load window, below every memory size.
constexpr uint64_t kDoorbellRip = FN_GUEST_LOAD_ADDR + 0x10;
constexpr uint64_t kServeRip = kDoorbellRip + 1;
// The guest's state page (the first heap page): magic, counter.
constexpr uint64_t kStateMagic = 0x31545347454b4146ull;  // "FAKEGST1"
constexpr uint64_t kMsrStar = 0xC0000081, kMsrLstar = 0xC0000082, kMsrCstar = 0xC0000083, kMsrSfmask = 0xC0000084,
                   kMsrKernelGsBase = 0xC0000102, kMsrTsc = 0x10;

struct Obj {
  Kind kind;
  std::shared_ptr<Obj> vm;  // for a vCPU
  std::vector<Slot> slots;  // for a VM
  kvm_regs regs{};
  kvm_sregs sregs{};
  uint8_t xsave[4096] = {};  // the FPU state in XSAVE layout (legacy area: fcw at 0, mxcsr at 24)
  std::map<uint32_t, uint64_t> msrs;
  bool cpuid_set = false, sregs_set = false, regs_set = false, fpu_set = false;
  kvm_run* run = nullptr;
  bool booted = false;
  bool slept = false;
  bool io_pending = false;  // the doorbell's `out` waits for the next KVM_RUN to complete it
  uint64_t io_rip = 0;
};

std::mutex g_mu;
std::map<int, std::shared_ptr<Obj>> g_objs;

std::shared_ptr<Obj> find(int fd) {
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = g_objs.find(fd);
  return it == g_objs.end() ? nullptr : it->second;
}

int new_fd(Kind k, std::shared_ptr<Obj> vm = nullptr) {
  int fd = memfd_create("fake-kvm", MFD_CLOEXEC);
  if (fd < 0) return -1;
  auto o = std::make_shared<Obj>();
  o->kind = k;
  o->vm = std::move(vm);
  std::lock_guard<std::mutex> lk(g_mu);
  g_objs[fd] = o;
  return fd;
}

int fail(int err) {
  errno = err;
  return -1;
}

bool env_flag(const char* name) {
  const char* v = getenv(name);
  return v != nullptr && *v != 0;
}

uint64_t env_hex(const char* name, uint64_t dflt) {
  const char* v = getenv(name);
  return v != nullptr && *v != 0 ? std::strtoull(v, nullptr, 16) : dflt;
}

Slot* slot_of(Obj& vm, uint64_t addr, uint64_t len) {
  for (Slot& s : vm.slots)
    if (addr >= s.gpa && addr - s.gpa <= s.size && len <= s.size - (addr - s.gpa)) return &s;
  return nullptr;
}

uint8_t* gpa(Obj& vm, uint64_t addr, uint64_t len) {
  Slot* s = slot_of(vm, addr, len);
  return s ? s->host + (addr - s->gpa) : nullptr;
}

// KVM logs every guest write in the slot's dirty bitmap, if the slot logs.
void mark_dirty(Slot& s, uint64_t addr, uint64_t len) {
  if ((s.flags & KVM_MEM_LOG_DIRTY_PAGES) && len != 0)
    for (uint64_t p = (addr - s.gpa) / 4096; p <= (addr - s.gpa + len - 1) / 4096; ++p) s.dirty[p / 64] |= 1ull << (p % 64);
}

// A write by the guest: lands in memory and in the dirty log. False outside every slot.
bool guest_write(Obj& vm, uint64_t addr, const void* data, uint64_t len) {
  Slot* s = slot_of(vm, addr, len);
  if (s == nullptr) return false;
  std::memcpy(s->host + (addr - s->gpa), data, len);
  mark_dirty(*s, addr, len);
  return true;
}

// Guest memory as the CPU model sees it (its writes are the CPU's: logged too).
class VmMemory final : public cpu::Memory {
 public:
  explicit VmMemory(Obj& vm) : vm_(vm) {}
  uint8_t* host(uint64_t addr, uint64_t len) override { return gpa(vm_, addr, len); }
  void wrote(uint64_t addr, uint64_t len) override {
    if (Slot* s = slot_of(vm_, addr, len)) mark_dirty(*s, addr, len);
  }

 private:
  Obj& vm_;
};
template <typename T>
bool guest_put(Obj& vm, uint64_t addr, T v) {
  return guest_write(vm, addr, &v, sizeof v);
}
// The guest's writes into its window.
template <typename T>
void put(Obj& vm, size_t off, T v) {
  guest_put<T>(vm, FN_WINDOW_ADDR + off, v);
}
template <typename T>
T get(const uint8_t* p, size_t off) {
  T v;
  std::memcpy(&v, p + off, sizeof v);
  return v;
}

// The page walk a CPL3 access does, over the page tables the VMM wrote into guest memory.
bool user_can(Obj& vm, const kvm_sregs& s, uint64_t va, cpu::Access a) {
  VmMemory mem(vm);
  uint64_t pa;
  return cpu::translate(mem, s, va, a, true, &pa);
}
bool user_can_write(Obj& vm, const kvm_sregs& s, uint64_t va) { return user_can(vm, s, va, cpu::Access::Write); }

// Whether to model the nested test machine's I/O check (nested_quirks.h): FAKE_KVM_QEMU_TR_CHECK=1
// or 0 says so; unset, the fake is the machine the VMM is told it runs on (FN_KVM_NESTED_TR_AVAILABLE).
bool qemu_tr_check() {
  const char* v = getenv("FAKE_KVM_QEMU_TR_CHECK");
  if (v != nullptr && *v != 0) return std::strcmp(v, "0") != 0;
  const char* nested = getenv("FN_KVM_NESTED_TR_AVAILABLE");
  return nested != nullptr && std::strcmp(nested, "1") == 0;
}

int io_exit(kvm_run* run, uint16_t port, uint8_t size, uint32_t value) {
  run->exit_reason = KVM_EXIT_IO;
  run->io.direction = KVM_EXIT_IO_OUT;
  run->io.size = size;
  run->io.port = port;
  run->io.count = 1;
  run->io.data_offset = 4096;
  std::memcpy(reinterpret_cast<uint8_t*>(run) + 4096, &value, sizeof value);
  return 0;
}

// A triple fault, reported as KVM on AMD reports it: the vCPU reset before KVM_EXIT_SHUTDOWN.
int triple_fault(Obj& v) {
  v.regs = kvm_regs{};
  v.regs.rip = 0xfff0;
  v.regs.rflags = 2;
  const kvm_segment tr = v.sregs.tr;
  v.sregs.cs = kvm_segment{};
  v.sregs.cs.selector = 0xf000;
  v.sregs.cs.base = 0xffff0000;
  v.sregs.cs.limit = 0xffff;
  v.sregs.cs.type = 0xB;
  v.sregs.cs.present = 1;
  v.sregs.cs.s = 1;
  v.sregs.cr0 = 0x60000010;
  v.sregs.cr2 = v.sregs.cr3 = v.sregs.cr4 = v.sregs.efer = 0;
  v.sregs.idt = kvm_dtable{};
  v.sregs.gdt = kvm_dtable{};
  v.sregs.tr = kvm_segment{};
  v.sregs.tr.type = tr.type;
  v.run->exit_reason = KVM_EXIT_SHUTDOWN;
  return 0;
}

// A CPU exception in the guest at its current RIP: delivered through the IDT, then the stub it
// lands on runs until its `out` (an I/O exit, RIP on the `out`) or hlt (KVM_EXIT_HLT).
int cpu_exception(Obj& v, unsigned vector, uint64_t error) {
  VmMemory mem(*v.vm);
  if (!cpu::raise(mem, v.regs, v.sregs, vector, error)) return triple_fault(v);
  const cpu::StubStop st = cpu::run_stub(mem, v.regs, v.sregs);
  switch (st.kind) {
    case cpu::StubStop::Out: return io_exit(v.run, st.port, st.size, st.value);
    case cpu::StubStop::Hlt: v.run->exit_reason = KVM_EXIT_HLT; return 0;
    case cpu::StubStop::Fault: break;
  }
  return triple_fault(v);
}

// A #PF at `rip` for an access to `va` the page walk refused.
int page_fault(Obj& v, uint64_t rip, uint64_t va, cpu::Access a) {
  VmMemory mem(*v.vm);
  v.regs.rip = rip;
  v.sregs.cr2 = va;
  return cpu_exception(v, 14, cpu::page_fault_code(mem, v.sregs, va, a, cpu::cpl(v.sregs) == 3));
}

// An exception without a page walk (#UD, #GP(0), #DE...) at `rip`.
int fault_at(Obj& v, uint64_t rip, unsigned vector, uint64_t error = 0) {
  v.regs.rip = rip;
  return cpu_exception(v, vector, error);
}

// `out` from the guest's code at `rip`: an I/O exit if the TSS I/O bitmap allows it, else #GP(0).
int guest_out(Obj& v, uint64_t rip, uint16_t port, uint8_t size, uint32_t value) {
  VmMemory mem(*v.vm);
  v.regs.rip = rip;
  if (!cpu::io_allowed(mem, v.regs, v.sregs, port, size, qemu_tr_check())) return cpu_exception(v, 13, 0);
  return io_exit(v.run, port, size, value);
}

// The guest rings its doorbell: RIP stays on the `out` until the next KVM_RUN completes it.
int doorbell(Obj& v, uint32_t event) {
  const int rc = guest_out(v, kDoorbellRip, FN_PORT_DOORBELL, 4, event);
  if (v.run->exit_reason == KVM_EXIT_IO && v.run->io.port == FN_PORT_DOORBELL) {
    v.io_pending = true;
    v.io_rip = kDoorbellRip;
  }
  return rc;
}

int fail_entry(kvm_run* run, uint64_t code) {
  run->exit_reason = KVM_EXIT_FAIL_ENTRY;
  run->fail_entry.hardware_entry_failure_reason = code;
  run->fail_entry.cpu = 0;
  return 0;
}

// Blocks like a spinning guest inside KVM_RUN: until the kick signal (or any unblocked signal).
int spin(kvm_run* run) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST)) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return fail(EINTR);
  }
  int r = ppoll(nullptr, 0, nullptr, &old);  // atomically waits with the thread's normal mask
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return r < 0 ? fail(err) : fail(EINTR);
}

uint16_t fcw(const Obj& v) { return get<uint16_t>(v.xsave, 0); }
uint32_t mxcsr(const Obj& v) { return get<uint32_t>(v.xsave, 24); }

// The guest's state page: the first page of its heap (from the boot info it was given).
uint64_t state_page(Obj& vm) {
  uint8_t* boot = gpa(vm, FN_BOOT_INFO_ADDR, sizeof(fn_boot_info));
  return boot == nullptr ? 0 : get<uint64_t>(boot, offsetof(fn_boot_info, heap_start));
}

int guest_run(Obj& v);

// The segment registers as KVM on SVM reports them: TR always busy (svm_get_segment sets the busy
// bit), whatever type was set. nested_quirks.h depends on this.
kvm_sregs reported_sregs(const Obj& v) {
  kvm_sregs s = v.sregs;
  s.tr.type |= 0x2;
  return s;
}

// KVM_RUN as KVM orders it: apply the registers queued in kvm_run, complete the pending I/O, then
// honour immediate_exit, run, and copy out the registers userspace asked for.
int kvm_run_ioctl(Obj& v) {
  kvm_run* run = v.run;
  if (run == nullptr) return fail(EINVAL);
  if ((run->kvm_valid_regs | run->kvm_dirty_regs) & ~uint64_t{KVM_SYNC_X86_VALID_FIELDS}) return fail(EINVAL);
  if (run->kvm_dirty_regs & KVM_SYNC_X86_REGS) {
    v.regs = run->s.regs.regs;
    v.regs_set = true;
  }
  if (run->kvm_dirty_regs & KVM_SYNC_X86_SREGS) {
    if (!v.cpuid_set) return fail(EINVAL);
    v.sregs = run->s.regs.sregs;
    v.sregs_set = true;
  }
  run->kvm_dirty_regs = 0;
  if (v.io_pending) {
    v.io_pending = false;
    if (v.regs.rip == v.io_rip) v.regs.rip += 1;  // past `out dx, eax`
  }
  int rc;
  if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST)) {
    run->exit_reason = KVM_EXIT_INTR;
    rc = fail(EINTR);
  } else {
    rc = guest_run(v);
  }
  const int err = errno;
  if (run->kvm_valid_regs & KVM_SYNC_X86_REGS) run->s.regs.regs = v.regs;
  if (run->kvm_valid_regs & KVM_SYNC_X86_SREGS) run->s.regs.sregs = reported_sregs(v);
  errno = err;
  return rc;
}

int guest_run(Obj& v) {
  kvm_run* run = v.run;
  Obj& vm = *v.vm;
  uint8_t* win = gpa(vm, FN_WINDOW_ADDR, FN_WINDOW_SIZE);
  if (win == nullptr) return fail_entry(run, 0xF001);  // the window slot is missing
  // A state saved on the `out` with its I/O still pending, then restored: the guest would ring the
  // same doorbell again (or, on a KVM that moves RIP on exit, skip an instruction).
  if (v.regs.rip == kDoorbellRip) return fail_entry(run, 0xF00B);

  if (v.regs.rip != kServeRip) {
    if (v.booted) return fail_entry(run, 0xF00B);  // resumed somewhere it never stopped
    // What a real boot would trip over, each with its own code.
    if (!v.cpuid_set || !v.sregs_set || !v.regs_set || !v.fpu_set) return fail_entry(run, 0xF002);
    if (fcw(v) != 0x37f || mxcsr(v) != 0x1f80) return fail_entry(run, 0xF002);
    if (v.msrs.count(kMsrStar) + v.msrs.count(kMsrLstar) + v.msrs.count(kMsrSfmask) < 3) return fail_entry(run, 0xF003);
    const kvm_sregs& s = v.sregs;
    if ((s.efer & 0x500) != 0x500 || (s.cr0 & 0x80000001) != 0x80000001 || !(s.cr4 & 0x20)) return fail_entry(run, 0xF004);
    if (s.cs.l != 1 || s.cs.dpl != 3 || (s.cs.selector & 3) != 3 || s.ss.dpl != 3) return fail_entry(run, 0xF005);
    // Intel VM entry requires a busy TSS (0xB) in TR; the nested machine's knob lets 9 through too.
    const bool tr_type_ok = s.tr.type == 0xB || (qemu_tr_check() && s.tr.type == 0x9);
    if (!tr_type_ok || s.tr.base != FN_TSS_ADDR || s.cr3 != FN_PAGE_TABLES_ADDR) return fail_entry(run, 0xF006);
    uint8_t* boot = gpa(vm, FN_BOOT_INFO_ADDR, sizeof(fn_boot_info));
    if (v.regs.rdi != FN_BOOT_INFO_ADDR || boot == nullptr || get<uint32_t>(boot, 0) != FN_BOOT_MAGIC)
      return fail_entry(run, 0xF007);
    uint8_t* entry = gpa(vm, v.regs.rip, 1);
    if (entry == nullptr || v.regs.rip < FN_GUEST_LOAD_ADDR || (v.regs.rsp & 15)) return fail_entry(run, 0xF008);
    if (get<uint32_t>(win, 0) != FN_WINDOW_MAGIC || get<uint64_t>(win, 24) == 0) return fail_entry(run, 0xF009);
    // The guest initialises its state, as a real one fills its .data and TLS: a page in RAM that
    // a snapshot must carry, a register, the TLS marker probe_guest.S's 'S' reads.
    const uint64_t state = state_page(vm);
    if (!guest_put<uint64_t>(vm, state, 0) || !guest_put<uint64_t>(vm, state + 8, kStateMagic) ||
        !guest_put<uint64_t>(vm, FN_TLS_ADDR + 0x10, 0x5a17))
      return fail_entry(run, 0xF007);
    v.regs.r14 = 0;
    v.booted = true;
    return doorbell(v, FN_EVENT_READY);
  }

  // In the serve loop: the guest's memory must be what it left there.
  const uint64_t state = state_page(vm);
  uint8_t* sp = gpa(vm, state, 16);
  if (sp == nullptr || get<uint64_t>(sp, 8) != kStateMagic) return fail_entry(run, 0xF00C);
  v.booted = true;

  const uint32_t input_len = get<uint32_t>(win, offsetof(fn_window_header, input_len));
  const uint8_t scenario = input_len ? win[FN_WINDOW_DATA_OFFSET] : 'e';
  auto reply = [&](uint32_t output_len) {
    put<uint32_t>(vm, offsetof(fn_window_header, output_len), output_len);
    put<uint32_t>(vm, offsetof(fn_window_header, status), 0);
    put<uint64_t>(vm, offsetof(fn_window_header, guest_ns), 7);
    put<uint64_t>(vm, offsetof(fn_window_header, heap_used), 4096);
    put<uint64_t>(vm, offsetof(fn_window_header, heap_peak), 8192);
    return doorbell(v, FN_EVENT_DONE);
  };
  auto done_echo = [&] { return reply(input_len); };
  switch (scenario) {
    case 's':
      return spin(run);
    case 'c': {  // mov eax, 39 ; syscall (2 bytes at 0x401232): the stub at LSTAR, or #UD without EFER.SCE
      v.regs.rax = 39;
      v.regs.rip = 0x401232;
      if (!cpu::syscall(v.regs, v.sregs, v.msrs[kMsrStar], v.msrs[kMsrLstar], v.msrs[kMsrSfmask], 0x401234))
        return cpu_exception(v, 6, 0);
      VmMemory mem(vm);
      const cpu::StubStop st = cpu::run_stub(mem, v.regs, v.sregs);
      if (st.kind == cpu::StubStop::Out) return io_exit(run, st.port, st.size, st.value);
      return triple_fault(v);
    }
    case 'n':
      return page_fault(v, 0x401abc, 0, cpu::Access::Read);
    case 'p':  // out 0x3f8, al: denied by the I/O bitmap
      return guest_out(v, 0x401300, 0x3f8, 1, 0);
    case 'q':  // out FN_PORT_FAULT, al from CPL3: denied, so a fault report cannot be forged
      return guest_out(v, 0x401310, FN_PORT_FAULT, 1, 14);
    case 'H':  // hlt at CPL3: #GP(0)
      return fault_at(v, 0x401320, 13);
    case 'd':  // ud2
      return fault_at(v, 0x401330, 6);
    case 'v':  // div by zero
      return fault_at(v, 0x401340, 0);
    case 'k':  // int3: the gate's DPL 0 makes it #GP(vector 3 << 3 | IDT)
      return fault_at(v, 0x401350, 13, (3 << 3) | 2);
    case 'b':  // write the boot info page (user read-only)
      return page_fault(v, 0x401360, FN_BOOT_INFO_ADDR, cpu::Access::Write);
    case 'g':  // read the GDT (supervisor)
      return page_fault(v, 0x401370, FN_GDT_ADDR, cpu::Access::Read);
    case 'X': {  // call into the stack (NX): the call pushes, the fetch faults at the target
      const uint64_t target = v.regs.rsp - 64;
      v.regs.rsp -= 8;
      return page_fault(v, target, target, cpu::Access::Fetch);
    }
    case 'x':
      return guest_out(v, 0x401380, 0xE2, 1, 0);
    case 'h':
      put<uint32_t>(vm, offsetof(fn_window_header, output_len), 0xFFFFFFFFu);
      return doorbell(v, FN_EVENT_DONE);
    case 'u':
      return doorbell(v, 99);
    case 'w':
      return guest_out(v, 0x401390, FN_PORT_DOORBELL, 1, FN_EVENT_DONE);
    case 'f':
      return guest_out(v, 0x401100, FN_PORT_SYSCALL, 1, 0);
    case 't':
      put<uint32_t>(vm, offsetof(fn_window_header, output_len), 0);
      put<uint32_t>(vm, offsetof(fn_window_header, status), 9);
      return doorbell(v, FN_EVENT_DONE);
    case 'P':
      guest_write(vm, FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET, "boom", 4);
      put<uint32_t>(vm, offsetof(fn_window_header, output_len), 4);
      return doorbell(v, FN_EVENT_PANIC);
    case 'z':
      if (!v.slept) {
        v.slept = true;
        put<uint64_t>(vm, offsetof(fn_window_header, now_unix_ns), 0);  // the host must refresh it
        put<uint64_t>(vm, offsetof(fn_window_header, sleep_ns), 2000000);
        return doorbell(v, FN_EVENT_SLEEP);
      }
      v.slept = false;
      if (get<uint64_t>(win, offsetof(fn_window_header, now_unix_ns)) == 0) return fail_entry(run, 0xF00A);
      return done_echo();
    case 'G': {  // writes the heap top, the stack bottom, then the guard page (probe_guest.S write_guard)
      uint8_t* boot = gpa(vm, FN_BOOT_INFO_ADDR, sizeof(fn_boot_info));
      if (boot == nullptr) return fail_entry(run, 0xF007);
      const uint64_t guard = get<uint64_t>(boot, offsetof(fn_boot_info, mem_size)) - FN_STACK_SIZE - FN_STACK_GUARD_SIZE;
      for (uint64_t a : {guard - 8, guard + uint64_t{FN_STACK_GUARD_SIZE}, guard})
        if (!user_can_write(vm, v.sregs, a)) return page_fault(v, 0x401200, a, cpu::Access::Write);
      return fault_at(v, 0x401210, 6);  // all three writes went through: `jmp fail` -> ud2
    }
    case 'O': {  // recurses until a push faults (probe_guest.S overflow)
      for (uint64_t sp2 = v.regs.rsp & ~(FN_PAGE_SIZE - 1); sp2 >= FN_PAGE_SIZE; sp2 -= FN_PAGE_SIZE)
        if (!user_can_write(vm, v.sregs, sp2 - 8)) {
          v.regs.rsp = sp2;
          return page_fault(v, 0x401220, sp2 - 8, cpu::Access::Write);
        }
      return fault_at(v, 0x401228, 6);
    }
    case 'Z':  // sleeps for a minute, over and over
      put<uint64_t>(vm, offsetof(fn_window_header, sleep_ns), 60000000000ull);
      return doorbell(v, FN_EVENT_SLEEP);
    case 'i': {  // counts in RAM and in R14; answers both (probe_guest.S count)
      const uint64_t n = get<uint64_t>(sp, 0) + 1;
      guest_put<uint64_t>(vm, state, n);
      v.regs.r14 += 1;
      guest_put<uint64_t>(vm, FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET, n);
      guest_put<uint64_t>(vm, FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET + 8, v.regs.r14);
      return reply(16);
    }
    case 'T': {  // the 8 (8 x input[1]) pages below heap_end: how many were not zero; writes them (probe_guest.S touch)
      uint8_t* boot = gpa(vm, FN_BOOT_INFO_ADDR, sizeof(fn_boot_info));
      const uint64_t heap_end = get<uint64_t>(boot, offsetof(fn_boot_info, heap_end));
      const uint64_t count = input_len >= 2 ? uint64_t{win[FN_WINDOW_DATA_OFFSET + 1]} * 8 : 8;
      uint64_t seen = 0;
      for (uint64_t i = 1; i <= count; ++i) {
        const uint64_t a = heap_end - i * FN_PAGE_SIZE;
        uint8_t* p = gpa(vm, a, 8);
        if (p == nullptr || !user_can_write(vm, v.sregs, a)) return page_fault(v, 0x401230, a, cpu::Access::Write);
        seen += get<uint64_t>(p, 0) != 0;
        guest_put<uint64_t>(vm, a, 0x746f756368656421ull);
      }
      guest_put<uint64_t>(vm, FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET, seen);
      return reply(8);
    }
    case 'U': {  // zeroes the pages 'T' writes (probe_guest.S untouch)
      uint8_t* boot = gpa(vm, FN_BOOT_INFO_ADDR, sizeof(fn_boot_info));
      const uint64_t heap_end = get<uint64_t>(boot, offsetof(fn_boot_info, heap_end));
      const uint64_t count = input_len >= 2 ? uint64_t{win[FN_WINDOW_DATA_OFFSET + 1]} * 8 : 8;
      for (uint64_t i = 1; i <= count; ++i) guest_put<uint64_t>(vm, heap_end - i * FN_PAGE_SIZE, 0);
      return reply(0);
    }
    case 'F':  // mov fs, 0x1b: the FS base becomes the descriptor's, 0 (probe_guest.S break_fs)
      v.sregs.fs.selector = 0x1b;
      v.sregs.fs.base = 0;
      return reply(0);
    case 'S': {  // reads fs:[0x10], the TLS marker (probe_guest.S read_tls)
      uint8_t* p = gpa(vm, v.sregs.fs.base + 0x10, 8);
      if (p == nullptr || !user_can(vm, v.sregs, v.sregs.fs.base + 0x10, cpu::Access::Read))
        return page_fault(v, 0x401240, v.sregs.fs.base + 0x10, cpu::Access::Read);
      guest_put<uint64_t>(vm, FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET, get<uint64_t>(p, 0));
      return reply(8);
    }
    case 'M': {  // stmxcsr, then ldmxcsr 0x7f80 (probe_guest.S flip_mxcsr)
      guest_put<uint32_t>(vm, FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET, mxcsr(v));
      const uint32_t flipped = 0x7f80;
      std::memcpy(v.xsave + 24, &flipped, 4);
      return reply(4);
    }
    case 'W':  // writes a marker deep in the window and reports nothing (probe_guest.S scribble)
      guest_put<uint64_t>(vm, FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET + 0x64000, 0x7363726962626c65ull);
      return reply(0);
    case 'R':  // answers window data qwords at +8 and +0x64000 (probe_guest.S peek)
      guest_put<uint64_t>(vm, FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET + 16,
                          get<uint64_t>(win, FN_WINDOW_DATA_OFFSET + 8));
      guest_put<uint64_t>(vm, FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET + 24,
                          get<uint64_t>(win, FN_WINDOW_DATA_OFFSET + 0x64000));
      guest_write(vm, FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET, win + FN_WINDOW_DATA_OFFSET + 16, 16);
      return reply(16);
    default:
      return done_echo();
  }
}

bool msr_known(uint32_t index) {
  if (index == env_hex("FAKE_KVM_REFUSE_MSR", 0)) return false;
  switch (index) {
    case kMsrStar: case kMsrLstar: case kMsrCstar: case kMsrSfmask: case kMsrKernelGsBase: case kMsrTsc: return true;
    default: return false;
  }
}

int vcpu_ioctl(Obj& v, unsigned long req, void* arg) {
  switch (req) {
    case KVM_RUN: return kvm_run_ioctl(v);
    case KVM_GET_REGS: std::memcpy(arg, &v.regs, sizeof v.regs); return 0;
    case KVM_SET_REGS: std::memcpy(&v.regs, arg, sizeof v.regs); v.regs_set = true; return 0;
    case KVM_GET_SREGS: {
      const kvm_sregs out = reported_sregs(v);
      std::memcpy(arg, &out, sizeof out);
      return 0;
    }
    case KVM_SET_SREGS:
      if (!v.cpuid_set) return fail(EINVAL);  // real KVM checks EFER.LME/NXE against CPUID
      std::memcpy(&v.sregs, arg, sizeof v.sregs);
      v.sregs_set = true;
      return 0;
    case KVM_GET_FPU: {
      kvm_fpu* f = static_cast<kvm_fpu*>(arg);
      std::memset(f, 0, sizeof *f);
      f->fcw = fcw(v);
      f->mxcsr = mxcsr(v);
      std::memcpy(f->xmm, v.xsave + 160, sizeof f->xmm);
      return 0;
    }
    case KVM_SET_FPU: {
      const kvm_fpu* f = static_cast<const kvm_fpu*>(arg);
      std::memcpy(v.xsave + 0, &f->fcw, 2);
      std::memcpy(v.xsave + 24, &f->mxcsr, 4);
      std::memcpy(v.xsave + 160, f->xmm, sizeof f->xmm);
      v.fpu_set = true;
      return 0;
    }
    case kvm_abi::kGetXsave:
    case kvm_abi::kGetXsave2:
      if (env_flag("FAKE_KVM_NO_XSAVE")) return fail(ENOTTY);
      std::memcpy(arg, v.xsave, sizeof v.xsave);
      return 0;
    case kvm_abi::kSetXsave: {
      if (env_flag("FAKE_KVM_NO_XSAVE")) return fail(ENOTTY);
      const uint8_t* x = static_cast<const uint8_t*>(arg);
      if (get<uint32_t>(x, 24) & 0xFFFF0000u) return fail(EINVAL);  // MXCSR reserved bits, as KVM checks
      std::memcpy(v.xsave, x, sizeof v.xsave);
      v.fpu_set = true;
      return 0;
    }
    case kvm_abi::kSetCpuid2: {
      const kvm_cpuid_entry2* e = kvm_abi::cpuid2_entries(arg);
      const uint32_t n = kvm_abi::cpuid2_header(arg)->nent;
      // What KVM_GET_SUPPORTED_CPUID handed out must come back where the kernel reads it: leaf 0
      // first (a caller that shifted the entries would give garbage here).
      v.cpuid_set = n > 0 && e[0].function == 0 && e[0].eax >= 1;
      return v.cpuid_set ? 0 : fail(EINVAL);
    }
    case kvm_abi::kSetMsrs: {  // like KVM: stops at the first MSR it refuses, returns how many it took
      const uint32_t n = kvm_abi::msrs_header(arg)->nmsrs;
      kvm_msr_entry* e = kvm_abi::msrs_entries(arg);
      uint32_t i = 0;
      for (; i < n && msr_known(e[i].index); ++i) v.msrs[e[i].index] = e[i].data;
      return static_cast<int>(i);
    }
    case kvm_abi::kGetMsrs: {
      const uint32_t n = kvm_abi::msrs_header(arg)->nmsrs;
      kvm_msr_entry* e = kvm_abi::msrs_entries(arg);
      uint32_t i = 0;
      for (; i < n && msr_known(e[i].index); ++i) e[i].data = v.msrs[e[i].index];
      return static_cast<int>(i);
    }
    case KVM_GET_TSC_KHZ: return 2500000;
    default: return fail(ENOTTY);
  }
}

int check_extension(unsigned long cap) {
  switch (cap) {
    case KVM_CAP_SYNC_REGS: return env_flag("FAKE_KVM_NO_SYNC_REGS") ? 0 : KVM_SYNC_X86_VALID_FIELDS;
    case KVM_CAP_XSAVE: return env_flag("FAKE_KVM_NO_XSAVE") ? 0 : 1;
    case KVM_CAP_XSAVE2: return env_flag("FAKE_KVM_NO_XSAVE") ? 0 : 4096;
    case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: return 0;
    default: return 1;
  }
}

int vm_ioctl(int fd, Obj& vm, unsigned long req, unsigned long raw, void* arg) {
  switch (req) {
    case KVM_CHECK_EXTENSION: return check_extension(raw);
    case KVM_SET_TSS_ADDR: return 0;
    case KVM_SET_USER_MEMORY_REGION: {
      // As KVM: an existing slot may be deleted (size 0) or change its flags; moving it, resizing
      // it or pointing it at other host memory is refused. New slots must not overlap.
      const kvm_userspace_memory_region* r = static_cast<const kvm_userspace_memory_region*>(arg);
      if (r->flags & ~uint32_t{KVM_MEM_LOG_DIRTY_PAGES}) return fail(EINVAL);
      for (size_t i = 0; i < vm.slots.size(); ++i) {
        Slot& s = vm.slots[i];
        if (s.id != r->slot) continue;
        if (r->memory_size == 0) {
          vm.slots.erase(vm.slots.begin() + static_cast<long>(i));
          return 0;
        }
        if (s.gpa != r->guest_phys_addr || s.size != r->memory_size || s.host != reinterpret_cast<uint8_t*>(r->userspace_addr))
          return fail(EINVAL);
        s.flags = r->flags;
        s.dirty.assign((s.size / 4096 + 63) / 64, 0);
        return 0;
      }
      if (r->memory_size == 0) return 0;
      for (const Slot& s : vm.slots)
        if (r->guest_phys_addr < s.gpa + s.size && s.gpa < r->guest_phys_addr + r->memory_size) return fail(EEXIST);
      if (r->userspace_addr % 4096 || r->guest_phys_addr % 4096 || r->memory_size % 4096) return fail(EINVAL);
      Slot s{r->slot, r->flags, r->guest_phys_addr, r->memory_size, reinterpret_cast<uint8_t*>(r->userspace_addr), {}};
      s.dirty.assign((s.size / 4096 + 63) / 64, 0);
      vm.slots.push_back(std::move(s));
      return 0;
    }
    case KVM_GET_DIRTY_LOG: {  // copies the slot's bitmap out and clears it
      kvm_dirty_log* log = static_cast<kvm_dirty_log*>(arg);
      for (Slot& s : vm.slots) {
        if (s.id != log->slot) continue;
        if (!(s.flags & KVM_MEM_LOG_DIRTY_PAGES)) return fail(ENOENT);
        std::memcpy(log->dirty_bitmap, s.dirty.data(), s.dirty.size() * 8);
        std::fill(s.dirty.begin(), s.dirty.end(), 0);
        return 0;
      }
      return fail(ENOENT);
    }
    case KVM_CREATE_VCPU: return new_fd(Kind::Vcpu, find(fd));
    default: return fail(ENOTTY);
  }
}

int system_ioctl(unsigned long req, unsigned long raw, void* arg) {
  switch (req) {
    case KVM_GET_API_VERSION: return 12;
    case KVM_CHECK_EXTENSION: return check_extension(raw);
    case KVM_GET_VCPU_MMAP_SIZE: return 8192;
    case kvm_abi::kGetSupportedCpuid: {
      kvm_abi::Cpuid2Header* h = kvm_abi::cpuid2_header(arg);
      kvm_cpuid_entry2* e = kvm_abi::cpuid2_entries(arg);
      if (h->nent < 2) return fail(E2BIG);
      h->nent = 2;
      std::memset(e, 0, 2 * sizeof(kvm_cpuid_entry2));
      e[0].function = 0;
      e[0].eax = 1;
      e[1].function = 1;
      e[1].ecx = static_cast<uint32_t>(env_hex("FAKE_KVM_CPUID_1_ECX", 0x40000000));
      return 0;
    }
    case KVM_CREATE_VM: return new_fd(Kind::Vm);
    default: return fail(ENOTTY);
  }
}

bool is_fake_kvm_path(const char* path) {
  const char* off = getenv("FAKE_KVM_OFF");
  return path != nullptr && std::strcmp(path, "/dev/kvm") == 0 && !(off && *off);
}

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  static open_fn next = real<open_fn>("open");
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  if (is_fake_kvm_path(path)) return new_fd(Kind::System);
  return next(path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  static open_fn next = real<open_fn>("open64");
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  if (is_fake_kvm_path(path)) return new_fd(Kind::System);
  return next(path, flags, mode);
}

int ioctl(int fd, unsigned long req, ...) {
  static ioctl_fn next = real<ioctl_fn>("ioctl");
  va_list ap;
  va_start(ap, req);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  std::shared_ptr<Obj> o = find(fd);
  if (!o) return next(fd, req, arg);
  switch (o->kind) {
    case Kind::System: return system_ioctl(req, reinterpret_cast<unsigned long>(arg), arg);
    case Kind::Vm: return vm_ioctl(fd, *o, req, reinterpret_cast<unsigned long>(arg), arg);
    case Kind::Vcpu: return vcpu_ioctl(*o, req, arg);
  }
  return fail(ENOTTY);
}

static void* fake_mmap(mmap_fn next, void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  std::shared_ptr<Obj> o = fd >= 0 ? find(fd) : nullptr;
  if (!o) return next(addr, len, prot, flags, fd, off);
  if (o->kind != Kind::Vcpu) {
    errno = ENODEV;
    return MAP_FAILED;
  }
  void* p = next(nullptr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) o->run = static_cast<kvm_run*>(p);
  return p;
}

void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  static mmap_fn next = real<mmap_fn>("mmap");
  return fake_mmap(next, addr, len, prot, flags, fd, off);
}

void* mmap64(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  static mmap_fn next = real<mmap_fn>("mmap64");
  return fake_mmap(next, addr, len, prot, flags, fd, off);
}

int close(int fd) {
  static close_fn next = real<close_fn>("close");
  {
    std::lock_guard<std::mutex> lk(g_mu);
    g_objs.erase(fd);
  }
  return next(fd);
}

}  // extern "C"
