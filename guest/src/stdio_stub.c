/*
 * stdio_stub.c — the guest's answers to the stdio calls QuickJS makes (renamed by engine_shim.h).
 *
 * Only QuickJS's debug dumps (DUMP_* switches, JS_DumpMemoryUsage) print; none is compiled in or
 * called by the runtime. The guest has no stdout: output would need a syscall, so it is dropped.
 * Keeping musl's stdout/stderr objects out of the link also keeps their write paths out.
 */
#include <stdio.h>

int fn_printf(const char *fmt, ...)
{
  (void)fmt;
  return 0;
}

int fn_fprintf(FILE *f, const char *fmt, ...)
{
  (void)f;
  (void)fmt;
  return 0;
}

int fn_fputc(int c, FILE *f)
{
  (void)f;
  return (unsigned char)c;
}

size_t fn_fwrite(const void *p, size_t size, size_t n, FILE *f)
{
  (void)p;
  (void)size;
  (void)f;
  return n;
}

int fn_putchar(int c)
{
  return (unsigned char)c;
}
