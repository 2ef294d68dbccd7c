/*
 * reset.c — RESET: the same VM back to its snapshot, between two invocations, without the
 * guest's help (it may have scribbled anywhere in its RAM and left any register values).
 *
 *   1. guest RAM: the pages with a private copy are exactly those written since the snapshot
 *      (dirty_pages.c), including pages touched for the first time (those go back to zeros or to
 *      the image); they are overwritten from this process's view of the snapshot files with one
 *      process_vm_writev. They stay private and writable, so the next invocation takes no page
 *      faults on them — which is what makes this cheaper here than dropping them (MADV_DONTNEED)
 *      and refaulting. Consequence: each RESET copies every page written since the snapshot was
 *      restored (the union over invocations), not just the last invocation's; for a function
 *      that writes the same pages every time, the two are the same.
 *   2. the window: every page the guest process has touched and every byte the host wrote since
 *      the last reset is zeroed, so nothing of one invocation's input or output (or whatever the
 *      guest left there) is visible to the next, as in a freshly restored VM.
 *   3. the vCPU: registers and x87/SSE from the snapshot; extended state to its initial value.
 */
#include "vmm.h"

#include <stdio.h>
#include <string.h>

static uint64_t zero_window_page(uint64_t page)
{
  uint8_t *p = (uint8_t *)(uintptr_t)FN_WINDOW_ADDR + page * PAGE;
  if (is_zero_page(p))
    return 0;
  memset(p, 0, PAGE);
  return 1;
}

static int scrub_window(uint64_t *zeroed, struct err *e)
{
  struct runs touched = {0};
  if (scan_pages(vm.pagemap_fd, FN_WINDOW_ADDR, FN_WINDOW_ADDR + FN_WINDOW_SIZE, SCAN_TOUCHED, &touched, e) != 0)
    return -1;
  uint64_t host_pages = (vm.window_hwm + PAGE - 1) / PAGE;
  for (uint64_t p = 0; p < host_pages && p < FN_WINDOW_SIZE / PAGE; p++)
    *zeroed += zero_window_page(p);
  for (size_t i = 0; i < touched.n; i++)
    for (uint64_t p = touched.v[i].first; p < touched.v[i].first + touched.v[i].count; p++)
      if (p - FN_WINDOW_ADDR / PAGE >= host_pages)
        *zeroed += zero_window_page(p - FN_WINDOW_ADDR / PAGE);
  runs_free(&touched);
  vm.window_hwm = 0;
  return 0;
}

int vm_reset(char *json, size_t cap, struct err *e)
{
  if (!vm.snap)
    return fail(e, FN_VMM_STATUS_BAD_STATE, "ResetError",
                "there is no snapshot to reset to: RESET needs a SNAPSHOT (or a --restore) first");
  uint64_t t0 = now_ns();
  struct runs dirty = {0};
  if (scan_pages(vm.pagemap_fd, RAM_BASE, vm.mem, SCAN_PRIVATE, &dirty, e) != 0)
    return -1; /* nothing changed yet: the VM is intact */
  uint64_t t1 = now_ns();
  /* From here a failure leaves the VM half reset: it is lost. */
  if (guest_write_runs(vm.pid, &dirty, vm.snap->backing.view, e) != 0)
    report_panic("RESET failed, the VM is lost: %s", e->msg);
  uint64_t windowPages = 0;
  if (scrub_window(&windowPages, e) != 0)
    report_panic("RESET failed, the VM is lost: %s", e->msg);
  uint64_t t2 = now_ns();
  if (cpu_apply(vm.pid, &vm.snap->cpu, e) != 0)
    report_panic("RESET failed, the VM is lost: %s", e->msg);
  vm.cpu = vm.snap->cpu;
  vm.regs_dirty = 0;
  vm.last_event = FN_EVENT_DONE; /* between commands again, whatever was in flight */
  uint64_t t3 = now_ns();
  snprintf(json, cap,
           "{\"dirtyPages\":%llu,\"runs\":%zu,\"windowPages\":%llu,\"us\":%.1f,\"scanUs\":%.1f,\"copyUs\":%.1f,"
           "\"cpuUs\":%.1f}",
           (unsigned long long)runs_pages(&dirty), dirty.n, (unsigned long long)windowPages, (double)(t3 - t0) / 1e3,
           (double)(t1 - t0) / 1e3, (double)(t2 - t1) / 1e3, (double)(t3 - t2) / 1e3);
  runs_free(&dirty);
  return 0;
}
