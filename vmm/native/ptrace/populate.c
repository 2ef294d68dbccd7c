/*
 * populate.c — which pages of a restored VM to fault in before it runs, and how.
 *
 * A page fault costs 10-50 us on this host (nested virtualisation; a copy-on-write fault of a
 * file page ~50 us), while MADV_POPULATE_READ costs ~0.3 us a page and MADV_POPULATE_WRITE ~2 us
 * (measured). Left alone, the first invocation after a restore spends ~3 ms in faults. So the
 * snapshot's data pages are prefaulted: the guest image's read-only segments (code, constants)
 * read-only, so they stay shared page cache; every other data page (the image's writable segment,
 * the heap in use, the stack) writable, which gives the VM its private copies up front, as the
 * invocation would have anyway for most of them.
 *
 * The read-only segments come from the guest's own ELF headers at FN_GUEST_LOAD_ADDR in the
 * snapshot. They are guest memory, so only a hint: whatever they say, only pages that hold data
 * in the snapshot are touched, and a wrong hint costs time or sharing, never correctness.
 */
#include "vmm.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

/* Marks the pages of the image's non-writable PT_LOAD segments as read-only in `cls`. */
static void mark_read_only_segments(const uint8_t *view, uint64_t mem, uint8_t *cls)
{
  const uint8_t *image = view + FN_GUEST_LOAD_ADDR;
  Elf64_Ehdr eh;
  memcpy(&eh, image, sizeof eh);
  if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_phentsize != sizeof(Elf64_Phdr) ||
      eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > PAGE)
    return;
  for (int i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    memcpy(&ph, image + eh.e_phoff + (uint64_t)i * sizeof ph, sizeof ph);
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W) || ph.p_vaddr >= mem || ph.p_memsz > mem)
      continue;
    uint64_t end = ph.p_vaddr + ph.p_memsz < mem ? ph.p_vaddr + ph.p_memsz : mem;
    for (uint64_t p = ph.p_vaddr / PAGE; p < (end + PAGE - 1) / PAGE; p++)
      if (cls[p])
        cls[p] = 1;
  }
}

void populate_plan(const struct backing *b, struct runs *read, struct runs *write)
{
  uint64_t npages = b->mem / PAGE;
  uint8_t *cls = calloc(npages, 1); /* 0 hole, 1 read, 2 write */
  if (!cls)
    die("out of memory");
  struct runs data = {0};
  backing_data_runs(b, &data);
  for (size_t i = 0; i < data.n; i++)
    for (uint64_t p = data.v[i].first; p < data.v[i].first + data.v[i].count && p < npages; p++)
      cls[p] = 2;
  runs_free(&data);
  cls[0] = 0;
  mark_read_only_segments(b->view, b->mem, cls);
  for (uint64_t p = 0; p < npages; p++)
    if (cls[p])
      runs_add(cls[p] == 1 ? read : write, p, 1);
  free(cls);
}
