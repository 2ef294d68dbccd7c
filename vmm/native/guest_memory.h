// guest_memory.h — host mappings that back guest physical memory, with bounds-checked access.
//
// A leaf module: it knows nothing about KVM. The VMM registers each region with KVM as a memory slot;
// the ELF loader and the long-mode setup write through this interface; tests use it without KVM.
#ifndef FN_VMM_GUEST_MEMORY_H
#define FN_VMM_GUEST_MEMORY_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "guest_address.h"

namespace fnvmm {

// An anonymous private mapping (MAP_NORESERVE: pages cost host memory only once touched).
class MmapRegion {
 public:
  static MmapRegion anonymous(size_t size);  // throws KvmError("mmap", errno)
  // Takes ownership of a mapping made elsewhere (a snapshot's files mapped MAP_PRIVATE): it is
  // unmapped with the region.
  static MmapRegion adopt(uint8_t* host, size_t size) { return MmapRegion(host, size); }
  MmapRegion() = default;
  ~MmapRegion();
  MmapRegion(MmapRegion&& o) noexcept;
  MmapRegion& operator=(MmapRegion&& o) noexcept;
  MmapRegion(const MmapRegion&) = delete;
  MmapRegion& operator=(const MmapRegion&) = delete;

  uint8_t* host() const { return host_; }
  size_t size() const { return size_; }

 private:
  MmapRegion(uint8_t* host, size_t size) : host_(host), size_(size) {}
  void unmap();
  uint8_t* host_ = nullptr;
  size_t size_ = 0;
};

struct GuestRegion {
  GuestAddress base;
  MmapRegion mapping;
  uint64_t size() const { return mapping.size(); }
  // One past the last byte. Regions are validated not to wrap.
  GuestAddress end() const { return base.plus(mapping.size()); }
};

class GuestMemory {
 public:
  GuestMemory() = default;
  GuestMemory(GuestMemory&&) = default;
  GuestMemory& operator=(GuestMemory&&) = default;

  // Maps `size` bytes (page multiple) for guest physical [base, base+size). Throws ConfigError on an
  // unaligned, wrapping or overlapping region; KvmError if mmap fails. Returns the region's index.
  size_t add_region(GuestAddress base, uint64_t size);
  // The same with a mapping the caller made (its size is the region's size).
  size_t add_region(GuestAddress base, MmapRegion mapping);

  size_t region_count() const { return regions_.size(); }
  const GuestRegion& region(size_t i) const { return regions_.at(i); }

  // Host pointer to [addr, addr+len) if that range lies inside one region, else nullptr.
  uint8_t* host_range(GuestAddress addr, uint64_t len) const;
  bool contains(GuestAddress addr, uint64_t len) const { return host_range(addr, len) != nullptr; }

  // Bounds-checked copies; throw GuestMemoryError when the range is not inside one region.
  void write(GuestAddress addr, const void* src, uint64_t len);
  void read(GuestAddress addr, void* dst, uint64_t len) const;
  void fill(GuestAddress addr, uint8_t byte, uint64_t len);

  template <typename T>
  void write_obj(GuestAddress addr, const T& v) { write(addr, &v, sizeof v); }
  template <typename T>
  T read_obj(GuestAddress addr) const {
    T v;
    read(addr, &v, sizeof v);
    return v;
  }

  // Bytes of all regions currently resident in host memory (mincore); 0 if unknown.
  uint64_t resident_bytes() const;

 private:
  void check_new_region(GuestAddress base, uint64_t size) const;
  std::vector<GuestRegion> regions_;
};

}  // namespace fnvmm

#endif
