/*
 * utf8.c — strict UTF-8 validation and WHATWG-style lossy decoding.
 *
 * The valid ranges for the byte after a lead byte (Unicode Table 3-7) exclude overlong forms,
 * surrogates (ED A0..BF) and code points above U+10FFFF:
 *   C2..DF  80..BF
 *   E0      A0..BF   then 80..BF
 *   E1..EC  80..BF   then 80..BF      EE..EF likewise
 *   ED      80..9F   then 80..BF
 *   F0      90..BF   then 80..BF x2
 *   F1..F3  80..BF   then 80..BF x2
 *   F4      80..8F   then 80..BF x2
 */
#include "utf8.h"

/* Returns the length of the valid sequence at s (1..4), or 0 if invalid. When invalid, *bad_len is
 * the length of the maximal invalid subpart to replace with one U+FFFD (at least 1). */
static size_t sequence_length(const uint8_t *s, size_t n, size_t *bad_len)
{
  uint8_t b0 = s[0];
  *bad_len = 1;
  if (b0 < 0x80)
    return 1;
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0)
      lo = 0xA0;
    else if (b0 == 0xED)
      hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0)
      lo = 0x90;
    else if (b0 == 0xF4)
      hi = 0x8F;
  } else {
    return 0; /* 80..C1, F5..FF never start a sequence */
  }
  for (size_t i = 1; i < need; i++) {
    if (i >= n)
      return 0; /* truncated: the bytes so far form the invalid subpart */
    uint8_t b = s[i];
    if (b < lo || b > hi)
      return 0; /* the offending byte is not consumed: it may start the next sequence */
    lo = 0x80;
    hi = 0xBF;
    *bad_len = i + 1;
  }
  return need;
}

size_t fn_utf8_valid_prefix(const uint8_t *s, size_t n)
{
  size_t i = 0, bad;
  while (i < n) {
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    size_t len = sequence_length(s + i, n - i, &bad);
    if (!len)
      return i;
    i += len;
  }
  return n;
}

size_t fn_utf8_sanitize(const uint8_t *s, size_t n, uint8_t *out)
{
  size_t i = 0, o = 0, bad;
  while (i < n) {
    size_t len = sequence_length(s + i, n - i, &bad);
    if (len) {
      for (size_t k = 0; k < len; k++)
        out[o++] = s[i + k];
      i += len;
    } else {
      out[o++] = 0xEF;
      out[o++] = 0xBF;
      out[o++] = 0xBD;
      i += bad;
    }
  }
  return o;
}

void fn_wtf8_replace_surrogates(uint8_t *s, size_t n)
{
  for (size_t i = 0; i + 2 < n; i++) {
    if (s[i] == 0xED && s[i + 1] >= 0xA0 && s[i + 1] <= 0xBF) {
      s[i] = 0xEF;
      s[i + 1] = 0xBF;
      s[i + 2] = 0xBD;
      i += 2;
    }
  }
}
