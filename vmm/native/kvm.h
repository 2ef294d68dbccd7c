// kvm.h — the /dev/kvm system fd: version and capability checks, supported CPUID, creating VMs.
//
// One wrapper per kernel object (Kvm → Vm → Vcpu), each owning its fd; methods are thin ioctls that
// throw KvmError naming the ioctl and errno, with no policy.
#ifndef FN_VMM_KVM_H
#define FN_VMM_KVM_H

#include <linux/kvm.h>

#include "kvm_ioctls.h"  // the ioctl numbers to use (see there why not all of <linux/kvm.h>'s)

#include <cstddef>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace fnvmm {

class Vm;

constexpr int kKvmApiVersion = 12;

// Capabilities the microVM cannot run without, with their names for messages.
struct RequiredCap {
  int cap;
  const char* name;
};
const std::vector<RequiredCap>& required_caps();

struct ProbeResult {
  bool ok = false;
  std::string code;     // when !ok: 'ENOENT' | 'EACCES' | 'EPERM' | 'ENODEV' | 'ENXIO' | 'EAPI' | 'ECAP' | errno name
  std::string message;  // when !ok: what is wrong and what to do
  int api_version = -1; // when known
};

// Never throws.
ProbeResult probe_kvm(const char* path = "/dev/kvm");

class Kvm {
 public:
  // Opens the device and checks the API version and required capabilities.
  // Throws KvmUnavailableError (with the probe's code) when it cannot be used.
  static Kvm open(const char* path = "/dev/kvm");
  // Opens /dev/kvm once and keeps it: every later open() of the default path duplicates that
  // descriptor instead. A locked-down host (host_lockdown.h) may no longer open a device for
  // writing. Throws KvmUnavailableError like open().
  static void hold_device();

  int api_version() const;                    // KVM_GET_API_VERSION
  int check_extension(int cap) const;         // KVM_CHECK_EXTENSION (0 = absent)
  size_t vcpu_mmap_size() const;              // KVM_GET_VCPU_MMAP_SIZE
  std::vector<kvm_cpuid_entry2> supported_cpuid() const;  // KVM_GET_SUPPORTED_CPUID
  Vm create_vm() const;                       // KVM_CREATE_VM (type 0)

 private:
  explicit Kvm(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace fnvmm

#endif
