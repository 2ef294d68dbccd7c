/*
 * native_shims.c — qjs-native's side of engine_shim.h: the engine objects are shared with the
 * guest builds, so they call fn_gettimeofday & co.; on Linux those simply forward to libc.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

int fn_gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
  return gettimeofday(tv, tz);
}

int fn_clock_gettime(clockid_t clk, struct timespec *ts)
{
  return clock_gettime(clk, ts);
}

struct tm *fn_localtime_r(const time_t *restrict t, struct tm *restrict tm)
{
  return localtime_r(t, tm);
}

int fn_pthread_mutex_lock(pthread_mutex_t *m) { return pthread_mutex_lock(m); }
int fn_pthread_mutex_unlock(pthread_mutex_t *m) { return pthread_mutex_unlock(m); }
int fn_pthread_cond_init(pthread_cond_t *restrict c, const pthread_condattr_t *restrict a) { return pthread_cond_init(c, a); }
int fn_pthread_cond_destroy(pthread_cond_t *c) { return pthread_cond_destroy(c); }
int fn_pthread_cond_signal(pthread_cond_t *c) { return pthread_cond_signal(c); }
int fn_pthread_cond_wait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m) { return pthread_cond_wait(c, m); }
int fn_pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m, const struct timespec *restrict t)
{
  return pthread_cond_timedwait(c, m, t);
}

int fn_printf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}

int fn_fprintf(FILE *f, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vfprintf(f, fmt, ap);
  va_end(ap);
  return n;
}

int fn_fputc(int c, FILE *f) { return fputc(c, f); }
size_t fn_fwrite(const void *p, size_t size, size_t n, FILE *f) { return fwrite(p, size, n, f); }
int fn_putchar(int c) { return putchar(c); }
