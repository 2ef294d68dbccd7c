/*
 * lockdown.c — what ptrace-vmm may still do once its VM is running: the blast radius of a VMM that
 * a hostile guest managed to take over (SECURITY.md, "blast radius").
 *
 * Two steps. At start (lockdown_early): PR_SET_NO_NEW_PRIVS (nothing it could exec gains any) and,
 * for a VM that may write snapshots and was told where, Landlock: read and write beneath that one
 * directory, read beneath the snapshot it came from and /proc (the pagemap of each new guest
 * process), nothing else; no TCP, no abstract unix sockets, no signal to a process outside its
 * domain (its pids are not pinned, unlike a sealed VMM's). It comes first because Landlock also
 * stops a process from ptracing one outside its domain: the guest process must be forked after it.
 *
 * Once the guest is set up (READY sent; lockdown): from then on this process only moves frames
 * between its pipes and the guest, and puts pages back on RESET. It gives up its working directory
 * (chdir "/"), every file descriptor it no longer needs, resources (RLIMIT_AS: its address space
 * now + what its commands can still map; RLIMIT_NOFILE: no descriptor above the ones it holds,
 * RLIMIT_FSIZE 0 and RLIMIT_CORE 0 when sealed) and system calls, with a seccomp allowlist whose
 * default is to kill the process: no execve, no socket, no open, no mount, no bpf, no ptrace of
 * anything but its own guest.
 *
 * Two modes: SEALED (a restored VM with nowhere to write snapshots: every invocation VM of the
 * platform) makes no system call that takes a path, ever again, and its pids are pinned to its one
 * guest: the file system is out of reach by seccomp alone, so it needs no Landlock. SNAPSHOTS (a
 * fresh boot, or a restore given --snapshot-dir: the deployer's VMs) may still create its snapshot
 * files and start the guest process that runs from them, so it keeps openat, mkdir, rename, unlink
 * and fork, and Landlock holds its paths (a fresh boot given no directory runs no tenant code: it
 * makes the base snapshot; it gets seccomp only).
 */
#include "vmm.h"
#include "landlock_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- a seccomp program, built instruction by instruction ------------------------------------ */
#define MAX_INSNS 256
struct prog {
  struct sock_filter v[MAX_INSNS];
  unsigned n;
};

static void emit(struct prog *p, struct sock_filter f)
{
  if (p->n >= MAX_INSNS)
    die("lockdown: the seccomp program outgrew %d instructions", MAX_INSNS);
  p->v[p->n++] = f;
}

#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#define NR offsetof(struct seccomp_data, nr)
#define ALLOW SECCOMP_RET_ALLOW
#ifdef LOCKDOWN_DEBUG
#define KILL SECCOMP_RET_TRAP
#include <signal.h>
static void sigsys(int sig, siginfo_t *si, void *uc)
{
  dprintf(2, "lockdown: syscall %d refused\n", si->si_syscall);
  _exit(99);
}
#else
#define KILL SECCOMP_RET_KILL_PROCESS
#endif
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
/* What a refused call gets: KILL in a VMM's own filter; the launcher's (launcher_lockdown) says. */
static uint32_t refused = KILL;

static void load(struct prog *p, uint32_t off) { emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off)); }
static void ret(struct prog *p, uint32_t action) { emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action)); }
/* if A == k: fall through, else skip `skip` instructions */
static void if_eq(struct prog *p, uint32_t k, uint8_t skip) { emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, skip)); }

/* A syscall allowed whatever its arguments. */
static void allow(struct prog *p, long nr)
{
  load(p, NR);
  if_eq(p, (uint32_t)nr, 1);
  ret(p, ALLOW);
}

/* A syscall answered with an errno (glibc then takes its fallback). */
static void refuse_with(struct prog *p, long nr, int error)
{
  load(p, NR);
  if_eq(p, (uint32_t)nr, 1);
  ret(p, ERRNO(error));
}

/* A syscall allowed only if argument `arg` (a 32-bit value: a pid, a request) is one of `n` values. */
static void allow_if_arg(struct prog *p, long nr, int arg, const uint32_t *values, unsigned n)
{
  load(p, NR);
  if_eq(p, (uint32_t)nr, (uint8_t)(2 * n + 2)); /* past: load, n x (test, allow), kill */
  load(p, ARG_LO(arg));
  for (unsigned i = 0; i < n; i++)
    if_eq(p, values[i], 1), ret(p, ALLOW);
  ret(p, refused);
}

/* ptrace: the request one of `n`, and (pid != 0) the target that pid. */
static void allow_ptrace(struct prog *p, const uint32_t *requests, unsigned n, uint32_t pid)
{
  unsigned tail = pid ? 4 : 1;
  load(p, NR);
  if_eq(p, SYS_ptrace, (uint8_t)(1 + n + 1 + tail));
  load(p, ARG_LO(0));
  for (unsigned i = 0; i < n; i++)
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, requests[i], (uint8_t)(n - i), 0));
  ret(p, refused);
  if (pid) {
    load(p, ARG_LO(1));
    if_eq(p, pid, 1);
    ret(p, ALLOW);
    ret(p, refused);
  } else {
    ret(p, ALLOW);
  }
}

/* A syscall allowed only if argument `arg` has none of the bits in `forbidden` (flags, prot). */
static void allow_without_bits(struct prog *p, long nr, int arg, uint32_t forbidden)
{
  load(p, NR);
  if_eq(p, (uint32_t)nr, 4);
  load(p, ARG_LO(arg));
  emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, forbidden, 1, 0));
  ret(p, ALLOW);
  ret(p, refused);
}

static void build(struct prog *p, enum lockdown_mode mode, pid_t guest)
{
  /* Only x86-64 calls, and none of the x32 ABI's numbers. */
  load(p, offsetof(struct seccomp_data, arch));
  emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
  ret(p, KILL);
  load(p, NR);
  emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
  ret(p, KILL);

  /* The frame loop, RESET, clocks, memory for the small buffers, leaving. */
  static const long always[] = {SYS_read, SYS_write, SYS_close, SYS_lseek, SYS_pread64, SYS_brk, SYS_munmap,
                                SYS_madvise, SYS_mremap, SYS_clock_gettime, SYS_gettimeofday, SYS_nanosleep,
                                SYS_clock_nanosleep, SYS_getpid, SYS_getppid, SYS_gettid, SYS_getrandom, SYS_rt_sigreturn,
                                SYS_rt_sigprocmask, SYS_restart_syscall, SYS_exit, SYS_exit_group};
  for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
    allow(p, always[i]);

  /* The guest, through ptrace: only the requests the VMM makes, never an attach to anyone.
   * (PTRACE_TRACEME, last, is what a new guest process calls in SNAPSHOTS mode.) */
  static const uint32_t requests[] = {PTRACE_CONT, PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_PEEKTEXT, PTRACE_GETSIGINFO,
                                      PTRACE_GETREGSET, PTRACE_SETREGSET, PTRACE_GETFPREGS, PTRACE_SETFPREGS,
                                      PTRACE_SETOPTIONS, PTRACE_TRACEME};
  const unsigned nrequests = sizeof requests / sizeof requests[0];
  if (mode == LOCKDOWN_SEALED)
    allow_ptrace(p, requests, nrequests - 1, (uint32_t)guest);
  else
    allow_ptrace(p, requests, nrequests, 0);
  /* PAGEMAP_SCAN on /proc/<guest>/pagemap, and nothing else ioctl could reach. */
  const uint32_t scan = (uint32_t)pagemap_scan_request;
  allow_if_arg(p, SYS_ioctl, 1, &scan, 1);

  if (mode == LOCKDOWN_SEALED) {
    /* Its one guest and no other process: pids pinned. No executable memory, no new files. */
    const uint32_t pid = (uint32_t)guest;
    allow_if_arg(p, SYS_process_vm_readv, 0, &pid, 1);
    allow_if_arg(p, SYS_process_vm_writev, 0, &pid, 1);
    allow_if_arg(p, SYS_kill, 0, &pid, 1);
    allow_if_arg(p, SYS_wait4, 0, &pid, 1);
    allow_without_bits(p, SYS_mmap, 2, PROT_EXEC);
    allow_without_bits(p, SYS_mprotect, 2, PROT_EXEC);
  } else {
    /* A snapshot replaces the guest process: new pids, so none is pinned (Landlock and the
     * requests above still hold). fork = clone with SIGCHLD and the tid flags, nothing more. */
    static const long more[] = {SYS_process_vm_readv, SYS_process_vm_writev, SYS_kill, SYS_wait4, SYS_mmap,
                                SYS_mprotect, SYS_openat, SYS_mkdir, SYS_mkdirat, SYS_rename, SYS_renameat,
                                SYS_unlink, SYS_unlinkat, SYS_ftruncate, SYS_pwrite64, SYS_fsync, SYS_stat,
                                SYS_fstat, SYS_newfstatat,
                                SYS_set_robust_list, SYS_rseq, SYS_prctl, SYS_setpgid, SYS_close_range,
                                SYS_seccomp /* the new guest process installs its own (stricter) filter */};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
      allow(p, more[i]);
    allow_without_bits(p, SYS_clone, 0, ~(uint32_t)(CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | 0xff));
    refuse_with(p, SYS_clone3, ENOSYS); /* glibc falls back to clone, which is checked above */
  }
  ret(p, KILL);
}

/* ---- Landlock (landlock_rules.h) ------------------------------------------------------------- */
/* The Landlock ABI in force, 0 where the kernel has none (seccomp and the rlimits still hold). */
static int landlock(const struct lockdown_paths *paths)
{
  int abi = landlock_abi();
  if (abi <= 0)
    return 0;
  /* Its guest processes are forked inside the domain: they stay signalable, the worker is not. */
  int ruleset = landlock_ruleset(abi, 1);
  if (ruleset < 0)
    die("lockdown: landlock_create_ruleset: %s", strerror(errno));
  const uint64_t read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  if (landlock_allow(ruleset, abi, paths->snapshot_dir, landlock_fs_rights(abi) & ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE) != 0)
    die("lockdown: cannot allow the snapshot directory %s: %s", paths->snapshot_dir, strerror(errno));
  /* /proc: the new guest process's pagemap, opened after each snapshot (vm_attach). */
  if (landlock_allow(ruleset, abi, "/proc", read) != 0)
    die("lockdown: cannot allow reading /proc: %s", strerror(errno));
  for (int i = 0; i < 3; i++)
    if (paths->read_dirs[i] && landlock_allow(ruleset, abi, paths->read_dirs[i], read) != 0)
      die("lockdown: cannot allow reading %s: %s", paths->read_dirs[i], strerror(errno));
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
    die("lockdown: landlock_restrict_self: %s", strerror(errno));
  close(ruleset);
  return abi;
}

/* ---- resources ------------------------------------------------------------------------------ */
static uint64_t address_space_now(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  uint64_t kib = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %lu kB", &kib) == 1)
      break;
  if (f)
    fclose(f);
  return kib << 10;
}

static void limit(int resource, uint64_t value)
{
  struct rlimit r = {value, value};
  if (setrlimit(resource, &r) != 0)
    die("lockdown: setrlimit(%d): %s", resource, strerror(errno));
}

int lockdown_early(enum lockdown_mode mode, const struct lockdown_paths *paths)
{
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    die("lockdown: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
  return mode == LOCKDOWN_SNAPSHOTS && paths->snapshot_dir ? landlock(paths) : 0;
}

struct lockdown_report lockdown(enum lockdown_mode mode, int landlock_abi, const int *keep, int nkeep)
{
  struct lockdown_report r = {.landlock_abi = landlock_abi};
  /* What this process may still map. RESET and the frames need buffers of a few MiB at most. A
   * snapshot maps a view of its new files (guest RAM) beside the old one, and the new guest
   * process, a fork of this one, maps guest RAM on top of that copy: 3 x RAM in all. */
  r.address_space_limit = address_space_now() + (mode == LOCKDOWN_SNAPSHOTS ? 3 * vm.mem : 0) + (64ull << 20);

  if (chdir("/") != 0)
    die("lockdown: chdir /: %s", strerror(errno));
  /* Descriptors: stdin, stdout, stderr and the ones named; everything else goes. */
  int highest = 2;
  for (int i = 0; i < nkeep; i++)
    if (keep[i] > highest)
      highest = keep[i];
  for (int fd = 3; fd <= highest; fd++) {
    int kept = 0;
    for (int i = 0; i < nkeep; i++)
      kept |= keep[i] == fd;
    if (!kept)
      close(fd);
  }
  if (syscall(SYS_close_range, (unsigned)highest + 1, ~0u, 0u) != 0)
    for (int fd = highest + 1; fd < 1024; fd++)
      close(fd);

  limit(RLIMIT_AS, r.address_space_limit);
  limit(RLIMIT_CORE, 0);
  if (mode == LOCKDOWN_SEALED) {
    limit(RLIMIT_NOFILE, (uint64_t)highest + 1);
    limit(RLIMIT_FSIZE, 0);
  }
#ifdef LOCKDOWN_DEBUG
  struct sigaction sa = {.sa_sigaction = sigsys, .sa_flags = SA_SIGINFO};
  sigaction(SIGSYS, &sa, NULL);
#endif
  static struct prog p;
  p.n = 0;
  refused = KILL;
  build(&p, mode, vm.pid);
  struct sock_fprog fprog = {.len = (unsigned short)p.n, .filter = p.v};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
    die("lockdown: seccomp: %s", strerror(errno));
  r.seccomp = 1;
  return r;
}

/* ---- the launcher (launcher.c) --------------------------------------------------------------- *
 * The launcher accepts connections and forks a standby VMM for each; the standby waits for
 * RESTORE, then restores (opening the snapshot files read-only, forking its guest process) and
 * locks itself down (lockdown above). A seccomp filter is inherited across fork and cannot be
 * lifted, so the launcher's allowlist is what the launcher, a standby before and during RESTORE,
 * and a guest process before its trampoline do — and nothing that reaches beyond them: no exec,
 * no new socket (socketpair only), no connect/bind/listen, no file opened for writing or created,
 * no unlink/rename/mkdir, no ptrace attach, no namespaces, mount, bpf, io_uring or modules.
 *
 * Anything else gets SECCOMP_RET_TRACE: in the launcher and a standby, which nothing traces, the
 * call fails with ENOSYS; in a guest process, traced by its VMM, it is a seccomp stop its VMM
 * reports as a stray system call — exactly what the guest's own filter does, so a guest sees
 * the same VMM with or without this filter above it (RET_TRACE outranks the guest filter's
 * RET_TRACE only in name: they are the same action). */
void launcher_lockdown(void)
{
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    die("launcher lockdown: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
  static struct prog p;
  p.n = 0;
  refused = SECCOMP_RET_TRACE;
  load(&p, offsetof(struct seccomp_data, arch));
  emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
  ret(&p, KILL);
  load(&p, NR);
  emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
  ret(&p, KILL);
  static const long calls[] = {
      /* the launcher: its loop, and a fork per connection */
      SYS_poll, SYS_ppoll, SYS_accept, SYS_accept4, SYS_getsockopt, SYS_getuid, SYS_geteuid,
      /* a standby and a VMM: frames, memory, the snapshot files (read-only, checked below), the
       * guest process (socketpair and SCM_RIGHTS to the spare one), its own lockdown */
      SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_close, SYS_lseek, SYS_pread64, SYS_fstat, SYS_newfstatat,
      SYS_statx, SYS_brk, SYS_mmap, SYS_munmap, SYS_mprotect, SYS_madvise, SYS_mremap, SYS_socketpair,
      SYS_sendmsg, SYS_recvmsg, SYS_dup2, SYS_dup3, SYS_fcntl, SYS_wait4, SYS_kill, SYS_tgkill, SYS_process_vm_readv,
      SYS_process_vm_writev, SYS_chdir, SYS_close_range, SYS_prlimit64, SYS_setrlimit, SYS_seccomp, SYS_prctl,
      SYS_setpgid, SYS_set_robust_list, SYS_rseq, SYS_futex, SYS_sched_yield,
      /* signals, clocks, identity, leaving */
      SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_restart_syscall, SYS_clock_gettime,
      SYS_gettimeofday, SYS_nanosleep, SYS_clock_nanosleep, SYS_getrandom, SYS_getpid, SYS_getppid, SYS_gettid,
      SYS_exit, SYS_exit_group};
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
    allow(&p, calls[i]);
  /* Files: read-only opens (snapshot files, /proc/<guest>/pagemap, /proc/self/status). */
  allow_without_bits(&p, SYS_openat, 2, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND);
  /* The ptrace requests a VMM makes of its guest, and the guest's PTRACE_TRACEME: never an attach. */
  static const uint32_t requests[] = {PTRACE_CONT, PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_PEEKTEXT, PTRACE_GETSIGINFO,
                                      PTRACE_GETREGSET, PTRACE_SETREGSET, PTRACE_GETFPREGS, PTRACE_SETFPREGS,
                                      PTRACE_SETOPTIONS, PTRACE_TRACEME};
  allow_ptrace(&p, requests, sizeof requests / sizeof requests[0], 0);
  const uint32_t ioctls[] = {(uint32_t)pagemap_scan_request, 0x5401 /* TCGETS: stdio asking whether it is a tty */};
  allow_if_arg(&p, SYS_ioctl, 1, ioctls, 2);
  /* fork: clone with SIGCHLD and the tid flags, no namespace or thread flags. */
  allow_without_bits(&p, SYS_clone, 0, ~(uint32_t)(CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | 0xff));
  refuse_with(&p, SYS_clone3, ENOSYS); /* glibc falls back to clone, checked above */
  ret(&p, refused);
  struct sock_fprog fprog = {.len = (unsigned short)p.n, .filter = p.v};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
    die("launcher lockdown: seccomp: %s", strerror(errno));
  refused = KILL;
}
