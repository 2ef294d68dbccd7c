/*
 * landlock_rules.h — the few Landlock calls ptrace-vmm (lockdown.c) and fn-landlock-exec
 * (landlock_exec.c) share. Plain C, no dependency on the VMM.
 */
#ifndef FN_LANDLOCK_RULES_H
#define FN_LANDLOCK_RULES_H

#include <linux/landlock.h>
#include <stdint.h>

#define FN_LANDLOCK_FS_IOCTL_DEV (1ull << 15) /* ABI 5: ioctl on a device opened beneath a rule */
#define FN_LANDLOCK_FS_TRUNCATE (1ull << 14)  /* ABI 3: truncate, open with O_TRUNC */

int landlock_abi(void);                  /* the kernel's Landlock ABI, 0 where it has none */
uint64_t landlock_fs_rights(int abi);    /* every file-system right that ABI knows */
/* A ruleset handling every file-system right, TCP bind/connect (ABI 4) and abstract unix
 * sockets (ABI 6), plus signals to processes outside the domain if `scope_signals`. -1: errno. */
int landlock_ruleset(int abi, int scope_signals);
/* Allows `rights` (masked to what the ABI handles) beneath `path`. -1: errno. */
int landlock_allow(int ruleset, int abi, const char *path, uint64_t rights);

#endif
