/*
 * fatal.c — panic reporting, and the guest's own abort() and __assert_fail().
 *
 * Defining abort and __assert_fail here keeps musl's versions (which raise signals and write to
 * stderr, i.e. make syscalls) out of the link: the linker only pulls an archive member for a symbol
 * nobody defined. QuickJS calls abort() on internal inconsistencies and assert() on invariants.
 */
#include <stdarg.h>
#include <stdio.h>

#include "fatal.h"
#include "platform.h"

_Noreturn void fn_panic(const char *fmt, ...)
{
  /* Static, not on the stack: a panic may come from a stack that is nearly exhausted. */
  static char message[1024];
  static int panicking;
  if (panicking) {
    /* Formatting the first panic failed in some way: report without formatting. */
    static const char again[] = "panic while panicking";
    fn_platform_panic(again, sizeof again - 1);
  }
  panicking = 1;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  if ((size_t)n >= sizeof message)
    n = sizeof message - 1;
  fn_platform_panic(message, (size_t)n);
}

_Noreturn void abort(void)
{
  fn_panic("abort() called in the guest runtime");
}

_Noreturn void __assert_fail(const char *expr, const char *file, int line, const char *func)
{
  fn_panic("assertion failed: %s (%s:%d, %s)", expr, file, line, func);
}
