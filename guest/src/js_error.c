/*
 * js_error.c — turning a thrown JavaScript value into name / message / stack strings for replies.
 *
 * The thrown value may be anything (user code can throw a string, a Proxy, an object whose getters
 * throw), and reading it may itself run out of memory; each step falls back to a fixed string.
 */
#include <string.h>

#include "runtime.h"

static const char *property_string(JSContext *ctx, JSValueConst obj, const char *key, const char **owned)
{
  JSValue v = JS_GetPropertyStr(ctx, obj, key);
  const char *s = NULL;
  if (JS_IsException(v)) {
    JS_FreeValue(ctx, JS_GetException(ctx));
  } else if (!JS_IsUndefined(v) && !JS_IsNull(v)) {
    s = JS_ToCString(ctx, v);
    if (!s)
      JS_FreeValue(ctx, JS_GetException(ctx));
  }
  JS_FreeValue(ctx, v);
  *owned = s;
  return s;
}

void fn_error_parts_from(JSValueConst error, struct fn_error_parts *out)
{
  JSContext *ctx = fn_js.ctx;
  memset(out, 0, sizeof *out);
  if (JS_IsObject(error)) {
    out->name = property_string(ctx, error, "name", &out->owned[0]);
    out->message = property_string(ctx, error, "message", &out->owned[1]);
    out->stack = property_string(ctx, error, "stack", &out->owned[2]);
  } else if (JS_IsNull(error) || JS_IsUndefined(error)) {
    /* QuickJS leaves no error object when it could not even allocate one: memory is gone. */
    out->name = "InternalError";
    out->message = "out of memory";
  } else {
    out->message = out->owned[1] = JS_ToCString(ctx, error);
    if (!out->message)
      JS_FreeValue(ctx, JS_GetException(ctx));
  }
  if (!out->name)
    out->name = "Error";
  if (!out->message)
    out->message = "(the thrown value could not be converted to a string)";
  if (!out->stack)
    out->stack = "";
}

void fn_error_parts_take(struct fn_error_parts *out)
{
  JSValue error = JS_GetException(fn_js.ctx);
  fn_error_parts_from(error, out);
  JS_FreeValue(fn_js.ctx, error);
}

void fn_error_parts_free(struct fn_error_parts *parts)
{
  for (int i = 0; i < 3; i++)
    if (parts->owned[i])
      JS_FreeCString(fn_js.ctx, parts->owned[i]);
  memset(parts, 0, sizeof *parts);
}
