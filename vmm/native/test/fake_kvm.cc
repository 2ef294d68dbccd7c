// fake_kvm.cc — an LD_PRELOAD stand-in for /dev/kvm, so the real addon (ioctl sequence, vCPU thread,
// watchdog signals, ThreadSafeFunction delivery, close, finalizers) runs end to end on machines
// without KVM. It interposes open/open64/ioctl/mmap/mmap64/close for the fds it hands out and passes
// every other call through. It is NOT an x86 emulator: its "guest" is a script that reads the window
// like probe_guest.S does and answers with the exits a real guest would cause. It also checks what
// real KVM would refuse (CPUID before SREGS, long-mode state, boot info) and reports violations as
// KVM_EXIT_FAIL_ENTRY with a reason code, so the test sees them.
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
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "fn_abi.h"

namespace {

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
  uint64_t gpa, size;
  uint8_t* host;
};

struct Obj {
  Kind kind;
  std::shared_ptr<Obj> vm;  // for a vCPU
  std::vector<Slot> slots;  // for a VM
  kvm_regs regs{};
  kvm_sregs sregs{};
  bool cpuid_set = false, sregs_set = false, regs_set = false, fpu_set = false;
  size_t msrs_set = 0;
  kvm_run* run = nullptr;
  bool booted = false;
  bool slept = false;
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

uint8_t* gpa(Obj& vm, uint64_t addr, uint64_t len) {
  for (const Slot& s : vm.slots)
    if (addr >= s.gpa && addr - s.gpa <= s.size && len <= s.size - (addr - s.gpa)) return s.host + (addr - s.gpa);
  return nullptr;
}

template <typename T>
void put(uint8_t* p, size_t off, T v) { std::memcpy(p + off, &v, sizeof v); }
template <typename T>
T get(const uint8_t* p, size_t off) {
  T v;
  std::memcpy(&v, p + off, sizeof v);
  return v;
}

// The page walk a CPL3 write does, over the page tables the VMM wrote into guest memory (4-level,
// 2 MiB leaves allowed): true if every level is present, user and writable. Deliberately its own
// code, not long_mode::translate, so the fake checks the VMM's tables independently.
bool user_can_write(Obj& vm, uint64_t cr3, uint64_t va) {
  constexpr uint64_t kAddr = 0x000FFFFFFFFFF000ull;
  uint64_t table = cr3 & kAddr;
  for (int shift = 39; shift >= 12; shift -= 9) {
    uint8_t* e = gpa(vm, table + ((va >> shift) & 0x1FF) * 8, 8);
    if (e == nullptr) return false;
    uint64_t entry = get<uint64_t>(e, 0);
    if ((entry & 7) != 7) return false;  // present | writable | user
    if (shift == 12 || ((shift == 21 || shift == 30) && (entry & 0x80))) return true;  // a leaf
    table = entry & kAddr;
  }
  return false;
}

// A page fault at CPL3 with no IDT: the CPU sets CR2 and triple-faults.
int page_fault(kvm_run* run, Obj& v, uint64_t rip, uint64_t cr2) {
  v.regs.rip = rip;
  v.sregs.cr2 = cr2;
  run->exit_reason = KVM_EXIT_SHUTDOWN;
  return 0;
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

int kvm_run_ioctl(Obj& v) {
  kvm_run* run = v.run;
  if (run == nullptr) return fail(EINVAL);
  if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST)) return fail(EINTR);
  Obj& vm = *v.vm;
  uint8_t* win = gpa(vm, FN_WINDOW_ADDR, FN_WINDOW_SIZE);
  if (win == nullptr) return fail_entry(run, 0xF001);  // the window slot is missing

  if (!v.booted) {
    // What a real boot would trip over, each with its own code.
    if (!v.cpuid_set || !v.sregs_set || !v.regs_set || !v.fpu_set) return fail_entry(run, 0xF002);
    if (v.msrs_set < 3) return fail_entry(run, 0xF003);
    const kvm_sregs& s = v.sregs;
    if ((s.efer & 0x500) != 0x500 || (s.cr0 & 0x80000001) != 0x80000001 || !(s.cr4 & 0x20)) return fail_entry(run, 0xF004);
    if (s.cs.l != 1 || s.cs.dpl != 3 || (s.cs.selector & 3) != 3 || s.ss.dpl != 3) return fail_entry(run, 0xF005);
    if (s.tr.type != 0xB || s.tr.base != FN_TSS_ADDR || s.cr3 != FN_PAGE_TABLES_ADDR) return fail_entry(run, 0xF006);
    uint8_t* boot = gpa(vm, FN_BOOT_INFO_ADDR, sizeof(fn_boot_info));
    if (v.regs.rdi != FN_BOOT_INFO_ADDR || boot == nullptr || get<uint32_t>(boot, 0) != FN_BOOT_MAGIC)
      return fail_entry(run, 0xF007);
    uint8_t* entry = gpa(vm, v.regs.rip, 1);
    if (entry == nullptr || v.regs.rip < FN_GUEST_LOAD_ADDR || (v.regs.rsp & 15)) return fail_entry(run, 0xF008);
    if (get<uint32_t>(win, 0) != FN_WINDOW_MAGIC || get<uint64_t>(win, 24) == 0) return fail_entry(run, 0xF009);
    v.booted = true;
    return io_exit(run, FN_PORT_DOORBELL, 4, FN_EVENT_READY);
  }

  const uint32_t input_len = get<uint32_t>(win, offsetof(fn_window_header, input_len));
  const uint8_t scenario = input_len ? win[FN_WINDOW_DATA_OFFSET] : 'e';
  auto done_echo = [&] {
    put<uint32_t>(win, offsetof(fn_window_header, output_len), input_len);
    put<uint32_t>(win, offsetof(fn_window_header, status), 0);
    put<uint64_t>(win, offsetof(fn_window_header, guest_ns), 7);
    put<uint64_t>(win, offsetof(fn_window_header, heap_used), 4096);
    put<uint64_t>(win, offsetof(fn_window_header, heap_peak), 8192);
    return io_exit(run, FN_PORT_DOORBELL, 4, FN_EVENT_DONE);
  };
  switch (scenario) {
    case 's':
      return spin(run);
    case 'c':
      v.regs.rip = FN_SYSCALL_STUB_ADDR + 6;
      v.regs.rcx = 0x401234;
      v.regs.rax = 39;
      return io_exit(run, FN_PORT_SYSCALL, 4, 39);
    case 'n':
      v.regs.rip = 0x401abc;
      v.sregs.cr2 = 0;
      run->exit_reason = KVM_EXIT_SHUTDOWN;
      return 0;
    case 'x':
      return io_exit(run, 0xE2, 1, 0);
    case 'h':
      put<uint32_t>(win, offsetof(fn_window_header, output_len), 0xFFFFFFFFu);
      return io_exit(run, FN_PORT_DOORBELL, 4, FN_EVENT_DONE);
    case 'u':
      return io_exit(run, FN_PORT_DOORBELL, 4, 99);
    case 'w':
      return io_exit(run, FN_PORT_DOORBELL, 1, FN_EVENT_DONE);
    case 'f':
      v.regs.rip = 0x401100;
      return io_exit(run, FN_PORT_SYSCALL, 1, 0);
    case 't':
      put<uint32_t>(win, offsetof(fn_window_header, output_len), 0);
      put<uint32_t>(win, offsetof(fn_window_header, status), 9);
      return io_exit(run, FN_PORT_DOORBELL, 4, FN_EVENT_DONE);
    case 'P':
      std::memcpy(win + FN_WINDOW_DATA_OFFSET, "boom", 4);
      put<uint32_t>(win, offsetof(fn_window_header, output_len), 4);
      return io_exit(run, FN_PORT_DOORBELL, 4, FN_EVENT_PANIC);
    case 'z':
      if (!v.slept) {
        v.slept = true;
        put<uint64_t>(win, offsetof(fn_window_header, now_unix_ns), 0);  // the host must refresh it
        put<uint64_t>(win, offsetof(fn_window_header, sleep_ns), 2000000);
        return io_exit(run, FN_PORT_DOORBELL, 4, FN_EVENT_SLEEP);
      }
      v.slept = false;
      if (get<uint64_t>(win, offsetof(fn_window_header, now_unix_ns)) == 0) return fail_entry(run, 0xF00A);
      return done_echo();
    case 'G': {  // writes the heap top, the stack bottom, then the guard page (probe_guest.S write_guard)
      uint8_t* boot = gpa(vm, FN_BOOT_INFO_ADDR, sizeof(fn_boot_info));
      if (boot == nullptr) return fail_entry(run, 0xF007);
      const uint64_t guard = get<uint64_t>(boot, offsetof(fn_boot_info, mem_size)) - FN_STACK_SIZE - FN_STACK_GUARD_SIZE;
      for (uint64_t a : {guard - 8, guard + uint64_t{FN_STACK_GUARD_SIZE}, guard})
        if (!user_can_write(vm, v.sregs.cr3, a)) return page_fault(run, v, 0x401200, a);
      return page_fault(run, v, 0x401210, 0);  // all three writes went through: `jmp fail` -> ud2
    }
    case 'O': {  // recurses until a push faults (probe_guest.S overflow)
      for (uint64_t sp = v.regs.rsp & ~(FN_PAGE_SIZE - 1); sp >= FN_PAGE_SIZE; sp -= FN_PAGE_SIZE)
        if (!user_can_write(vm, v.sregs.cr3, sp - 8)) {
          v.regs.rsp = sp;
          return page_fault(run, v, 0x401220, sp - 8);
        }
      return page_fault(run, v, 0x401220, 0);
    }
    case 'Z':  // sleeps for a minute, over and over
      put<uint64_t>(win, offsetof(fn_window_header, sleep_ns), 60000000000ull);
      return io_exit(run, FN_PORT_DOORBELL, 4, FN_EVENT_SLEEP);
    default:
      return done_echo();
  }
}

int vcpu_ioctl(Obj& v, unsigned long req, void* arg) {
  switch (req) {
    case KVM_RUN: return kvm_run_ioctl(v);
    case KVM_GET_REGS: std::memcpy(arg, &v.regs, sizeof v.regs); return 0;
    case KVM_SET_REGS: std::memcpy(&v.regs, arg, sizeof v.regs); v.regs_set = true; return 0;
    case KVM_GET_SREGS: std::memcpy(arg, &v.sregs, sizeof v.sregs); return 0;
    case KVM_SET_SREGS:
      if (!v.cpuid_set) return fail(EINVAL);  // real KVM checks EFER.LME/NXE against CPUID
      std::memcpy(&v.sregs, arg, sizeof v.sregs);
      v.sregs_set = true;
      return 0;
    case KVM_GET_FPU: std::memset(arg, 0, sizeof(kvm_fpu)); return 0;
    case KVM_SET_FPU: {
      const kvm_fpu* f = static_cast<const kvm_fpu*>(arg);
      if (f->fcw != 0x37f || f->mxcsr != 0x1f80) return fail(EINVAL);
      v.fpu_set = true;
      return 0;
    }
    case KVM_SET_CPUID2: v.cpuid_set = static_cast<kvm_cpuid2*>(arg)->nent > 0; return v.cpuid_set ? 0 : fail(EINVAL);
    case KVM_SET_MSRS: {
      const kvm_msrs* m = static_cast<const kvm_msrs*>(arg);
      v.msrs_set = m->nmsrs;
      return static_cast<int>(m->nmsrs);
    }
    case KVM_GET_MSRS: return static_cast<int>(static_cast<kvm_msrs*>(arg)->nmsrs);
    case KVM_GET_TSC_KHZ: return 2500000;
    default: return fail(ENOTTY);
  }
}

int vm_ioctl(int fd, Obj& vm, unsigned long req, unsigned long raw, void* arg) {
  switch (req) {
    case KVM_CHECK_EXTENSION: return 1;
    case KVM_SET_TSS_ADDR: return 0;
    case KVM_SET_USER_MEMORY_REGION: {
      const kvm_userspace_memory_region* r = static_cast<const kvm_userspace_memory_region*>(arg);
      for (const Slot& s : vm.slots)
        if (r->guest_phys_addr < s.gpa + s.size && s.gpa < r->guest_phys_addr + r->memory_size) return fail(EEXIST);
      if (r->userspace_addr % 4096 || r->guest_phys_addr % 4096 || r->memory_size % 4096) return fail(EINVAL);
      vm.slots.push_back({r->guest_phys_addr, r->memory_size, reinterpret_cast<uint8_t*>(r->userspace_addr)});
      return 0;
    }
    case KVM_CREATE_VCPU: {
      (void)raw;
      return new_fd(Kind::Vcpu, find(fd));
    }
    default: return fail(ENOTTY);
  }
}

int system_ioctl(unsigned long req, void* arg) {
  switch (req) {
    case KVM_GET_API_VERSION: return 12;
    case KVM_CHECK_EXTENSION: return 1;
    case KVM_GET_VCPU_MMAP_SIZE: return 8192;
    case KVM_GET_SUPPORTED_CPUID: {
      kvm_cpuid2* c = static_cast<kvm_cpuid2*>(arg);
      if (c->nent < 2) return fail(E2BIG);
      c->nent = 2;
      std::memset(c->entries, 0, 2 * sizeof(kvm_cpuid_entry2));
      c->entries[0].function = 0;
      c->entries[0].eax = 1;
      c->entries[1].function = 1;
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
    case Kind::System: return system_ioctl(req, arg);
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
