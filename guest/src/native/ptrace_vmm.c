/*
 * ptrace_vmm.c — runs the KVM guest ELF (fn-guest.elf) without KVM, for testing on machines with
 * no /dev/kvm. A development tool, not a sandbox.
 *
 *   ptrace-vmm <fn-guest.elf> --memory-mib N
 *
 * Why this works: the guest runs at CPL3 in long mode with identity-mapped memory — which is what
 * a Linux process is, once the ELF sits at its link address, boot info and the thread block are at
 * their fn_abi.h addresses and FS points at FN_TLS_ADDR. What differs is made to look the same:
 *   - the doorbell `out dx, eax` has no I/O permission here, so it faults (SIGSEGV). The tracer
 *     sees the fault, checks it is `out` (0xEF) to FN_PORT_DOORBELL, handles the event and resumes
 *     the guest after the instruction — exactly what the KVM host does on KVM_EXIT_IO;
 *   - the guest must make NO syscalls: the tracer stops the guest on every syscall entry
 *     (PTRACE_SYSCALL) and reports any as a panic, so a run through this tool proves the KVM
 *     build's paths are syscall-free;
 *   - any other fault (a wild pointer, ud2, hlt) is reported with RIP and the fault address.
 *
 * Towards its parent it speaks the process transport of fn_abi.h (frames on stdin/stdout), so
 * scripts/smoke-process.mjs can drive the KVM ELF and fn-guest-process the same way. It fills in
 * tsc_khz (measured here) when the parent sends 0, as the KVM host does.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fn_abi.h"

#define RAM_BASE 0x1000ull /* page 0 stays unmapped, as in the VM */

static struct fn_window_header *const header = (struct fn_window_header *)(uintptr_t)FN_WINDOW_ADDR;
static uint8_t *const window_data = (uint8_t *)(uintptr_t)(FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET);
static pid_t guest = -1;
static uint64_t tsc_khz;

static _Noreturn void die(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "ptrace-vmm: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  if (guest > 0)
    kill(guest, SIGKILL);
  exit(1);
}

static void write_all(int fd, const void *p, size_t n)
{
  const char *s = p;
  while (n) {
    ssize_t r = write(fd, s, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      die("write to the parent failed");
    s += r;
    n -= (size_t)r;
  }
}

/* 1 = got n bytes, 0 = clean EOF before the first byte. */
static int read_exact(int fd, void *p, size_t n)
{
  char *s = p;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, s + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0 && got == 0)
      return 0;
    if (r <= 0)
      die("truncated frame from the parent");
    got += (size_t)r;
  }
  return 1;
}

static void send_frame(uint32_t event)
{
  write_all(1, &event, 4);
  write_all(1, header, FN_WINDOW_HEADER_SIZE);
  uint32_t n = header->output_len;
  if (n > FN_WINDOW_DATA_MAX)
    die("the guest wrote output_len %u > FN_WINDOW_DATA_MAX", n);
  write_all(1, window_data, n);
}

/* A host-side panic (fault, syscall): reported like a guest panic so the parent sees one kind. */
static _Noreturn void report_panic(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf((char *)window_data, 4096, fmt, ap);
  va_end(ap);
  header->output_len = n < 0 ? 0 : n > 4095 ? 4095 : (uint32_t)n;
  send_frame(FN_EVENT_PANIC);
  kill(guest, SIGKILL);
  exit(70);
}

static uint64_t rdtsc(void)
{
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t)hi << 32 | lo;
}

static uint64_t calibrate_tsc_khz(void)
{
  struct timespec a, b, pause = {0, 5000000};
  uint64_t t0 = rdtsc();
  clock_gettime(CLOCK_MONOTONIC_RAW, &a);
  nanosleep(&pause, NULL);
  uint64_t t1 = rdtsc();
  clock_gettime(CLOCK_MONOTONIC_RAW, &b);
  uint64_t ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)(b.tv_nsec - a.tv_nsec);
  return (t1 - t0) * 1000000u / ns;
}

/* The guest rang with `event`: forward it, then hand over the parent's next command. */
static void doorbell(uint32_t event)
{
  send_frame(event);
  if (event == FN_EVENT_PANIC) {
    kill(guest, SIGKILL);
    exit(70);
  }
  if (!read_exact(0, header, FN_WINDOW_HEADER_SIZE)) {
    kill(guest, SIGKILL);
    exit(0);
  }
  uint64_t n = header->input_len, keep = n <= FN_WINDOW_DATA_MAX ? n : FN_WINDOW_DATA_MAX;
  if (keep && !read_exact(0, window_data, (size_t)keep))
    die("truncated input");
  for (uint64_t left = n - keep; left;) {
    static char scratch[65536];
    size_t chunk = left < sizeof scratch ? (size_t)left : sizeof scratch;
    if (!read_exact(0, scratch, chunk))
      die("truncated input");
    left -= chunk;
  }
  if (header->tsc_khz == 0)
    header->tsc_khz = tsc_khz;
}

/* Loads the PT_LOAD segments at their addresses inside the RAM mapping; returns the image end. */
static uint64_t load_elf(const char *path, uint64_t mem, uint64_t *entry)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    die("cannot open %s", path);
  struct stat st;
  fstat(fileno(f), &st);
  uint8_t *file = malloc((size_t)st.st_size);
  if (fread(file, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
    die("cannot read %s", path);
  fclose(f);
  Elf64_Ehdr *eh = (Elf64_Ehdr *)file;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_EXEC ||
      eh->e_machine != EM_X86_64)
    die("%s is not a static x86-64 executable", path);
  uint64_t end = 0;
  for (int i = 0; i < eh->e_phnum; i++) {
    Elf64_Phdr *ph = (Elf64_Phdr *)(file + eh->e_phoff + (uint64_t)i * eh->e_phentsize);
    if (ph->p_type == PT_TLS || ph->p_type == PT_INTERP || ph->p_type == PT_DYNAMIC)
      die("%s has a segment of type %u, which a kernel-less guest cannot have", path, ph->p_type);
    if (ph->p_type != PT_LOAD)
      continue;
    if (ph->p_vaddr < FN_GUEST_LOAD_ADDR || ph->p_vaddr + ph->p_memsz > mem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE ||
        ph->p_filesz > ph->p_memsz)
      die("segment %d does not fit in guest RAM", i);
    memcpy((void *)(uintptr_t)ph->p_vaddr, file + ph->p_offset, ph->p_filesz);
    if (ph->p_vaddr + ph->p_memsz > end)
      end = ph->p_vaddr + ph->p_memsz;
  }
  *entry = eh->e_entry;
  free(file);
  return end;
}

/* In the child: FS = FN_TLS_ADDR, stop so the tracer can attach its options, then jump to the
 * guest with RSP = top of RAM and RDI = &boot_info. Raw syscalls only: after ARCH_SET_FS libc's
 * thread pointer is gone. */
__attribute__((noreturn)) void enter_guest(uint64_t entry, uint64_t stack_top);
__asm__(".text\n"
        "enter_guest:\n"
        "  mov %rdi, %r12\n"
        "  mov %rsi, %r13\n"
        "  mov $158, %eax\n" /* arch_prctl(ARCH_SET_FS, FN_TLS_ADDR) */
        "  mov $0x1002, %edi\n"
        "  mov $0x7000, %esi\n"
        "  syscall\n"
        "  mov $39, %eax\n" /* kill(getpid(), SIGSTOP) */
        "  syscall\n"
        "  mov %eax, %edi\n"
        "  mov $19, %esi\n"
        "  mov $62, %eax\n"
        "  syscall\n"
        "  mov %r13, %rsp\n"
        "  mov $0x6000, %edi\n"
        "  xor %ebp, %ebp\n"
        "  jmp *%r12\n");

int main(int argc, char **argv)
{
  const char *elf = NULL;
  uint64_t mib = 64;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--memory-mib") && i + 1 < argc)
      mib = strtoull(argv[++i], NULL, 10);
    else
      elf = argv[i];
  }
  if (!elf || mib < 8 || mib > 4095)
    die("usage: ptrace-vmm <fn-guest.elf> --memory-mib N (8..4095)");
  _Static_assert(FN_TLS_ADDR == 0x7000 && FN_BOOT_INFO_ADDR == 0x6000, "enter_guest hard-codes these");
  uint64_t mem = mib << 20;

  if (mmap((void *)(uintptr_t)RAM_BASE, mem - RAM_BASE, PROT_READ | PROT_WRITE | PROT_EXEC,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0) != (void *)(uintptr_t)RAM_BASE)
    die("cannot map guest RAM at 0x1000 (is vm.mmap_min_addr above 4096?): %s", strerror(errno));
  if (mmap((void *)header, FN_WINDOW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) !=
      (void *)header)
    die("cannot map the window at 4 GiB: %s", strerror(errno));
  uint64_t entry;
  uint64_t image_end = load_elf(elf, mem, &entry);
  /* The stack guard page of fn_abi.h between the arena and the stack: a C stack overflow faults
   * here instead of silently overwriting the top of the heap. (The KVM host leaves the same page
   * out of the guest page tables.) */
  uint64_t guard = mem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE;
  if (mprotect((void *)(uintptr_t)guard, FN_STACK_GUARD_SIZE, PROT_NONE) != 0)
    die("mprotect guard page: %s", strerror(errno));
  struct fn_boot_info *boot = (struct fn_boot_info *)(uintptr_t)FN_BOOT_INFO_ADDR;
  *boot = (struct fn_boot_info){
      .magic = FN_BOOT_MAGIC,
      .abi_version = FN_ABI_VERSION,
      .mem_size = mem,
      .heap_start = (image_end + FN_PAGE_SIZE - 1) & ~(FN_PAGE_SIZE - 1),
      .heap_end = guard,
      .window_addr = FN_WINDOW_ADDR,
      .window_size = FN_WINDOW_SIZE,
      .tls_addr = FN_TLS_ADDR,
  };
  tsc_khz = calibrate_tsc_khz();

  guest = fork();
  if (guest < 0)
    die("fork: %s", strerror(errno));
  if (guest == 0) {
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
      _exit(111);
    enter_guest(entry, mem);
  }

  int status;
  if (waitpid(guest, &status, 0) != guest || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP)
    die("the guest did not reach its entry point");
  if (ptrace(PTRACE_SETOPTIONS, guest, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) != 0)
    die("PTRACE_SETOPTIONS: %s", strerror(errno));
  for (;;) {
    if (ptrace(PTRACE_SYSCALL, guest, 0, 0) != 0)
      die("PTRACE_SYSCALL: %s", strerror(errno));
    if (waitpid(guest, &status, 0) != guest)
      die("waitpid: %s", strerror(errno));
    if (WIFEXITED(status) || WIFSIGNALED(status))
      die("the guest ended (status 0x%x)", status);
    struct user_regs_struct regs;
    ptrace(PTRACE_GETREGS, guest, 0, &regs);
    int sig = WSTOPSIG(status);
    if (sig == (SIGTRAP | 0x80))
      report_panic("stray syscall %llu at rip 0x%llx: the KVM guest must make no syscalls", regs.orig_rax, regs.rip);
    if (sig == SIGSTOP)
      continue;
    errno = 0;
    long word = ptrace(PTRACE_PEEKTEXT, guest, (void *)(uintptr_t)regs.rip, 0);
    uint8_t opcode = errno ? 0 : (uint8_t)word;
    if (sig == SIGSEGV && opcode == 0xEF && (regs.rdx & 0xFFFF) == FN_PORT_DOORBELL) {
      doorbell((uint32_t)regs.rax);
      regs.rip += 1; /* like KVM_EXIT_IO: the guest resumes after the `out` */
      ptrace(PTRACE_SETREGS, guest, 0, &regs);
      continue;
    }
    siginfo_t si;
    ptrace(PTRACE_GETSIGINFO, guest, 0, &si);
    report_panic("guest fault: signal %d (%s) at rip 0x%llx, address %p, opcode 0x%02x, rsp 0x%llx", sig, strsignal(sig),
                 regs.rip, si.si_addr, opcode, regs.rsp);
  }
}
