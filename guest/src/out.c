/*
 * out.c — bounded output and JSON escaping for the replies the guest builds in C (errors, and the
 * minimal failure meta when JavaScript cannot build one).
 */
#include <string.h>

#include "out.h"

#define ERROR_FIELD_MAX (64u * 1024u) /* a thrown 100 MB string must not crowd out the reply */

void fn_out_init(struct fn_out *o, uint8_t *base, size_t cap)
{
  o->base = base;
  o->len = 0;
  o->cap = cap;
  o->overflow = false;
}

void fn_out_bytes(struct fn_out *o, const void *p, size_t n)
{
  if (o->overflow || n > o->cap - o->len) {
    o->overflow = true;
    return;
  }
  memcpy(o->base + o->len, p, n);
  o->len += n;
}

void fn_out_str(struct fn_out *o, const char *s)
{
  fn_out_bytes(o, s, strlen(s));
}

void fn_out_u32le(struct fn_out *o, uint32_t v)
{
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  fn_out_bytes(o, b, 4);
}

void fn_out_patch_u32le(struct fn_out *o, size_t at, uint32_t v)
{
  if (at + 4 > o->len)
    return;
  o->base[at] = (uint8_t)v;
  o->base[at + 1] = (uint8_t)(v >> 8);
  o->base[at + 2] = (uint8_t)(v >> 16);
  o->base[at + 3] = (uint8_t)(v >> 24);
}

static void out_escape_u16(struct fn_out *o, unsigned v)
{
  static const char hex[] = "0123456789abcdef";
  char e[6] = {'\\', 'u', hex[(v >> 12) & 15], hex[(v >> 8) & 15], hex[(v >> 4) & 15], hex[v & 15]};
  fn_out_bytes(o, e, 6);
}

/* Length of a well-formed sequence at s, treating ED A0..BF xx (a WTF-8 surrogate) as length 3
 * with *surrogate set; 0 if the bytes are not a sequence at all. */
static size_t char_length(const uint8_t *s, size_t n, unsigned *surrogate)
{
  uint8_t b = s[0];
  *surrogate = 0;
  size_t need = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
  if (!need || need > n)
    return 0;
  for (size_t i = 1; i < need; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  if (need == 3) {
    unsigned cp = (unsigned)(b & 0x0F) << 12 | (unsigned)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    if (cp < 0x800)
      return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF)
      *surrogate = cp;
  } else if (need == 4) {
    unsigned cp = (unsigned)(b & 0x07) << 18 | (unsigned)(s[1] & 0x3F) << 12;
    if (cp < 0x10000 || cp > 0x10FFFF)
      return 0;
  }
  return need;
}

void fn_out_json_string(struct fn_out *o, const char *str, size_t n, size_t max_bytes)
{
  const uint8_t *s = (const uint8_t *)str;
  bool cut = n > max_bytes;
  if (cut)
    n = max_bytes;
  fn_out_bytes(o, "\"", 1);
  size_t i = 0;
  while (i < n && !o->overflow) {
    uint8_t c = s[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      size_t run = i + 1; /* copy plain ASCII runs in one go */
      while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
        run++;
      fn_out_bytes(o, s + i, run - i);
      i = run;
      continue;
    }
    if (c < 0x80) {
      const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
      if (e)
        fn_out_bytes(o, e, 2);
      else
        out_escape_u16(o, c);
      i++;
      continue;
    }
    unsigned surrogate;
    size_t len = char_length(s + i, n - i, &surrogate);
    if (!len) {
      if (cut && n - i < 4)
        break; /* a character split by the cut: drop it */
      out_escape_u16(o, 0xFFFD);
      i++;
    } else if (surrogate) {
      out_escape_u16(o, surrogate);
      i += len;
    } else {
      fn_out_bytes(o, s + i, len);
      i += len;
    }
  }
  if (cut)
    fn_out_str(o, "\xE2\x80\xA6"); /* … */
  fn_out_bytes(o, "\"", 1);
}

void fn_out_error_object(struct fn_out *o, const char *name, const char *message, const char *stack)
{
  fn_out_str(o, "{\"name\":");
  fn_out_json_string(o, name, strlen(name), ERROR_FIELD_MAX);
  fn_out_str(o, ",\"message\":");
  fn_out_json_string(o, message, strlen(message), ERROR_FIELD_MAX);
  fn_out_str(o, ",\"stack\":");
  fn_out_json_string(o, stack ? stack : "", stack ? strlen(stack) : 0, ERROR_FIELD_MAX);
  fn_out_str(o, "}");
}

void fn_out_error_json(struct fn_out *o, const char *name, const char *message, const char *stack)
{
  fn_out_str(o, "{\"error\":");
  fn_out_error_object(o, name, message, stack);
  fn_out_str(o, "}");
}
