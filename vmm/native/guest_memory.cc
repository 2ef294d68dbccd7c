#include "guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "errors.h"

namespace fnvmm {

namespace {
constexpr uint64_t kPage = 4096;
}

MmapRegion MmapRegion::anonymous(size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw KvmError("mmap of guest memory", errno, format("%zu bytes", size));
  // Guest memory is never useful in a core dump of the VMM, and can be huge.
  ::madvise(p, size, MADV_DONTDUMP);
  return MmapRegion(static_cast<uint8_t*>(p), size);
}

MmapRegion::~MmapRegion() { unmap(); }

MmapRegion::MmapRegion(MmapRegion&& o) noexcept : host_(o.host_), size_(o.size_) {
  o.host_ = nullptr;
  o.size_ = 0;
}

MmapRegion& MmapRegion::operator=(MmapRegion&& o) noexcept {
  if (this != &o) {
    unmap();
    host_ = o.host_;
    size_ = o.size_;
    o.host_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

void MmapRegion::unmap() {
  if (host_ != nullptr) ::munmap(host_, size_);
  host_ = nullptr;
  size_ = 0;
}

size_t GuestMemory::add_region(GuestAddress base, uint64_t size) {
  check_new_region(base, size);
  regions_.push_back(GuestRegion{base, MmapRegion::anonymous(size)});
  return regions_.size() - 1;
}

size_t GuestMemory::add_region(GuestAddress base, MmapRegion mapping) {
  check_new_region(base, mapping.size());
  regions_.push_back(GuestRegion{base, std::move(mapping)});
  return regions_.size() - 1;
}

void GuestMemory::check_new_region(GuestAddress base, uint64_t size) const {
  GuestAddress end;
  if (size == 0 || size % kPage != 0 || base.raw() % kPage != 0)
    throw ConfigError(format("guest memory region 0x%llx+0x%llx is not page aligned",
                             (unsigned long long)base.raw(), (unsigned long long)size));
  if (!base.checked_add(size, &end))
    throw ConfigError(format("guest memory region 0x%llx+0x%llx wraps", (unsigned long long)base.raw(),
                             (unsigned long long)size));
  for (const GuestRegion& r : regions_) {
    if (base < r.end() && r.base < end)
      throw ConfigError(format("guest memory region 0x%llx+0x%llx overlaps 0x%llx+0x%llx",
                               (unsigned long long)base.raw(), (unsigned long long)size,
                               (unsigned long long)r.base.raw(), (unsigned long long)r.size()));
  }
}

uint8_t* GuestMemory::host_range(GuestAddress addr, uint64_t len) const {
  for (const GuestRegion& r : regions_) {
    if (addr < r.base) continue;
    uint64_t off = addr.raw() - r.base.raw();
    if (off > r.size()) continue;
    if (len > r.size() - off) continue;
    if (off == r.size() && len == 0) continue;  // an empty range at the end belongs to no region
    return r.mapping.host() + off;
  }
  return nullptr;
}

void GuestMemory::write(GuestAddress addr, const void* src, uint64_t len) {
  uint8_t* p = host_range(addr, len);
  if (p == nullptr)
    throw GuestMemoryError(format("guest write 0x%llx+0x%llx is outside guest memory",
                                  (unsigned long long)addr.raw(), (unsigned long long)len));
  if (len != 0) std::memcpy(p, src, len);
}

void GuestMemory::read(GuestAddress addr, void* dst, uint64_t len) const {
  const uint8_t* p = host_range(addr, len);
  if (p == nullptr)
    throw GuestMemoryError(format("guest read 0x%llx+0x%llx is outside guest memory",
                                  (unsigned long long)addr.raw(), (unsigned long long)len));
  if (len != 0) std::memcpy(dst, p, len);
}

void GuestMemory::fill(GuestAddress addr, uint8_t byte, uint64_t len) {
  uint8_t* p = host_range(addr, len);
  if (p == nullptr)
    throw GuestMemoryError(format("guest fill 0x%llx+0x%llx is outside guest memory",
                                  (unsigned long long)addr.raw(), (unsigned long long)len));
  if (len != 0) std::memset(p, byte, len);
}

uint64_t GuestMemory::resident_bytes() const {
  uint64_t total = 0;
  std::vector<unsigned char> vec;
  for (const GuestRegion& r : regions_) {
    size_t pages = r.size() / kPage;
    vec.resize(pages);
    if (::mincore(r.mapping.host(), r.size(), vec.data()) != 0) return 0;
    for (unsigned char c : vec) total += (c & 1) ? kPage : 0;
  }
  return total;
}

}  // namespace fnvmm
