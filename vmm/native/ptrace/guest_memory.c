/*
 * guest_memory.c — reading and writing guest RAM from the VMM: process_vm_readv / writev into the
 * guest process, up to IOV_MAX runs per call, the guest stopped meanwhile.
 *
 * Guest RAM is the guest process's own memory (private file mappings), so this process cannot
 * simply map it. Measured on this host for the ~20 scattered pages of a trivial request:
 * process_vm_writev 5.5 us; the alternative, injecting madvise(MADV_DONTNEED) into the guest
 * process so its private pages fall back to the snapshot file, costs ~25 us per run (TLB
 * shootdowns) plus a 20-50 us copy-on-write fault per page the next request writes again.
 */
#include "vmm.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>

#define BATCH 1024 /* IOV_MAX */

static int transfer(pid_t pid, struct iovec *local, struct iovec *remote, size_t n, uint64_t bytes, int write,
                    struct err *e)
{
  ssize_t r = write ? process_vm_writev(pid, local, n, remote, n, 0) : process_vm_readv(pid, local, n, remote, n, 0);
  if (r != (ssize_t)bytes)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "process_vm_%s: %s (%zd of %llu bytes)", write ? "writev" : "readv",
                r < 0 ? strerror(errno) : "short transfer", r, (unsigned long long)bytes);
  return 0;
}

/* Reads each run of guest pages into bufs[i] (run i's bytes). */
int guest_read(pid_t pid, const struct run *runs, size_t n, uint8_t *const *bufs, struct err *e)
{
  static struct iovec local[BATCH], remote[BATCH];
  size_t k = 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    local[k] = (struct iovec){bufs[i], runs[i].count * PAGE};
    remote[k] = (struct iovec){(void *)(uintptr_t)(runs[i].first * PAGE), runs[i].count * PAGE};
    bytes += runs[i].count * PAGE;
    if (++k == BATCH || i + 1 == n) {
      if (transfer(pid, local, remote, k, bytes, 0, e) != 0)
        return -1;
      k = 0;
      bytes = 0;
    }
  }
  return 0;
}

/* Writes each run from src_base + its guest-physical address (the snapshot view). */
int guest_write_runs(pid_t pid, const struct runs *runs, const uint8_t *src_base, struct err *e)
{
  static struct iovec local[BATCH], remote[BATCH];
  size_t k = 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < runs->n; i++) {
    uint64_t addr = runs->v[i].first * PAGE, len = runs->v[i].count * PAGE;
    local[k] = (struct iovec){(void *)(src_base + addr), len};
    remote[k] = (struct iovec){(void *)(uintptr_t)addr, len};
    bytes += len;
    if (++k == BATCH || i + 1 == runs->n) {
      if (transfer(pid, local, remote, k, bytes, 1, e) != 0)
        return -1;
      k = 0;
      bytes = 0;
    }
  }
  return 0;
}
