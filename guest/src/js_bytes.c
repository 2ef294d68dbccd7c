/*
 * js_bytes.c — QuickJS 2021 has no "is this an ArrayBuffer" query in its public API, so this tries
 * JS_GetArrayBuffer and then JS_GetTypedArrayBuffer, discarding the TypeError of a failed try.
 */
#include "js_bytes.h"

uint8_t *fn_js_bytes_of(JSContext *ctx, JSValueConst v, size_t *len, JSValue *holder)
{
  *holder = JS_UNDEFINED;
  if (!JS_IsObject(v)) {
    JS_ThrowTypeError(ctx, "expected an ArrayBuffer or a typed array");
    return NULL;
  }
  size_t size;
  uint8_t *p = JS_GetArrayBuffer(ctx, &size, v);
  if (p) {
    *len = size;
    return p;
  }
  JS_FreeValue(ctx, JS_GetException(ctx));
  size_t offset, byte_len, per_element;
  JSValue buffer = JS_GetTypedArrayBuffer(ctx, v, &offset, &byte_len, &per_element);
  if (JS_IsException(buffer)) {
    JS_FreeValue(ctx, JS_GetException(ctx));
    JS_ThrowTypeError(ctx, "expected an ArrayBuffer or a typed array");
    return NULL;
  }
  p = JS_GetArrayBuffer(ctx, &size, buffer);
  if (!p) {
    JS_FreeValue(ctx, buffer);
    return NULL; /* a detached buffer: TypeError pending */
  }
  if (offset > size || byte_len > size - offset) {
    JS_FreeValue(ctx, buffer);
    JS_ThrowTypeError(ctx, "the typed array is out of bounds of its buffer");
    return NULL;
  }
  *holder = buffer;
  *len = byte_len;
  return p + offset;
}
