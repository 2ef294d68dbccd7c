// snapshot_files.h — the files of a snapshot directory, as bytes: pages.bin (the bytes are
// snapshot_format.h's, the one C implementation both VMMs use; layout in
// guest/include/fn_vmm_control.h), snapshot ids, CRC-32, and writing files so that a reader never
// sees half of one (temporary name, fdatasync, rename).
//
//   dir/memory.img  guest RAM, sparse, exactly mem_size bytes (memory_image.h writes and maps it)
//   dir/pages.bin   the memory layout: full, or layered (a diff whose runs override a base)
//   dir/cpu.bin     vCPU state, private to the platform (cpu_state.h)
//
// Snapshot files are immutable once published: VMs map them MAP_PRIVATE, which copies only the
// pages a VM writes, so a file changed in place would change every running VM under it. A new
// snapshot is always written under temporary names and renamed over the old files.
//
// A leaf: no KVM. Every refusal is a SnapshotError (errors.h) naming the file.
#ifndef FN_VMM_SNAPSHOT_FILES_H
#define FN_VMM_SNAPSHOT_FILES_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "page_bitmap.h"
#include "snapshot_format.h"
#include "unique_fd.h"

namespace fnvmm {

class SnapshotError;

constexpr const char* kMemoryFileName = "memory.img";
constexpr const char* kPagesFileName = "pages.bin";
constexpr const char* kCpuFileName = "cpu.bin";

// zlib's CRC-32 (snapshot_format.h's, the same value as node:zlib crc32), continuing from `crc`.
uint32_t crc32(uint32_t crc, const void* data, size_t len);
// Little-endian reads of snapshot file fields (x86-64 only, so a plain copy).
uint32_t get32(const uint8_t* p);
uint64_t get64(const uint8_t* p);

// 16 random bytes naming one snapshot; cpu.bin and pages.bin carry the same id, and a diff's
// pages.bin names its base's id, so files from different snapshots are never mixed.
struct SnapshotId {
  std::array<uint8_t, 16> bytes{};
  static SnapshotId random();  // getrandom(2); throws std::runtime_error if it fails
  bool is_zero() const;
  std::string hex() const;
  friend bool operator==(const SnapshotId& a, const SnapshotId& b) { return a.bytes == b.bytes; }
  friend bool operator!=(const SnapshotId& a, const SnapshotId& b) { return !(a == b); }
};

// pages.bin, fn_vmm_control.h:
//   0 magic "FNPAGES\0" | 8 u32 version 1 | 12 u32 flags (bit 0 layered) | 16 u64 mem_size |
//   24 u32 page size 4096 | 28 u32 run count R | 32 id[16] | 48 base id[16] | 64 u64 data pages |
//   72 u64 diff pages | 80 R x {u32 first page, u32 page count} | CRC-32 of all bytes before it
struct PagesFile {
  bool layered = false;
  uint64_t mem_size = 0;
  SnapshotId id;
  SnapshotId base_id;          // zero when not layered, or when the base had no pages.bin
  uint64_t data_pages = 0;     // non-zero pages written to memory.img
  std::vector<PageRun> runs;   // layered only: the pages of memory.img that replace the base's
};
constexpr size_t kPagesHeaderBytes = 80;
constexpr uint32_t kPagesKnownFlags = 1;  // FN_PAGES_FLAG_LAYERED

// A refusal of snapshot_format.h as a SnapshotError naming `path` (memory_size: how to restore).
SnapshotError refusal_error(const fn_snapshot_refusal& why, const std::string& path);

std::vector<uint8_t> encode_pages_file(const PagesFile& f);
// Checks everything: magic, length, CRC (before the version is believed, so damage is not taken
// for a newer format), version, flags, mem_size == expected_mem_size, page size, and the runs
// (non-empty, sorted, not overlapping, inside RAM, summing to the diff pages; none unless layered).
PagesFile decode_pages_file(const uint8_t* data, size_t len, uint64_t expected_mem_size, const std::string& path);

// Reads a whole file of at most max_bytes. Throws SnapshotError: reason 'missing' (ENOENT), 'io'
// (other errors), 'size' (larger than max_bytes: not a file of this kind).
std::vector<uint8_t> read_small_file(const std::string& path, size_t max_bytes, const char* what);
// The id in dir/pages.bin next to a memory image (its snapshot), or false if there is none / it is
// not a valid pages.bin. Used to check that a diff is restored over the base it was taken over.
bool sibling_snapshot_id(const std::string& memory_path, SnapshotId* id);

std::string join_path(const std::string& dir, const char* name);
// The file `name` in the directory of `file_path` ("/s/base/memory.img", "pages.bin" → "/s/base/pages.bin").
std::string sibling_path(const std::string& file_path, const char* name);

// A file written under a temporary name in `dir` and renamed into place by publish(). Until then
// nobody sees it, and the destructor removes it: a failed snapshot leaves nothing behind.
class StagedFile {
 public:
  StagedFile(const std::string& dir, const char* name);  // throws SnapshotError (io)
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  int fd() const { return fd_.get(); }
  const std::string& final_path() const { return final_; }
  void truncate(uint64_t size);                                  // ftruncate: the rest is a hole
  void write_at(const void* data, size_t len, uint64_t offset);  // all of it, or SnapshotError
  void sync();                                                   // fdatasync
  void publish();                                                // rename over final_path()

 private:
  std::string tmp_, final_;
  UniqueFd fd_;
  bool published_ = false;
};

// mkdir(dir) unless it exists (one level, like the ptrace VMM); fsync of a directory after renames.
void ensure_directory(const std::string& dir);
void sync_directory(const std::string& dir);

}  // namespace fnvmm

#endif
