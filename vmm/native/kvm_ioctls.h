// kvm_ioctls.h — the KVM ioctl numbers whose structs end in a flexible array, computed as the
// kernel computes them.
//
// Why: an ioctl number encodes sizeof(its struct). Linux's uapi headers declare those arrays with
// __DECLARE_FLEX_ARRAY, which in C++ (not C) expands to a struct holding an empty struct — one byte
// in C++, padded to four — so <linux/kvm.h> compiled as C++ gives KVM_GET_SUPPORTED_CPUID,
// KVM_SET_CPUID2, KVM_GET/SET_MSRS and KVM_GET/SET_XSAVE(2) numbers the kernel does not know (it
// answers ENOTTY/EINVAL). Use these instead of the header's macros, everywhere (fake_kvm.cc too, so
// the fake cannot agree with a wrong number). The static_asserts pin them to the values a C compiler
// gets on x86-64.
#ifndef FN_VMM_KVM_IOCTLS_H
#define FN_VMM_KVM_IOCTLS_H

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstdint>

namespace fnvmm {
namespace kvm_abi {

// The fixed part of each struct, as C lays it out.
struct Cpuid2Header {
  uint32_t nent;
  uint32_t padding;
};
struct MsrsHeader {
  uint32_t nmsrs;
  uint32_t pad;
};
struct XsaveRegion {
  uint32_t region[1024];
};
static_assert(sizeof(Cpuid2Header) == 8 && sizeof(MsrsHeader) == 8 && sizeof(XsaveRegion) == 4096, "C layout");

constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, Cpuid2Header);
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
constexpr unsigned long kGetXsave = _IOR(KVMIO, 0xa4, XsaveRegion);
constexpr unsigned long kSetXsave = _IOW(KVMIO, 0xa5, XsaveRegion);
constexpr unsigned long kGetXsave2 = _IOR(KVMIO, 0xcf, XsaveRegion);

static_assert(kGetSupportedCpuid == 0xc008ae05, "KVM_GET_SUPPORTED_CPUID");
static_assert(kSetCpuid2 == 0x4008ae90, "KVM_SET_CPUID2");
static_assert(kGetMsrs == 0xc008ae88, "KVM_GET_MSRS");
static_assert(kSetMsrs == 0x4008ae89, "KVM_SET_MSRS");
static_assert(kGetXsave == 0x9000aea4, "KVM_GET_XSAVE");
static_assert(kSetXsave == 0x5000aea5, "KVM_SET_XSAVE");
static_assert(kGetXsave2 == 0x9000aecf, "KVM_GET_XSAVE2");

// The other ioctls in use take fixed-size structs, so the header's numbers are right; pinned too.
static_assert(KVM_GET_REGS == 0x8090ae81 && KVM_SET_REGS == 0x4090ae82, "KVM_GET/SET_REGS");
static_assert(KVM_GET_SREGS == 0x8138ae83 && KVM_SET_SREGS == 0x4138ae84, "KVM_GET/SET_SREGS");
static_assert(KVM_GET_FPU == 0x81a0ae8c && KVM_SET_FPU == 0x41a0ae8d, "KVM_GET/SET_FPU");
static_assert(KVM_SET_USER_MEMORY_REGION == 0x4020ae46, "KVM_SET_USER_MEMORY_REGION");
static_assert(KVM_GET_DIRTY_LOG == 0x4010ae42, "KVM_GET_DIRTY_LOG");
static_assert(KVM_RUN == 0xae80 && KVM_CREATE_VM == 0xae01 && KVM_CREATE_VCPU == 0xae41, "KVM_RUN etc.");

}  // namespace kvm_abi
}  // namespace fnvmm

// Any later use of the header's wrong numbers is a compile error (names inside string literals,
// such as error messages, are fine).
#undef KVM_GET_SUPPORTED_CPUID
#undef KVM_SET_CPUID2
#undef KVM_GET_MSRS
#undef KVM_SET_MSRS
#undef KVM_GET_XSAVE
#undef KVM_SET_XSAVE
#undef KVM_GET_XSAVE2
#pragma GCC poison KVM_GET_SUPPORTED_CPUID KVM_SET_CPUID2 KVM_GET_MSRS KVM_SET_MSRS KVM_GET_XSAVE KVM_SET_XSAVE KVM_GET_XSAVE2

#endif
