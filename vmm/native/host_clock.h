// host_clock.h — host clocks for the guest's time base.
#ifndef FN_VMM_HOST_CLOCK_H
#define FN_VMM_HOST_CLOCK_H

#include <cstdint>

namespace fnvmm {

uint64_t realtime_ns();   // CLOCK_REALTIME
uint64_t monotonic_ns();  // CLOCK_MONOTONIC

// The host TSC frequency in kHz, measured once per process against CLOCK_MONOTONIC (~10 ms, on the
// first call only). Used only when KVM_GET_TSC_KHZ is unavailable: without TSC scaling the guest's
// TSC ticks at the host's rate. 0 if it cannot be measured.
uint32_t measured_tsc_khz();

}  // namespace fnvmm

#endif
