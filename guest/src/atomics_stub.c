/*
 * atomics_stub.c — single-threaded stand-ins for the pthread calls behind QuickJS's Atomics
 * (renamed by engine_shim.h so musl's pthread code, which uses futex syscalls, never links in).
 *
 * The guest has exactly one thread, so the waiter-list mutex needs no locking. Atomics.wait can
 * never block here: the runtime never calls JS_SetCanBlock(rt, TRUE), so js_atomics_wait throws
 * "TypeError: cannot block in this thread" before reaching a condition wait. If it ever did reach
 * one, blocking forever would hang the VM silently, so the waits panic instead.
 */
#include <pthread.h>
#include <time.h>

#include "fatal.h"

int fn_pthread_mutex_lock(pthread_mutex_t *m)
{
  (void)m;
  return 0;
}

int fn_pthread_mutex_unlock(pthread_mutex_t *m)
{
  (void)m;
  return 0;
}

int fn_pthread_cond_init(pthread_cond_t *restrict c, const pthread_condattr_t *restrict a)
{
  (void)c;
  (void)a;
  return 0;
}

int fn_pthread_cond_destroy(pthread_cond_t *c)
{
  (void)c;
  return 0;
}

int fn_pthread_cond_signal(pthread_cond_t *c)
{
  (void)c;
  return 0;
}

int fn_pthread_cond_wait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m)
{
  (void)c;
  (void)m;
  fn_panic("Atomics.wait tried to block (the guest has a single thread)");
}

int fn_pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
                              const struct timespec *restrict t)
{
  (void)c;
  (void)m;
  (void)t;
  fn_panic("Atomics.wait tried to block (the guest has a single thread)");
}
