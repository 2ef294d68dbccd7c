/*
 * command_invoke.c — FN_CMD_INVOKE: hand the request to __fn_hooks.invoke, drive its promise to
 * completion (jobs, then timers with FN_EVENT_SLEEP in between), write the response.
 *
 * QuickJS 2021 cannot query a promise's state from C, so the runtime attaches its own reactions
 * with the original Promise.prototype.then (taken before user code ran) and records the outcome.
 * Each invocation's reactions carry a sequence number: a promise left pending by an earlier
 * invocation that settles later cannot be mistaken for this one's.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

#include "channel.h"
#include "clock.h"
#include "js_bytes.h"
#include "js_memory.h"
#include "runtime.h"
#include "utf8.h"

#define MAX_SLEEP_NS (3600ull * 1000000000ull) /* the host stops at the deadline anyway */

enum settle_state { PENDING = 0, FULFILLED = 1, REJECTED = 2 };

static struct {
  int32_t seq;
  enum settle_state state;
  JSValue value;
} settle; /* value is set (to JS_UNDEFINED at least) before each use */

static JSValue on_settle(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic,
                         JSValue *func_data)
{
  (void)this_val;
  int32_t seq = JS_VALUE_GET_INT(func_data[0]);
  if (seq == settle.seq && settle.state == PENDING) {
    settle.state = (enum settle_state)magic;
    settle.value = JS_DupValue(ctx, argc > 0 ? argv[0] : JS_UNDEFINED);
  }
  return JS_UNDEFINED;
}

/* Attaches the reactions to Promise.resolve(value). Returns false with an exception pending. */
static bool watch(JSContext *ctx, JSValue value)
{
  JSValue promise = JS_Call(ctx, fn_js.promise_resolve, fn_js.promise_ctor, 1, (JSValueConst *)&value);
  JS_FreeValue(ctx, value);
  if (JS_IsException(promise))
    return false;
  JSValue seq = JS_NewInt32(ctx, settle.seq);
  JSValue reactions[2] = {
      JS_NewCFunctionData(ctx, on_settle, 1, FULFILLED, 1, &seq),
      JS_NewCFunctionData(ctx, on_settle, 1, REJECTED, 1, &seq),
  };
  JSValue r = JS_EXCEPTION;
  if (!JS_IsException(reactions[0]) && !JS_IsException(reactions[1]))
    r = JS_Call(ctx, fn_js.promise_then, promise, 2, (JSValueConst *)reactions);
  JS_FreeValue(ctx, reactions[0]);
  JS_FreeValue(ctx, reactions[1]);
  JS_FreeValue(ctx, promise);
  if (JS_IsException(r))
    return false;
  JS_FreeValue(ctx, r);
  return true;
}

enum drive_result { SETTLED, THREW, NEVER_SETTLED };

/* Runs jobs; when none is left and the promise is still pending, waits for the next timer. */
static enum drive_result drive(JSContext *ctx)
{
  const struct fn_hooks *h = &fn_js.hooks;
  for (;;) {
    if (!fn_runtime_drain_jobs())
      return THREW;
    if (settle.state != PENDING)
      return SETTLED;
    JSValue next = JS_Call(ctx, h->next_timer, h->object, 0, NULL);
    if (JS_IsException(next))
      return THREW;
    double due;
    int bad = JS_ToFloat64(ctx, &due, next);
    JS_FreeValue(ctx, next);
    if (bad)
      return THREW;
    if (!(due >= 0))
      return NEVER_SETTLED; /* no timer left (or NaN): nothing can settle the promise any more */
    double wait_ms = due - fn_clock_now_ms();
    if (wait_ms > 0) {
      double ns = wait_ms * 1e6;
      fn_channel_sleep(ns < (double)MAX_SLEEP_NS ? (uint64_t)ns : MAX_SLEEP_NS);
    }
    JSValue r = JS_Call(ctx, h->run_timers, h->object, 0, NULL);
    if (JS_IsException(r))
      return THREW;
    JS_FreeValue(ctx, r);
  }
}

/* The failure reply: meta from __fn_hooks.failure (status 500 plus the logs so far), or a minimal
 * meta built in C when even that fails. After an OOM the reserve is opened so that this has
 * memory to work with; the reply is then the meta alone as error JSON (see commands.h). */
static uint32_t reply_failure(JSContext *ctx, struct fn_out *out, const char *name, const char *message,
                              const char *stack, bool oom)
{
  if (oom) {
    JS_RunGC(fn_js.rt);
    fn_js_memory_open_reserve();
  }
  JSValue args[3] = {JS_NewString(ctx, name), JS_NewString(ctx, message), JS_NewString(ctx, stack)};
  JSValue meta = JS_EXCEPTION;
  if (!JS_IsException(args[0]) && !JS_IsException(args[1]) && !JS_IsException(args[2]))
    meta = JS_Call(ctx, fn_js.hooks.failure, fn_js.hooks.object, 3, (JSValueConst *)args);
  for (int i = 0; i < 3; i++)
    JS_FreeValue(ctx, args[i]);
  size_t len = 0;
  const char *text = NULL;
  if (JS_IsString(meta))
    text = JS_ToCStringLen(ctx, &len, meta);
  JS_FreeValue(ctx, meta);
  if (!text)
    JS_FreeValue(ctx, JS_GetException(ctx));

  fn_out_init(out, out->base, out->cap);
  if (!oom)
    fn_out_u32le(out, 0); /* meta_len, patched below */
  size_t meta_start = out->len;
  if (text) {
    fn_wtf8_replace_surrogates((uint8_t *)text, len);
    fn_out_bytes(out, text, len);
    JS_FreeCString(ctx, text);
  }
  if (!text || out->overflow) {
    fn_out_init(out, out->base, out->cap);
    if (!oom)
      fn_out_u32le(out, 0);
    fn_out_str(out, "{\"status\":500,\"headers\":[[\"content-type\",\"text/plain;charset=UTF-8\"]],\"logs\":[],\"error\":");
    fn_out_error_object(out, name, message, stack);
    fn_out_str(out, "}");
  }
  if (!oom)
    fn_out_patch_u32le(out, 0, (uint32_t)(out->len - meta_start));
  if (oom)
    fn_js_memory_close_reserve();
  return oom ? FN_STATUS_OUT_OF_MEMORY : FN_STATUS_OK;
}

static uint32_t reply_exception(JSContext *ctx, struct fn_out *out)
{
  struct fn_error_parts e;
  fn_error_parts_take(&e);
  uint32_t status = reply_failure(ctx, out, e.name, e.message, e.stack, false);
  fn_error_parts_free(&e);
  return status;
}

/* The settled {meta: string, body: ArrayBuffer | typed array | null} → u32 | meta | body. */
static uint32_t reply_result(JSContext *ctx, struct fn_out *out, JSValueConst result)
{
  if (!JS_IsObject(result))
    return reply_failure(ctx, out, "TypeError", "__fn_hooks.invoke resolved to something other than {meta, body}", "", false);
  JSValue meta = JS_GetPropertyStr(ctx, result, "meta");
  JSValue body = JS_GetPropertyStr(ctx, result, "body");
  uint32_t status;
  size_t meta_len = 0, body_len = 0;
  const char *meta_text = NULL;
  const uint8_t *body_bytes = NULL;
  JSValue holder = JS_UNDEFINED;
  if (JS_IsException(meta) || JS_IsException(body)) {
    status = reply_exception(ctx, out);
  } else if (!JS_IsString(meta)) {
    status = reply_failure(ctx, out, "TypeError", "__fn_hooks.invoke resolved without a string meta", "", false);
  } else if (!(meta_text = JS_ToCStringLen(ctx, &meta_len, meta))) {
    status = reply_exception(ctx, out);
  } else if (!JS_IsNull(body) && !JS_IsUndefined(body) &&
             !(body_bytes = fn_js_bytes_of(ctx, body, &body_len, &holder))) {
    status = reply_exception(ctx, out);
  } else if (body_len > out->cap || meta_len > out->cap - body_len || 4 > out->cap - body_len - meta_len) {
    status = reply_failure(ctx, out, "RangeError", "the response does not fit in the 8 MiB window (meta plus body)", "", false);
  } else {
    fn_wtf8_replace_surrogates((uint8_t *)meta_text, meta_len);
    fn_out_u32le(out, (uint32_t)meta_len);
    fn_out_bytes(out, meta_text, meta_len);
    fn_out_bytes(out, body_bytes, body_len);
    status = FN_STATUS_OK;
  }
  if (meta_text)
    JS_FreeCString(ctx, meta_text);
  JS_FreeValue(ctx, holder);
  JS_FreeValue(ctx, meta);
  JS_FreeValue(ctx, body);
  return status;
}

/* After an OOM the VM is only as usable as QuickJS left it. In practice it recovers: the failing
 * allocation returns NULL, QuickJS unwinds with an exception, this invocation's objects become
 * garbage and are freed, and the reserve above the JS limit lets the reply be built. What can't
 * be undone: memory the function keeps reachable (globals, module state) stays allocated, so a
 * function that leaks will keep failing; and a half-finished operation inside QuickJS may have
 * left some object in an odd state. The host resets pooled VMs to their snapshot after each
 * invocation anyway; a host that reuses a VM after OUT_OF_MEMORY accepts that risk. */
static uint32_t reply_out_of_memory(JSContext *ctx, struct fn_out *out)
{
  char message[160];
  snprintf(message, sizeof message,
           "the function ran out of memory (JavaScript heap limit of %zu MiB reached)", fn_js_memory_limit() >> 20);
  return reply_failure(ctx, out, "OutOfMemoryError", message, "", true);
}

uint32_t fn_command_invoke(const struct fn_host_command *cmd, struct fn_out *out)
{
  JSContext *ctx = fn_js.ctx;
  const uint8_t *meta, *body;
  uint32_t meta_len, body_len;
  const char *bad = fn_channel_split_meta(cmd, &meta, &meta_len, &body, &body_len);
  if (bad)
    return fn_reply_error(out, FN_STATUS_BAD_INPUT, "BadInput", bad, "");
  if (!fn_function_loaded())
    return fn_reply_error(out, FN_STATUS_NOT_LOADED, "NotLoaded", "INVOKE before a successful LOAD", "");
  if (fn_utf8_valid_prefix(meta, meta_len) != meta_len)
    return fn_reply_error(out, FN_STATUS_BAD_INPUT, "BadInput", "the invoke meta is not valid UTF-8", "");

  /* Copy everything out of the window: the reply will overwrite it, and JavaScript must never
   * hold a view of host-shared memory. */
  JSValue args[2] = {JS_NewStringLen(ctx, (const char *)meta, meta_len),
                     JS_NewArrayBufferCopy(ctx, body, body_len)};
  settle.seq++;
  settle.state = PENDING;
  settle.value = JS_UNDEFINED;

  uint32_t status;
  if (JS_IsException(args[0]) || JS_IsException(args[1])) {
    JS_FreeValue(ctx, args[0]);
    JS_FreeValue(ctx, args[1]);
    status = fn_js_memory_oom_hit() ? reply_out_of_memory(ctx, out) : reply_exception(ctx, out);
    return status;
  }
  JSValue promise = JS_Call(ctx, fn_js.hooks.invoke, fn_js.hooks.object, 2, (JSValueConst *)args);
  JS_FreeValue(ctx, args[0]);
  JS_FreeValue(ctx, args[1]);

  enum drive_result how = THREW;
  if (!JS_IsException(promise) && watch(ctx, promise))
    how = drive(ctx);

  if (fn_js_memory_oom_hit()) {
    /* Like a runtime killed for memory: whatever JavaScript made of it, the invocation failed.
     * Drop what this invocation still holds first, so the failure reply has room. */
    if (how == THREW)
      JS_FreeValue(ctx, JS_GetException(ctx));
    JS_FreeValue(ctx, settle.value);
    settle.value = JS_UNDEFINED;
    status = reply_out_of_memory(ctx, out);
  } else if (how == THREW) {
    status = reply_exception(ctx, out);
  } else if (how == NEVER_SETTLED) {
    status = reply_failure(ctx, out, "Error", "the handler's promise never settled and never can: no timer or other pending work is left to settle it (resolve or reject it, or return a value)", "", false);
  } else if (settle.state == REJECTED) {
    struct fn_error_parts e;
    fn_error_parts_from(settle.value, &e);
    status = reply_failure(ctx, out, e.name, e.message, e.stack, false);
    fn_error_parts_free(&e);
  } else {
    status = reply_result(ctx, out, settle.value);
  }
  JS_FreeValue(ctx, settle.value);
  settle.value = JS_UNDEFINED;
  return status;
}
