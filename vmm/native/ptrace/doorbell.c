/*
 * doorbell.c — running the guest until it rings: the ptrace version of KVM_RUN's exit handling.
 *
 * The doorbell `out dx, eax` has no I/O permission in a Linux process, so it faults (SIGSEGV) at
 * the instruction; the tracer checks it is `out` (0xEF) to FN_PORT_DOORBELL and advances RIP past
 * it, which is where KVM leaves the vCPU once it completes the port I/O. From there the guest
 * waits for the next command, and that stopped state is what SNAPSHOT saves and RESET restores.
 * A system call (seccomp stop) or any other signal ends the VM with a PANIC frame, as a
 * KVM_EXIT_SHUTDOWN would.
 */
#include "vmm.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

_Noreturn void report_panic(const char *fmt, ...)
{
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  frame_reply(0, FN_EVENT_PANIC, 0, msg);
  tracee_kill(vm.pid);
  exit(70);
}

uint32_t vm_run_to_doorbell(void)
{
  pid_t pid = vm.pid;
  for (;;) {
    if (vm.regs_dirty) {
      if (ptrace(PTRACE_SETREGS, pid, 0, &vm.cpu.regs) != 0)
        die("PTRACE_SETREGS: %s", strerror(errno));
      vm.regs_dirty = 0;
    }
    if (ptrace(PTRACE_CONT, pid, 0, 0) != 0)
      die("PTRACE_CONT: %s", strerror(errno));
    int st;
    while (waitpid(pid, &st, __WALL) != pid)
      if (errno != EINTR)
        die("waitpid: %s", strerror(errno));
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      vm.pid = -1;
      /* A guest process forked after the VMM's lockdown (after a SNAPSHOT) inherits its filter,
       * which kills a syscall outside its allowlist before our own filter can trace it. */
      if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        report_panic("stray syscall: the guest process was killed by the VMM's seccomp filter (SIGSYS): the KVM guest must make no syscalls");
      report_panic("the guest process ended (status 0x%x)", st);
    }
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0)
      die("PTRACE_GETREGS: %s", strerror(errno));
    if (st >> 8 == (SIGTRAP | PTRACE_EVENT_SECCOMP << 8))
      report_panic("stray syscall %llu at rip 0x%llx: the KVM guest must make no syscalls", regs.orig_rax, regs.rip);
    int sig = WSTOPSIG(st);
    if (sig == SIGSTOP || sig == SIGCONT)
      continue; /* job control from outside, not the guest */
    errno = 0;
    long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)(uintptr_t)regs.rip, 0);
    uint8_t opcode = errno ? 0 : (uint8_t)word;
    if (sig == SIGSEGV && opcode == 0xEF && (regs.rdx & 0xFFFF) == FN_PORT_DOORBELL) {
      regs.rip += 1; /* like KVM_EXIT_IO: the guest resumes after the `out` */
      vm.cpu.regs = regs;
      vm.regs_dirty = 1;
      return (uint32_t)regs.rax;
    }
    siginfo_t si = {0};
    ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
    report_panic("guest fault: signal %d (%s, code %d) at rip 0x%llx, address %p, opcode 0x%02x, rsp 0x%llx", sig, strsignal(sig), si.si_code,
                 regs.rip, si.si_addr, opcode, regs.rsp);
  }
}
