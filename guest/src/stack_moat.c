/*
 * stack_moat.c — see stack_moat.h. The moat is 64 KiB; the 16 KiB nearest the stack are checked
 * (an overflowing stack writes downward from there), which costs about half a microsecond. The
 * memory is never written by the guest, so it adds nothing to a snapshot.
 */
#include <stddef.h>

#include "stack_moat.h"

#define MOAT_BYTES (64u * 1024u)
#define CHECKED_BYTES (16u * 1024u)

static const volatile uint64_t *checked;

uint8_t *fn_stack_moat_reserve(uint8_t *heap_start, uint8_t *heap_end)
{
  if ((size_t)(heap_end - heap_start) < 4 * MOAT_BYTES)
    return heap_end; /* a heap this small has bigger problems; leave it whole */
  uint8_t *top = (uint8_t *)((uintptr_t)heap_end & ~(uintptr_t)7);
  checked = (const volatile uint64_t *)(top - CHECKED_BYTES);
  return heap_end - MOAT_BYTES;
}

bool fn_stack_moat_intact(void)
{
  if (!checked)
    return true;
  uint64_t any = 0;
  for (size_t i = 0; i < CHECKED_BYTES / 8; i++)
    any |= checked[i];
  return any == 0;
}
