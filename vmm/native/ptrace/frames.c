/*
 * frames.c — the process transport of fn_abi.h towards the parent (stdin/stdout), and the TSC
 * frequency the VMM hands the guest with every command.
 *
 * The window is one MAP_SHARED mapping at FN_WINDOW_ADDR in this process and the guest process:
 * the guest reads commands from it and writes replies into it, as it would from a KVM memory slot.
 */
#include "vmm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fn_window_header *const window_header = (struct fn_window_header *)(uintptr_t)FN_WINDOW_ADDR;
uint8_t *const window_data = (uint8_t *)(uintptr_t)(FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET);

static void write_all(const void *p, size_t n)
{
  const char *s = p;
  while (n) {
    ssize_t r = write(1, s, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      die("write to the parent failed");
    s += r;
    n -= (size_t)r;
  }
}

/* 1 = got n bytes, 0 = clean EOF before the first byte. */
static int read_exact(void *p, size_t n)
{
  char *s = p;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(0, s + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0 && got == 0)
      return 0;
    if (r <= 0)
      die("truncated frame from the parent");
    got += (size_t)r;
  }
  return 1;
}

void frame_send(uint32_t event, const struct fn_window_header *h, const void *data, uint32_t len)
{
  /* One write when it is small: a frame is the unit the parent waits for. */
  static uint8_t small[4 + FN_WINDOW_HEADER_SIZE + 4096];
  if (len <= 4096) {
    memcpy(small, &event, 4);
    memcpy(small + 4, h, FN_WINDOW_HEADER_SIZE);
    memcpy(small + 4 + FN_WINDOW_HEADER_SIZE, data, len);
    write_all(small, 4 + FN_WINDOW_HEADER_SIZE + len);
    return;
  }
  write_all(&event, 4);
  write_all(h, FN_WINDOW_HEADER_SIZE);
  write_all(data, len);
}

int frame_read_header(struct fn_window_header *h)
{
  return read_exact(h, FN_WINDOW_HEADER_SIZE);
}

/* Reads `len` bytes of input, keeping the first `keep` in dst and dropping the rest, so the
 * stream stays in step whatever the parent claimed. */
void frame_read_input(void *dst, uint64_t len, uint64_t keep)
{
  if (keep > len)
    keep = len;
  if (keep && !read_exact(dst, (size_t)keep))
    die("truncated input");
  for (uint64_t left = len - keep; left;) {
    static char scratch[65536];
    size_t chunk = left < sizeof scratch ? (size_t)left : sizeof scratch;
    if (!read_exact(scratch, chunk))
      die("truncated input");
    left -= chunk;
  }
}

/* A frame written by the VMM itself (control replies, READY after a restore). */
void frame_reply(uint32_t command, uint32_t event, uint32_t status, const char *json)
{
  struct fn_window_header h = {
      .magic = FN_WINDOW_MAGIC,
      .abi_version = FN_ABI_VERSION,
      .command = command,
      .status = status,
      .output_len = (uint32_t)strlen(json),
  };
  frame_send(event, &h, json, h.output_len);
}

/* ---- TSC frequency ----------------------------------------------------------------------------
 * The guest advances its clock with rdtsc and needs the frequency. The parent may send it; if it
 * sends 0 (the process transport does), the VMM fills it in, as the KVM host does. It is measured
 * against CLOCK_MONOTONIC_RAW over the VMM's own start-up, so a restore does not sleep for it:
 * only a command arriving within CALIBRATION_NS of start waits for the rest. */
#define CALIBRATION_NS 5000000ull
uint64_t tsc_khz_override;

static uint64_t rdtsc(void)
{
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t)hi << 32 | lo;
}

static uint64_t raw_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC_RAW, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t start_tsc, start_ns;
__attribute__((constructor)) static void calibration_start(void)
{
  start_ns = raw_ns();
  start_tsc = rdtsc();
}

uint64_t tsc_khz(void)
{
  static uint64_t khz;
  if (tsc_khz_override)
    return tsc_khz_override;
  if (!khz) {
    uint64_t ns = raw_ns() - start_ns;
    if (ns < CALIBRATION_NS) {
      struct timespec pause = {0, (long)(CALIBRATION_NS - ns)};
      nanosleep(&pause, NULL);
    }
    uint64_t t = rdtsc();
    ns = raw_ns() - start_ns;
    khz = (uint64_t)((unsigned __int128)(t - start_tsc) * 1000000u / ns);
  }
  return khz;
}
