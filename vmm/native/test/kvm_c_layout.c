/* kvm_c_layout.c — compiled as C, where <linux/kvm.h>'s flexible arrays have the layout the kernel
 * uses: the reference that kvm_ioctls.h's buffers and ioctl numbers are checked against at run time
 * (test_misc.cc). In C++ the same header gives other offsets and sizes; see kvm_ioctls.h. */
#include <linux/kvm.h>
#include <stddef.h>

const size_t fn_c_kvm_msrs_entries = offsetof(struct kvm_msrs, entries);
const size_t fn_c_kvm_msrs_size = sizeof(struct kvm_msrs);
const size_t fn_c_kvm_cpuid2_entries = offsetof(struct kvm_cpuid2, entries);
const size_t fn_c_kvm_cpuid2_size = sizeof(struct kvm_cpuid2);
const size_t fn_c_kvm_xsave_size = sizeof(struct kvm_xsave);
const size_t fn_c_kvm_msr_entry_size = sizeof(struct kvm_msr_entry);
const size_t fn_c_kvm_cpuid_entry2_size = sizeof(struct kvm_cpuid_entry2);
const unsigned long fn_c_ioctls[] = {
    KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2, KVM_GET_MSRS, KVM_SET_MSRS, KVM_GET_XSAVE, KVM_SET_XSAVE, KVM_GET_XSAVE2,
};
