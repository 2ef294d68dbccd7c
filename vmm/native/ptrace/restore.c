/*
 * restore.c — a snapshot directory back into a running VM: check every file first (a refused
 * snapshot never half-starts), map guest RAM from the files MAP_PRIVATE in a new guest process,
 * set the vCPU from cpu.bin, and keep the snapshot as what RESET returns to.
 */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const uint8_t zero_id[16];

int snapshot_load(const char *dir, const char *base_path, uint64_t mem, struct snapshot **out, struct err *e)
{
  const uint32_t bad = FN_VMM_STATUS_BAD_SNAPSHOT;
  char cpu_path[4200], pages_path[4200], memory_path[4200];
  snprintf(cpu_path, sizeof cpu_path, "%s/cpu.bin", dir);
  snprintf(pages_path, sizeof pages_path, "%s/pages.bin", dir);
  snprintf(memory_path, sizeof memory_path, "%s/memory.img", dir);

  struct snapshot *s = calloc(1, sizeof *s);
  if (!s)
    die("out of memory");
  s->backing = (struct backing){.base_fd = -1, .diff_fd = -1, .mem = mem};
  uint8_t cpu_id[16], base_id[16];
  int layered = 0;
  if (cpu_file_read(cpu_path, &s->cpu, cpu_id, mem, e) != 0 ||
      pages_file_read(pages_path, &s->backing.runs, &layered, mem, s->id, base_id, &s->backing.data_pages, e) != 0)
    goto refused;
  if (memcmp(cpu_id, s->id, 16) != 0) {
    fail(e, bad, "SnapshotError", "%s and %s belong to different snapshots (a copy mixed two of them)", cpu_path,
         pages_path);
    goto refused;
  }
  memcpy(s->backing.id, s->id, 16);
  int memory_fd = memory_file_open(memory_path, mem, layered ? "diff" : "snapshot", e);
  if (memory_fd < 0)
    goto refused;
  if (!layered) {
    if (base_path) {
      close(memory_fd);
      fail(e, bad, "SnapshotError", "%s is a full snapshot, not a diff: restore it without --base", dir);
      goto refused;
    }
    s->backing.base_fd = memory_fd;
  } else {
    s->backing.diff_fd = memory_fd;
    if (!base_path) {
      fail(e, bad, "SnapshotError", "%s holds only the pages that differ from a base snapshot: pass that base's "
                                    "memory.img with --base",
           dir);
      goto refused;
    }
    s->backing.base_fd = memory_file_open(base_path, mem, "base", e);
    if (s->backing.base_fd < 0)
      goto refused;
    uint8_t actual[16];
    if (memcmp(base_id, zero_id, 16) != 0 && pages_file_sibling_id(base_path, actual) == 0 && memcmp(actual, base_id, 16) != 0) {
      fail(e, bad, "SnapshotError", "%s was taken over a different base than %s (the pages.bin beside it has another "
                                    "snapshot id): a diff restored over the wrong base would be garbage",
           dir, base_path);
      goto refused;
    }
  }
  *out = s;
  return 0;
refused:
  snapshot_free(s);
  return -1;
}

void snapshot_free(struct snapshot *s)
{
  if (!s)
    return;
  backing_close(&s->backing);
  free(s);
}

int vm_attach(pid_t pid, struct err *e)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/pagemap", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "cannot open %s: %s", path, strerror(errno));
  if (vm.pagemap_fd >= 0)
    close(vm.pagemap_fd);
  vm.pid = pid;
  vm.pagemap_fd = fd;
  return 0;
}

/* A new guest process running from `s`, stopped right after its doorbell, with the snapshot's
 * registers; it replaces the current one (if any) only once it is ready. */
struct restore_timings restore_timings;

int vm_start_from_snapshot(struct snapshot *s, struct err *e)
{
  uint64_t t0 = now_ns();
  if (!s->backing.view && backing_map_view(&s->backing, e) != 0)
    return -1;
  struct runs read = {0}, write = {0};
  if (vm.populate)
    populate_plan(&s->backing, &read, &write);
  /* RESET copies the pages the guest writes from this process's view: fault those in now
   * (in-kernel, ~0.3 us a page) rather than during the first RESET (~4 us a page). */
  for (size_t i = 0; i < write.n; i++)
    madvise(s->backing.view + write.v[i].first * PAGE, write.v[i].count * PAGE, 22 /* MADV_POPULATE_READ */);
  struct tracee_spec spec = {.mem = vm.mem, .backing = &s->backing, .populate_read = &read, .populate_write = &write};
  uint64_t t1 = now_ns();
  pid_t pid = tracee_spawn(&spec, e);
  uint64_t t2 = now_ns();
  restore_timings.plan_us = (double)(t1 - t0) / 1e3;
  restore_timings.spawn_us = (double)(t2 - t1) / 1e3;
  runs_free(&read);
  runs_free(&write);
  if (pid < 0)
    return -1;
  if (cpu_apply(pid, &s->cpu, e) != 0) {
    tracee_kill(pid);
    return -1;
  }
  pid_t old = vm.pid;
  if (vm_attach(pid, e) != 0) {
    tracee_kill(pid);
    return -1;
  }
  tracee_kill_later(old);
  vm.cpu = s->cpu;
  vm.regs_dirty = 0;
  vm_replace_snapshot(s);
  return 0;
}

void vm_replace_snapshot(struct snapshot *s)
{
  if (vm.snap != s)
    snapshot_free(vm.snap);
  vm.snap = s;
}
