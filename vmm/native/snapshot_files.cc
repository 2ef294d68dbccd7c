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

namespace fnvmm {

namespace {
using ull = unsigned long long;

constexpr char kPagesMagic[8] = {'F', 'N', 'P', 'A', 'G', 'E', 'S', '\0'};
constexpr uint32_t kPagesVersion = 1;
static_assert(sizeof kPagesMagic == 8, "pages.bin magic is 8 bytes");

struct CrcTable {
  uint32_t v[256];
  CrcTable() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      v[i] = c;
    }
  }
};

void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

const char* const kAgain = "take the snapshot again";
}  // namespace

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

uint32_t crc32(uint32_t crc, const void* data, size_t len) {
  static const CrcTable table;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  while (len--) crc = table.v[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
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
  const size_t len = kPagesHeaderBytes + f.runs.size() * 8 + 4;
  std::vector<uint8_t> b(len, 0);
  std::memcpy(b.data(), kPagesMagic, 8);
  put32(&b[8], kPagesVersion);
  put32(&b[12], f.layered ? 1u : 0u);
  put64(&b[16], f.mem_size);
  put32(&b[24], static_cast<uint32_t>(kPageSize));
  put32(&b[28], static_cast<uint32_t>(f.runs.size()));
  std::memcpy(&b[32], f.id.bytes.data(), 16);
  std::memcpy(&b[48], f.base_id.bytes.data(), 16);
  put64(&b[64], f.data_pages);
  put64(&b[72], run_pages(f.runs));
  for (size_t i = 0; i < f.runs.size(); ++i) {
    // Page numbers fit 32 bits: RAM is at most 3 GiB (786432 pages).
    put32(&b[kPagesHeaderBytes + i * 8], static_cast<uint32_t>(f.runs[i].first));
    put32(&b[kPagesHeaderBytes + i * 8 + 4], static_cast<uint32_t>(f.runs[i].count));
  }
  put32(&b[len - 4], crc32(0, b.data(), len - 4));
  return b;
}

PagesFile decode_pages_file(const uint8_t* d, size_t n, uint64_t mem, const std::string& path) {
  auto refuse = [&](const char* name, const char* reason, const std::string& msg) {
    return SnapshotError(name, reason, path, path + " " + msg);
  };
  // The magic first, on as many bytes as there are: a short file that starts right is truncated.
  if (n == 0 || std::memcmp(d, kPagesMagic, n < 8 ? n : 8) != 0)
    throw refuse("SnapshotMagicError", "magic", "is not a pages.bin file (it does not start with \"FNPAGES\")");
  if (n < kPagesHeaderBytes + 4)
    throw refuse("SnapshotTruncatedError", "truncated",
                 format("is cut short: %zu bytes, less than the %zu-byte header; %s", n, kPagesHeaderBytes + 4, kAgain));
  const uint64_t runs = get32(d + 28);
  const uint64_t want = kPagesHeaderBytes + runs * 8 + 4;
  if (n != want)
    throw refuse(n < want ? "SnapshotTruncatedError" : "SnapshotCorruptError", n < want ? "truncated" : "corrupt",
                 format("is %zu bytes, but its %llu runs make %llu: truncated or damaged; %s", n, (ull)runs, (ull)want,
                        kAgain));
  const uint32_t stored = get32(d + n - 4), actual = crc32(0, d, n - 4);
  if (stored != actual)
    throw refuse("SnapshotCorruptError", "corrupt",
                 format("fails its CRC check (stored 0x%08x, computed 0x%08x): the file is damaged; %s", stored, actual,
                        kAgain));
  if (get32(d + 8) != kPagesVersion)
    throw refuse("SnapshotVersionError", "version",
                 format("has format version %u; this VMM reads version %u: %s with this build", get32(d + 8),
                        kPagesVersion, kAgain));
  const uint32_t flags = get32(d + 12);
  if (flags & ~kPagesKnownFlags)
    throw refuse("SnapshotVersionError", "version",
                 format("has flags 0x%x this VMM does not know (it knows 0x%x): %s with this build", flags,
                        kPagesKnownFlags, kAgain));
  if (get64(d + 16) != mem)
    throw refuse("SnapshotError", "memory_size",
                 format("describes %llu bytes of guest RAM, not %llu: restore it with memoryBytes %llu",
                        (ull)get64(d + 16), (ull)mem, (ull)get64(d + 16)));
  if (get32(d + 24) != kPageSize)
    throw refuse("SnapshotCorruptError", "corrupt", format("has page size %u, not 4096", get32(d + 24)));

  PagesFile f;
  f.layered = (flags & 1) != 0;
  f.mem_size = mem;
  std::memcpy(f.id.bytes.data(), d + 32, 16);
  std::memcpy(f.base_id.bytes.data(), d + 48, 16);
  f.data_pages = get64(d + 64);
  const uint64_t pages = mem / kPageSize;
  if (f.data_pages > pages)
    throw refuse("SnapshotCorruptError", "corrupt", format("claims %llu data pages in %llu pages of RAM",
                                                           (ull)f.data_pages, (ull)pages));
  if (!f.layered && runs != 0)
    throw refuse("SnapshotCorruptError", "corrupt", "lists page runs but is not layered (a full snapshot has none)");
  uint64_t next = 0, sum = 0;
  f.runs.reserve(runs);
  for (uint64_t i = 0; i < runs; ++i) {
    const uint64_t first = get32(d + kPagesHeaderBytes + i * 8), count = get32(d + kPagesHeaderBytes + i * 8 + 4);
    if (count == 0 || first < next || first + count > pages)
      throw refuse("SnapshotCorruptError", "corrupt",
                   format("has run %llu (page %llu, %llu pages) empty, out of order, overlapping or past the end of "
                          "RAM (%llu pages)",
                          (ull)i, (ull)first, (ull)count, (ull)pages));
    f.runs.push_back({first, count});
    next = first + count;
    sum += count;
  }
  if (sum != get64(d + 72))
    throw refuse("SnapshotCorruptError", "corrupt",
                 format("says %llu diff pages but its runs hold %llu", (ull)get64(d + 72), (ull)sum));
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
    if (b.size() < kPagesHeaderBytes + 4 || std::memcmp(b.data(), kPagesMagic, 8) != 0) return false;
    if (crc32(0, b.data(), b.size() - 4) != get32(&b[b.size() - 4])) return false;
    std::memcpy(id->bytes.data(), &b[32], 16);
    return true;
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
