// memory_image.h — a snapshot's guest RAM as files: which pages of a file hold data, how a base
// and a diff compose into RAM, and the mappings that bring them back.
//
// Composition: the base memory file covers all of RAM; a layered snapshot adds a diff file whose
// page runs (pages.bin) replace the base's pages. Both files are sparse and exactly cover RAM at
// guest-physical offsets. A VM's RAM is the composition mapped MAP_PRIVATE (base over the whole
// range, then each run MAP_FIXED from the diff at the same offset): every VM restored from the
// same files shares their page-cache pages and pays only for the pages it writes.
//
// Guest memory files shorter than RAM are refused before anything is mapped: a MAP_PRIVATE page
// past the end of its file raises SIGBUS on first touch, which would take down the whole VMM
// process with every VM in it.
//
// A leaf: no KVM. Refusals are SnapshotError (errors.h).
#ifndef FN_VMM_MEMORY_IMAGE_H
#define FN_VMM_MEMORY_IMAGE_H

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "guest_memory.h"
#include "page_bitmap.h"
#include "unique_fd.h"

namespace fnvmm {

// Opens a memory file read-only and checks it is a regular file of at least mem_size bytes.
// role names it in messages ("base", "diff", "snapshot"). Throws SnapshotError with name
// 'SnapshotMemoryFileError' and reason 'missing' (ENOENT) or 'size' (shorter than RAM, or not a
// regular file), or reason 'io'.
UniqueFd open_memory_file(const std::string& path, uint64_t mem_size, const char* role);

// The pages of [0, mem_size) of a file that may hold data, from SEEK_DATA / SEEK_HOLE. A hole
// reads as zeros, so a page outside the result is known to be zero. On a file system that does
// not report holes, every page counts as data (slower later, still correct).
PageBitmap file_data_pages(int fd, uint64_t mem_size);

// One mmap of the composition: `length` bytes at `offset` of RAM from the same offset of a layer.
struct LayerMapping {
  enum class Layer { Base, Diff };
  Layer layer;
  uint64_t offset;
  uint64_t length;
  friend bool operator==(const LayerMapping& a, const LayerMapping& b) {
    return a.layer == b.layer && a.offset == b.offset && a.length == b.length;
  }
};

// The mmaps that compose RAM: the base over [0, mem_size), then one per diff run (adjacent runs
// merged). Pure. Throws SnapshotError: a file shorter than mem_size ('SnapshotMemoryFileError',
// 'size'; diff_file_size < 0 means there is no diff file), runs empty / out of order / overlapping
// / past the end of RAM or given without a diff file ('SnapshotCorruptError'), mem_size not a
// positive multiple of the page size.
std::vector<LayerMapping> plan_layer_mappings(uint64_t mem_size, int64_t base_file_size, int64_t diff_file_size,
                                              const std::vector<PageRun>& runs);

// Carries out a plan. at == nullptr: the kernel picks the address (a new mapping is returned);
// otherwise it replaces whatever is mapped at [at, at + mem_size) (MAP_FIXED). flags: MAP_PRIVATE
// plus e.g. MAP_NORESERVE. On failure with at == nullptr nothing stays mapped; with `at` the range
// may be half replaced (the caller must treat that memory as lost). Throws SnapshotError ('io').
uint8_t* map_layers(uint8_t* at, uint64_t mem_size, const std::vector<LayerMapping>& plan, int base_fd, int diff_fd,
                    int prot, int flags);

// The pages of a mapping that are present or swapped out (touched at least once), from
// /proc/self/pagemap. `host` is page aligned. Throws SnapshotError ('io') if pagemap is unreadable.
PageBitmap touched_pages(const uint8_t* host, uint64_t size);

// A snapshot's memory, opened and checked: the files stay open (every restore maps them), plus a
// read-only view of the composition in this process (the copy source for reset and the compare
// source for diffs) and which pages may hold data. Immutable; shared between every VM of this
// process that runs from the same files (open() caches by file identity).
class MemoryImage {
 public:
  // Opens base (and diff + runs when diff_path is not empty), checks sizes and runs, maps the view.
  // Throws SnapshotError. Cached: the same files (device, inode, size, mtime) give the same image.
  static std::shared_ptr<const MemoryImage> open(uint64_t mem_size, const std::string& base_path,
                                                 const std::string& diff_path, const std::vector<PageRun>& runs);
  ~MemoryImage() = default;
  MemoryImage(const MemoryImage&) = delete;
  MemoryImage& operator=(const MemoryImage&) = delete;

  uint64_t mem_size() const { return mem_size_; }
  uint64_t pages() const { return mem_size_ / kPageSize; }
  bool layered() const { return diff_fd_.valid(); }
  const std::string& base_path() const { return base_path_; }
  const std::vector<PageRun>& runs() const { return runs_; }
  // Pages that may be non-zero (outside: known zero, a hole in the layer that provides the page).
  const PageBitmap& data() const { return data_; }
  // The composition, read-only (PROT_READ, MAP_PRIVATE of the files).
  const uint8_t* view() const { return view_.host(); }

  // A new MAP_PRIVATE | MAP_NORESERVE mapping of the composition for a VM's RAM.
  MmapRegion map_private() const;
  // The same, replacing the mapping at `at` (a VM's RAM after it took a snapshot).
  void map_private_at(uint8_t* at) const;

 private:
  MemoryImage() = default;
  uint64_t mem_size_ = 0;
  std::string base_path_;
  UniqueFd base_fd_, diff_fd_;
  std::vector<PageRun> runs_;
  std::vector<LayerMapping> plan_;
  PageBitmap data_;
  MmapRegion view_;
};

}  // namespace fnvmm

#endif
