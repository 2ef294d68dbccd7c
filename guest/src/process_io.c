/*
 * process_io.c — raw syscalls for the process build, so nothing can sneak in another syscall
 * (musl's read/write are cancellation points with extra machinery; strict mode would kill us on
 * anything unexpected).
 */
#include <errno.h>
#include <sys/syscall.h>

#include "process_io.h"

#include "cpu.h"

static long raw_syscall3(long n, long a, long b, long c)
{
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

_Noreturn void fn_io_exit(int code)
{
  for (;;) /* SYS_exit ends this (only) thread, hence the process; exit_group is not allowed */
    raw_syscall3(SYS_exit, code, 0, 0);
}

/* EAGAIN can only happen if the host made our pipe non-blocking; strict mode leaves no poll(),
 * so spin politely until the host catches up. */
static int retryable(long r)
{
  if (r == -EINTR)
    return 1;
  if (r == -EAGAIN) {
    fn_cpu_relax();
    return 1;
  }
  return 0;
}

void fn_io_write_all(int fd, const void *p, size_t n)
{
  const char *s = p;
  while (n) {
    long r = raw_syscall3(SYS_write, fd, (long)s, (long)n);
    if (r > 0) {
      s += r;
      n -= (size_t)r;
    } else if (!retryable(r)) {
      fn_io_exit(3); /* the host closed our stdout: nobody is listening any more */
    }
  }
}

int fn_io_read_exact(int fd, void *p, size_t n)
{
  char *s = p;
  size_t got = 0;
  while (got < n) {
    long r = raw_syscall3(SYS_read, fd, (long)(s + got), (long)(n - got));
    if (r > 0) {
      got += (size_t)r;
    } else if (r == 0) {
      if (got == 0)
        return -1;
      fn_io_exit(4); /* a frame cut in the middle */
    } else if (!retryable(r)) {
      fn_io_exit(4);
    }
  }
  return 0;
}

void fn_io_discard(int fd, uint64_t n)
{
  char scratch[4096];
  while (n) {
    size_t chunk = n < sizeof scratch ? (size_t)n : sizeof scratch;
    if (fn_io_read_exact(fd, scratch, chunk) < 0)
      fn_io_exit(0);
    n -= chunk;
  }
}
