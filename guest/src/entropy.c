/*
 * entropy.c — a ChaCha20-based CSPRNG.
 *
 * State: a 256-bit key and a block counter; output is the keystream (nonce fixed at zero, the
 * counter moves on, the key changes before the 32-bit counter could wrap). Reseeding derives the
 * new key by running one ChaCha20 block keyed with
 *     (32 bytes of the current keystream) XOR (the host's 32 entropy bytes) XOR (RDRAND output)
 * so the new key is unpredictable if any one of the three is, and the old key cannot be recovered
 * from the new one. RDRAND is only used when CPUID says it exists, and the host's entropy alone is
 * sufficient: RDRAND is defence in depth against a weak host source.
 */
#include <string.h>

#include "entropy.h"

#include "chacha20.h"
#include "cpu.h"

#define BUFFER_BLOCKS 4 /* Math.random draws 8 bytes a call: amortise the block function */

static uint8_t key[32];
static uint32_t counter;
static uint8_t buffer[64 * BUFFER_BLOCKS];
static size_t buffered; /* unread bytes at the end of buffer */
static int have_rdrand = -1;

static const uint8_t zero_nonce[12];

static int rdrand_available(void)
{
  if (have_rdrand < 0) {
    uint32_t r[4];
    fn_cpuid(0, 0, r);
    have_rdrand = 0;
    if (r[0] >= 1) {
      fn_cpuid(1, 0, r);
      have_rdrand = (r[2] >> 30) & 1; /* CPUID.01H:ECX.RDRAND[bit 30] */
    }
  }
  return have_rdrand;
}

static void mix_rdrand(uint8_t material[32])
{
  if (!rdrand_available())
    return;
  for (int word = 0; word < 4; word++) {
    uint64_t v;
    for (int attempt = 0; attempt < 10; attempt++) {
      if (fn_rdrand64(&v)) {
        for (int i = 0; i < 8; i++)
          material[word * 8 + i] ^= (uint8_t)(v >> (8 * i));
        break;
      }
    }
  }
}

static void refill(void)
{
  if (counter > 0xFFFF0000u) {
    /* Far from any realistic use per command, but never reuse a (key, counter) pair. */
    uint8_t none[32] = {0};
    fn_entropy_reseed(none);
  }
  for (int b = 0; b < BUFFER_BLOCKS; b++)
    fn_chacha20_block(key, counter++, zero_nonce, buffer + 64 * b);
  buffered = sizeof buffer;
}

static void rekey(const uint8_t material[32])
{
  uint8_t block[64];
  fn_chacha20_block(material, 0, zero_nonce, block);
  memcpy(key, block, 32);
  counter = 0;
  buffered = 0;
  memset(block, 0, sizeof block);
}

void fn_entropy_init(void)
{
  uint8_t material[32];
  /* Before the first command there is no host entropy. This seed only serves code that runs while
   * the runtime boots (the prelude); every command rekeys from the host before user code runs. */
  for (int i = 0; i < 4; i++) {
    uint64_t t = fn_rdtsc();
    memcpy(material + 8 * i, &t, 8);
  }
  mix_rdrand(material);
  rekey(material);
}

void fn_entropy_reseed(const uint8_t host[32])
{
  uint8_t material[32];
  fn_entropy_fill(material, sizeof material);
  for (int i = 0; i < 32; i++)
    material[i] ^= host[i];
  mix_rdrand(material);
  rekey(material);
  memset(material, 0, sizeof material);
}

void fn_entropy_fill(void *out, size_t n)
{
  uint8_t *p = out;
  while (n) {
    if (!buffered)
      refill();
    size_t take = n < buffered ? n : buffered;
    uint8_t *src = buffer + sizeof buffer - buffered;
    memcpy(p, src, take);
    memset(src, 0, take); /* output is never handed out twice, nor left lying around */
    buffered -= take;
    p += take;
    n -= take;
  }
}

uint64_t fn_entropy_u64(void)
{
  uint64_t v;
  fn_entropy_fill(&v, sizeof v);
  return v;
}

double fn_entropy_double(void)
{
  return (double)(fn_entropy_u64() >> 11) * 0x1.0p-53;
}
