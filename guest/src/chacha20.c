/*
 * chacha20.c — ChaCha20 block function, written from RFC 8439: a 4x4 matrix of 32-bit words
 * (constants, key, counter, nonce), 20 rounds of quarter-rounds alternating columns and diagonals,
 * then the input added back in and serialised little-endian.
 */
#include "chacha20.h"

static inline uint32_t rotl32(uint32_t v, int n)
{
  return (v << n) | (v >> (32 - n));
}

static inline uint32_t load_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store_le32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

#define QUARTER_ROUND(x, a, b, c, d)                                                               \
  do {                                                                                             \
    x[a] += x[b]; x[d] ^= x[a]; x[d] = rotl32(x[d], 16);                                           \
    x[c] += x[d]; x[b] ^= x[c]; x[b] = rotl32(x[b], 12);                                           \
    x[a] += x[b]; x[d] ^= x[a]; x[d] = rotl32(x[d], 8);                                            \
    x[c] += x[d]; x[b] ^= x[c]; x[b] = rotl32(x[b], 7);                                            \
  } while (0)

void fn_chacha20_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12], uint8_t out[64])
{
  uint32_t input[16];
  input[0] = 0x61707865; /* "expand 32-byte k" */
  input[1] = 0x3320646e;
  input[2] = 0x79622d32;
  input[3] = 0x6b206574;
  for (int i = 0; i < 8; i++)
    input[4 + i] = load_le32(key + 4 * i);
  input[12] = counter;
  for (int i = 0; i < 3; i++)
    input[13 + i] = load_le32(nonce + 4 * i);

  uint32_t x[16];
  for (int i = 0; i < 16; i++)
    x[i] = input[i];
  for (int round = 0; round < 10; round++) {
    QUARTER_ROUND(x, 0, 4, 8, 12); /* columns */
    QUARTER_ROUND(x, 1, 5, 9, 13);
    QUARTER_ROUND(x, 2, 6, 10, 14);
    QUARTER_ROUND(x, 3, 7, 11, 15);
    QUARTER_ROUND(x, 0, 5, 10, 15); /* diagonals */
    QUARTER_ROUND(x, 1, 6, 11, 12);
    QUARTER_ROUND(x, 2, 7, 8, 13);
    QUARTER_ROUND(x, 3, 4, 9, 14);
  }
  for (int i = 0; i < 16; i++)
    store_le32(out + 4 * i, x[i] + input[i]);
}
