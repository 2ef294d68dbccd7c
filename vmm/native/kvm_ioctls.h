// kvm_ioctls.h — the KVM ioctl structs that end in a flexible array, laid out as the kernel (C)
// lays them out, and their ioctl numbers computed from that layout.
//
// Why: Linux's uapi headers declare those arrays with __DECLARE_FLEX_ARRAY, which in C++ (not C)
// expands to a struct holding an empty struct (one byte in C++, padded). Compiled as C++,
// <linux/kvm.h> therefore moves the arrays: kvm_msrs.entries sits at offset 16 (the kernel reads 8),
// kvm_cpuid2.entries at 12 (kernel: 8), kvm_xsave.extra at 4100 (kernel: 4096), and every sizeof()
// grows. Two real bugs came from it, both invisible to a fake /dev/kvm built from the same header:
//   - KVM_SET_MSRS: KVM read the entries 8 bytes before where we had written them, saw index 0
//     (padding) first and accepted no MSR ("KVM rejected MSR 0xc0000081");
//   - KVM_GET_SUPPORTED_CPUID + KVM_SET_CPUID2 shifted by 4 bytes both ways (so the guest's CPUID
//     was right), but the entries read back were a 4-byte-shifted view: cpu.bin recorded no CPU
//     features and restore never refused a snapshot from another CPU.
// And since an ioctl number encodes sizeof(its struct), the header's KVM_GET_SUPPORTED_CPUID,
// KVM_SET_CPUID2, KVM_GET/SET_MSRS and KVM_GET/SET_XSAVE(2) are numbers the kernel does not know.
//
// So: never use struct kvm_msrs, kvm_cpuid2 or kvm_xsave (or the header's numbers for them) in this
// code base. Use the C-layout buffers below, here in the core and in test/fake_kvm.cc alike (the fake
// must read what the kernel reads, or it agrees with our bugs). The fixed-size element structs
// (kvm_msr_entry, kvm_cpuid_entry2) are the same in C and C++ and are used as they are. Every
// offset and size is pinned by static_asserts to what a C compiler gets on x86-64.
#ifndef FN_VMM_KVM_IOCTLS_H
#define FN_VMM_KVM_IOCTLS_H

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fnvmm {
namespace kvm_abi {

// The fixed part of each struct, as C lays it out; the array follows it at sizeof(header).
struct Cpuid2Header {  // struct kvm_cpuid2 { __u32 nent; __u32 padding; struct kvm_cpuid_entry2 entries[]; }
  uint32_t nent;
  uint32_t padding;
};
struct MsrsHeader {  // struct kvm_msrs { __u32 nmsrs; __u32 pad; struct kvm_msr_entry entries[]; }
  uint32_t nmsrs;
  uint32_t pad;
};
struct XsaveRegion {  // struct kvm_xsave { __u32 region[1024]; __u32 extra[]; } (KVM_GET_XSAVE2: more follows)
  uint32_t region[1024];
};

// The kernel's C layout (include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h on x86-64).
constexpr size_t kCpuid2EntriesOffset = 8;
constexpr size_t kMsrsEntriesOffset = 8;
constexpr size_t kXsaveExtraOffset = 4096;
static_assert(offsetof(Cpuid2Header, nent) == 0 && sizeof(Cpuid2Header) == kCpuid2EntriesOffset, "kvm_cpuid2 C layout");
static_assert(offsetof(MsrsHeader, nmsrs) == 0 && sizeof(MsrsHeader) == kMsrsEntriesOffset, "kvm_msrs C layout");
static_assert(sizeof(XsaveRegion) == kXsaveExtraOffset, "kvm_xsave C layout");
// The elements: no flexible arrays inside, so the header's structs are the kernel's.
static_assert(sizeof(kvm_msr_entry) == 16 && offsetof(kvm_msr_entry, index) == 0 && offsetof(kvm_msr_entry, data) == 8,
              "kvm_msr_entry C layout");
static_assert(sizeof(kvm_cpuid_entry2) == 40 && offsetof(kvm_cpuid_entry2, function) == 0 &&
                  offsetof(kvm_cpuid_entry2, index) == 4 && offsetof(kvm_cpuid_entry2, flags) == 8 &&
                  offsetof(kvm_cpuid_entry2, eax) == 12 && offsetof(kvm_cpuid_entry2, edx) == 24,
              "kvm_cpuid_entry2 C layout");
static_assert(kMsrsEntriesOffset % alignof(kvm_msr_entry) == 0 && kCpuid2EntriesOffset % alignof(kvm_cpuid_entry2) == 0,
              "the entries are naturally aligned after their header");

// A header followed by `count` entries, in one 8-byte-aligned buffer, as the kernel reads and
// writes it. The object the ioctl gets is data().
template <typename Header, typename Entry>
class FlexBuffer {
 public:
  explicit FlexBuffer(size_t count)
      : words_((sizeof(Header) + count * sizeof(Entry) + sizeof(uint64_t) - 1) / sizeof(uint64_t), 0), count_(count) {}
  void* data() { return words_.data(); }
  Header& header() { return *reinterpret_cast<Header*>(words_.data()); }
  Entry* entries() { return reinterpret_cast<Entry*>(reinterpret_cast<uint8_t*>(words_.data()) + sizeof(Header)); }
  size_t capacity() const { return count_; }

 private:
  std::vector<uint64_t> words_;
  size_t count_;
};
using Cpuid2Buffer = FlexBuffer<Cpuid2Header, kvm_cpuid_entry2>;
using MsrsBuffer = FlexBuffer<MsrsHeader, kvm_msr_entry>;

// The same layout seen from the other side, at the pointer an ioctl handler is given (the fake
// /dev/kvm in test/fake_kvm.cc reads and writes the caller's buffer in place, as the kernel does).
inline Cpuid2Header* cpuid2_header(void* arg) { return static_cast<Cpuid2Header*>(arg); }
inline kvm_cpuid_entry2* cpuid2_entries(void* arg) {
  return reinterpret_cast<kvm_cpuid_entry2*>(static_cast<uint8_t*>(arg) + kCpuid2EntriesOffset);
}
inline MsrsHeader* msrs_header(void* arg) { return static_cast<MsrsHeader*>(arg); }
inline kvm_msr_entry* msrs_entries(void* arg) {
  return reinterpret_cast<kvm_msr_entry*>(static_cast<uint8_t*>(arg) + kMsrsEntriesOffset);
}

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
// such as error messages, are fine). The structs themselves cannot be poisoned (the header still
// declares them); test_misc.cc checks the buffers' bytes.
#undef KVM_GET_SUPPORTED_CPUID
#undef KVM_SET_CPUID2
#undef KVM_GET_MSRS
#undef KVM_SET_MSRS
#undef KVM_GET_XSAVE
#undef KVM_SET_XSAVE
#undef KVM_GET_XSAVE2
#pragma GCC poison KVM_GET_SUPPORTED_CPUID KVM_SET_CPUID2 KVM_GET_MSRS KVM_SET_MSRS KVM_GET_XSAVE KVM_SET_XSAVE KVM_GET_XSAVE2

#endif
