/*
 * sha_test.c — FIPS 180-4 / NIST CAVP example vectors for SHA-1/256/384/512 (empty, "abc", the
 * 448- and 896-bit messages, one million 'a'), fed whole and in odd pieces, and the RFC 4231 HMAC
 * vectors (plus RFC 2202's first for HMAC-SHA-1). Built for the host by scripts/test-c.mjs.
 */
#include <stdio.h>
#include <string.h>

#include "sha.h"

static int failures, passes;

static void expect_hex(const uint8_t *got, size_t n, const char *hex, const char *what)
{
  char buf[2 * FN_SHA_MAX_DIGEST + 1];
  for (size_t i = 0; i < n; i++)
    sprintf(buf + 2 * i, "%02x", got[i]);
  buf[2 * n] = 0;
  if (strcmp(buf, hex) == 0) {
    passes++;
    printf("ok %s\n", what);
  } else {
    failures++;
    printf("FAIL %s — got %s, want %s\n", what, buf, hex);
  }
}

static size_t unhex(const char *hex, uint8_t *out)
{
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n; i++)
    sscanf(hex + 2 * i, "%2hhx", &out[i]);
  return n;
}

#define M448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define M896 "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"

struct digest_vector {
  enum fn_sha_alg alg;
  const char *name;
  const char *message; /* NULL: one million 'a' */
  const char *hex;
};

static const struct digest_vector DIGESTS[] = {
    {FN_SHA1, "SHA-1 empty", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {FN_SHA1, "SHA-1 abc", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {FN_SHA1, "SHA-1 448-bit", M448, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {FN_SHA1, "SHA-1 896-bit", M896, "a49b2446a02c645bf419f995b67091253a04a259"},
    {FN_SHA1, "SHA-1 million a", NULL, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
    {FN_SHA256, "SHA-256 empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {FN_SHA256, "SHA-256 abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {FN_SHA256, "SHA-256 448-bit", M448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {FN_SHA256, "SHA-256 896-bit", M896, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    {FN_SHA256, "SHA-256 million a", NULL, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    {FN_SHA384, "SHA-384 empty", "", "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"},
    {FN_SHA384, "SHA-384 abc", "abc", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
    {FN_SHA384, "SHA-384 448-bit", M448, "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b"},
    {FN_SHA384, "SHA-384 896-bit", M896, "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039"},
    {FN_SHA384, "SHA-384 million a", NULL, "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985"},
    {FN_SHA512, "SHA-512 empty", "", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
    {FN_SHA512, "SHA-512 abc", "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {FN_SHA512, "SHA-512 448-bit", M448, "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"},
    {FN_SHA512, "SHA-512 896-bit", M896, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
    {FN_SHA512, "SHA-512 million a", NULL, "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
};

/* RFC 4231 §4.2–4.8: key and data in hex (case 5 compares the first 128 bits). */
struct hmac_vector {
  int case_no;
  const char *key;
  const char *data;
  const char *hex[3]; /* SHA-256, SHA-384, SHA-512 */
};

static const struct hmac_vector HMACS[] = {
    {1, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", {"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6", "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"}},
    {2, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", {"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"}},
    {3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", {"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27", "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"}},
    {4, "0102030405060708090a0b0c0d0e0f10111213141516171819", "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", {"82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb", "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"}},
    {5, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e", {"a3b6167473100ee06e0c796c2955552b", "3abf34c3503b2a23a46efc619baef897", "415fad6271580a531d4179bc891d87a6"}},
    {6, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374", {"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952", "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"}},
    {7, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e", {"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e", "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"}},
};

int main(void)
{
  static uint8_t million[1000000];
  memset(million, 'a', sizeof million);
  uint8_t out[FN_SHA_MAX_DIGEST];
  char what[96];
  for (size_t i = 0; i < sizeof DIGESTS / sizeof DIGESTS[0]; i++) {
    const struct digest_vector *v = &DIGESTS[i];
    const uint8_t *m = v->message ? (const uint8_t *)v->message : million;
    size_t n = v->message ? strlen(v->message) : sizeof million;
    size_t size = fn_sha_digest_size(v->alg);
    fn_sha_digest(v->alg, m, n, out);
    expect_hex(out, size, v->hex, v->name);
    /* The same message in pieces of 1, 3, 63, 64, 65, 127 … bytes: the buffering path. */
    struct fn_sha s;
    fn_sha_init(&s, v->alg);
    for (size_t at = 0, piece = 1; at < n; at += piece, piece = piece * 2 + 1)
      fn_sha_update(&s, m + at, piece < n - at ? piece : n - at);
    fn_sha_final(&s, out);
    snprintf(what, sizeof what, "%s in pieces", v->name);
    expect_hex(out, size, v->hex, what);
  }
  static const enum fn_sha_alg HMAC_ALGS[3] = {FN_SHA256, FN_SHA384, FN_SHA512};
  static const char *HMAC_NAMES[3] = {"SHA-256", "SHA-384", "SHA-512"};
  for (size_t i = 0; i < sizeof HMACS / sizeof HMACS[0]; i++) {
    uint8_t key[256], data[256];
    size_t kn = unhex(HMACS[i].key, key), dn = unhex(HMACS[i].data, data);
    for (int a = 0; a < 3; a++) {
      fn_hmac(HMAC_ALGS[a], key, kn, data, dn, out);
      snprintf(what, sizeof what, "HMAC-%s RFC 4231 case %d", HMAC_NAMES[a], HMACS[i].case_no);
      expect_hex(out, strlen(HMACS[i].hex[a]) / 2, HMACS[i].hex[a], what);
    }
  }
  uint8_t key[20];
  memset(key, 0x0b, sizeof key);
  fn_hmac(FN_SHA1, key, sizeof key, (const uint8_t *)"Hi There", 8, out);
  expect_hex(out, 20, "b617318655057264e28bc0b6fb378c8ef146be00", "HMAC-SHA-1 RFC 2202 case 1");
  if (fn_sha_alg_of("SHA-256") == FN_SHA256 && fn_sha_alg_of("SHA-384") == FN_SHA384 && fn_sha_alg_of("sha-256") < 0 && fn_sha_alg_of("MD5") < 0) {
    passes++;
    printf("ok algorithm names: exact, upper case only\n");
  } else {
    failures++;
    printf("FAIL algorithm names\n");
  }
  printf("sha: %d passed, %d failed\n", passes, failures);
  return failures ? 1 : 0;
}
