/*
 * tracee.c — creates the guest process: the traced Linux process whose address space plays the
 * VM's guest-physical memory.
 *
 * The child of fork() starts as a copy of this program. Before the guest runs, it:
 *   1. maps guest RAM at [RAM_BASE, mem): anonymous with the ELF copied in (fresh boot), or the
 *      snapshot files MAP_PRIVATE (restore); the stack guard page PROT_NONE;
 *   2. keeps the window (MAP_SHARED, inherited from this process) and maps the stub pages;
 *   3. jumps to the trampoline in the stub page, which unmaps EVERYTHING else (this program, libc,
 *      its heap and stack, the vDSO), installs a seccomp filter that turns every system call into
 *      a ptrace stop (including the vsyscall page's emulated calls, which PTRACE_SYSCALL misses),
 *      and stops on int3.
 * So the guest can reach exactly what it could in the VM — its RAM and the window — plus two
 * read-only stub pages; nothing it could write survives a RESET outside RAM and the window, which
 * RESET puts back. The tracer then sets every register (entry point, or the snapshot's).
 */
#include "vmm.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

/* rdi/rsi and rdx/rcx: two ranges to unmap, r8: the seccomp program. Uses no stack: the first
 * munmap takes it away. A failed call ends in ud2 (SIGILL) with the error in RAX. */
extern const char trampoline_start[], trampoline_int3[], trampoline_end[];
__asm__(".pushsection .rodata.ptrace_vmm_trampoline,\"a\",@progbits\n"
        "trampoline_start:\n"
        "  mov %rdx, %r12\n"
        "  mov %rcx, %r13\n"
        "  mov %r8, %r14\n"
        "  mov $11, %eax\n" /* munmap(rdi, rsi) */
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jnz 1f\n"
        "  mov %r12, %rdi\n"
        "  mov %r13, %rsi\n"
        "  mov $11, %eax\n" /* munmap(r12, r13) */
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jnz 1f\n"
        "  mov $317, %eax\n" /* seccomp(SECCOMP_SET_MODE_FILTER, 0, r14) */
        "  mov $1, %edi\n"
        "  xor %esi, %esi\n"
        "  mov %r14, %rdx\n"
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jnz 1f\n"
        "trampoline_int3:\n"
        "  int3\n"
        "1: ud2\n"
        "trampoline_end:\n"
        ".popsection\n");

static _Noreturn void child_fail(const char *what, int error)
{
  dprintf(2, "ptrace-vmm: guest process: %s: %s\n", what, strerror(error));
  _exit(3);
}

static void populate(const struct runs *r, int advice)
{
  for (size_t i = 0; r && i < r->n; i++) {
    uint64_t a = r->v[i].first * PAGE, end = a + r->v[i].count * PAGE;
    if (a < RAM_BASE)
      a = RAM_BASE;
    if (end > a)
      madvise((void *)(uintptr_t)a, end - a, advice);
  }
}

/* The first steps of every guest process, right after the fork. */
static void child_prepare(void)
{
  if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
    child_fail("PTRACE_TRACEME", errno);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  setpgid(0, 0); /* a terminal's ^C goes to the VMM, whose death kills this process (EXITKILL) */
}

static _Noreturn void child_main(const struct tracee_spec *s)
{
  const int rwx = PROT_READ | PROT_WRITE | PROT_EXEC;
  if (s->backing) {
    struct err e;
    if (backing_map(s->backing, NULL, RAM_BASE, MAP_FIXED_NOREPLACE, rwx, &e) != 0)
      child_fail(e.msg, errno);
  } else {
    void *ram = mmap((void *)(uintptr_t)RAM_BASE, s->mem - RAM_BASE, rwx,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
    if (ram != (void *)(uintptr_t)RAM_BASE)
      child_fail("cannot map guest RAM at 0x1000 (is vm.mmap_min_addr above 4096?)", errno);
    madvise(ram, s->mem - RAM_BASE, MADV_NOHUGEPAGE); /* dirty tracking is per 4 KiB page */
    elf_image_install(s->elf, s->mem);
  }
  /* Prefault what populate.c chose (best effort: MADV_POPULATE_* exist since Linux 5.14). The
   * guard page is not protected yet, so the runs need no splitting around it. */
  populate(s->populate_read, MADV_POPULATE_READ);
  populate(s->populate_write, MADV_POPULATE_WRITE);

  madvise((void *)(uintptr_t)FN_WINDOW_ADDR, WINDOW_PREFAULT, MADV_POPULATE_WRITE);
  /* The guard page between the arena and the stack (fn_abi.h): a stack overflow faults here. */
  if (mprotect((void *)(uintptr_t)(s->mem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE), PAGE, PROT_NONE) != 0)
    child_fail("mprotect of the stack guard page", errno);
  uint8_t *stub = mmap((void *)(uintptr_t)STUB_ADDR, STUB_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (stub != (uint8_t *)(uintptr_t)STUB_ADDR)
    child_fail("cannot map the stub pages", errno);
  memcpy(stub, trampoline_start, (size_t)(trampoline_end - trampoline_start));
  struct sock_filter *filter = (struct sock_filter *)(stub + PAGE);
  filter[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
  struct sock_fprog *prog = (struct sock_fprog *)(stub + PAGE + 64);
  *prog = (struct sock_fprog){.len = 1, .filter = filter};
  if (mprotect(stub, PAGE, PROT_READ | PROT_EXEC) != 0 || mprotect(stub + PAGE, PAGE, PROT_READ) != 0)
    child_fail("mprotect of the stub pages", errno);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    child_fail("PR_SET_NO_NEW_PRIVS", errno);

  /* glibc registered this thread for restartable sequences; the kernel would write its rseq area
   * (in the TLS about to be unmapped) on the next return to user mode and SIGSEGV the guest. */
  if (__rseq_size) {
    void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
    const unsigned sig = 0x53053053; /* RSEQ_SIG on x86 */
    if (syscall(SYS_rseq, area, __rseq_size, 1 /* RSEQ_FLAG_UNREGISTER */, sig) != 0 &&
        syscall(SYS_rseq, area, 32u, 1, sig) != 0) /* glibc registers 32 bytes when it reports less */
      child_fail("cannot unregister rseq", errno);
  }

  /* The guest holds no file descriptors (the mappings keep their files). */
  if (syscall(SYS_close_range, 0u, ~0u, 0u) != 0)
    for (int fd = 0; fd < 1024; fd++)
      close(fd);
  void (*trampoline)(uint64_t, uint64_t, uint64_t, uint64_t, void *) = (void *)stub;
  trampoline(s->mem, FN_WINDOW_ADDR - s->mem, STUB_ADDR + STUB_SIZE, USER_TOP - (STUB_ADDR + STUB_SIZE), prog);
  __builtin_unreachable();
}

/* Waits for a new guest process to stop at the trampoline's int3, isolated; then traces it. */
static pid_t await_isolated(pid_t pid, struct err *e)
{
  int st;
  pid_t got;
  while ((got = waitpid(pid, &st, __WALL)) < 0 && errno == EINTR) {
  }
  if (got != pid)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "waitpid: %s", strerror(errno));
  if (!WIFSTOPPED(st)) {
    waitpid(pid, NULL, WNOHANG);
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "the guest process could not be set up (status 0x%x; see above)", st);
  }
  struct user_regs_struct regs;
  ptrace(PTRACE_GETREGS, pid, 0, &regs);
  uint64_t int3_end = STUB_ADDR + (uint64_t)(trampoline_int3 - trampoline_start) + 1;
  if (WSTOPSIG(st) != SIGTRAP || regs.rip != int3_end) {
    tracee_kill(pid);
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError",
                "the guest process failed to isolate itself (signal %d at 0x%llx, rax %lld)", WSTOPSIG(st), regs.rip,
                (long long)regs.rax);
  }
  if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP) != 0) {
    int error = errno;
    tracee_kill(pid);
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "PTRACE_SETOPTIONS: %s", strerror(error));
  }
  return pid;
}

/* ---- a guest process forked ahead of need (tracee_prefork) -----------------------------------
 * A VMM waiting for RESTORE forks its guest process early: the fork (and the wait for the
 * child to first run, a time slice on a busy host) is off the restore's path. The child waits on
 * a socket for what a restore decides later — the memory files (passed as descriptors) and the
 * page runs — and then carries on exactly as a guest process forked at that moment would. */
struct spare_msg {
  uint64_t mem;
  uint64_t diff_runs, read_runs, write_runs;
  int32_t layered; /* a diff descriptor follows the base one */
  int32_t pad;
};

static pid_t spare_pid = -1;
static int spare_sock = -1;

static int read_all(int fd, void *p, size_t n)
{
  for (size_t got = 0; got < n;) {
    ssize_t r = read(fd, (char *)p + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    got += (size_t)r;
  }
  return 0;
}

static int read_runs(int fd, struct runs *r, uint64_t n)
{
  *r = (struct runs){0};
  if (n == 0)
    return 0;
  r->v = malloc(n * sizeof *r->v);
  if (!r->v || read_all(fd, r->v, n * sizeof *r->v) != 0)
    return -1;
  r->n = r->cap = (size_t)n;
  return 0;
}

static _Noreturn void spare_main(int sock)
{
  child_prepare();
  close(0); /* the VMM's channel to its parent: not the guest's to hold */
  close(1);
  struct spare_msg m;
  int fds[2] = {-1, -1};
  char control[CMSG_SPACE(sizeof fds)];
  struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
  struct msghdr h = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t got;
  while ((got = recvmsg(sock, &h, MSG_WAITALL)) < 0 && errno == EINTR) {
  }
  if (got != (ssize_t)sizeof m)
    _exit(0); /* the VMM went away, or restored without us */
  struct cmsghdr *c = CMSG_FIRSTHDR(&h);
  if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN((m.layered ? 2 : 1) * sizeof(int)))
    child_fail("the memory file descriptors did not arrive", EPROTO);
  memcpy(fds, CMSG_DATA(c), (m.layered ? 2 : 1) * sizeof(int));
  struct backing b = {.base_fd = fds[0], .diff_fd = fds[1], .mem = m.mem};
  struct runs rd, wr;
  if (read_runs(sock, &b.runs, m.diff_runs) != 0 || read_runs(sock, &rd, m.read_runs) != 0 ||
      read_runs(sock, &wr, m.write_runs) != 0)
    child_fail("the page runs did not arrive", EPROTO);
  close(sock);
  prctl(PR_SET_NAME, "ptrace-vmm"); /* as a guest process forked by a VMM holding a VM is named */
  struct tracee_spec spec = {.mem = m.mem, .backing = &b, .populate_read = &rd, .populate_write = &wr};
  child_main(&spec);
}

void tracee_prefork(void)
{
  int sv[2];
  if (spare_pid > 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return; /* best effort: a restore forks its own */
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return;
  }
  if (pid == 0) {
    close(sv[0]);
    spare_main(sv[1]);
  }
  close(sv[1]);
  spare_pid = pid;
  spare_sock = sv[0];
}

static int send_runs(int fd, const struct runs *r)
{
  for (size_t off = 0, n = r ? r->n * sizeof *r->v : 0; off < n;) {
    ssize_t w = write(fd, (const char *)r->v + off, n - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    off += (size_t)w;
  }
  return 0;
}

/* Hands a restore to the spare guest process; -1 (and the spare is gone) if it cannot take it. */
static pid_t spare_start(const struct tracee_spec *s, struct err *e)
{
  pid_t pid = spare_pid;
  int sock = spare_sock;
  spare_pid = -1;
  spare_sock = -1;
  const struct backing *b = s->backing;
  int layered = b->diff_fd >= 0;
  struct spare_msg m = {.mem = s->mem, .diff_runs = b->runs.n, .read_runs = s->populate_read ? s->populate_read->n : 0,
                        .write_runs = s->populate_write ? s->populate_write->n : 0, .layered = layered};
  int fds[2] = {b->base_fd, b->diff_fd};
  char control[CMSG_SPACE(sizeof fds)] = {0};
  struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
  struct msghdr h = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                     .msg_controllen = CMSG_SPACE((layered ? 2 : 1) * sizeof(int))};
  struct cmsghdr *c = CMSG_FIRSTHDR(&h);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN((layered ? 2 : 1) * sizeof(int));
  memcpy(CMSG_DATA(c), fds, (layered ? 2 : 1) * sizeof(int));
  int sent = sendmsg(sock, &h, MSG_NOSIGNAL) == (ssize_t)sizeof m && send_runs(sock, &b->runs) == 0 &&
             send_runs(sock, s->populate_read) == 0 && send_runs(sock, s->populate_write) == 0;
  close(sock);
  if (!sent) {
    tracee_kill(pid);
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "the spare guest process did not take the restore: %s",
                strerror(errno));
  }
  return await_isolated(pid, e);
}

pid_t tracee_spawn(const struct tracee_spec *s, struct err *e)
{
  if (spare_pid > 0 && s->backing) {
    pid_t pid = spare_start(s, e);
    if (pid > 0)
      return pid;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "fork: %s", strerror(errno));
  if (pid == 0) {
    child_prepare();
    child_main(s);
  }
  return await_isolated(pid, e);
}

void tracee_kill(pid_t pid)
{
  if (pid <= 0)
    return;
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {
  }
}

/* Kills a guest process without waiting for the kernel to tear it down (~0.5 ms here); it is
 * reaped by tracee_reap_dead later. */
static pid_t dying[16];
void tracee_kill_later(pid_t pid)
{
  if (pid <= 0)
    return;
  kill(pid, SIGKILL);
  for (size_t i = 0; i < sizeof dying / sizeof dying[0]; i++)
    if (!dying[i]) {
      dying[i] = pid;
      return;
    }
  while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {
  }
}

void tracee_reap_dead(void)
{
  for (size_t i = 0; i < sizeof dying / sizeof dying[0]; i++)
    if (dying[i] && waitpid(dying[i], NULL, __WALL | WNOHANG) != 0)
      dying[i] = 0;
}
