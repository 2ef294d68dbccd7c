// memory_snapshot.h — the page work of SNAPSHOT and RESET over plain host memory: which pages a
// snapshot writes, writing them as a sparse file, putting dirty pages back, scrubbing the window.
// No KVM: the callers (microvm.cc) get the dirty pages from KVM and the RAM pointer from
// GuestMemory; the unit tests drive these with ordinary mappings.
#ifndef FN_VMM_MEMORY_SNAPSHOT_H
#define FN_VMM_MEMORY_SNAPSHOT_H

#include <cstdint>
#include <vector>

#include "memory_image.h"
#include "page_bitmap.h"
#include "snapshot_files.h"

namespace fnvmm {

// What a snapshot writes, from guest RAM `ram` (mem_size bytes) and `candidates`, a superset of
// the pages that may be non-zero or (with a base) may differ from the base:
//   without a base: every candidate page that is not all zeros;
//   with `base` (the base's read-only view): every candidate page whose bytes differ from it. A
//   page that went from data to zeros is listed in `diff` but not written (a hole reads as zero).
struct SnapshotPages {
  PageBitmap write;           // the pages to write into memory.img
  std::vector<PageRun> diff;  // with a base: the pages that override it (pages.bin runs)
  uint64_t data_pages = 0;    // candidate pages that are not all zeros ("pages" in the result)
};
SnapshotPages select_snapshot_pages(const uint8_t* ram, uint64_t mem_size, const PageBitmap& candidates,
                                    const uint8_t* base);

// Writes the selected pages of `ram` at their guest-physical offsets into `file`, sized to
// mem_size first so everything else is a hole. Consecutive pages go out in one pwrite. Returns the
// bytes written. Throws SnapshotError ('io').
uint64_t write_memory_image(StagedFile& file, const uint8_t* ram, uint64_t mem_size, const PageBitmap& write);

// Puts every page in `dirty` back to the snapshot `image`. RAM must be the image's layers mapped
// MAP_PRIVATE (MemoryImage::map_private), which a restore and a snapshot's rebase guarantee:
//   - a page the image holds data for is compared with the image and copied back if it differs;
//   - a page that is a hole in the image (touched for the first time since the snapshot) is
//     zeroed in place if it is not zero already;
//   - but when at least `drop_threshold` such first-touched pages come up in one reset, they are
//     dropped with MADV_DONTNEED instead (the mapping then shows the image's hole again), so a VM
//     that once touched a lot of fresh memory gives it back.
// Pages stay private and mapped otherwise, so the next invocation reads them without a fault. Why
// not always drop: measured on our nested-virtualization hosts, MADV_DONTNEED of populated pages
// costs 40-270 µs per call (below 33 pages the kernel flushes the TLB page by page, and every
// flush traps), zeroing a page 0.1-0.2 µs; and a dropped page faults again on its next touch.
constexpr uint64_t kDropThresholdPages = 256;  // 1 MiB
struct ResetPagesResult {
  uint64_t dirty = 0;    // pages looked at
  uint64_t copied = 0;   // image pages put back because they differed
  uint64_t zeroed = 0;   // first-touched pages zeroed in place
  uint64_t dropped = 0;  // first-touched pages given back with MADV_DONTNEED
};
ResetPagesResult reset_pages(uint8_t* ram, const MemoryImage& image, const PageBitmap& dirty,
                             uint64_t drop_threshold = kDropThresholdPages);

// Leaves the window as a fresh VM has it (all zeros): the pages of [0, extent) that the host
// wrote or the guest reported using are zeroed where they are not zero already; every other page
// the guest touched, whatever it reported (found in /proc/self/pagemap), is dropped. Returns the
// pages cleaned. The caller writes the header again afterwards.
uint64_t scrub_window(uint8_t* window, uint64_t size, uint64_t extent);

}  // namespace fnvmm

#endif
