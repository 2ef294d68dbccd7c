/*
 * landlock_rules.c — see landlock_rules.h. The uapi of Linux 6.12 is spelled out here (Debian 12's
 * headers stop at ABI 2): the ruleset attribute grew a field per ABI, and the kernel takes the size
 * we pass to know which ones we filled.
 */
#define _GNU_SOURCE
#include "landlock_rules.h"

#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net; /* ABI 4 */
  uint64_t scoped;             /* ABI 6 */
};
#define FS_REFER (1ull << 13)           /* ABI 2 */
#define FS_TRUNCATE (1ull << 14)        /* ABI 3 */
#define NET_BIND_TCP (1ull << 0)        /* ABI 4 */
#define NET_CONNECT_TCP (1ull << 1)     /* ABI 4 */
#define SCOPE_ABSTRACT_UNIX (1ull << 0) /* ABI 6 */
#define SCOPE_SIGNAL (1ull << 1)        /* ABI 6 */

int landlock_abi(void)
{
  int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? abi : 0;
}

uint64_t landlock_fs_rights(int abi)
{
  uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
  if (abi >= 2)
    all |= FS_REFER;
  if (abi >= 3)
    all |= FS_TRUNCATE;
  if (abi >= 5)
    all |= FN_LANDLOCK_FS_IOCTL_DEV;
  return all;
}

int landlock_ruleset(int abi, int scope_signals)
{
  struct ruleset_attr attr = {.handled_access_fs = landlock_fs_rights(abi)};
  size_t size = offsetof(struct ruleset_attr, handled_access_net);
  if (abi >= 4) {
    attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
    size = offsetof(struct ruleset_attr, scoped);
  }
  if (abi >= 6) {
    attr.scoped = SCOPE_ABSTRACT_UNIX | (scope_signals ? SCOPE_SIGNAL : 0);
    size = sizeof attr;
  }
  return (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
}

int landlock_allow(int ruleset, int abi, const char *path, uint64_t rights)
{
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0)
    return -1;
  /* On a file (not a directory) only the rights that apply to files may be given. */
  struct stat st;
  if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
    rights &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | FS_TRUNCATE |
              FN_LANDLOCK_FS_IOCTL_DEV;
  struct landlock_path_beneath_attr rule = {.allowed_access = rights & landlock_fs_rights(abi), .parent_fd = fd};
  int rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
  close(fd);
  return rc;
}
