#include "memory_image.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <tuple>

#include "errors.h"

namespace fnvmm {

namespace {
using ull = unsigned long long;

// pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst)
constexpr uint64_t kPmPresent = 1ull << 63;
constexpr uint64_t kPmSwapped = 1ull << 62;

// /proc/self/pagemap, opened once: reset reads it for the window on every call.
int pagemap_fd() {
  static const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  return fd;
}

SnapshotError short_file(const std::string& role, const std::string& path, uint64_t size, uint64_t mem) {
  return SnapshotError("SnapshotMemoryFileError", "size", path,
                       format("the %s memory file %s is %llu bytes, shorter than guest RAM (%llu bytes): mapping it "
                              "would kill the VMM with SIGBUS at the first page past its end. The file is truncated "
                              "or belongs to a guest with less memory",
                              role.c_str(), path.c_str(), (ull)size, (ull)mem));
}

// Identity of the files an image was opened from (the cache key). Snapshot files are immutable,
// so equal identity means equal content; size and mtime catch a file rewritten in place anyway.
struct FileKey {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator<(const FileKey& o) const {
    return std::tie(dev, ino, size, mtime_ns) < std::tie(o.dev, o.ino, o.size, o.mtime_ns);
  }
};
FileKey key_of(const struct stat& st) {
  FileKey k;
  k.dev = st.st_dev;
  k.ino = st.st_ino;
  k.size = st.st_size;
  k.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return k;
}
using CacheKey = std::tuple<uint64_t, FileKey, FileKey>;

std::mutex g_cache_mu;
std::map<CacheKey, std::weak_ptr<const MemoryImage>>& cache() {
  static auto* c = new std::map<CacheKey, std::weak_ptr<const MemoryImage>>();  // leaked: VMs may outlive statics
  return *c;
}
}  // namespace

UniqueFd open_memory_file(const std::string& path, uint64_t mem, const char* role) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT)
      throw SnapshotError("SnapshotMemoryFileError", "missing", path,
                          format("the %s memory file %s does not exist", role, path.c_str()), err);
    throw snapshot_io_error("open", path, err);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw snapshot_io_error("fstat", path, errno);
  if (!S_ISREG(st.st_mode))
    throw SnapshotError("SnapshotMemoryFileError", "size", path,
                        format("the %s memory file %s is not a regular file", role, path.c_str()));
  if (static_cast<uint64_t>(st.st_size) < mem) throw short_file(role, path, static_cast<uint64_t>(st.st_size), mem);
  return fd;
}

PageBitmap file_data_pages(int fd, uint64_t mem) {
  PageBitmap out(mem / kPageSize);
  off_t pos = 0;
  while (static_cast<uint64_t>(pos) < mem) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // no data from pos to the end of the file
      out.set_all();              // holes not reported here: treat everything as data
      return out;
    }
    if (static_cast<uint64_t>(data) >= mem) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) {
      out.set_all();
      return out;
    }
    const uint64_t end = static_cast<uint64_t>(hole) < mem ? static_cast<uint64_t>(hole) : mem;
    const uint64_t first = static_cast<uint64_t>(data) / kPageSize, last = (end + kPageSize - 1) / kPageSize;
    out.set_range(first, last - first);
    if (hole <= data) break;  // cannot happen; never loop forever on a confused file system
    pos = hole;
  }
  return out;
}

std::vector<LayerMapping> plan_layer_mappings(uint64_t mem, int64_t base_size, int64_t diff_size,
                                              const std::vector<PageRun>& runs) {
  if (mem == 0 || mem % kPageSize != 0)
    throw SnapshotError("SnapshotError", "memory_size", "", format("guest RAM size %llu is not a positive multiple of 4096", (ull)mem));
  if (base_size < 0 || static_cast<uint64_t>(base_size) < mem)
    throw short_file("base", "", base_size < 0 ? 0 : static_cast<uint64_t>(base_size), mem);
  if (!runs.empty() && diff_size < 0)
    throw SnapshotError("SnapshotCorruptError", "layout", "", "page runs given without a diff file");
  if (diff_size >= 0 && static_cast<uint64_t>(diff_size) < mem) throw short_file("diff", "", static_cast<uint64_t>(diff_size), mem);

  std::vector<LayerMapping> plan;
  plan.push_back({LayerMapping::Layer::Base, 0, mem});
  const uint64_t pages = mem / kPageSize;
  uint64_t next = 0;
  for (const PageRun& r : runs) {
    if (r.count == 0 || r.first < next || r.first > pages || r.count > pages - r.first)
      throw SnapshotError("SnapshotCorruptError", "corrupt", "",
                          format("page run %llu+%llu is empty, out of order, overlapping or past the end of RAM "
                                 "(%llu pages)",
                                 (ull)r.first, (ull)r.count, (ull)pages));
    next = r.first + r.count;
    LayerMapping& last = plan.back();
    if (plan.size() > 1 && last.offset + last.length == r.first * kPageSize)
      last.length += r.count * kPageSize;  // adjacent runs: one mmap
    else
      plan.push_back({LayerMapping::Layer::Diff, r.first * kPageSize, r.count * kPageSize});
  }
  return plan;
}

uint8_t* map_layers(uint8_t* at, uint64_t mem, const std::vector<LayerMapping>& plan, int base_fd, int diff_fd,
                    int prot, int flags) {
  uint8_t* base = nullptr;
  for (const LayerMapping& m : plan) {
    const bool first = m.layer == LayerMapping::Layer::Base;
    const int fd = first ? base_fd : diff_fd;
    void* want = first ? static_cast<void*>(at) : static_cast<void*>(base + m.offset);
    const int f = flags | ((first && at == nullptr) ? 0 : MAP_FIXED);
    void* p = ::mmap(want, m.length, prot, f, fd, static_cast<off_t>(m.offset));
    if (p == MAP_FAILED || (want != nullptr && p != want)) {
      int err = p == MAP_FAILED ? errno : EFAULT;
      if (p != MAP_FAILED && want != nullptr) ::munmap(p, m.length);
      if (base != nullptr && at == nullptr) ::munmap(base, mem);
      throw snapshot_io_error("mmap", first ? std::string("of the base memory file")
                                            : format("of the diff run at offset 0x%llx", (ull)m.offset),
                              err);
    }
    if (first) base = static_cast<uint8_t*>(p);
  }
  return base;
}

PageBitmap touched_pages(const uint8_t* host, uint64_t size) {
  PageBitmap out(size / kPageSize);
  const int fd = pagemap_fd();
  if (fd < 0) throw snapshot_io_error("open", "/proc/self/pagemap", errno);
  constexpr size_t kChunk = 4096;  // entries per read: 32 KiB, 16 MiB of address space
  uint64_t entries[kChunk];
  const uint64_t first_vpn = reinterpret_cast<uint64_t>(host) / kPageSize;
  for (uint64_t done = 0; done < out.pages();) {
    const uint64_t n = out.pages() - done < kChunk ? out.pages() - done : kChunk;
    const off_t off = static_cast<off_t>((first_vpn + done) * sizeof(uint64_t));
    ssize_t r = ::pread(fd, entries, n * sizeof(uint64_t), off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || r % sizeof(uint64_t) != 0) throw snapshot_io_error("read", "/proc/self/pagemap", r < 0 ? errno : EIO);
    const uint64_t got = static_cast<uint64_t>(r) / sizeof(uint64_t);
    for (uint64_t i = 0; i < got; ++i)
      if (entries[i] & (kPmPresent | kPmSwapped)) out.set(done + i);
    done += got;
  }
  return out;
}

std::shared_ptr<const MemoryImage> MemoryImage::open(uint64_t mem, const std::string& base_path,
                                                     const std::string& diff_path, const std::vector<PageRun>& runs) {
  const bool layered = !diff_path.empty();
  // Open first and key the cache on what was opened (fstat), never on a path that may have been
  // renamed over in between.
  UniqueFd base_fd = open_memory_file(base_path, mem, layered ? "base" : "snapshot");
  UniqueFd diff_fd;
  if (layered) diff_fd = open_memory_file(diff_path, mem, "diff");
  struct stat base_st, diff_st{};
  if (::fstat(base_fd.get(), &base_st) != 0) throw snapshot_io_error("fstat", base_path, errno);
  if (layered && ::fstat(diff_fd.get(), &diff_st) != 0) throw snapshot_io_error("fstat", diff_path, errno);
  const CacheKey key{mem, key_of(base_st), layered ? key_of(diff_st) : FileKey{}};
  {
    std::lock_guard<std::mutex> lk(g_cache_mu);
    auto it = cache().find(key);
    if (it != cache().end()) {
      std::shared_ptr<const MemoryImage> hit = it->second.lock();
      if (hit && hit->runs_ == runs && hit->layered() == layered) return hit;
    }
  }

  std::shared_ptr<MemoryImage> m(new MemoryImage());
  m->mem_size_ = mem;
  m->base_path_ = base_path;
  m->base_fd_ = std::move(base_fd);
  m->diff_fd_ = std::move(diff_fd);
  try {
    m->plan_ = plan_layer_mappings(mem, base_st.st_size, layered ? diff_st.st_size : -1, runs);
  } catch (const SnapshotError& e) {
    const std::string& path = layered ? diff_path : base_path;
    throw SnapshotError(e.name(), e.reason(), path, path + ": " + e.what());
  }
  m->runs_ = runs;

  // Which pages may hold data: the base's, except where a run replaces them with the diff's.
  m->data_ = file_data_pages(m->base_fd_.get(), mem);
  if (layered) {
    PageBitmap in_runs(mem / kPageSize);
    in_runs.set_runs(runs);
    PageBitmap diff_data = file_data_pages(m->diff_fd_.get(), mem);
    m->data_.subtract(in_runs);
    m->data_ |= diff_data.intersect(in_runs);
  }

  uint8_t* view = map_layers(nullptr, mem, m->plan_, m->base_fd_.get(), m->diff_fd_.get(), PROT_READ,
                             MAP_PRIVATE | MAP_NORESERVE);
  m->view_ = MmapRegion::adopt(view, mem);
  ::madvise(view, mem, MADV_DONTDUMP);

  {
    std::lock_guard<std::mutex> lk(g_cache_mu);
    auto& c = cache();
    for (auto it = c.begin(); it != c.end();) it = it->second.expired() ? c.erase(it) : std::next(it);
    c[key] = m;
  }
  return m;
}

MmapRegion MemoryImage::map_private() const {
  uint8_t* p = map_layers(nullptr, mem_size_, plan_, base_fd_.get(), diff_fd_.get(), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_NORESERVE);
  // Guest memory is never useful in a core dump of the VMM, and can be huge.
  ::madvise(p, mem_size_, MADV_DONTDUMP);
  return MmapRegion::adopt(p, mem_size_);
}

void MemoryImage::map_private_at(uint8_t* at) const {
  map_layers(at, mem_size_, plan_, base_fd_.get(), diff_fd_.get(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
  ::madvise(at, mem_size_, MADV_DONTDUMP);
}

}  // namespace fnvmm
