/*
 * platform.h — what the shared runtime needs from the machine it runs on. Two implementations:
 *   platform_kvm.c      kernel-less microVM: the window is a memory slot, a doorbell is `out`;
 *   platform_process.c  Linux process under seccomp strict: the window is a private buffer and a
 *                       doorbell is a frame on stdout followed by a frame read from stdin.
 * Everything else (allocator, clock, QuickJS, commands) is identical in both builds.
 */
#ifndef FN_PLATFORM_H
#define FN_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "fn_abi.h"

struct fn_platform_info {
  uint8_t *heap_start;       /* the arena: [heap_start, heap_end) */
  uint8_t *heap_end;
  uint64_t memory_bytes;     /* the function's memory size, reported to JS as info.memoryBytes */
  uint64_t tsc_khz_fallback; /* used when the host sends tsc_khz = 0 (process transport); 0 = unknown */
  const char *name;          /* "kvm" or "process" */
};

const struct fn_platform_info *fn_platform(void);

/* The shared window: header at offset 0, data at FN_WINDOW_DATA_OFFSET (same layout in both). */
struct fn_window_header *fn_window_header(void);
uint8_t *fn_window_data(void);

/* Ring the doorbell with `event` (guest fields of the header already filled in). Returns when the
 * host handed over the next command (after READY/DONE) or resumed the guest (after SLEEP). */
void fn_doorbell(uint32_t event);

/* Report an unrecoverable error to the host (FN_EVENT_PANIC with the message) and never return. */
_Noreturn void fn_platform_panic(const char *message, size_t len);

/* The shared runtime's entry point, called by the platform once the machine is set up. */
_Noreturn void fn_serve(void);

#endif /* FN_PLATFORM_H */
