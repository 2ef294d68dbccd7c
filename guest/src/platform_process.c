/*
 * platform_process.c — the runtime as a Linux process: the development and test transport.
 *
 * Before sandboxing it maps its arena and window and measures the TSC frequency (the host sends
 * tsc_khz = 0 in this transport); then it enters seccomp strict mode, after which only read(0),
 * write(1) and exit are possible, and runs exactly the same runtime code as the KVM guest.
 *
 * Frames (fn_abi.h): guest → host  u32 event | header (128 bytes) | output_len bytes
 *                    host → guest  header (128 bytes) | input_len bytes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#include "cpu.h"
#include "fn_abi.h"
#include "platform.h"
#include "process_io.h"

/* musl-gcc has no kernel headers; this value is fixed kernel ABI (linux/seccomp.h). */
#ifndef SECCOMP_MODE_STRICT
#define SECCOMP_MODE_STRICT 1
#endif

#define STDIN 0
#define STDOUT 1

static struct fn_platform_info info = {.name = "process"};
static uint8_t *window; /* FN_WINDOW_SIZE bytes, same layout as the KVM window */

extern char _end[]; /* end of this image, from the linker */

struct fn_window_header *fn_window_header(void)
{
  return (struct fn_window_header *)window;
}

uint8_t *fn_window_data(void)
{
  return window + FN_WINDOW_DATA_OFFSET;
}

const struct fn_platform_info *fn_platform(void)
{
  return &info;
}

static void send_frame(uint32_t event)
{
  struct fn_window_header *h = fn_window_header();
  uint8_t head[4 + FN_WINDOW_HEADER_SIZE];
  memcpy(head, &event, 4);
  memcpy(head + 4, h, FN_WINDOW_HEADER_SIZE);
  fn_io_write_all(STDOUT, head, sizeof head);
  uint32_t n = h->output_len <= FN_WINDOW_DATA_MAX ? h->output_len : 0;
  fn_io_write_all(STDOUT, fn_window_data(), n);
}

void fn_doorbell(uint32_t event)
{
  send_frame(event);
  struct fn_window_header *h = fn_window_header();
  if (fn_io_read_exact(STDIN, h, FN_WINDOW_HEADER_SIZE) < 0)
    fn_io_exit(0); /* the host closed our stdin: it is done with this sandbox */
  /* Input that cannot fit is read and dropped to keep the stream in step; the channel then
   * answers FN_STATUS_BAD_INPUT because input_len exceeds FN_WINDOW_DATA_MAX. */
  uint64_t n = h->input_len;
  uint64_t keep = n <= FN_WINDOW_DATA_MAX ? n : FN_WINDOW_DATA_MAX;
  if (keep && fn_io_read_exact(STDIN, fn_window_data(), (size_t)keep) < 0)
    fn_io_exit(4);
  fn_io_discard(STDIN, n - keep);
}

_Noreturn void fn_platform_panic(const char *message, size_t len)
{
  if (len > FN_WINDOW_DATA_MAX)
    len = FN_WINDOW_DATA_MAX;
  memmove(fn_window_data(), message, len);
  struct fn_window_header *h = fn_window_header();
  h->status = 0;
  h->output_len = (uint32_t)len;
  h->sleep_ns = 0;
  send_frame(FN_EVENT_PANIC);
  fn_io_exit(70);
}

static uint64_t monotonic_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* TSC ticks per ms, measured against CLOCK_MONOTONIC_RAW across a 5 ms sleep. Each end takes the
 * clock between two TSC reads and uses their midpoint, so the error is a few µs in 5 ms. */
static uint64_t calibrate_tsc_khz(void)
{
  uint64_t a0 = fn_rdtsc(), t0 = monotonic_ns(), a1 = fn_rdtsc();
  struct timespec pause = {0, 5000000};
  nanosleep(&pause, NULL);
  uint64_t b0 = fn_rdtsc(), t1 = monotonic_ns(), b1 = fn_rdtsc();
  uint64_t ticks = (b0 + b1) / 2 - (a0 + a1) / 2;
  uint64_t ns = t1 - t0;
  return ns ? (uint64_t)((unsigned __int128)ticks * 1000000u / ns) : 0;
}

static _Noreturn void usage(const char *why)
{
  fprintf(stderr, "fn-guest-process: %s\nusage: fn-guest-process --memory-mib N\n", why);
  exit(2);
}

int main(int argc, char **argv)
{
  unsigned long mib = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--memory-mib") == 0 && i + 1 < argc) {
      char *end;
      mib = strtoul(argv[++i], &end, 10);
      if (*end || mib == 0 || mib > 65536)
        usage("--memory-mib must be a whole number of MiB between 1 and 65536");
    } else {
      usage("unknown argument");
    }
  }
  if (!mib)
    usage("--memory-mib is required");

  /* The same arithmetic as the KVM host: guest RAM holds the low pages and the image (linked at
   * 0x400000 in both builds), the arena, and the stack at the top. */
  uint64_t memory = (uint64_t)mib << 20;
  uint64_t image_end = ((uint64_t)(uintptr_t)_end + FN_PAGE_SIZE - 1) & ~(FN_PAGE_SIZE - 1);
  if (memory <= image_end + FN_STACK_SIZE + (1u << 20))
    usage("--memory-mib is too small to hold the image, the stack and a heap");
  size_t heap = (size_t)(memory - image_end - FN_STACK_SIZE);

  /* MAP_NORESERVE + untouched pages: like guest RAM, memory costs only once it is used. */
  uint8_t *arena = mmap(NULL, heap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  window = mmap(NULL, FN_WINDOW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (arena == MAP_FAILED || window == MAP_FAILED) {
    perror("fn-guest-process: mmap");
    return 2;
  }
  info.heap_start = arena;
  info.heap_end = arena + heap;
  info.memory_bytes = memory;
  info.tsc_khz_fallback = calibrate_tsc_khz();

  /* From here on: read, write, exit, sigreturn. Anything else is SIGKILL. */
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0) {
    perror("fn-guest-process: prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)");
    return 2;
  }
  fn_serve();
}
