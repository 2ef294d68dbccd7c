/*
 * time_shim_test.c — fn_localtime_r (UTC) against the host libc's gmtime_r over a wide range of
 * times, negative ones and leap years included. Built for the host by scripts/test-c.mjs; one
 * case, reported as "ok <name> # <detail>" or "FAIL <name>: <why>" (the first few mismatches).
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct tm *fn_localtime_r(const time_t *restrict t, struct tm *restrict tm);
uint64_t fn_clock_now_ns(void) { return 0; } /* time_shim.c's other functions need a clock */

int main(void)
{
  int failures = 0, cases = 0;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 2000000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    /* ±10000 years around 1970, plus dense coverage near the epoch and leap days. */
    time_t t = i % 2 ? (time_t)((int64_t)(x % 631152000000ull) - 315576000000ll) : (time_t)((int64_t)(x % 4000000000ull) - 2000000000ll);
    struct tm want, got;
    gmtime_r(&t, &want);
    fn_localtime_r(&t, &got);
    cases++;
    if (want.tm_year != got.tm_year || want.tm_mon != got.tm_mon || want.tm_mday != got.tm_mday ||
        want.tm_hour != got.tm_hour || want.tm_min != got.tm_min || want.tm_sec != got.tm_sec ||
        want.tm_wday != got.tm_wday || want.tm_yday != got.tm_yday || got.tm_gmtoff != 0) {
      if (failures++ < 5)
        printf("FAIL fn_localtime_r == gmtime_r: t=%lld: want %d-%d-%d %d:%d:%d wday %d yday %d, got %d-%d-%d %d:%d:%d wday %d yday %d\n",
               (long long)t, want.tm_year, want.tm_mon, want.tm_mday, want.tm_hour, want.tm_min, want.tm_sec,
               want.tm_wday, want.tm_yday, got.tm_year, got.tm_mon, got.tm_mday, got.tm_hour, got.tm_min,
               got.tm_sec, got.tm_wday, got.tm_yday);
    }
  }
  printf("time_shim: %d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
  if (!failures)
    printf("ok fn_localtime_r == gmtime_r # on %d times\n", cases);
  return failures ? 1 : 0;
}
