/*
 * out.h — a bounded writer over the window's data area, with JSON string escaping. Writing past
 * the end sets `overflow` instead of writing, so callers check once at the end.
 */
#ifndef FN_OUT_H
#define FN_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fn_out {
  uint8_t *base;
  size_t len;
  size_t cap;
  bool overflow;
};

void fn_out_init(struct fn_out *o, uint8_t *base, size_t cap);
void fn_out_bytes(struct fn_out *o, const void *p, size_t n);
void fn_out_str(struct fn_out *o, const char *s);
void fn_out_u32le(struct fn_out *o, uint32_t v);
void fn_out_patch_u32le(struct fn_out *o, size_t at, uint32_t v);
/* A JSON string literal (quotes included). Input is UTF-8 or QuickJS's WTF-8; lone surrogates are
 * written as \uXXXX escapes, invalid bytes as \ufffd. At most max_bytes of input are used: longer
 * text is cut at a character boundary and marked with "…". */
void fn_out_json_string(struct fn_out *o, const char *s, size_t n, size_t max_bytes);

/* {"name":..,"message":..,"stack":..} */
void fn_out_error_object(struct fn_out *o, const char *name, const char *message, const char *stack);
/* {"error":{"name":..,"message":..,"stack":..}} — the error JSON of every non-OK status. */
void fn_out_error_json(struct fn_out *o, const char *name, const char *message, const char *stack);

#endif /* FN_OUT_H */
