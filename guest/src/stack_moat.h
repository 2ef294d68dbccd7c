/*
 * stack_moat.h — detects the C stack overflowing into the heap.
 *
 * In the microVM the 1 MiB stack sits directly above the arena with no guard page unless the
 * host leaves one out of the page tables. QuickJS checks its own stack depth almost everywhere,
 * but not everywhere: QuickJS 2021's JSON.stringify recurses without a check, so a value nested
 * ~10^5 deep runs the C stack off its bottom. The top of the arena is therefore kept as a moat the
 * allocator never hands out; it stays zero unless the stack overflowed into it, and it is checked
 * after every command, so an overflow that stopped within the moat ends the VM with a clear panic
 * instead of silently corrupting the heap of later invocations.
 *
 * Honest limits: an overflow that runs megabytes deep goes through the moat into live heap during
 * the command and may crash or hang the VM before the check runs (the host's deadline still ends
 * it). The real protection is a guard page: the host should leave the page just below the stack
 * out of the guest page tables (heap_end <= stack bottom - 4 KiB), turning any overflow into a
 * page fault, i.e. KVM_EXIT_SHUTDOWN. The KVM host (vmm/native/long_mode.cc, FN_STACK_GUARD_SIZE in
 * fn_abi.h) and vmm/build/ptrace-vmm do exactly that.
 */
#ifndef FN_STACK_MOAT_H
#define FN_STACK_MOAT_H

#include <stdbool.h>
#include <stdint.h>

/* Takes the moat off the top of [heap_start, heap_end); returns the new heap end. */
uint8_t *fn_stack_moat_reserve(uint8_t *heap_start, uint8_t *heap_end);
/* False if anything wrote into the part of the moat next to the stack. */
bool fn_stack_moat_intact(void);

#endif /* FN_STACK_MOAT_H */
