// cpu_state.h — the vCPU's state in a snapshot, and cpu.bin, the file that holds it.
//
// What is saved, and why that is all of it. The guest runs only at CPL3 with no interrupts and
// no devices, so it can change nothing but:
//   - general registers, RIP, RFLAGS                          → kvm_regs
//   - segment registers it may load (DS/ES/FS/GS/SS; loading FS resets the FS base) → kvm_sregs,
//     which also carries CR0/CR3/CR4/EFER, GDT/IDT/TR and the FS/GS bases
//   - x87/SSE (and, on PVM where the guest runs under the host's XCR0, possibly AVX) state
//     → the whole XSAVE area (KVM_GET/SET_XSAVE, as QEMU and Firecracker do). KVM_SET_FPU writes
//     only the legacy area and does not touch XSTATE_BV, so a component the vCPU holds in its
//     initial state would come back as zeros; it is used only where KVM has no XSAVE support.
// MSRs: WRMSR faults at CPL3, so the guest cannot change any. Saved are the ones the VMM sets or a
// restored vCPU could get wrong: STAR, LSTAR, SFMASK (required: the stray-syscall path); CSTAR and
// KERNEL_GS_BASE (optional: unreachable or untouched, saved for completeness; a KVM that refuses
// them is tolerated); IA32_TSC (optional: see below). EFER and the FS/GS bases travel in kvm_sregs
// (KVM_SET_SREGS writes them), so they are not listed twice.
// TSC: the guest's wall clock is now_unix_ns from the window, written with every command, and it
// measures durations with rdtsc deltas inside one command at the rate in the window's tsc_khz,
// which the host also writes with every command. So the clock is right after a restore whatever
// the TSC reads. IA32_TSC is restored anyway where KVM allows, so rdtsc never goes backwards
// across snapshot/restore for values a guest kept in memory. PVM caveat: the guest runs at host
// CPL3 and rdtsc may read the host TSC directly, ignoring the offset KVM sets; then the guest's
// TSC jumps (forwards or backwards) across a restore, which is harmless for the reasons above.
// Not saved: XCRs (XSETBV faults at CPL3), debug registers, vCPU events (set_regs clears pending
// exceptions; nothing else can be pending without interrupts), LAPIC (none: no irqchip).
// CPUID: not restored from the snapshot (a restore sets the host's supported CPUID), but the
// feature words are recorded and a restore is refused on a host lacking one of them: the guest may
// have cached a feature check (rdrand, for one) and would fault later, far from the cause.
//
// cpu.bin follows the envelope of guest/include/fn_vmm_control.h (shared with the ptrace VMM):
//   0 magic "FNCPUST\0" | 8 u32 version 1 | 12 u32 file length | 16 platform "kvm\0\0\0\0\0" |
//   24 snapshot id[16] | 40 u64 mem_size | 48 u32 FN_ABI_VERSION | 52 u32 0 |
//   56 sections, each {u32 tag, u32 length, length bytes, zeros to an 8-byte boundary} |
//   CRC-32 (zlib) of every byte before it.
// Sections (version 1), each exactly once: 1 REGS (struct kvm_regs), 2 SREGS (struct kvm_sregs),
// 3 XSAVE (the KVM XSAVE area, >= 4096 bytes) or 4 FPU (struct kvm_fpu), 5 MSRS (u32 count, u32 0,
// count x {u32 index, u32 0, u64 value}), 6 CPUID (u32 count, u32 0, count x {u32 function,
// u32 index, u32 register 0..3 = eax..edx, u32 bits}), 7 TSC (u32 tsc_khz, u32 0).
#ifndef FN_VMM_CPU_STATE_H
#define FN_VMM_CPU_STATE_H

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "snapshot_files.h"

namespace fnvmm {

class Vcpu;

struct CpuMsr {
  uint32_t index;
  uint64_t value;
};

struct CpuFeature {
  uint32_t function;
  uint32_t index;
  uint32_t reg;   // 0 eax, 1 ebx, 2 ecx, 3 edx
  uint32_t bits;
};

struct CpuState {
  kvm_regs regs{};
  kvm_sregs sregs{};
  std::vector<uint8_t> xsave;  // the XSAVE area (>= 4096 bytes), or empty: then `fpu` holds the FPU
  kvm_fpu fpu{};
  std::vector<CpuMsr> msrs;
  std::vector<CpuFeature> features;
  uint32_t tsc_khz = 0;
};

// The header fields that tie cpu.bin to its snapshot.
struct CpuFileInfo {
  SnapshotId id;
  uint64_t mem_size = 0;
};

constexpr uint32_t kMsrKernelGsBase = 0xC0000102;
constexpr uint32_t kMsrTsc = 0x10;
// STAR, LSTAR, SFMASK: a state without them is refused.
const std::vector<uint32_t>& required_msrs();
// CSTAR, KERNEL_GS_BASE, IA32_TSC: saved and restored where KVM accepts them.
const std::vector<uint32_t>& optional_msrs();

std::vector<uint8_t> encode_cpu_file(const CpuState& s, const CpuFileInfo& info);
// Checks magic, length, CRC (before believing the version), version, platform, mem_size ==
// expected, ABI version, every section, and that the registers are those of a CPL3 guest in long
// mode running from RAM. Throws SnapshotError naming `path`.
CpuState decode_cpu_file(const uint8_t* data, size_t len, uint64_t expected_mem_size, const std::string& path,
                         CpuFileInfo* info);

// The feature words a snapshot records, taken from the CPUID the vCPU was given.
std::vector<CpuFeature> cpu_features(const std::vector<kvm_cpuid_entry2>& cpuid);
// "" if every recorded feature bit is present in `host`, else what is missing.
std::string missing_cpu_features(const std::vector<CpuFeature>& recorded, const std::vector<kvm_cpuid_entry2>& host);

// struct kvm_xsave's fixed region. Not sizeof(kvm_xsave): in C++ the header's flexible-array
// shim adds bytes to it.
constexpr size_t kXsaveRegionBytes = 4096;

// How this KVM carries FPU state: the XSAVE area size (KVM_CAP_XSAVE2's value, or 4096 with
// KVM_CAP_XSAVE only), or 0 for KVM_GET/SET_FPU.
struct FpuAccess {
  size_t xsave_size = 0;
  bool xsave2 = false;  // read with KVM_GET_XSAVE2
};

// Whether two register states are the same, field by field (padding ignored).
bool same_sregs(const kvm_sregs& a, const kvm_sregs& b);

// Reads the vCPU (it must be stopped with no I/O pending: see microvm.cc). Throws KvmError.
CpuState capture_cpu_state(Vcpu& vcpu, const FpuAccess& fpu, uint32_t tsc_khz, const std::vector<kvm_cpuid_entry2>& cpuid);

struct ApplyReport {
  std::vector<uint32_t> msrs_refused;  // optional MSRs KVM would not take
};
// Sets sregs, regs, FPU and MSRs. CPUID must have been set already (KVM checks EFER and CR4
// against it). Throws KvmError, also when a required MSR is refused.
ApplyReport apply_cpu_state(Vcpu& vcpu, const FpuAccess& fpu, const CpuState& s);
// Only the FPU/SSE part (reset sets registers through kvm_run instead).
void apply_fpu_state(Vcpu& vcpu, const FpuAccess& fpu, const CpuState& s);

}  // namespace fnvmm

#endif
