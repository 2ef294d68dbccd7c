/*
 * test_hooks.c — the TEST_PROBE command: lets a test ask this VMM, after its lockdown, to do what
 * a hostile guest that took it over would try (exec a program, open a file, make a socket, attach
 * to another process, allocate a lot), and answer what happened. The only way to prove the
 * lockdown holds in the very binary the platform runs.
 *
 * Off unless the parent started the VMM with FN_VMM_TEST_HOOKS=1 in its environment (the platform
 * never does): a guest cannot reach it either way, VMM commands come from the parent's pipe only.
 * An attempt the seccomp filter refuses kills this process with SIGSYS: the test sees that.
 */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <unistd.h>

int test_hooks_enabled;
struct lockdown_report lockdown_state;

static const char *outcome(long rc)
{
  static char text[64];
  if (rc >= 0)
    return "done";
  snprintf(text, sizeof text, "%s", strerrorname_np(errno) ? strerrorname_np(errno) : "error");
  return text;
}

int test_probe(const char *what, const char *path, char *out, size_t cap, struct err *e)
{
  long rc;
  if (!strcmp(what, "status")) {
    snprintf(out, cap, "{\"seccomp\":%d,\"landlock\":%d,\"addressSpaceLimit\":%llu}", lockdown_state.seccomp,
             lockdown_state.landlock_abi, (unsigned long long)lockdown_state.address_space_limit);
    return 0;
  }
  if (!strcmp(what, "execve")) {
    char *argv[] = {"true", NULL}, *envp[] = {NULL};
    rc = execve("/bin/true", argv, envp); /* returns only if it failed */
  } else if (!strcmp(what, "open") || !strcmp(what, "create")) {
    if (!path)
      return fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "TEST_PROBE %s needs a path", what);
    rc = !strcmp(what, "open") ? open(path, O_RDONLY | O_CLOEXEC) : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (rc >= 0)
      close((int)rc);
  } else if (!strcmp(what, "socket")) {
    rc = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rc >= 0)
      close((int)rc);
  } else if (!strcmp(what, "ptrace-parent")) {
    rc = ptrace(PTRACE_ATTACH, getppid(), 0, 0);
  } else if (!strcmp(what, "kill-parent")) {
    rc = kill(getppid(), 0); /* signal 0: the permission check only */
  } else if (!strcmp(what, "alloc")) {
    /* 1 GiB, far past what the address-space limit leaves (the guest's RAM is the guest's). */
    void *p = malloc(1ull << 30);
    rc = p ? 0 : -1;
    if (p)
      memset(p, 1, 1ull << 30), free(p);
    else
      errno = ENOMEM;
  } else {
    return fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "unknown TEST_PROBE \"%s\"", what);
  }
  snprintf(out, cap, "{\"tried\":\"%s\",\"outcome\":\"%s\"}", what, outcome(rc));
  return 0;
}
