/*
 * entropy.h — the guest's CSPRNG (ChaCha20 keystream), rekeyed from the host's fresh entropy on
 * every command so that VMs restored from one snapshot diverge immediately. Backs
 * crypto.getRandomValues (via __fn_native.randomFill) and Math.random.
 */
#ifndef FN_ENTROPY_H
#define FN_ENTROPY_H

#include <stddef.h>
#include <stdint.h>

void fn_entropy_init(void);                       /* boot: seed from RDRAND if present, else the TSC */
void fn_entropy_reseed(const uint8_t host[32]);   /* every command */
void fn_entropy_fill(void *out, size_t n);
uint64_t fn_entropy_u64(void);
double fn_entropy_double(void);                   /* uniform in [0, 1) with 53 random bits */

#endif /* FN_ENTROPY_H */
