// vcpu.h — a KVM vCPU fd and its mmapped struct kvm_run. Thin ioctls, no policy; setters and getters
// throw KvmError naming the ioctl. run() returns the errno instead, because EINTR is the normal way a
// kicked guest comes back.
//
// Threads: after setup (JS thread, before the worker starts), only the vCPU thread calls into it,
// except that the watchdog writes kvm_run->immediate_exit (see watchdog.h).
#ifndef FN_VMM_VCPU_H
#define FN_VMM_VCPU_H

#include <linux/kvm.h>

#include "kvm_ioctls.h"  // the ioctl numbers to use (see there why not all of <linux/kvm.h>'s)

#include <cstddef>
#include <cstdint>
#include <vector>

#include "unique_fd.h"

namespace fnvmm {

class Vcpu {
 public:
  ~Vcpu();
  Vcpu(Vcpu&& o) noexcept;
  Vcpu& operator=(Vcpu&& o) noexcept;
  Vcpu(const Vcpu&) = delete;
  Vcpu& operator=(const Vcpu&) = delete;

  int run();  // KVM_RUN: 0 or errno
  kvm_run* run_data() const { return run_; }
  size_t run_size() const { return run_size_; }

  kvm_regs get_regs() const;          // KVM_GET_REGS
  void set_regs(const kvm_regs& r);   // KVM_SET_REGS
  kvm_sregs get_sregs() const;        // KVM_GET_SREGS
  void set_sregs(const kvm_sregs& s); // KVM_SET_SREGS
  kvm_fpu get_fpu() const;            // KVM_GET_FPU
  void set_fpu(const kvm_fpu& f);     // KVM_SET_FPU
  // KVM_GET_XSAVE (size 4096) or KVM_GET_XSAVE2 (size = KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) on the VM).
  std::vector<uint8_t> get_xsave(size_t size, bool xsave2) const;
  // KVM_SET_XSAVE: KVM reads as many bytes as KVM_CAP_XSAVE2 says (at least 4096); `area` must hold them.
  void set_xsave(const std::vector<uint8_t>& area);
  void set_cpuid2(const std::vector<kvm_cpuid_entry2>& entries);  // KVM_SET_CPUID2
  // KVM_SET_MSRS: returns how many of the MSRs, in order, KVM accepted (it stops at the first it rejects).
  size_t set_msrs(const std::vector<kvm_msr_entry>& msrs);
  // KVM_GET_MSRS: fills in the data of each entry; returns how many were read.
  size_t get_msrs(std::vector<kvm_msr_entry>& msrs) const;
  uint32_t tsc_khz() const;           // KVM_GET_TSC_KHZ

  int fd() const { return fd_.get(); }

 private:
  friend class Vm;  // only the parent creates the child
  Vcpu(UniqueFd fd, kvm_run* run, size_t run_size) : fd_(std::move(fd)), run_(run), run_size_(run_size) {}
  UniqueFd fd_;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
};

}  // namespace fnvmm

#endif
