#include "vcpu.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "errors.h"
#include "kvm_ioctls.h"

namespace fnvmm {

Vcpu::~Vcpu() {
  if (run_ != nullptr) ::munmap(run_, run_size_);
}

Vcpu::Vcpu(Vcpu&& o) noexcept : fd_(std::move(o.fd_)), run_(o.run_), run_size_(o.run_size_) {
  o.run_ = nullptr;
  o.run_size_ = 0;
}

Vcpu& Vcpu::operator=(Vcpu&& o) noexcept {
  if (this != &o) {
    if (run_ != nullptr) ::munmap(run_, run_size_);
    fd_ = std::move(o.fd_);
    run_ = o.run_;
    run_size_ = o.run_size_;
    o.run_ = nullptr;
    o.run_size_ = 0;
  }
  return *this;
}

int Vcpu::run() { return ::ioctl(fd_.get(), KVM_RUN, 0) == 0 ? 0 : errno; }

kvm_regs Vcpu::get_regs() const {
  kvm_regs r{};
  if (::ioctl(fd_.get(), KVM_GET_REGS, &r) != 0) throw KvmError("KVM_GET_REGS", errno);
  return r;
}

void Vcpu::set_regs(const kvm_regs& r) {
  if (::ioctl(fd_.get(), KVM_SET_REGS, &r) != 0) throw KvmError("KVM_SET_REGS", errno);
}

kvm_sregs Vcpu::get_sregs() const {
  kvm_sregs s{};
  if (::ioctl(fd_.get(), KVM_GET_SREGS, &s) != 0) throw KvmError("KVM_GET_SREGS", errno);
  return s;
}

void Vcpu::set_sregs(const kvm_sregs& s) {
  if (::ioctl(fd_.get(), KVM_SET_SREGS, &s) != 0) throw KvmError("KVM_SET_SREGS", errno);
}

kvm_fpu Vcpu::get_fpu() const {
  kvm_fpu f{};
  if (::ioctl(fd_.get(), KVM_GET_FPU, &f) != 0) throw KvmError("KVM_GET_FPU", errno);
  return f;
}

void Vcpu::set_fpu(const kvm_fpu& f) {
  if (::ioctl(fd_.get(), KVM_SET_FPU, &f) != 0) throw KvmError("KVM_SET_FPU", errno);
}

std::vector<uint8_t> Vcpu::get_xsave(size_t size, bool xsave2) const {
  if (size < 4096) throw KvmError(xsave2 ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE", EINVAL, "area smaller than 4096 bytes");
  // 4-byte aligned as struct kvm_xsave is; 4096 bytes is its fixed region (sizeof() is not: in C++
  // the header's flexible-array shim adds to it).
  std::vector<uint32_t> buf((size + 3) / 4, 0);
  if (::ioctl(fd_.get(), xsave2 ? kvm_abi::kGetXsave2 : kvm_abi::kGetXsave, buf.data()) != 0)
    throw KvmError(xsave2 ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE", errno);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(buf.data());
  return std::vector<uint8_t>(p, p + size);
}

void Vcpu::set_xsave(const std::vector<uint8_t>& area) {
  if (area.size() < 4096) throw KvmError("KVM_SET_XSAVE", EINVAL, "area smaller than 4096 bytes");
  std::vector<uint32_t> buf((area.size() + 3) / 4, 0);
  std::memcpy(buf.data(), area.data(), area.size());
  if (::ioctl(fd_.get(), kvm_abi::kSetXsave, buf.data()) != 0) throw KvmError("KVM_SET_XSAVE", errno);
}

// The flexible-array structs in the kernel's layout (kvm_ioctls.h says why not <linux/kvm.h>'s).
void Vcpu::set_cpuid2(const std::vector<kvm_cpuid_entry2>& entries) {
  kvm_abi::Cpuid2Buffer buf(entries.size());
  buf.header().nent = static_cast<uint32_t>(entries.size());
  std::copy(entries.begin(), entries.end(), buf.entries());
  if (::ioctl(fd_.get(), kvm_abi::kSetCpuid2, buf.data()) != 0) throw KvmError("KVM_SET_CPUID2", errno);
}

namespace {
kvm_abi::MsrsBuffer msr_buffer(const std::vector<kvm_msr_entry>& msrs) {
  kvm_abi::MsrsBuffer buf(msrs.size());
  buf.header().nmsrs = static_cast<uint32_t>(msrs.size());
  std::copy(msrs.begin(), msrs.end(), buf.entries());
  return buf;
}
}  // namespace

size_t Vcpu::set_msrs(const std::vector<kvm_msr_entry>& msrs) {
  kvm_abi::MsrsBuffer buf = msr_buffer(msrs);
  int n = ::ioctl(fd_.get(), kvm_abi::kSetMsrs, buf.data());
  if (n < 0) throw KvmError("KVM_SET_MSRS", errno);
  return static_cast<size_t>(n);
}

size_t Vcpu::get_msrs(std::vector<kvm_msr_entry>& msrs) const {
  kvm_abi::MsrsBuffer buf = msr_buffer(msrs);
  int n = ::ioctl(fd_.get(), kvm_abi::kGetMsrs, buf.data());
  if (n < 0) throw KvmError("KVM_GET_MSRS", errno);
  std::copy(buf.entries(), buf.entries() + msrs.size(), msrs.begin());
  return static_cast<size_t>(n);
}

uint32_t Vcpu::tsc_khz() const {
  int v = ::ioctl(fd_.get(), KVM_GET_TSC_KHZ, 0);
  if (v < 0) throw KvmError("KVM_GET_TSC_KHZ", errno);
  return static_cast<uint32_t>(v);
}

}  // namespace fnvmm
