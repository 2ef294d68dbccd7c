/*
 * clock.h — wall-clock time without a kernel: the host hands over "now" with every command and
 * the guest advances it with the TSC. Also times the guest's own work (guest_ns).
 */
#ifndef FN_CLOCK_H
#define FN_CLOCK_H

#include <stdint.h>

/* A command arrived: take the host's wall clock and TSC frequency (0 = use the platform's). */
void fn_clock_begin_command(uint64_t now_unix_ns, uint64_t tsc_khz);
/* The host resumed the guest after FN_EVENT_SLEEP with a fresh wall clock. */
void fn_clock_after_sleep(uint64_t now_unix_ns, uint64_t slept_ticks);

uint64_t fn_clock_now_ns(void);  /* unix time in ns; never goes backwards */
double fn_clock_now_ms(void);    /* unix time in ms with sub-ms precision */
uint64_t fn_clock_ticks_to_ns(uint64_t ticks);
/* ns the guest spent on the current command, excluding time asleep. */
uint64_t fn_clock_command_guest_ns(void);

#endif /* FN_CLOCK_H */
