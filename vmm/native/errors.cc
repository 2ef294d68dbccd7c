#include "errors.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace fnvmm {

std::string errno_name(int err) {
  switch (err) {
#define FN_ERRNO_CASE(e) \
  case e:                \
    return #e;
    FN_ERRNO_CASE(EPERM)
    FN_ERRNO_CASE(ENOENT)
    FN_ERRNO_CASE(ESRCH)
    FN_ERRNO_CASE(EINTR)
    FN_ERRNO_CASE(EIO)
    FN_ERRNO_CASE(ENXIO)
    FN_ERRNO_CASE(E2BIG)
    FN_ERRNO_CASE(EBADF)
    FN_ERRNO_CASE(EAGAIN)
    FN_ERRNO_CASE(ENOMEM)
    FN_ERRNO_CASE(EACCES)
    FN_ERRNO_CASE(EFAULT)
    FN_ERRNO_CASE(EBUSY)
    FN_ERRNO_CASE(EEXIST)
    FN_ERRNO_CASE(ENODEV)
    FN_ERRNO_CASE(EINVAL)
    FN_ERRNO_CASE(ENFILE)
    FN_ERRNO_CASE(EMFILE)
    FN_ERRNO_CASE(ENOTTY)
    FN_ERRNO_CASE(ENOSPC)
    FN_ERRNO_CASE(ERANGE)
    FN_ERRNO_CASE(ENOSYS)
    FN_ERRNO_CASE(EOPNOTSUPP)
    FN_ERRNO_CASE(ETIMEDOUT)
    FN_ERRNO_CASE(EHWPOISON)
    FN_ERRNO_CASE(EROFS)
    FN_ERRNO_CASE(EDQUOT)
    FN_ERRNO_CASE(ENOTDIR)
    FN_ERRNO_CASE(EISDIR)
    FN_ERRNO_CASE(ENAMETOOLONG)
    FN_ERRNO_CASE(EFBIG)
    FN_ERRNO_CASE(EPROTO)
#undef FN_ERRNO_CASE
    default:
      return "E" + std::to_string(err);
  }
}

std::string errno_text(int err) {
  char buf[128];
  // GNU strerror_r may return a static string instead of filling buf.
  const char* text = strerror_r(err, buf, sizeof buf);
  return errno_name(err) + " (" + text + ")";
}

KvmError::KvmError(const std::string& op, int err)
    : std::runtime_error(op + " failed: " + errno_text(err)), op_(op), err_(err) {}

KvmError::KvmError(const std::string& op, int err, const std::string& detail)
    : std::runtime_error(op + " failed: " + errno_text(err) + ": " + detail), op_(op), err_(err) {}

SnapshotError snapshot_io_error(const std::string& op, const std::string& path, int err) {
  return SnapshotError("SnapshotError", "io", path, op + " " + path + " failed: " + errno_text(err), err);
}

std::string format(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string out;
  if (n > 0) {
    out.resize(static_cast<size_t>(n) + 1);
    std::vsnprintf(&out[0], out.size(), fmt, ap2);
    out.resize(static_cast<size_t>(n));
  }
  va_end(ap2);
  return out;
}

}  // namespace fnvmm
