/*
 * time_shim.c — the guest's gettimeofday / clock_gettime / localtime_r, which QuickJS calls under
 * the names fn_* (see engine_shim.h). Functions run in UTC with a zero time-zone offset, like AWS
 * Lambda; musl's localtime would go looking for zoneinfo files.
 */
#include <sys/time.h>
#include <time.h>

#include "clock.h"

int fn_gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
  (void)tz;
  uint64_t ns = fn_clock_now_ns();
  tv->tv_sec = (time_t)(ns / 1000000000u);
  tv->tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
  return 0;
}

int fn_clock_gettime(clockid_t clk, struct timespec *ts)
{
  /* Every clock reads the same source: it is both wall time and never goes backwards. */
  (void)clk;
  uint64_t ns = fn_clock_now_ns();
  ts->tv_sec = (time_t)(ns / 1000000000u);
  ts->tv_nsec = (long)(ns % 1000000000u);
  return 0;
}

static long floor_div(long long a, long long b)
{
  return (long)(a / b - (a % b != 0 && (a < 0) != (b < 0)));
}

/* Days since 1970-01-01 to a proleptic Gregorian date. Works in 400-year eras (146097 days), with
 * years starting on March 1 so the leap day is the last day of a year. */
static void civil_from_days(long long days, long long *year, int *month, int *day)
{
  long long shifted = days + 719468; /* days from 0000-03-01 */
  long long era = floor_div(shifted, 146097);
  long long day_of_era = shifted - era * 146097;                                       /* [0, 146096] */
  long long year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  long long day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); /* from Mar 1 */
  long long month_index = (5 * day_of_year + 2) / 153;                                  /* 0 = March */
  *day = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
  *month = (int)(month_index < 10 ? month_index + 3 : month_index - 9);
  *year = year_of_era + era * 400 + (*month <= 2);
}

static int is_leap(long long y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

struct tm *fn_localtime_r(const time_t *restrict t, struct tm *restrict tm)
{
  static const int month_start[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  long long secs = (long long)*t;
  long long days = floor_div(secs, 86400);
  long long rem = secs - days * 86400;
  long long year;
  int month, day;
  civil_from_days(days, &year, &month, &day);
  tm->tm_sec = (int)(rem % 60);
  tm->tm_min = (int)(rem / 60 % 60);
  tm->tm_hour = (int)(rem / 3600);
  tm->tm_mday = day;
  tm->tm_mon = month - 1;
  tm->tm_year = (int)(year - 1900);
  tm->tm_wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
  tm->tm_yday = month_start[month - 1] + day - 1 + (month > 2 && is_leap(year));
  tm->tm_isdst = 0;
  tm->tm_gmtoff = 0;
  tm->tm_zone = "UTC";
  return tm;
}
