/*
 * memory_files.c — the memory side of a snapshot: memory image files (sparse, exactly mem_size
 * bytes, guest-physical offsets), their composition (a base, and a diff whose runs override it),
 * and pages.bin, which says which runs those are (format in fn_vmm_control.h).
 *
 * Mappings are always MAP_PRIVATE: every VM restored from the same files shares their page-cache
 * pages and pays only for the pages it writes. Snapshot files are immutable once written: a new
 * snapshot is written under new names and renamed over the old ones (a running VM keeps the old
 * inode), never modified in place, since MAP_PRIVATE only copies pages a VM has written.
 */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int memory_file_open(const char *path, uint64_t mem, const char *role, struct err *e)
{
  const uint32_t bad = FN_VMM_STATUS_BAD_SNAPSHOT;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(e, bad, "SnapshotMemoryFileError", "cannot open the %s memory file %s: %s", role, path,
                strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(e, bad, "SnapshotMemoryFileError", "the %s memory file %s is not a regular file", role, path);
  }
  if ((uint64_t)st.st_size < mem) {
    close(fd);
    return fail(e, bad, "SnapshotMemoryFileError",
                "the %s memory file %s is %llu bytes, shorter than guest RAM (%llu bytes): mapping it would end "
                "the VM with SIGBUS at the first page past its end. The file is truncated or belongs to a guest "
                "with less memory",
                role, path, (unsigned long long)st.st_size, (unsigned long long)mem);
  }
  return fd;
}

/* Maps the composition's bytes [from, mem) at at + from: the base over the whole range, then
 * each diff run over it (one mmap per run of consecutive pages). `at` NULL = identity (guest). */
int backing_map(const struct backing *b, uint8_t *at, uint64_t from, int fixed_flag, int prot, struct err *e)
{
  uintptr_t base = (uintptr_t)at;
  void *want = (void *)(base + from);
  if (mmap(want, b->mem - from, prot, MAP_PRIVATE | fixed_flag, b->base_fd, (off_t)from) != want)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "RestoreError", "cannot map the memory image at %p: %s", want,
                strerror(errno));
  for (size_t i = 0; i < b->runs.n; i++) {
    uint64_t start = b->runs.v[i].first * PAGE, end = start + b->runs.v[i].count * PAGE;
    if (start < from)
      start = from;
    if (end > b->mem)
      end = b->mem;
    if (end <= start)
      continue;
    void *run = (void *)(base + start);
    if (mmap(run, end - start, prot, MAP_PRIVATE | MAP_FIXED, b->diff_fd, (off_t)start) != run)
      return fail(e, FN_VMM_STATUS_IO_ERROR, "RestoreError", "cannot map a diff run at 0x%llx: %s",
                  (unsigned long long)start, strerror(errno));
  }
  return 0;
}

/* The snapshot as RESET's copy source: the same composition, read-only, in this process. */
int backing_map_view(struct backing *b, struct err *e)
{
  uint8_t *v = mmap(NULL, b->mem, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (v == MAP_FAILED)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "RestoreError", "cannot reserve the snapshot view: %s", strerror(errno));
  if (backing_map(b, v, 0, MAP_FIXED, PROT_READ, e) != 0) {
    munmap(v, b->mem);
    return -1;
  }
  b->view = v;
  return 0;
}

void backing_close(struct backing *b)
{
  if (b->view)
    munmap(b->view, b->mem);
  if (b->base_fd >= 0)
    close(b->base_fd);
  if (b->diff_fd >= 0)
    close(b->diff_fd);
  runs_free(&b->runs);
  b->view = NULL;
  b->base_fd = b->diff_fd = -1;
}

/* The page runs of a file that hold data (SEEK_DATA/SEEK_HOLE), within [0, mem). On a file
 * system without hole reporting the whole file counts as data: slower, still correct. */
int file_data_runs(int fd, uint64_t mem, struct runs *out)
{
  off_t pos = 0;
  while ((uint64_t)pos < mem) {
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0)
      return errno == ENXIO ? 0 : -1;
    if ((uint64_t)data >= mem)
      break;
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0)
      return -1;
    uint64_t end = (uint64_t)hole < mem ? (uint64_t)hole : mem;
    uint64_t first = (uint64_t)data / PAGE, last = (end + PAGE - 1) / PAGE;
    if (out->n && out->v[out->n - 1].first + out->v[out->n - 1].count > first) /* share a page */
      first = out->v[out->n - 1].first + out->v[out->n - 1].count;
    if (last > first)
      runs_add(out, first, last - first);
    pos = hole;
  }
  return 0;
}

/* Every page that may be non-zero in the composition (a superset: diff runs count whole). */
void backing_data_runs(const struct backing *b, struct runs *out)
{
  if (file_data_runs(b->base_fd, b->mem, out) != 0)
    runs_add(out, 0, b->mem / PAGE);
  for (size_t i = 0; i < b->runs.n; i++)
    runs_add(out, b->runs.v[i].first, b->runs.v[i].count);
}

/* ---- pages.bin: its bytes are snapshot_format.h's; here only files and errors ------------------ */

/* A refusal of snapshot_format.h as this program reports it: the path first, and for a RAM size
 * mismatch the option that restores it. */
static int refused(struct err *e, const char *path, const struct fn_snapshot_refusal *why)
{
  if (strcmp(why->reason, "memory_size") == 0)
    return fail(e, FN_VMM_STATUS_BAD_SNAPSHOT, why->name, "%s %s: restore with --memory-mib %llu", path, why->message,
                (unsigned long long)(why->found_mem_size >> 20));
  return fail(e, FN_VMM_STATUS_BAD_SNAPSHOT, why->name, "%s %s", path, why->message);
}

int pages_file_write(const char *path, const struct runs *runs, int layered, uint64_t mem, const uint8_t id[16],
                     const uint8_t base_id[16], uint64_t data_pages, struct err *e)
{
  struct fn_pages_info info = {.layered = layered, .mem_size = mem, .data_pages = data_pages};
  memcpy(info.id, id, 16);
  memcpy(info.base_id, base_id, 16);
  struct fn_page_run *v = calloc(runs->n ? runs->n : 1, sizeof *v);
  size_t len = fn_pages_file_size(runs->n);
  uint8_t *b = malloc(len);
  if (!v || !b)
    die("out of memory");
  for (size_t i = 0; i < runs->n; i++)
    v[i] = (struct fn_page_run){runs->v[i].first, runs->v[i].count};
  fn_pages_encode(&info, v, runs->n, b);
  free(v);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ssize_t w = fd < 0 ? -1 : write(fd, b, len);
  int error = errno;
  if (fd >= 0)
    close(fd);
  free(b);
  if (w != (ssize_t)len)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "SnapshotError", "cannot write %s: %s", path, strerror(error));
  return 0;
}

/* Reads at most max bytes; *len > max means the file is larger (not a file of this kind). */
uint8_t *read_small_file(const char *path, size_t max, size_t *len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  uint8_t *b = malloc(max + 1);
  size_t n = 0;
  ssize_t r;
  while (b && n <= max && (r = read(fd, b + n, max + 1 - n)) > 0)
    n += (size_t)r;
  close(fd);
  *len = n;
  return b;
}

int pages_file_read(const char *path, struct runs *runs, int *layered, uint64_t mem, uint8_t id[16],
                    uint8_t base_id[16], uint64_t *data_pages, struct err *e)
{
  size_t n, max = fn_pages_file_size(mem / PAGE);
  uint8_t *b = read_small_file(path, max, &n);
  if (!b)
    return fail(e, FN_VMM_STATUS_BAD_SNAPSHOT, "SnapshotError", "cannot read %s: %s", path, strerror(errno));
  struct fn_pages_info info;
  struct fn_snapshot_refusal why;
  int rc = -1;
  if (n > max)
    fail(e, FN_VMM_STATUS_BAD_SNAPSHOT, "SnapshotCorruptError",
         "%s is larger than a pages.bin for %llu MiB of RAM can be: not a file of this kind", path,
         (unsigned long long)(mem >> 20));
  else if (fn_pages_decode(b, n, mem, &info, &why) != 0)
    refused(e, path, &why);
  else {
    *layered = info.layered;
    memcpy(id, info.id, 16);
    memcpy(base_id, info.base_id, 16);
    *data_pages = info.data_pages;
    for (uint32_t i = 0; i < info.run_count; i++) {
      struct fn_page_run r = fn_pages_run(b, i);
      runs_add(runs, r.first, r.count);
    }
    rc = 0;
  }
  free(b);
  return rc;
}

int cpu_file_refused(struct err *e, const char *path, const struct fn_snapshot_refusal *why)
{
  return refused(e, path, why);
}

int pages_file_peek_id(const char *path, uint8_t id[16])
{
  size_t n;
  uint8_t *b = read_small_file(path, 1 << 24, &n);
  int rc = b && n <= (1 << 24) ? fn_pages_peek_id(b, n, id) : -1;
  free(b);
  return rc;
}

/* The id in the pages.bin beside a memory.img (the snapshot it belongs to), if there is one. */
int pages_file_sibling_id(const char *memory_path, uint8_t id[16])
{
  char path[4200];
  const char *slash = strrchr(memory_path, '/');
  if (slash)
    snprintf(path, sizeof path, "%.*s/pages.bin", (int)(slash - memory_path), memory_path);
  else
    snprintf(path, sizeof path, "pages.bin");
  return pages_file_peek_id(path, id);
}
