#include "kvm.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <string>

#include "errors.h"
#include "kvm_ioctls.h"
#include "vm.h"

namespace fnvmm {

const std::vector<RequiredCap>& required_caps() {
  static const std::vector<RequiredCap> caps = {
      {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
      {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
      {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
  };
  return caps;
}

namespace {

std::string open_advice(int err, const char* path) {
  switch (err) {
    case ENOENT:
      return std::string(path) + " not found: load kvm_intel/kvm_amd (or kvm_pvm), or run on a host with KVM";
    case EACCES:
    case EPERM:
      return std::string(path) + " is not accessible: add the user to the 'kvm' group or run as root";
    case ENODEV:
    case ENXIO:
      return std::string(path) + " exists but no KVM driver is bound to it: load kvm_intel/kvm_amd (or kvm_pvm)";
    default:
      return "cannot open " + std::string(path) + ": " + errno_text(err);
  }
}

// Checks an open /dev/kvm fd: API version and required capabilities.
ProbeResult check_kvm_fd(int fd) {
  ProbeResult r;
  int version = ::ioctl(fd, KVM_GET_API_VERSION, 0);
  if (version < 0) {
    int err = errno;
    r.code = errno_name(err);
    r.message = "KVM_GET_API_VERSION failed: " + errno_text(err) + " (is this really /dev/kvm?)";
    return r;
  }
  r.api_version = version;
  if (version != kKvmApiVersion) {
    r.code = "EAPI";
    r.message = format("KVM API version is %d, expected %d", version, kKvmApiVersion);
    return r;
  }
  for (const RequiredCap& c : required_caps()) {
    if (::ioctl(fd, KVM_CHECK_EXTENSION, c.cap) <= 0) {
      r.code = "ECAP";
      r.message = std::string("KVM lacks the capability ") + c.name + ", which the microVM needs (Linux 4.11+)";
      return r;
    }
  }
  r.ok = true;
  return r;
}

}  // namespace

namespace {
int held_device = -1;  // Kvm::hold_device(): set once, on the JS thread, before any VM exists
}

ProbeResult probe_kvm(const char* path) {
  // A locked-down host (host_lockdown.h) can no longer open the device: probe the one it holds.
  if (held_device >= 0 && std::string(path) == "/dev/kvm") return check_kvm_fd(held_device);
  int fd = ::open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    ProbeResult r;
    r.code = errno_name(err);
    r.message = open_advice(err, path);
    return r;
  }
  UniqueFd owner(fd);
  return check_kvm_fd(fd);
}

void Kvm::hold_device() {
  if (held_device >= 0) return;
  Kvm probe = open();
  held_device = ::fcntl(probe.fd_.get(), F_DUPFD_CLOEXEC, 0);
  if (held_device < 0) throw KvmError("fcntl(F_DUPFD_CLOEXEC) of /dev/kvm", errno);
}

Kvm Kvm::open(const char* path) {
  bool held = held_device >= 0 && std::string(path) == "/dev/kvm";
  int fd = held ? ::fcntl(held_device, F_DUPFD_CLOEXEC, 0) : ::open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw KvmUnavailableError(errno_name(err), open_advice(err, path));
  }
  UniqueFd owner(fd);
  ProbeResult p = check_kvm_fd(fd);
  if (!p.ok) throw KvmUnavailableError(p.code, p.message);
  return Kvm(std::move(owner));
}

int Kvm::api_version() const {
  int v = ::ioctl(fd_.get(), KVM_GET_API_VERSION, 0);
  if (v < 0) throw KvmError("KVM_GET_API_VERSION", errno);
  return v;
}

int Kvm::check_extension(int cap) const {
  int v = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
  if (v < 0) throw KvmError("KVM_CHECK_EXTENSION", errno);
  return v;
}

size_t Kvm::vcpu_mmap_size() const {
  int v = ::ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (v < 0) throw KvmError("KVM_GET_VCPU_MMAP_SIZE", errno);
  if (static_cast<size_t>(v) < sizeof(kvm_run))
    throw KvmError("KVM_GET_VCPU_MMAP_SIZE", EINVAL, format("%d bytes is smaller than struct kvm_run", v));
  return static_cast<size_t>(v);
}

std::vector<kvm_cpuid_entry2> Kvm::supported_cpuid() const {
  // The ioctl fails with E2BIG while the buffer is too small; grow until it fits. The entries are
  // read where the kernel writes them (kvm_ioctls.h: not struct kvm_cpuid2's C++ layout).
  for (uint32_t n = 64; n <= 4096; n *= 2) {
    kvm_abi::Cpuid2Buffer buf(n);
    buf.header().nent = n;
    if (::ioctl(fd_.get(), kvm_abi::kGetSupportedCpuid, buf.data()) == 0) {
      const uint32_t got = buf.header().nent;
      if (got > n) throw KvmError("KVM_GET_SUPPORTED_CPUID", EINVAL, format("KVM reported %u entries in a buffer of %u", got, n));
      return std::vector<kvm_cpuid_entry2>(buf.entries(), buf.entries() + got);
    }
    if (errno != E2BIG) throw KvmError("KVM_GET_SUPPORTED_CPUID", errno);
  }
  throw KvmError("KVM_GET_SUPPORTED_CPUID", E2BIG, "more than 4096 entries");
}

Vm Kvm::create_vm() const {
  int fd;
  do {
    fd = ::ioctl(fd_.get(), KVM_CREATE_VM, 0);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw KvmError("KVM_CREATE_VM", errno);
  return Vm(UniqueFd(fd), vcpu_mmap_size());
}

}  // namespace fnvmm
