/*
 * clock.c — now = the host's now_unix_ns at the start of the command
 *                 + (rdtsc - tsc at the start of the command) * 1e6 / tsc_khz.
 *
 * Re-basing on every command (and after every sleep) means drift between the TSC and the host's
 * clock never accumulates past one command, and a VM restored from a snapshot gets the current
 * time instead of the time the snapshot was taken. Within a command, readings are clamped so time
 * never runs backwards (a fresh reading after a sleep may be a little behind our extrapolation).
 * Across commands the host is the authority: a snapshot taken on a host whose clock ran ahead
 * must not freeze Date.now() in its clones until real time catches up.
 */
#include "clock.h"

#include "cpu.h"
#include "platform.h"

static uint64_t base_ns;   /* host wall clock at base_tsc */
static uint64_t base_tsc;
static uint64_t khz;       /* 0: unknown, time only moves when the host says so */
static uint64_t last_ns;   /* the latest value returned, for monotonicity */
static uint64_t command_tsc;
static uint64_t command_slept_ticks;

uint64_t fn_clock_ticks_to_ns(uint64_t ticks)
{
  if (!khz)
    return 0;
  /* ticks * 1e6 / khz without overflow for any realistic interval (128-bit intermediate). */
  return (uint64_t)((unsigned __int128)ticks * 1000000u / khz);
}

void fn_clock_begin_command(uint64_t now_unix_ns, uint64_t tsc_khz)
{
  khz = tsc_khz ? tsc_khz : fn_platform()->tsc_khz_fallback;
  base_ns = now_unix_ns;
  base_tsc = fn_rdtsc();
  command_tsc = base_tsc;
  command_slept_ticks = 0;
  last_ns = 0;
}

void fn_clock_after_sleep(uint64_t now_unix_ns, uint64_t slept_ticks)
{
  base_ns = now_unix_ns;
  base_tsc = fn_rdtsc();
  command_slept_ticks += slept_ticks;
}

uint64_t fn_clock_now_ns(void)
{
  uint64_t now = base_ns + fn_clock_ticks_to_ns(fn_rdtsc() - base_tsc);
  if (now < last_ns)
    now = last_ns;
  last_ns = now;
  return now;
}

double fn_clock_now_ms(void)
{
  uint64_t ns = fn_clock_now_ns();
  /* Split so the integer milliseconds stay exact in a double. */
  return (double)(ns / 1000000u) + (double)(ns % 1000000u) / 1e6;
}

uint64_t fn_clock_command_guest_ns(void)
{
  uint64_t ticks = fn_rdtsc() - command_tsc;
  ticks = ticks > command_slept_ticks ? ticks - command_slept_ticks : 0;
  return fn_clock_ticks_to_ns(ticks);
}
