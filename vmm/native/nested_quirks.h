// nested_quirks.h — what changes when the VMM runs inside an emulated test machine: scripts/with-kvm
// (QEMU's TCG emulating an AMD CPU with SVM, kvm_amd inside it) or scripts/with-kvm-intel (Bochs
// emulating VMX, kvm_intel inside it). Nothing here is on by default.
//
// FN_KVM_NESTED_TR_AVAILABLE=1 (read once per process; only the harness sets it): every set of the
// segment registers (boot, restore, reset) loads TR with type 9, "available 64-bit TSS", instead of
// 0xB, "busy". Why: QEMU's emulated I/O-permission check (helper_check_io) accepts only type 9, so
// with 0xB every `out` at CPL3 — the doorbell — raises #GP inside the nested machine. Real CPUs do
// not look at the type there (a loaded TR is busy by definition), and Intel VM entry *requires* 0xB
// for a 64-bit guest (VMX: a TR of type 9 is a failed entry), so 0xB is right everywhere else and
// stays the default. It must be applied at every set, not only at boot: KVM on SVM reports TR as
// busy whatever it holds (svm_get_segment sets the busy bit), so snapshots record 0xB and a restore
// or a reset that sets sregs would otherwise load 0xB again. (PVM ignores TR altogether.)
//
// FN_KVM_NESTED_GUEST_IF=1 (read once; only scripts/with-kvm-intel sets it): every set of the
// general registers (boot, restore, reset) runs the guest with RFLAGS.IF=1 instead of 0. Why: in
// Bochs 2.7 emulating VMX, a KVM guest that runs without exits while IF=0 is never interrupted, so
// the host kernel never gets the CPU back and the watchdog's kick never lands (the whole machine
// hangs on a spinning guest). fn's guest has no interrupt source (no irqchip, nothing injected), so
// IF=1 changes nothing for it; IF stays 0 by default because that is what was verified on PVM and
// on SVM. Snapshots record IF=0 either way (capture_cpu_state clears it under the switch), so
// their registers are the same with and without it.
#ifndef FN_VMM_NESTED_QUIRKS_H
#define FN_VMM_NESTED_QUIRKS_H

#include <linux/kvm.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace fnvmm {

constexpr const char* kNestedTrAvailableEnv = "FN_KVM_NESTED_TR_AVAILABLE";
constexpr uint8_t kTrTypeAvailable = 0x9;

inline bool nested_tr_available() {
  static const bool on = [] {
    const char* v = std::getenv(kNestedTrAvailableEnv);
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return on;
}

// The segment registers as this host must be given them (see above); `s` itself is what the guest
// state is (and what a snapshot records and reset compares against).
inline kvm_sregs sregs_for_host(const kvm_sregs& s) {
  kvm_sregs out = s;
  if (nested_tr_available()) out.tr.type = kTrTypeAvailable;
  return out;
}

constexpr const char* kNestedGuestIfEnv = "FN_KVM_NESTED_GUEST_IF";
constexpr uint64_t kRflagsIf = 1ull << 9;

inline bool nested_guest_if() {
  static const bool on = [] {
    const char* v = std::getenv(kNestedGuestIfEnv);
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return on;
}

// The general registers as this host must be given them (see above).
inline kvm_regs regs_for_host(const kvm_regs& r) {
  kvm_regs out = r;
  if (nested_guest_if()) out.rflags |= kRflagsIf;
  return out;
}

// The general registers as a snapshot records them: the guest's, without the switch's IF.
inline kvm_regs regs_for_snapshot(const kvm_regs& r) {
  kvm_regs out = r;
  if (nested_guest_if()) out.rflags &= ~kRflagsIf;
  return out;
}

}  // namespace fnvmm

#endif
