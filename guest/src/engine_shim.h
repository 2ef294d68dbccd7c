/*
 * engine_shim.h — force-included (gcc -include) into every QuickJS translation unit, identically in
 * all three builds (fn-guest.elf, fn-guest-process, qjs-native), so the engine objects are the same.
 *
 * Why: the vendored QuickJS sources must stay untouched, yet a few libc entry points they call
 * would reach the operating system (the clock, the time zone, pthreads for Atomics.wait, stdio in
 * debug dumps). Defining these names before any system header is read makes those headers declare
 * our renamed functions with the original prototypes; each build then supplies them:
 *   - the guest builds answer from their own clock, UTC, single-threaded stand-ins and no-op stdio
 *     (time_shim.c, atomics_stub.c, stdio_stub.c): no syscall can be reached from the engine;
 *   - qjs-native forwards them to libc (native/native_shims.c).
 */
#ifndef FN_ENGINE_SHIM_H
#define FN_ENGINE_SHIM_H

/* Time: Date.now(), new Date(), Math.random's seed, getTimezoneOffset. */
#define gettimeofday fn_gettimeofday
#define clock_gettime fn_clock_gettime
#define localtime_r fn_localtime_r

/* Atomics (CONFIG_ATOMICS): the waiter list is guarded by a mutex and waits on a condition. */
#define pthread_mutex_lock fn_pthread_mutex_lock
#define pthread_mutex_unlock fn_pthread_mutex_unlock
#define pthread_cond_init fn_pthread_cond_init
#define pthread_cond_destroy fn_pthread_cond_destroy
#define pthread_cond_signal fn_pthread_cond_signal
#define pthread_cond_wait fn_pthread_cond_wait
#define pthread_cond_timedwait fn_pthread_cond_timedwait

/* stdio: only debug dumps use these. Renaming also stops gcc from turning them into puts/fputs. */
#define printf fn_printf
#define fprintf fn_fprintf
#define fputc fn_fputc
#define fwrite fn_fwrite
#define putchar fn_putchar

#endif /* FN_ENGINE_SHIM_H */
