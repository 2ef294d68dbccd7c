/*
 * js_bytes.h — the bytes behind an ArrayBuffer or any typed array (Uint8Array included).
 */
#ifndef FN_JS_BYTES_H
#define FN_JS_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "quickjs.h"

/* Returns the bytes, or NULL with a TypeError pending. *holder keeps the underlying buffer alive
 * and must be freed by the caller (JS_FreeValue) once the bytes are no longer needed. */
uint8_t *fn_js_bytes_of(JSContext *ctx, JSValueConst v, size_t *len, JSValue *holder);

#endif /* FN_JS_BYTES_H */
