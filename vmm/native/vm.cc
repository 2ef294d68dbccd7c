#include "vm.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>

#include "errors.h"
#include "vcpu.h"

namespace fnvmm {

void Vm::set_user_memory_region(uint32_t slot, GuestAddress guest_base, uint64_t size, uint8_t* host, uint32_t flags) {
  kvm_userspace_memory_region r{};
  r.slot = slot;
  r.flags = flags;
  r.guest_phys_addr = guest_base.raw();
  r.memory_size = size;
  r.userspace_addr = reinterpret_cast<uint64_t>(host);
  if (::ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &r) != 0)
    throw KvmError("KVM_SET_USER_MEMORY_REGION", errno,
                   format("slot %u, guest 0x%llx, %llu bytes", slot, (unsigned long long)guest_base.raw(),
                          (unsigned long long)size));
}

void Vm::set_tss_address(uint64_t addr) {
  if (::ioctl(fd_.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(addr)) != 0)
    throw KvmError("KVM_SET_TSS_ADDR", errno);
}

int Vm::check_extension(int cap) const {
  int v = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
  if (v < 0) throw KvmError("KVM_CHECK_EXTENSION (VM)", errno);
  return v;
}

void Vm::get_dirty_log(uint32_t slot, uint64_t* words) {
  kvm_dirty_log log{};
  log.slot = slot;
  log.dirty_bitmap = words;
  if (::ioctl(fd_.get(), KVM_GET_DIRTY_LOG, &log) != 0) throw KvmError("KVM_GET_DIRTY_LOG", errno, format("slot %u", slot));
}

Vcpu Vm::create_vcpu(uint32_t id) {
  int fd = ::ioctl(fd_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(id));
  if (fd < 0) throw KvmError("KVM_CREATE_VCPU", errno);
  UniqueFd owner(fd);
  void* p = ::mmap(nullptr, vcpu_mmap_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) throw KvmError("mmap of the vCPU's kvm_run", errno);
  return Vcpu(std::move(owner), static_cast<kvm_run*>(p), vcpu_mmap_size_);
}

}  // namespace fnvmm
