/*
 * utf8.h — UTF-8 as the WHATWG Encoding standard defines it (TextEncoder/TextDecoder semantics).
 * QuickJS's own conversions are looser: JS_ToCString emits lone surrogates as 3-byte sequences
 * ("WTF-8") and JS_NewStringLen replaces invalid input differently from the standard.
 */
#ifndef FN_UTF8_H
#define FN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the longest valid UTF-8 prefix (== n when everything is valid). */
size_t fn_utf8_valid_prefix(const uint8_t *s, size_t n);

/* Decodes s, replacing each maximal invalid subpart with U+FFFD (EF BF BD). out needs 3*n bytes.
 * Returns the bytes written; the result is valid UTF-8. */
size_t fn_utf8_sanitize(const uint8_t *s, size_t n, uint8_t *out);

/* Rewrites each lone surrogate encoded as ED A0..BF xx (as JS_ToCString emits them) to U+FFFD,
 * which has the same length, in place. Paired surrogates were already combined by QuickJS. */
void fn_wtf8_replace_surrogates(uint8_t *s, size_t n);

#endif /* FN_UTF8_H */
