/*
 * snapshot.c — SNAPSHOT: the VM's memory and vCPU into a directory (formats: fn_vmm_control.h),
 * then the VM carries on from those very files, as a VM restored from them would.
 *
 * Which pages: guest RAM is the snapshot it runs from (if any) plus its private pages, so the
 * candidates are the private pages (read from the guest process), the data pages of the files it
 * runs from (read from this process's view of them) and, with a base, the base's data pages
 * (which may have to be listed as changed to zero). Each candidate page is written if it is not
 * all zeros (full) or if it differs from the base (diff). Everything else is a hole.
 */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_PAGES 256 /* 1 MiB of guest RAM per pass */

enum source { NONE, FROM_GUEST, FROM_VIEW, ZERO };

static void mark(uint8_t *cls, const struct runs *r, uint8_t what, uint64_t npages)
{
  for (size_t i = 0; i < r->n; i++)
    for (uint64_t p = r->v[i].first; p < r->v[i].first + r->v[i].count && p < npages; p++)
      if (cls[p] == NONE)
        cls[p] = what;
}

static int pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
  while (len) {
    ssize_t r = pread(fd, buf, len, (off_t)off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    buf += r;
    len -= (size_t)r;
    off += (uint64_t)r;
  }
  return 0;
}

struct writer {
  int fd;
  uint64_t bytes;
  struct err *e;
};

static int write_pages(struct writer *w, const uint8_t *buf, uint64_t first, uint64_t count)
{
  const uint8_t *p = buf;
  uint64_t len = count * PAGE, off = first * PAGE;
  while (len) {
    ssize_t r = pwrite(w->fd, p, len, (off_t)off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return fail(w->e, FN_VMM_STATUS_IO_ERROR, "SnapshotError", "cannot write the memory image: %s", strerror(errno));
    p += r;
    len -= (uint64_t)r;
    off += (uint64_t)r;
  }
  w->bytes += count * PAGE;
  return 0;
}

/* Goes through guest RAM a chunk at a time: reads the candidates, decides, writes. */
static int write_memory(const uint8_t *cls, int base_fd, struct writer *w, uint64_t *data_pages, struct runs *diff)
{
  static uint8_t cur[CHUNK_PAGES * PAGE], base[CHUNK_PAGES * PAGE];
  static struct run reads[CHUNK_PAGES];
  static uint8_t *bufs[CHUNK_PAGES];
  uint64_t npages = vm.mem / PAGE;
  for (uint64_t c0 = 0; c0 < npages; c0 += CHUNK_PAGES) {
    uint64_t n = npages - c0 < CHUNK_PAGES ? npages - c0 : CHUNK_PAGES;
    size_t nreads = 0, candidates = 0;
    for (uint64_t i = 0; i < n; i++) {
      uint8_t c = cls[c0 + i];
      candidates += c != NONE;
      if (c == FROM_GUEST) {
        if (nreads && reads[nreads - 1].first + reads[nreads - 1].count == c0 + i)
          reads[nreads - 1].count++;
        else {
          reads[nreads] = (struct run){c0 + i, 1};
          bufs[nreads++] = cur + i * PAGE;
        }
      } else if (c == FROM_VIEW) {
        memcpy(cur + i * PAGE, vm.snap->backing.view + (c0 + i) * PAGE, PAGE);
      } else if (c == ZERO) {
        memset(cur + i * PAGE, 0, PAGE);
      }
    }
    if (!candidates)
      continue;
    if (nreads && guest_read(vm.pid, reads, nreads, bufs, w->e) != 0)
      return -1;
    if (base_fd >= 0 && pread_full(base_fd, base, n * PAGE, c0 * PAGE) != 0)
      return fail(w->e, FN_VMM_STATUS_BAD_SNAPSHOT, "SnapshotMemoryFileError", "cannot read the base memory file: %s",
                  strerror(errno));
    uint64_t run_first = 0, run_count = 0;
    for (uint64_t i = 0; i <= n; i++) {
      int write = 0;
      if (i < n && cls[c0 + i] != NONE) {
        int zero = is_zero_page(cur + i * PAGE);
        *data_pages += !zero;
        if (base_fd >= 0) {
          int differs = memcmp(cur + i * PAGE, base + i * PAGE, PAGE) != 0;
          if (differs)
            runs_add(diff, c0 + i, 1);
          write = differs && !zero;
        } else {
          write = !zero;
        }
      }
      if (write && run_count && run_first + run_count == c0 + i) {
        run_count++;
      } else {
        if (run_count && write_pages(w, cur + (run_first - c0) * PAGE, run_first, run_count) != 0)
          return -1;
        run_count = write ? 1 : 0;
        run_first = c0 + i;
      }
    }
  }
  return 0;
}

static int publish(const char *tmp, const char *dir, const char *name, struct err *e)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (rename(tmp, path) != 0)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "SnapshotError", "cannot rename %s to %s: %s", tmp, path, strerror(errno));
  return 0;
}

int vm_snapshot(const char *dir, const char *base_path, char *json, size_t cap, struct err *e)
{
  if (vm.last_event == FN_EVENT_SLEEP)
    return fail(e, FN_VMM_STATUS_BAD_STATE, "SnapshotError",
                "the guest is in the middle of a command (it is waiting for a timer): SNAPSHOT only between commands");
  uint64_t t0 = now_ns();
  struct cpu_state cpu = vm.cpu;
  if (cpu_capture_fpu(vm.pid, &cpu, e) != 0)
    return -1;

  int rc = -1, base_fd = -1, mem_fd = -1;
  uint64_t npages = vm.mem / PAGE, data_pages = 0;
  uint8_t id[16], base_id[16] = {0};
  struct runs scan = {0}, diff = {0};
  char tmp_mem[4200] = "", tmp_pages[4200] = "", tmp_cpu[4200] = "";
  uint8_t *cls = calloc(npages, 1);
  if (!cls)
    die("out of memory");
  if (base_path) {
    base_fd = memory_file_open(base_path, vm.mem, "base", e);
    if (base_fd < 0)
      goto out;
    /* The base must outlive the diff: it cannot be the memory.img this snapshot replaces. */
    char target[4200];
    struct stat a, b;
    snprintf(target, sizeof target, "%s/memory.img", dir);
    if (fstat(base_fd, &a) == 0 && stat(target, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      fail(e, FN_VMM_STATUS_BAD_REQUEST, "SnapshotError",
           "the base %s is the memory.img this snapshot would replace: write the diff to another directory", base_path);
      goto out;
    }
    if (pages_file_sibling_id(base_path, base_id) != 0)
      memset(base_id, 0, 16); /* a base without its pages.bin: the diff cannot name it */
  }

  /* Candidates. Without a snapshot, RAM is anonymous: every page the guest touched. */
  if (scan_pages(vm.pagemap_fd, RAM_BASE, vm.mem, vm.snap ? SCAN_PRIVATE : SCAN_TOUCHED, &scan, e) != 0)
    goto out;
  mark(cls, &scan, FROM_GUEST, npages);
  if (vm.snap) {
    runs_free(&scan);
    backing_data_runs(&vm.snap->backing, &scan);
    mark(cls, &scan, FROM_VIEW, npages);
  }
  if (base_fd >= 0) {
    runs_free(&scan);
    if (file_data_runs(base_fd, vm.mem, &scan) != 0)
      runs_add(&scan, 0, npages);
    mark(cls, &scan, ZERO, npages);
  }
  cls[0] = NONE; /* below RAM */
  cls[(vm.mem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE) / PAGE] = NONE; /* the guard page, never readable */

  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fail(e, FN_VMM_STATUS_IO_ERROR, "SnapshotError", "cannot create %s: %s", dir, strerror(errno));
    goto out;
  }
  snprintf(tmp_mem, sizeof tmp_mem, "%s/.memory.img.%d.tmp", dir, (int)getpid());
  snprintf(tmp_pages, sizeof tmp_pages, "%s/.pages.bin.%d.tmp", dir, (int)getpid());
  snprintf(tmp_cpu, sizeof tmp_cpu, "%s/.cpu.bin.%d.tmp", dir, (int)getpid());
  mem_fd = open(tmp_mem, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (mem_fd < 0 || ftruncate(mem_fd, (off_t)vm.mem) != 0) {
    fail(e, FN_VMM_STATUS_IO_ERROR, "SnapshotError", "cannot create %s: %s", tmp_mem, strerror(errno));
    goto out;
  }
  struct writer w = {.fd = mem_fd, .e = e};
  if (write_memory(cls, base_fd, &w, &data_pages, &diff) != 0)
    goto out;
  if (close(mem_fd) != 0) {
    mem_fd = -1;
    fail(e, FN_VMM_STATUS_IO_ERROR, "SnapshotError", "cannot write %s: %s", tmp_mem, strerror(errno));
    goto out;
  }
  mem_fd = -1;
  random_id(id);
  if (pages_file_write(tmp_pages, &diff, base_fd >= 0, vm.mem, id, base_id, data_pages, e) != 0 ||
      cpu_file_write(tmp_cpu, &cpu, id, vm.mem, e) != 0)
    goto out;
  /* cpu.bin last: the ids of all three files agree once it is in place. */
  if (publish(tmp_mem, dir, "memory.img", e) != 0 || publish(tmp_pages, dir, "pages.bin", e) != 0 ||
      publish(tmp_cpu, dir, "cpu.bin", e) != 0)
    goto out;
  tmp_mem[0] = tmp_pages[0] = tmp_cpu[0] = 0;
  uint64_t t1 = now_ns();

  /* From now on this VM runs from the files it just wrote: a new guest process maps them, which
   * also checks them the way any restore would. */
  struct snapshot *s;
  if (snapshot_load(dir, base_path, vm.mem, &s, e) != 0)
    goto out;
  if (vm_start_from_snapshot(s, e) != 0) {
    snapshot_free(s);
    goto out;
  }
  uint64_t t2 = now_ns();
  uint64_t bytes = w.bytes + 788 + 80 + diff.n * 8 + 4;
  snprintf(json, cap,
           "{\"pages\":%llu,\"diffPages\":%llu,\"bytes\":%llu,\"ms\":%.3f,\"writeMs\":%.3f,\"rebaseMs\":%.3f}",
           (unsigned long long)data_pages, (unsigned long long)runs_pages(&diff), (unsigned long long)bytes,
           (double)(t2 - t0) / 1e6, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6);
  rc = 0;
out:
  if (mem_fd >= 0)
    close(mem_fd);
  if (base_fd >= 0)
    close(base_fd);
  for (char *t = tmp_mem; t; t = t == tmp_mem ? tmp_pages : t == tmp_pages ? tmp_cpu : NULL)
    if (t[0])
      unlink(t); /* a failed snapshot leaves nothing behind */
  runs_free(&scan);
  runs_free(&diff);
  free(cls);
  return rc;
}
