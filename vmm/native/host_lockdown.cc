// host_lockdown.cc — see host_lockdown.h.
//
// Why a deny list and not an allowlist, unlike ptrace-vmm (ptrace/lockdown.c): this process is
// Node. Its steady state, measured with strace -f over 4 restores and 20 invocations with resets on
// real KVM (the nested machine), is 18 system calls: futex, ioctl (KVM_RUN and the others),
// epoll_pwait, read, write, openat (the snapshot files read-only, and /dev/kvm read-write for every
// new VM and probe, which is why the device is held and duplicated instead), pread64, close,
// newfstatat, mmap, munmap, madvise, mprotect, rt_sigprocmask, clone3 (vCPU threads),
// set_robust_list, rseq, exit; a host adds sendmsg/recvmsg on its IPC channel and tgkill from the
// watchdog. But V8 and libuv reach others on paths no test exercises (GC under pressure, signal
// handling, a thread pool resize), and killing the host there would take every VM on it down. So
// every call is allowed except the ones that reach beyond the process, which fail with EPERM:
// running programs, new processes, sockets, ptrace and process_vm_*, signals to other processes,
// writing, creating, renaming or deleting files (open only read-only), file-system and namespace
// changes, kernel modules, bpf, perf, io_uring (which would bypass this filter), keyrings,
// userfaultfd, privilege changes.
// Another ABI (x32, i386) kills the process.
#include "host_lockdown.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "errors.h"
#include "kvm.h"

namespace fnvmm {
namespace {

class Program {
 public:
  void load(uint32_t off) { v_.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off)); }
  void ret(uint32_t action) { v_.push_back(BPF_STMT(BPF_RET | BPF_K, action)); }
  void jump(uint16_t op, uint32_t k, uint8_t jt, uint8_t jf) { v_.push_back(BPF_JUMP(BPF_JMP | op | BPF_K, k, jt, jf)); }

  // nr → EPERM, whatever its arguments.
  void deny(long nr) {
    load(offsetof(seccomp_data, nr));
    jump(BPF_JEQ, static_cast<uint32_t>(nr), 0, 1);
    ret(SECCOMP_RET_ERRNO | EPERM);
  }
  // nr → `action` if any bit of `bits` is set in argument `arg` (low 32 bits), else allowed.
  void deny_if_bits(long nr, int arg, uint32_t bits, uint32_t action) {
    load(offsetof(seccomp_data, nr));
    jump(BPF_JEQ, static_cast<uint32_t>(nr), 0, 4);
    load(arg_lo(arg));
    jump(BPF_JSET, bits, 0, 1);
    ret(action);
    ret(SECCOMP_RET_ALLOW);
  }
  // nr → allowed only if argument `arg` is `value` (or `also`), else EPERM.
  void only_if_arg(long nr, int arg, uint32_t value, uint32_t also) {
    load(offsetof(seccomp_data, nr));
    jump(BPF_JEQ, static_cast<uint32_t>(nr), 0, 5);
    load(arg_lo(arg));
    jump(BPF_JEQ, value, 2, 0);
    jump(BPF_JEQ, also, 1, 0);
    ret(SECCOMP_RET_ERRNO | EPERM);
    ret(SECCOMP_RET_ALLOW);
  }
  sock_fprog fprog() { return {static_cast<unsigned short>(v_.size()), v_.data()}; }

 private:
  static uint32_t arg_lo(int i) { return offsetof(seccomp_data, args) + 8 * i; }
  std::vector<sock_filter> v_;
};

constexpr uint32_t kWriteOpen = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | 020000000 /* __O_TMPFILE */;

// What a deploy host may do to files beyond the invocation hosts (allow_file_writes): write its
// snapshot files under its scratch directory (Landlock keeps it there) and tidy them up.
bool is_file_write(long nr) {
  static const long writes[] = {SYS_creat, SYS_unlink, SYS_unlinkat, SYS_rename, SYS_renameat, SYS_renameat2,
                                SYS_mkdir, SYS_mkdirat, SYS_rmdir, SYS_truncate, SYS_fchmod, SYS_utimensat};
  for (long w : writes)
    if (w == nr) return true;
  return false;
}

Program build(bool allow_file_writes) {
  Program p;
  p.load(offsetof(seccomp_data, arch));
  p.jump(BPF_JEQ, AUDIT_ARCH_X86_64, 1, 0);
  p.ret(SECCOMP_RET_KILL_PROCESS);
  p.load(offsetof(seccomp_data, nr));
  p.jump(BPF_JGE, 0x40000000u, 0, 1);
  p.ret(SECCOMP_RET_KILL_PROCESS);

  static const long denied[] = {
      SYS_execve, SYS_execveat, SYS_fork, SYS_vfork, SYS_socket, SYS_socketpair, SYS_connect, SYS_bind, SYS_listen,
      SYS_accept, SYS_accept4, SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_kcmp, SYS_pidfd_open,
      SYS_pidfd_getfd, SYS_pidfd_send_signal, SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_mount_setattr,
      SYS_fsopen, SYS_fsmount, SYS_fsconfig, SYS_move_mount, SYS_open_tree, SYS_unshare, SYS_setns, SYS_bpf,
      SYS_perf_event_open, SYS_kexec_load, SYS_kexec_file_load, SYS_init_module, SYS_finit_module, SYS_delete_module,
      SYS_setuid, SYS_setgid, SYS_setreuid, SYS_setregid, SYS_setresuid, SYS_setresgid, SYS_setgroups, SYS_setfsuid,
      SYS_setfsgid, SYS_capset, SYS_keyctl, SYS_add_key, SYS_request_key, SYS_userfaultfd, SYS_io_uring_setup,
      SYS_io_uring_enter, SYS_io_uring_register, SYS_name_to_handle_at, SYS_open_by_handle_at, SYS_fanotify_init,
      SYS_swapon, SYS_swapoff, SYS_reboot, SYS_syslog, SYS_acct, SYS_settimeofday, SYS_clock_settime, SYS_adjtimex,
      SYS_clock_adjtime, SYS_iopl, SYS_ioperm, SYS_personality, SYS_quotactl, SYS_mknod, SYS_mknodat, SYS_creat,
      SYS_unlink, SYS_unlinkat, SYS_rename, SYS_renameat, SYS_renameat2, SYS_link, SYS_linkat, SYS_symlink,
      SYS_symlinkat, SYS_mkdir, SYS_mkdirat, SYS_rmdir, SYS_chmod, SYS_fchmod, SYS_fchmodat, SYS_chown, SYS_fchown,
      SYS_lchown, SYS_fchownat, SYS_truncate, SYS_utime, SYS_utimes, SYS_utimensat, SYS_futimesat, SYS_sethostname,
      SYS_setdomainname, SYS_vhangup, SYS_process_madvise, SYS_migrate_pages, SYS_move_pages, SYS_lookup_dcookie,
  };
  for (long nr : denied)
    if (!allow_file_writes || !is_file_write(nr)) p.deny(nr);
  // open only for reading (a deploy host: any open, Landlock decides where); openat2 hides its flags in a struct: ENOSYS (glibc's open does not use it).
  if (!allow_file_writes) {
    p.deny_if_bits(SYS_open, 1, kWriteOpen, SECCOMP_RET_ERRNO | EPERM);
    p.deny_if_bits(SYS_openat, 2, kWriteOpen, SECCOMP_RET_ERRNO | EPERM);
  }
  p.load(offsetof(seccomp_data, nr));
  p.jump(BPF_JEQ, SYS_openat2, 0, 1);
  p.ret(SECCOMP_RET_ERRNO | ENOSYS);
  // Threads (vCPU threads, V8's and libuv's) but no processes: clone needs CLONE_THREAD; clone3
  // hides its flags in a struct: ENOSYS, and glibc falls back to clone.
  p.load(offsetof(seccomp_data, nr));
  p.jump(BPF_JEQ, SYS_clone, 0, 4);
  p.load(offsetof(seccomp_data, args));
  p.jump(BPF_JSET, CLONE_THREAD, 1, 0);
  p.ret(SECCOMP_RET_ERRNO | EPERM);
  p.ret(SECCOMP_RET_ALLOW);
  p.load(offsetof(seccomp_data, nr));
  p.jump(BPF_JEQ, SYS_clone3, 0, 1);
  p.ret(SECCOMP_RET_ERRNO | ENOSYS);
  // Signals to itself only (the watchdog's tgkill to a vCPU thread, Node's own): pid = this process, or 0.
  const uint32_t self = static_cast<uint32_t>(getpid());
  p.only_if_arg(SYS_kill, 0, self, 0);
  p.only_if_arg(SYS_tgkill, 0, self, self);
  p.only_if_arg(SYS_rt_sigqueueinfo, 0, self, self);
  p.only_if_arg(SYS_rt_tgsigqueueinfo, 0, self, self);
  p.deny(SYS_tkill);  // glibc uses tgkill
  p.ret(SECCOMP_RET_ALLOW);
  return p;
}

bool locked = false;

}  // namespace

HostLockdownReport lock_down_host(const HostLockdownOptions& options) {
  if (locked) throw ConfigError("lock_down_host: this process is locked down already");
  HostLockdownReport r;
  Kvm::hold_device();  // KvmUnavailableError: a KVM host without KVM is of no use anyway
  if (::chdir("/") != 0) throw KvmError("chdir(\"/\")", errno);
  rlimit core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &core) != 0) throw KvmError("setrlimit(RLIMIT_CORE)", errno);
  if (options.data_limit_bytes > 0) {
    rlimit data{options.data_limit_bytes, options.data_limit_bytes};
    if (::setrlimit(RLIMIT_DATA, &data) != 0) throw KvmError("setrlimit(RLIMIT_DATA)", errno);
    r.data_limit_bytes = options.data_limit_bytes;
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw KvmError("prctl(PR_SET_NO_NEW_PRIVS)", errno);
  Program p = build(options.allow_file_writes);
  sock_fprog fprog = p.fprog();
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
  if (rc != 0)
    throw KvmError("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC)", rc > 0 ? EAGAIN : errno,
                   rc > 0 ? "thread " + std::to_string(rc) + " could not take the filter" : "");
  locked = true;
  r.seccomp = true;
  return r;
}

std::string host_lockdown_probe(const std::string& what, const std::string& path) {
  long rc;
  if (what == "execve") {
    char* argv[] = {const_cast<char*>("true"), nullptr};
    char* envp[] = {nullptr};
    rc = ::execve("/bin/true", argv, envp);  // returns only if refused
  } else if (what == "open-read" || what == "open-write") {
    rc = ::open(path.c_str(), what == "open-read" ? O_RDONLY | O_CLOEXEC : O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (rc >= 0) ::close(static_cast<int>(rc));
  } else if (what == "socket") {
    rc = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rc >= 0) ::close(static_cast<int>(rc));
  } else if (what == "fork") {
    rc = ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);  // a process, not a thread
    if (rc == 0) ::_exit(0);
  } else if (what == "ptrace-parent") {
    rc = ::ptrace(PTRACE_ATTACH, ::getppid(), 0, 0);
  } else if (what == "kill-parent") {
    rc = ::kill(::getppid(), 0);
  } else {
    throw ConfigError("host_lockdown_probe: unknown probe \"" + what + "\"");
  }
  if (rc >= 0) return "done";
  const char* name = ::strerrorname_np(errno);
  return name ? name : "error";
}

}  // namespace fnvmm
