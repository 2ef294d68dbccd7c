/*
 * utf8_test.c — WHATWG decoding cases (replacement counts follow the "maximal subpart" rule that
 * TextDecoder implements). Built for the host by scripts/test-c.mjs; each case prints one line,
 * "ok <name>" or "FAIL <name>: <why>", which vitest reports as a test of its own.
 */
#include <stdio.h>
#include <string.h>

#include "utf8.h"

static int failures, passes;

static void check_sanitize(const char *name, const char *in, size_t n, const char *want)
{
  uint8_t out[256];
  size_t len = fn_utf8_sanitize((const uint8_t *)in, n, out);
  if (len == strlen(want) && memcmp(out, want, len) == 0) {
    passes++;
    printf("ok sanitize %s\n", name);
  } else {
    failures++;
    printf("FAIL sanitize %s: got %zu bytes, want %zu\n", name, len, strlen(want));
  }
}

static void check_valid(const char *name, const char *in, size_t n, size_t want)
{
  size_t got = fn_utf8_valid_prefix((const uint8_t *)in, n);
  if (got == want) {
    passes++;
    printf("ok valid_prefix %s\n", name);
  } else {
    failures++;
    printf("FAIL valid_prefix %s: got %zu want %zu\n", name, got, want);
  }
}

#define FFFD "\xEF\xBF\xBD"

int main(void)
{
  check_valid("ascii", "hello", 5, 5);
  check_valid("2/3/4-byte", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9, 9);
  check_valid("overlong", "a\xC0\xAF", 3, 1);
  check_valid("surrogate", "a\xED\xA0\x80", 4, 1);
  check_valid("above U+10FFFF", "\xF4\x90\x80\x80", 4, 0);
  check_valid("truncated", "ab\xE2\x82", 4, 2);

  check_sanitize("valid", "a\xC3\xA9", 3, "a\xC3\xA9");
  check_sanitize("lone continuation", "a\x80z", 3, "a" FFFD "z");
  check_sanitize("truncated 3-byte then ascii", "\xE2\x82z", 3, FFFD "z");
  check_sanitize("surrogate = 3 replacements", "\xED\xA0\x80", 3, FFFD FFFD FFFD);
  check_sanitize("overlong = 2 replacements", "\xC0\xAF", 2, FFFD FFFD);
  check_sanitize("F4 90 = 4 replacements", "\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);
  check_sanitize("truncated 4-byte at end", "\xF0\x9F\x98", 3, FFFD);
  check_sanitize("FF", "\xFF", 1, FFFD);

  uint8_t wtf8[] = "a\xED\xA0\x80" "b\xF0\x9F\x98\x80";
  fn_wtf8_replace_surrogates(wtf8, sizeof wtf8 - 1);
  if (memcmp(wtf8, "a" FFFD "b\xF0\x9F\x98\x80", sizeof wtf8 - 1) == 0) {
    passes++;
    printf("ok wtf8 lone surrogate\n");
  } else {
    failures++;
    printf("FAIL wtf8 lone surrogate: not replaced by U+FFFD\n");
  }
  printf("utf8: %d passed, %d failed\n", passes, failures);
  return failures ? 1 : 0;
}
