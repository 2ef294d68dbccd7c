// errors.h — the native core's failure types.
//
// C++ exceptions carry setup failures (KVM ioctls, a bad ELF, bad options) up to addon.cc, which turns
// them into JS errors with a `.code`. A failed exchange is not an exception crossing threads: it is a
// VmError value (kind + message + details) handed back to JS through the ThreadSafeFunction.
#ifndef FN_VMM_ERRORS_H
#define FN_VMM_ERRORS_H

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fnvmm {

// "EINVAL" for EINVAL; "E<n>" for values not in our table.
std::string errno_name(int err);
// "EINVAL (Invalid argument)".
std::string errno_text(int err);

// A failed ioctl or system call on a KVM object or on guest memory.
class KvmError : public std::runtime_error {
 public:
  KvmError(const std::string& op, int err);
  KvmError(const std::string& op, int err, const std::string& detail);
  const std::string& op() const { return op_; }
  int error() const { return err_; }

 private:
  std::string op_;
  int err_;
};

// /dev/kvm cannot be used: missing, no permission, wrong API version, missing capability.
// code() is 'ENOENT' | 'EACCES' | 'EPERM' | 'ENODEV' | 'ENXIO' | 'EAPI' | 'ECAP' | another errno name.
class KvmUnavailableError : public std::runtime_error {
 public:
  KvmUnavailableError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// The guest ELF is malformed or does not fit the guest memory layout.
class ElfError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Options that cannot describe a microVM (memory size out of range, ...).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An access outside every guest memory region. Callers validate first; this is a programming error.
class GuestMemoryError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

// A snapshot that cannot be written, or snapshot files that cannot be used. Nothing is half-done
// when it is thrown: a refused restore creates no VM, a failed snapshot leaves no file behind.
//   name():   the TypeScript class that fits (snapshots/src/errors.ts): 'SnapshotError' |
//             'SnapshotMagicError' | 'SnapshotTruncatedError' | 'SnapshotCorruptError' |
//             'SnapshotVersionError' | 'SnapshotMemoryFileError'
//   reason(): finer, for code: 'missing' | 'size' (SnapshotMemoryFileError, as in TypeScript) |
//             'io' | 'platform' | 'memory_size' | 'abi' | 'mismatch' | 'layout' | 'base' |
//             'cpu_features' | 'state' | 'magic' | 'truncated' | 'corrupt' | 'version' | 'closed'
//   path():   the file concerned ('' if none); error(): errno for 'io' and 'missing' (else 0)
class SnapshotError : public std::runtime_error {
 public:
  SnapshotError(std::string name, std::string reason, std::string path, const std::string& message, int err = 0)
      : std::runtime_error(message), name_(std::move(name)), reason_(std::move(reason)), path_(std::move(path)), err_(err) {}
  const std::string& name() const { return name_; }
  const std::string& reason() const { return reason_; }
  const std::string& path() const { return path_; }
  int error() const { return err_; }

 private:
  std::string name_, reason_, path_;
  int err_;
};

// A system call on a snapshot file failed (open, write, fsync, rename...): a SnapshotError with
// reason 'io', the errno, and a message naming the call and the path.
SnapshotError snapshot_io_error(const std::string& op, const std::string& path, int err);

// One named detail of a failed exchange, exposed as a property of the JS error.
struct ErrorDetail {
  enum class Type { BigInt, Number, String };
  std::string name;
  Type type;
  uint64_t u = 0;      // BigInt (addresses, 64-bit values) or Number (small integers)
  std::string s;       // String

  static ErrorDetail big(std::string n, uint64_t v) { return {std::move(n), Type::BigInt, v, {}}; }
  static ErrorDetail num(std::string n, uint64_t v) { return {std::move(n), Type::Number, v, {}}; }
  static ErrorDetail str(std::string n, std::string v) { return {std::move(n), Type::String, 0, std::move(v)}; }
};

// A failed exchange. kind is one of: 'timeout' | 'guest_fault' | 'syscall' | 'halt' | 'internal' |
// 'fail_entry' | 'unknown_exit' | 'bad_io' | 'bad_window' | 'kvm' | 'closed'; for snapshot and reset
// also 'snapshot' (files could not be written or used; the VM is unchanged) and 'lost' (the VM was
// half changed and is dead).
struct VmError {
  std::string kind;
  std::string message;
  std::vector<ErrorDetail> details;
};

// printf-style formatting into a std::string (for messages with hex addresses).
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace fnvmm

#endif
