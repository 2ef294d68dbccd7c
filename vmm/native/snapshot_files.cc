#include "snapshot_files.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "errors.h"
#include "snapshot_format.h"

namespace fnvmm {

uint32_t get32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint64_t get64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

uint32_t crc32(uint32_t crc, const void* data, size_t len) { return fn_crc32(crc, data, len); }

SnapshotError refusal_error(const fn_snapshot_refusal& why, const std::string& path) {
  std::string message = path + " " + why.message;
  if (std::strcmp(why.reason, "memory_size") == 0)
    message += format(": restore it with memoryBytes %llu", static_cast<unsigned long long>(why.found_mem_size));
  return SnapshotError(why.name, why.reason, path, message);
}

SnapshotId SnapshotId::random() {
  SnapshotId id;
  size_t got = 0;
  while (got < id.bytes.size()) {
    ssize_t n = ::getrandom(id.bytes.data() + got, id.bytes.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("getrandom failed: " + errno_text(errno));
    got += static_cast<size_t>(n);
  }
  return id;
}

bool SnapshotId::is_zero() const {
  for (uint8_t b : bytes)
    if (b) return false;
  return true;
}

std::string SnapshotId::hex() const {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::vector<uint8_t> encode_pages_file(const PagesFile& f) {
  fn_pages_info info{};
  info.layered = f.layered ? 1 : 0;
  info.mem_size = f.mem_size;
  std::memcpy(info.id, f.id.bytes.data(), 16);
  std::memcpy(info.base_id, f.base_id.bytes.data(), 16);
  info.data_pages = f.data_pages;
  std::vector<fn_page_run> runs;
  runs.reserve(f.runs.size());
  for (const PageRun& r : f.runs) runs.push_back({r.first, r.count});
  std::vector<uint8_t> b(fn_pages_file_size(runs.size()));
  fn_pages_encode(&info, runs.data(), runs.size(), b.data());
  return b;
}

PagesFile decode_pages_file(const uint8_t* d, size_t n, uint64_t mem, const std::string& path) {
  fn_pages_info info{};
  fn_snapshot_refusal why{};
  if (fn_pages_decode(d, n, mem, &info, &why) != 0) throw refusal_error(why, path);
  PagesFile f;
  f.layered = info.layered != 0;
  f.mem_size = info.mem_size;
  std::memcpy(f.id.bytes.data(), info.id, 16);
  std::memcpy(f.base_id.bytes.data(), info.base_id, 16);
  f.data_pages = info.data_pages;
  f.runs.reserve(info.run_count);
  for (uint32_t i = 0; i < info.run_count; ++i) {
    const fn_page_run r = fn_pages_run(d, i);
    f.runs.push_back({r.first, r.count});
  }
  return f;
}

std::vector<uint8_t> read_small_file(const std::string& path, size_t max_bytes, const char* what) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT)
      throw SnapshotError("SnapshotError", "missing", path,
                          std::string(what) + " " + path + " does not exist: is this a snapshot directory?", err);
    throw snapshot_io_error("open", path, err);
  }
  // Sized from fstat (one byte more, to see a file that grew), never from max_bytes: a cpu.bin is
  // a few KiB and the limit 1 MiB, and zeroing a buffer that size costs more than the read.
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw snapshot_io_error("fstat", path, errno);
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw SnapshotError("SnapshotCorruptError", "size", path,
                        format("%s %s is larger than %zu bytes: not a file of this kind", what, path.c_str(), max_bytes));
  std::vector<uint8_t> buf(static_cast<size_t>(st.st_size) + 1);
  size_t n = 0;
  for (;;) {
    ssize_t r = ::read(fd.get(), buf.data() + n, buf.size() - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw snapshot_io_error("read", path, errno);
    if (r == 0) break;
    n += static_cast<size_t>(r);
    if (n == buf.size()) break;
  }
  if (n > static_cast<size_t>(st.st_size))
    throw SnapshotError("SnapshotCorruptError", "size", path,
                        format("%s %s grew while it was read: snapshot files must not change once written", what,
                               path.c_str()));
  buf.resize(n);
  return buf;
}

std::string join_path(const std::string& dir, const char* name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string sibling_path(const std::string& file_path, const char* name) {
  const size_t slash = file_path.rfind('/');
  if (slash == std::string::npos) return name;
  return join_path(file_path.substr(0, slash == 0 ? 1 : slash), name);
}

bool sibling_snapshot_id(const std::string& memory_path, SnapshotId* id) {
  const std::string path = sibling_path(memory_path, kPagesFileName);
  try {
    std::vector<uint8_t> b = read_small_file(path, kPagesHeaderBytes + 4 + (size_t{1} << 24), "pages.bin");
    return fn_pages_peek_id(b.data(), b.size(), id->bytes.data()) == 0;
  } catch (const SnapshotError&) {
    return false;
  }
}

StagedFile::StagedFile(const std::string& dir, const char* name) : final_(join_path(dir, name)) {
  static std::atomic<unsigned> counter{0};
  tmp_ = join_path(dir, format(".%s.%d.%u.tmp", name, (int)::getpid(), counter.fetch_add(1)).c_str());
  fd_ = UniqueFd(::open(tmp_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd_.valid()) throw snapshot_io_error("create", tmp_, errno);
}

StagedFile::~StagedFile() {
  fd_.reset();
  if (!published_) ::unlink(tmp_.c_str());
}

void StagedFile::truncate(uint64_t size) {
  if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) throw snapshot_io_error("ftruncate", tmp_, errno);
}

void StagedFile::write_at(const void* data, size_t len, uint64_t offset) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    ssize_t w = ::pwrite(fd_.get(), p, len, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw snapshot_io_error("write", tmp_, w < 0 ? errno : EIO);
    p += w;
    len -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
}

void StagedFile::sync() {
  if (::fdatasync(fd_.get()) != 0) throw snapshot_io_error("fdatasync", tmp_, errno);
}

void StagedFile::publish() {
  if (::rename(tmp_.c_str(), final_.c_str()) != 0) throw snapshot_io_error("rename", tmp_ + " to " + final_, errno);
  published_ = true;
}

void ensure_directory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return;
  int err = errno;
  struct stat st;
  if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return;
  throw snapshot_io_error("mkdir", dir, err == EEXIST ? ENOTDIR : err);
}

void sync_directory(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) throw snapshot_io_error("open", dir, errno);
  if (::fsync(fd.get()) != 0) throw snapshot_io_error("fsync", dir, errno);
}

}  // namespace fnvmm
