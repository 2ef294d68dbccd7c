/*
 * sha.h — SHA-1, SHA-256, SHA-384 and SHA-512 (FIPS 180-4) and HMAC (RFC 2104), for the prelude's
 * crypto.subtle: in QuickJS's bytecode the same hashes ran at about 1 MiB/s.
 */
#ifndef FN_SHA_H
#define FN_SHA_H

#include <stddef.h>
#include <stdint.h>

enum fn_sha_alg { FN_SHA1, FN_SHA256, FN_SHA384, FN_SHA512 };

#define FN_SHA_MAX_BLOCK 128
#define FN_SHA_MAX_DIGEST 64

struct fn_sha {
  enum fn_sha_alg alg;
  uint32_t h32[8]; /* SHA-1 (5 words) and SHA-256 */
  uint64_t h64[8]; /* SHA-384 and SHA-512 */
  uint64_t total;  /* bytes hashed so far */
  uint8_t block[FN_SHA_MAX_BLOCK];
  size_t used; /* bytes waiting in block */
};

/* Returns the algorithm for "SHA-1", "SHA-256", "SHA-384" or "SHA-512", or -1. */
int fn_sha_alg_of(const char *name);
size_t fn_sha_block_size(enum fn_sha_alg alg);
size_t fn_sha_digest_size(enum fn_sha_alg alg);

void fn_sha_init(struct fn_sha *s, enum fn_sha_alg alg);
void fn_sha_update(struct fn_sha *s, const uint8_t *p, size_t n);
/* Writes fn_sha_digest_size(alg) bytes. */
void fn_sha_final(struct fn_sha *s, uint8_t *out);

void fn_sha_digest(enum fn_sha_alg alg, const uint8_t *p, size_t n, uint8_t *out);
void fn_hmac(enum fn_sha_alg alg, const uint8_t *key, size_t key_len, const uint8_t *data, size_t n, uint8_t *out);

#endif /* FN_SHA_H */
