/*
 * platform_kvm.c — the runtime's machine in a kernel-less KVM microVM.
 *
 * Identity-mapped memory: the window is at FN_WINDOW_ADDR, boot info at FN_BOOT_INFO_ADDR. A
 * doorbell is `out dx, eax` to FN_PORT_DOORBELL: the vCPU exits to the host, which reads the
 * window, writes the next command and resumes us right after the instruction.
 */
#include <stdint.h>
#include <string.h>

#include "fatal.h"
#include "fn_abi.h"
#include "platform.h"

/* musl's thread block (struct pthread, musl 1.2.3 x86-64), checked against libc.a's code:
 * __errno_location is `mov %fs:0,%rax; add $0x34,%rax`, uselocale reads/writes 0xa8(%fs:0),
 * __init_ssp stores the canary at 0x28(%fs:0). */
#define TLS_SELF_OFFSET 0x00
#define TLS_CANARY_OFFSET 0x28
#define TLS_ERRNO_OFFSET 0x34
#define TLS_LOCALE_OFFSET 0xa8
#define TLS_BLOCK_BYTES 0x200 /* more than sizeof(struct pthread); zeroed so every other field is 0 */

/* A locale whose six category pointers are all NULL is musl's "C" locale (MB_CUR_MAX == 1). */
static const struct {
  const void *categories[6];
} c_locale;

static struct fn_platform_info info = {.name = "kvm"};

extern char _end[]; /* end of the loaded image (bss included), from the linker */

static inline void port_out32(uint16_t port, uint32_t value)
{
  /* "memory": window writes must happen before the exit and reads after the resume. */
  __asm__ volatile("outl %%eax, %%dx" : : "a"(value), "d"(port) : "memory");
}

struct fn_window_header *fn_window_header(void)
{
  return (struct fn_window_header *)(uintptr_t)FN_WINDOW_ADDR;
}

uint8_t *fn_window_data(void)
{
  return (uint8_t *)(uintptr_t)(FN_WINDOW_ADDR + FN_WINDOW_DATA_OFFSET);
}

const struct fn_platform_info *fn_platform(void)
{
  return &info;
}

void fn_doorbell(uint32_t event)
{
  port_out32(FN_PORT_DOORBELL, event);
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
  for (;;) /* a host that resumes a panicked guest only hears the panic again */
    port_out32(FN_PORT_DOORBELL, FN_EVENT_PANIC);
}

/* Fills musl's thread block at the FS base. Volatile stores: the compiler must not turn this
 * loop into a memset call, which would be a libc call before the thread block exists. */
static void init_thread_block(void)
{
  volatile uint64_t *tls = (volatile uint64_t *)(uintptr_t)FN_TLS_ADDR;
  for (unsigned i = 0; i < TLS_BLOCK_BYTES / 8; i++)
    tls[i] = 0;
  tls[TLS_SELF_OFFSET / 8] = FN_TLS_ADDR;
  /* Nothing in the image checks the canary (-fno-stack-protector); keep it non-zero anyway, with
   * a zero low byte as usual so a string overflow cannot reproduce it. */
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  tls[TLS_CANARY_OFFSET / 8] = (((uint64_t)hi << 32 | lo) * 0x9E3779B97F4A7C15ull) & ~0xFFull;
  *(volatile int *)(uintptr_t)(FN_TLS_ADDR + TLS_ERRNO_OFFSET) = 0;
  tls[TLS_LOCALE_OFFSET / 8] = (uint64_t)(uintptr_t)&c_locale;
}

static const char *check_boot_info(const struct fn_boot_info *b)
{
  uint64_t image_end = ((uint64_t)(uintptr_t)_end + FN_PAGE_SIZE - 1) & ~(FN_PAGE_SIZE - 1);
  if (b->magic != FN_BOOT_MAGIC)
    return "bad boot info magic";
  if (b->abi_version != FN_ABI_VERSION)
    return "boot info is for another ABI version";
  if (b->window_addr != FN_WINDOW_ADDR || b->window_size != FN_WINDOW_SIZE)
    return "the window is not where fn_abi.h puts it";
  if (b->tls_addr != FN_TLS_ADDR)
    return "the thread block is not at FN_TLS_ADDR";
  if (b->heap_start < image_end || b->heap_start % FN_PAGE_SIZE)
    return "heap_start overlaps the image or is not page aligned";
  if (b->heap_end <= b->heap_start || b->mem_size < FN_STACK_SIZE || b->heap_end > b->mem_size - FN_STACK_SIZE)
    return "heap_end is not between heap_start and the stack";
  return NULL;
}

_Noreturn void fn_kvm_entry(const struct fn_boot_info *boot)
{
  init_thread_block();
  if (!boot)
    boot = (const struct fn_boot_info *)(uintptr_t)FN_BOOT_INFO_ADDR;
  const char *bad = check_boot_info(boot);
  if (bad)
    fn_panic("boot: %s", bad);
  info.heap_start = (uint8_t *)(uintptr_t)boot->heap_start;
  info.heap_end = (uint8_t *)(uintptr_t)boot->heap_end;
  info.memory_bytes = boot->mem_size;
  info.tsc_khz_fallback = 0; /* the host sends tsc_khz with every command */
  fn_serve();
}
