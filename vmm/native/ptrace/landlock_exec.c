/*
 * fn-landlock-exec — runs a program under Landlock: read (and execute) beneath each --read path,
 * read, write and ioctl on each --device, nothing else on the file system; no TCP, no abstract unix
 * sockets. The worker starts each KVM VMM host process through it (worker/src/vmm-host/host-sandbox.ts)
 * with every path but the data directory readable: a Node process cannot restrict itself (up to
 * ABI 7 Landlock binds only the calling thread, and Node has threads before its first line of
 * JavaScript), so the domain is entered here, before exec, and inherited.
 *
 *   fn-landlock-exec [--read PATH]... [--write PATH]... [--device PATH]... -- PROGRAM [ARGS...]
 *
 * --write: read, write, create and remove files and directories beneath PATH (the deploy host's
 * scratch directory, where it writes the snapshots it builds).
 *
 * Where the kernel has no Landlock it runs PROGRAM unrestricted and says so in FN_LANDLOCK_ABI=0
 * (seccomp and the host's own lockdown still hold). A path that cannot be opened is skipped (it
 * may have gone meanwhile); a Landlock call that fails is fatal (exit 126): never half-confined.
 */
#define _GNU_SOURCE
#include "landlock_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Noreturn void fail(const char *what)
{
  fprintf(stderr, "fn-landlock-exec: %s: %s\n", what, strerror(errno));
  exit(126);
}

int main(int argc, char **argv)
{
  int i = 1, abi = landlock_abi(), ruleset = -1;
  if (abi > 0 && (ruleset = landlock_ruleset(abi, 0)) < 0)
    fail("landlock_create_ruleset");
  const uint64_t read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE;
  const uint64_t device = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | FN_LANDLOCK_FS_IOCTL_DEV;
  const uint64_t write = read | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                         LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR | FN_LANDLOCK_FS_TRUNCATE;
  for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
    const int is_read = strcmp(argv[i], "--read") == 0, is_write = strcmp(argv[i], "--write") == 0;
    if (i + 1 >= argc || (!is_read && !is_write && strcmp(argv[i], "--device") != 0)) {
      fprintf(stderr, "usage: fn-landlock-exec [--read PATH]... [--write PATH]... [--device PATH]... -- PROGRAM [ARGS...]\n");
      return 2;
    }
    const uint64_t rights = is_read ? read : is_write ? write : device;
    if (ruleset >= 0 && landlock_allow(ruleset, abi, argv[i + 1], rights) != 0 && errno != ENOENT &&
        errno != EACCES)
      fail(argv[i + 1]);
  }
  if (i + 1 >= argc) {
    fprintf(stderr, "fn-landlock-exec: no program after --\n");
    return 2;
  }
  char abi_text[16];
  snprintf(abi_text, sizeof abi_text, "%d", abi);
  setenv("FN_LANDLOCK_ABI", abi_text, 1);
  if (ruleset >= 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      fail("PR_SET_NO_NEW_PRIVS");
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
      fail("landlock_restrict_self");
    close(ruleset);
  }
  execv(argv[i + 1], argv + i + 1);
  fail(argv[i + 1]);
}
