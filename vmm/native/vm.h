// vm.h — a KVM VM fd: memory slots, creating the vCPU. Thin ioctls, no policy.
#ifndef FN_VMM_VM_H
#define FN_VMM_VM_H

#include <cstddef>
#include <cstdint>

#include "guest_address.h"
#include "unique_fd.h"

namespace fnvmm {

class Vcpu;
class Kvm;

class Vm {
 public:
  Vm(Vm&&) = default;
  Vm& operator=(Vm&&) = default;

  // KVM_SET_USER_MEMORY_REGION: guest [guest_base, guest_base+size) is backed by host [host, host+size).
  void set_user_memory_region(uint32_t slot, GuestAddress guest_base, uint64_t size, uint8_t* host, uint32_t flags = 0);
  // KVM_SET_TSS_ADDR (Intel: three pages KVM uses for real-mode emulation; must not overlap a slot).
  void set_tss_address(uint64_t addr);
  // KVM_CHECK_EXTENSION on the VM fd.
  int check_extension(int cap) const;
  // KVM_GET_DIRTY_LOG: the pages of `slot` written since the last call, into `words` (one bit per
  // page, (pages + 63) / 64 words); KVM clears them and write-protects those pages again.
  void get_dirty_log(uint32_t slot, uint64_t* words);
  // KVM_CREATE_VCPU, then mmap of its kvm_run.
  Vcpu create_vcpu(uint32_t id);

  int fd() const { return fd_.get(); }

 private:
  friend class Kvm;  // only the parent creates the child
  Vm(UniqueFd fd, size_t vcpu_mmap_size) : fd_(std::move(fd)), vcpu_mmap_size_(vcpu_mmap_size) {}
  UniqueFd fd_;
  size_t vcpu_mmap_size_;
};

}  // namespace fnvmm

#endif
