// vcpu_runner.h — runs the guest until it rings the doorbell with a result, on the vCPU thread.
//
// One loop over KVM_RUN with one switch over exit reasons (kvmtool style). Handled in place, without
// returning to the caller: FN_EVENT_SLEEP (sleep up to the deadline, refresh the clock, re-enter) and
// spurious EINTR. Everything else ends the exchange: READY / DONE / PANIC with the validated report,
// or a VmError whose kind says what went wrong.
//
// Guest faults (kind 'guest_fault') arrive one of two ways:
//   - FN_PORT_FAULT from a fault stub (long_mode.h: the IDT sends every CPU exception there, at
//     CPL0 on the IST stack): vector, error code, RIP, CS, RFLAGS, RSP, SS come from the exception
//     frame the CPU pushed, CR2 from sregs. Trusted only with RIP inside the stubs and CPL 0, and
//     the frame only inside the IST page. This is the path on Intel (VMX) and AMD (SVM).
//   - KVM_EXIT_SHUTDOWN (a triple fault): the fallback, when the exception could not be delivered
//     (a fault inside a stub; a snapshot from before the IDT existed; PVM, which ignores the IDT
//     and delivers exceptions through its own MSRs, which this VMM does not set). The registers are
//     then read with KVM_GET_REGS/SREGS: right on VMX and PVM, which keep the vCPU's state, but on
//     SVM KVM resets the vCPU before reporting the shutdown, so they read RIP 0xfff0 — the message
//     says so when it sees that state.
//
// The runner sees the vCPU through RunnableVcpu so the exit decoding is unit-tested with scripted
// exits; microvm.cc adapts the real Vcpu to it.
#ifndef FN_VMM_VCPU_RUNNER_H
#define FN_VMM_VCPU_RUNNER_H

#include <linux/kvm.h>

#include <chrono>
#include <cstdint>
#include <functional>

#include "errors.h"
#include "guest_memory.h"
#include "watchdog.h"
#include "window.h"

namespace fnvmm {

class RunnableVcpu {
 public:
  virtual ~RunnableVcpu() = default;
  virtual int run() = 0;  // KVM_RUN: 0, or the errno it failed with
  virtual kvm_run* run_data() = 0;
  virtual size_t run_size() const = 0;
  virtual kvm_regs get_regs() = 0;    // throws KvmError
  virtual kvm_sregs get_sregs() = 0;  // throws KvmError
};

struct RunnerEnv {
  RunnableVcpu* vcpu = nullptr;
  const GuestMemory* memory = nullptr;  // guest RAM: the fault stubs' frame is read from it
  Window* window = nullptr;
  KickTarget* kick = nullptr;  // armed by the caller for this run
  std::chrono::steady_clock::time_point deadline;
  uint64_t timeout_ms = 0;  // for the message only
  // Sleeps until `until` unless a stop is requested first; returns false if it was.
  std::function<bool(std::chrono::steady_clock::time_point until)> sleep_until;
  // CLOCK_REALTIME in ns, written to now_unix_ns after a sleep.
  std::function<uint64_t()> realtime_ns;
};

struct RunResult {
  bool ok = false;
  uint32_t event = 0;  // FN_EVENT_READY | FN_EVENT_DONE | FN_EVENT_PANIC when ok
  GuestReport report;
  VmError error;       // when !ok
};

RunResult run_until_doorbell(RunnerEnv& env);

// Helpers shared with tests.
const char* exit_reason_name(uint32_t reason);
VmError timeout_error(uint64_t timeout_ms);
VmError closed_error();

}  // namespace fnvmm

#endif
