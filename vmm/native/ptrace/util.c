/*
 * util.c — errors, page runs, CRC-32, clocks: the small things every other file uses.
 */
#include "vmm.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int fail(struct err *e, uint32_t status, const char *name, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  e->status = status;
  snprintf(e->name, sizeof e->name, "%s", name);
  return -1;
}

int panic_frame_on_die;

_Noreturn void die(const char *fmt, ...)
{
  char msg[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "ptrace-vmm[%d]: %s\n", (int)getpid(), msg);
  if (panic_frame_on_die) {
    panic_frame_on_die = 0; /* a failing write to the parent dies here again: don't loop */
    char text[1300];
    snprintf(text, sizeof text, "ptrace-vmm: %s", msg);
    frame_reply(0, FN_EVENT_PANIC, 0, text);
  }
  if (vm.pid > 0)
    kill(vm.pid, SIGKILL);
  exit(1);
}

_Noreturn void refuse(const struct err *e)
{
  fprintf(stderr, "ptrace-vmm: %s: %s\n", e->name, e->msg);
  if (vm.pid > 0)
    kill(vm.pid, SIGKILL);
  exit(2);
}

void runs_add(struct runs *r, uint64_t first, uint64_t count)
{
  if (!count)
    return;
  if (r->n && r->v[r->n - 1].first + r->v[r->n - 1].count == first) {
    r->v[r->n - 1].count += count;
    return;
  }
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 64;
    r->v = realloc(r->v, r->cap * sizeof *r->v);
    if (!r->v)
      die("out of memory");
  }
  r->v[r->n++] = (struct run){first, count};
}

void runs_free(struct runs *r)
{
  free(r->v);
  *r = (struct runs){0};
}

uint64_t runs_pages(const struct runs *r)
{
  uint64_t n = 0;
  for (size_t i = 0; i < r->n; i++)
    n += r->v[i].count;
  return n;
}

uint64_t now_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* CRC-32 as in zlib (reflected polynomial 0xEDB88320), so Node's zlib.crc32 checks the files. */
int is_zero_page(const uint8_t *p)
{
  const uint64_t *w = (const uint64_t *)p;
  uint64_t acc = 0;
  for (size_t i = 0; i < PAGE / 8; i += 8)
    acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];
  return acc == 0;
}

void random_id(uint8_t id[16])
{
  if (getrandom(id, 16, 0) != 16)
    die("getrandom: %s", strerror(errno));
}

size_t json_escape(char *out, size_t cap, const char *s)
{
  size_t n = 0;
  for (; *s && n + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c < 0x20) {
      n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  out[n] = 0;
  return n;
}
