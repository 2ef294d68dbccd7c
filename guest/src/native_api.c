/*
 * native_api.c — the C functions behind __fn_native and Math.random.
 *
 * Only the prelude sees __fn_native (it deletes the global), but arguments are still checked: a
 * prelude bug must end in a JavaScript exception, never in a read outside a buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "native_api.h"

#include "clock.h"
#include "entropy.h"
#include "js_bytes.h"
#include "platform.h"
#include "runtime.h"
#include "sha.h"
#include "utf8.h"

static JSValue native_random_fill(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  (void)this_val;
  size_t len;
  JSValue holder;
  uint8_t *p = fn_js_bytes_of(ctx, argc > 0 ? argv[0] : JS_UNDEFINED, &len, &holder);
  if (!p)
    return JS_EXCEPTION;
  fn_entropy_fill(p, len);
  JS_FreeValue(ctx, holder);
  return JS_UNDEFINED;
}

static JSValue native_now(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  (void)this_val;
  (void)argc;
  (void)argv;
  return JS_NewFloat64(ctx, fn_clock_now_ms());
}

static JSValue new_uint8array(JSContext *ctx, const uint8_t *p, size_t n)
{
  JSValue buffer = JS_NewArrayBufferCopy(ctx, p, n);
  if (JS_IsException(buffer))
    return buffer;
  JSValue u8 = JS_CallConstructor(ctx, fn_js.uint8array_ctor, 1, (JSValueConst *)&buffer);
  JS_FreeValue(ctx, buffer);
  return u8;
}

static JSValue native_encode_utf8(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  (void)this_val;
  size_t len;
  const char *s = JS_ToCStringLen(ctx, &len, argc > 0 ? argv[0] : JS_UNDEFINED);
  if (!s)
    return JS_EXCEPTION;
  /* JS_ToCString's buffer is ours until freed; fixing lone surrogates in place keeps one copy. */
  fn_wtf8_replace_surrogates((uint8_t *)s, len);
  JSValue u8 = new_uint8array(ctx, (const uint8_t *)s, len);
  JS_FreeCString(ctx, s);
  return u8;
}

static JSValue native_decode_utf8(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  (void)this_val;
  size_t len;
  JSValue holder;
  const uint8_t *p = fn_js_bytes_of(ctx, argc > 0 ? argv[0] : JS_UNDEFINED, &len, &holder);
  if (!p)
    return JS_EXCEPTION;
  int fatal = argc > 1 ? JS_ToBool(ctx, argv[1]) : 0;
  JSValue result;
  if (fn_utf8_valid_prefix(p, len) == len) {
    result = JS_NewStringLen(ctx, (const char *)p, len);
  } else if (fatal) {
    result = JS_ThrowTypeError(ctx, "The encoded data was not valid for encoding utf-8");
  } else if (len > SIZE_MAX / 3) {
    result = JS_ThrowRangeError(ctx, "input too large");
  } else {
    uint8_t *clean = js_malloc(ctx, len * 3 + 1);
    if (!clean) {
      result = JS_EXCEPTION;
    } else {
      size_t n = fn_utf8_sanitize(p, len, clean);
      result = JS_NewStringLen(ctx, (const char *)clean, n);
      js_free(ctx, clean);
    }
  }
  JS_FreeValue(ctx, holder);
  return result;
}

/* The hash named by argv[0] ("SHA-256", …), or -1 with a TypeError pending. */
static int hash_arg(JSContext *ctx, int argc, JSValueConst *argv)
{
  const char *name = JS_ToCString(ctx, argc > 0 ? argv[0] : JS_UNDEFINED);
  if (!name)
    return -1;
  int alg = fn_sha_alg_of(name);
  if (alg < 0)
    JS_ThrowTypeError(ctx, "unknown hash %s", name);
  JS_FreeCString(ctx, name);
  return alg;
}

/* digest(name, bytes) → Uint8Array: SHA-1/256/384/512 in C (sha.c). */
static JSValue native_digest(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  (void)this_val;
  int alg = hash_arg(ctx, argc, argv);
  if (alg < 0)
    return JS_EXCEPTION;
  size_t len;
  JSValue holder;
  const uint8_t *p = fn_js_bytes_of(ctx, argc > 1 ? argv[1] : JS_UNDEFINED, &len, &holder);
  if (!p)
    return JS_EXCEPTION;
  uint8_t out[FN_SHA_MAX_DIGEST];
  fn_sha_digest((enum fn_sha_alg)alg, p, len, out);
  JS_FreeValue(ctx, holder);
  return new_uint8array(ctx, out, fn_sha_digest_size((enum fn_sha_alg)alg));
}

/* hmac(name, key, data) → Uint8Array (RFC 2104). */
static JSValue native_hmac(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  (void)this_val;
  int alg = hash_arg(ctx, argc, argv);
  if (alg < 0)
    return JS_EXCEPTION;
  size_t key_len, len;
  JSValue key_holder, holder;
  const uint8_t *key = fn_js_bytes_of(ctx, argc > 1 ? argv[1] : JS_UNDEFINED, &key_len, &key_holder);
  if (!key)
    return JS_EXCEPTION;
  const uint8_t *p = fn_js_bytes_of(ctx, argc > 2 ? argv[2] : JS_UNDEFINED, &len, &holder);
  if (!p) {
    JS_FreeValue(ctx, key_holder);
    return JS_EXCEPTION;
  }
  uint8_t out[FN_SHA_MAX_DIGEST];
  fn_hmac((enum fn_sha_alg)alg, key, key_len, p, len, out);
  JS_FreeValue(ctx, holder);
  JS_FreeValue(ctx, key_holder);
  return new_uint8array(ctx, out, fn_sha_digest_size((enum fn_sha_alg)alg));
}

static JSValue math_random(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  (void)this_val;
  (void)argc;
  (void)argv;
  return JS_NewFloat64(ctx, fn_entropy_double());
}

static const JSCFunctionListEntry native_functions[] = {
    JS_CFUNC_DEF("randomFill", 1, native_random_fill),
    JS_CFUNC_DEF("now", 0, native_now),
    JS_CFUNC_DEF("encodeUtf8", 1, native_encode_utf8),
    JS_CFUNC_DEF("decodeUtf8", 2, native_decode_utf8),
    JS_CFUNC_DEF("digest", 2, native_digest),
    JS_CFUNC_DEF("hmac", 3, native_hmac),
};

static JSValue make_info(JSContext *ctx)
{
  const struct fn_platform_info *p = fn_platform();
  JSValue info = JS_NewObject(ctx);
  JS_SetPropertyStr(ctx, info, "runtime", JS_NewString(ctx, "fn-guest"));
  JS_SetPropertyStr(ctx, info, "version", JS_NewString(ctx, "0.1.0"));
  JS_SetPropertyStr(ctx, info, "engine", JS_NewString(ctx, "quickjs 2021-03-27"));
  JS_SetPropertyStr(ctx, info, "memoryBytes", JS_NewFloat64(ctx, (double)p->memory_bytes));
  JS_SetPropertyStr(ctx, info, "platform", JS_NewString(ctx, p->name));
  return info;
}

void fn_native_api_install(JSContext *ctx)
{
  JSValue global = JS_GetGlobalObject(ctx);
  JSValue native = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, native, native_functions, sizeof native_functions / sizeof native_functions[0]);
  JS_SetPropertyStr(ctx, native, "info", make_info(ctx));
  JS_SetPropertyStr(ctx, global, "__fn_native", native);

  /* Replace Math.random (QuickJS's is an xorshift seeded from the clock, identical in every clone
   * of a snapshot). Setting the existing property keeps its attributes. */
  JSValue math = JS_GetPropertyStr(ctx, global, "Math");
  JS_SetPropertyStr(ctx, math, "random", JS_NewCFunction(ctx, math_random, "random", 0));
  JS_FreeValue(ctx, math);
  JS_FreeValue(ctx, global);
}
