/*
 * chacha20.h — the ChaCha20 block function (RFC 8439 §2.3), the core of the guest's CSPRNG.
 */
#ifndef FN_CHACHA20_H
#define FN_CHACHA20_H

#include <stdint.h>

/* Writes the 64-byte keystream block for (key, counter, nonce). */
void fn_chacha20_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12], uint8_t out[64]);

#endif /* FN_CHACHA20_H */
