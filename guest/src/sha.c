/*
 * sha.c — SHA-1, SHA-256, SHA-384, SHA-512 as FIPS 180-4 specifies them (sections 4, 5 and 6),
 * and HMAC as RFC 2104 does. Written for clarity first: one compression function per word size,
 * messages fed in any pieces, padding at the end (a 1 bit, zeros, the length in bits).
 */
#include <string.h>

#include "sha.h"

/* FIPS 180-4 §4.2.2 (SHA-224/256 constants) and §4.2.3 (SHA-384/512 constants). */
static const uint32_t K256[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static const uint64_t K512[80] = {
    0x428a2f98d728ae22ull, 0x7137449123ef65cdull, 0xb5c0fbcfec4d3b2full, 0xe9b5dba58189dbbcull,
    0x3956c25bf348b538ull, 0x59f111f1b605d019ull, 0x923f82a4af194f9bull, 0xab1c5ed5da6d8118ull,
    0xd807aa98a3030242ull, 0x12835b0145706fbeull, 0x243185be4ee4b28cull, 0x550c7dc3d5ffb4e2ull,
    0x72be5d74f27b896full, 0x80deb1fe3b1696b1ull, 0x9bdc06a725c71235ull, 0xc19bf174cf692694ull,
    0xe49b69c19ef14ad2ull, 0xefbe4786384f25e3ull, 0x0fc19dc68b8cd5b5ull, 0x240ca1cc77ac9c65ull,
    0x2de92c6f592b0275ull, 0x4a7484aa6ea6e483ull, 0x5cb0a9dcbd41fbd4ull, 0x76f988da831153b5ull,
    0x983e5152ee66dfabull, 0xa831c66d2db43210ull, 0xb00327c898fb213full, 0xbf597fc7beef0ee4ull,
    0xc6e00bf33da88fc2ull, 0xd5a79147930aa725ull, 0x06ca6351e003826full, 0x142929670a0e6e70ull,
    0x27b70a8546d22ffcull, 0x2e1b21385c26c926ull, 0x4d2c6dfc5ac42aedull, 0x53380d139d95b3dfull,
    0x650a73548baf63deull, 0x766a0abb3c77b2a8ull, 0x81c2c92e47edaee6ull, 0x92722c851482353bull,
    0xa2bfe8a14cf10364ull, 0xa81a664bbc423001ull, 0xc24b8b70d0f89791ull, 0xc76c51a30654be30ull,
    0xd192e819d6ef5218ull, 0xd69906245565a910ull, 0xf40e35855771202aull, 0x106aa07032bbd1b8ull,
    0x19a4c116b8d2d0c8ull, 0x1e376c085141ab53ull, 0x2748774cdf8eeb99ull, 0x34b0bcb5e19b48a8ull,
    0x391c0cb3c5c95a63ull, 0x4ed8aa4ae3418acbull, 0x5b9cca4f7763e373ull, 0x682e6ff3d6b2b8a3ull,
    0x748f82ee5defb2fcull, 0x78a5636f43172f60ull, 0x84c87814a1f0ab72ull, 0x8cc702081a6439ecull,
    0x90befffa23631e28ull, 0xa4506cebde82bde9ull, 0xbef9a3f7b2c67915ull, 0xc67178f2e372532bull,
    0xca273eceea26619cull, 0xd186b8c721c0c207ull, 0xeada7dd6cde0eb1eull, 0xf57d4f7fee6ed178ull,
    0x06f067aa72176fbaull, 0x0a637dc5a2c898a6ull, 0x113f9804bef90daeull, 0x1b710b35131c471bull,
    0x28db77f523047d84ull, 0x32caab7b40c72493ull, 0x3c9ebe0a15c9bebcull, 0x431d67c49c100d4cull,
    0x4cc5d4becb3e42b6ull, 0x597f299cfc657e2aull, 0x5fcb6fab3ad6faecull, 0x6c44198c4a475817ull,
};

static const uint64_t IV512[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
    0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

static const uint64_t IV384[8] = {
    0xcbbb9d5dc1059ed8ull, 0x629a292a367cd507ull, 0x9159015a3070dd17ull, 0x152fecd8f70e5939ull,
    0x67332667ffc00b31ull, 0x8eb44a8768581511ull, 0xdb0c2e0d64f98fa7ull, 0x47b5481dbefa4fa4ull,
};

/* §5.3.1 (SHA-1) and §5.3.3 (SHA-256) initial hash values. */
static const uint32_t IV1[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
static const uint32_t IV256[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                  0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};

static inline uint32_t rotl32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
static inline uint32_t rotr32(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
static inline uint64_t rotr64(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

static inline uint32_t load32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t load64(const uint8_t *p) { return (uint64_t)load32(p) << 32 | load32(p + 4); }

static inline void store32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static inline void store64(uint8_t *p, uint64_t v)
{
  store32(p, (uint32_t)(v >> 32));
  store32(p + 4, (uint32_t)v);
}

/* §6.1.2: one 512-bit block. */
static void sha1_block(uint32_t h[5], const uint8_t *m)
{
  uint32_t w[80];
  for (int t = 0; t < 16; t++)
    w[t] = load32(m + 4 * t);
  for (int t = 16; t < 80; t++)
    w[t] = rotl32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int t = 0; t < 80; t++) {
    uint32_t f, k;
    if (t < 20) {
      f = (b & c) ^ (~b & d); /* Ch */
      k = 0x5a827999u;
    } else if (t < 40) {
      f = b ^ c ^ d; /* Parity */
      k = 0x6ed9eba1u;
    } else if (t < 60) {
      f = (b & c) ^ (b & d) ^ (c & d); /* Maj */
      k = 0x8f1bbcdcu;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6u;
    }
    uint32_t T = rotl32(a, 5) + f + e + k + w[t];
    e = d;
    d = c;
    c = rotl32(b, 30);
    b = a;
    a = T;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

/* §6.2.2: one 512-bit block, with the functions of §4.1.2. */
static void sha256_block(uint32_t h[8], const uint8_t *m)
{
  uint32_t w[64];
  for (int t = 0; t < 16; t++)
    w[t] = load32(m + 4 * t);
  for (int t = 16; t < 64; t++) {
    uint32_t s0 = rotr32(w[t - 15], 7) ^ rotr32(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = rotr32(w[t - 2], 17) ^ rotr32(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = s1 + w[t - 7] + s0 + w[t - 16];
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int t = 0; t < 64; t++) {
    uint32_t S1 = rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25);
    uint32_t T1 = hh + S1 + ((e & f) ^ (~e & g)) + K256[t] + w[t];
    uint32_t S0 = rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22);
    uint32_t T2 = S0 + ((a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = d + T1;
    d = c;
    c = b;
    b = a;
    a = T1 + T2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

/* §6.4.2: one 1024-bit block, with the functions of §4.1.3. */
static void sha512_block(uint64_t h[8], const uint8_t *m)
{
  uint64_t w[80];
  for (int t = 0; t < 16; t++)
    w[t] = load64(m + 8 * t);
  for (int t = 16; t < 80; t++) {
    uint64_t s0 = rotr64(w[t - 15], 1) ^ rotr64(w[t - 15], 8) ^ (w[t - 15] >> 7);
    uint64_t s1 = rotr64(w[t - 2], 19) ^ rotr64(w[t - 2], 61) ^ (w[t - 2] >> 6);
    w[t] = s1 + w[t - 7] + s0 + w[t - 16];
  }
  uint64_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int t = 0; t < 80; t++) {
    uint64_t S1 = rotr64(e, 14) ^ rotr64(e, 18) ^ rotr64(e, 41);
    uint64_t T1 = hh + S1 + ((e & f) ^ (~e & g)) + K512[t] + w[t];
    uint64_t S0 = rotr64(a, 28) ^ rotr64(a, 34) ^ rotr64(a, 39);
    uint64_t T2 = S0 + ((a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = d + T1;
    d = c;
    c = b;
    b = a;
    a = T1 + T2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

int fn_sha_alg_of(const char *name)
{
  if (strcmp(name, "SHA-1") == 0)
    return FN_SHA1;
  if (strcmp(name, "SHA-256") == 0)
    return FN_SHA256;
  if (strcmp(name, "SHA-384") == 0)
    return FN_SHA384;
  if (strcmp(name, "SHA-512") == 0)
    return FN_SHA512;
  return -1;
}

size_t fn_sha_block_size(enum fn_sha_alg alg) { return alg == FN_SHA384 || alg == FN_SHA512 ? 128 : 64; }

size_t fn_sha_digest_size(enum fn_sha_alg alg)
{
  switch (alg) {
  case FN_SHA1:
    return 20;
  case FN_SHA256:
    return 32;
  case FN_SHA384:
    return 48;
  default:
    return 64;
  }
}

void fn_sha_init(struct fn_sha *s, enum fn_sha_alg alg)
{
  memset(s, 0, sizeof *s);
  s->alg = alg;
  if (alg == FN_SHA1)
    memcpy(s->h32, IV1, sizeof IV1);
  else if (alg == FN_SHA256)
    memcpy(s->h32, IV256, sizeof IV256);
  else
    memcpy(s->h64, alg == FN_SHA384 ? IV384 : IV512, sizeof IV512);
}

static void compress(struct fn_sha *s, const uint8_t *block)
{
  if (s->alg == FN_SHA1)
    sha1_block(s->h32, block);
  else if (s->alg == FN_SHA256)
    sha256_block(s->h32, block);
  else
    sha512_block(s->h64, block);
}

void fn_sha_update(struct fn_sha *s, const uint8_t *p, size_t n)
{
  size_t size = fn_sha_block_size(s->alg);
  s->total += n;
  if (s->used > 0) {
    size_t take = size - s->used < n ? size - s->used : n;
    memcpy(s->block + s->used, p, take);
    s->used += take;
    p += take;
    n -= take;
    if (s->used < size)
      return;
    compress(s, s->block);
    s->used = 0;
  }
  for (; n >= size; p += size, n -= size)
    compress(s, p); /* whole blocks straight from the input */
  memcpy(s->block, p, n);
  s->used = n;
}

/* §5.1: 0x80, zeros, then the message length in bits, big-endian, in the last 8 (SHA-1/256) or
 * 16 (SHA-384/512) bytes of a block. */
void fn_sha_final(struct fn_sha *s, uint8_t *out)
{
  size_t size = fn_sha_block_size(s->alg);
  size_t length_bytes = size == 64 ? 8 : 16;
  uint64_t total = s->total;
  s->block[s->used++] = 0x80;
  if (s->used > size - length_bytes) {
    memset(s->block + s->used, 0, size - s->used);
    compress(s, s->block);
    s->used = 0;
  }
  memset(s->block + s->used, 0, size - s->used);
  /* The length in bits is total * 8: its top 3 bits go into the word above (128-bit field). */
  if (length_bytes == 16)
    store64(s->block + size - 16, total >> 61);
  store64(s->block + size - 8, total << 3);
  compress(s, s->block);
  size_t digest = fn_sha_digest_size(s->alg);
  if (s->alg == FN_SHA1 || s->alg == FN_SHA256) {
    for (size_t i = 0; i < digest / 4; i++)
      store32(out + 4 * i, s->h32[i]);
  } else {
    uint8_t full[64];
    for (int i = 0; i < 8; i++)
      store64(full + 8 * i, s->h64[i]);
    memcpy(out, full, digest); /* SHA-384: the leftmost 384 bits */
  }
  memset(s, 0, sizeof *s);
}

void fn_sha_digest(enum fn_sha_alg alg, const uint8_t *p, size_t n, uint8_t *out)
{
  struct fn_sha s;
  fn_sha_init(&s, alg);
  fn_sha_update(&s, p, n);
  fn_sha_final(&s, out);
}

/* RFC 2104 §2: H(K ^ opad, H(K ^ ipad, text)), a key longer than a block hashed first. */
void fn_hmac(enum fn_sha_alg alg, const uint8_t *key, size_t key_len, const uint8_t *data, size_t n, uint8_t *out)
{
  size_t size = fn_sha_block_size(alg);
  size_t digest = fn_sha_digest_size(alg);
  uint8_t k[FN_SHA_MAX_BLOCK] = {0};
  uint8_t pad[FN_SHA_MAX_BLOCK];
  uint8_t inner[FN_SHA_MAX_DIGEST];
  struct fn_sha s;
  if (key_len > size)
    fn_sha_digest(alg, key, key_len, k);
  else
    memcpy(k, key, key_len);

  fn_sha_init(&s, alg);
  for (size_t i = 0; i < size; i++)
    pad[i] = k[i] ^ 0x36;
  fn_sha_update(&s, pad, size);
  fn_sha_update(&s, data, n);
  fn_sha_final(&s, inner);

  fn_sha_init(&s, alg);
  for (size_t i = 0; i < size; i++)
    pad[i] = k[i] ^ 0x5c;
  fn_sha_update(&s, pad, size);
  fn_sha_update(&s, inner, digest);
  fn_sha_final(&s, out);
  memset(k, 0, sizeof k);
  memset(pad, 0, sizeof pad);
}
