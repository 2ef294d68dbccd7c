/*
 * runtime.c — creating the QuickJS runtime and context, evaluating the prelude, taking the hooks.
 */
#include <string.h>

#include "runtime.h"

#include "fatal.h"
#include "fn_abi.h"
#include "js_memory.h"
#include "module_loader.h"
#include "native_api.h"
#include "prelude_embed.h"

/* JavaScript may use the stack down to this depth below where the runtime was created; the rest
 * of the 1 MiB stack (FN_STACK_SIZE) is margin for C code running past the last check (the regexp
 * engine, number formatting, the reply path). The guest has no guard page: the stack sits right
 * above the arena, so this limit is what keeps deep recursion from overwriting the heap. */
#define FN_JS_STACK_LIMIT (FN_STACK_SIZE - 256u * 1024u)

struct fn_js fn_js;

static JSValue global_get(JSContext *ctx, JSValueConst obj, const char *key)
{
  JSValue v = JS_GetPropertyStr(ctx, obj, key);
  if (JS_IsException(v) || JS_IsUndefined(v))
    fn_panic("runtime init: cannot read %s", key);
  return v;
}

static void take_intrinsics(JSContext *ctx)
{
  JSValue global = JS_GetGlobalObject(ctx);
  fn_js.promise_ctor = global_get(ctx, global, "Promise");
  fn_js.promise_resolve = global_get(ctx, fn_js.promise_ctor, "resolve");
  JSValue proto = global_get(ctx, fn_js.promise_ctor, "prototype");
  fn_js.promise_then = global_get(ctx, proto, "then");
  JS_FreeValue(ctx, proto);
  fn_js.uint8array_ctor = global_get(ctx, global, "Uint8Array");
  JS_FreeValue(ctx, global);
}

static JSValue hook(JSContext *ctx, JSValueConst hooks, const char *key)
{
  JSValue f = JS_GetPropertyStr(ctx, hooks, key);
  if (!JS_IsFunction(ctx, f))
    fn_panic("the prelude did not define __fn_hooks.%s as a function", key);
  return f;
}

static void take_hooks(JSContext *ctx)
{
  JSValue global = JS_GetGlobalObject(ctx);
  JSValue hooks = JS_GetPropertyStr(ctx, global, "__fn_hooks");
  JS_FreeValue(ctx, global);
  if (!JS_IsObject(hooks))
    fn_panic("the prelude did not define globalThis.__fn_hooks");
  fn_js.hooks.object = hooks;
  fn_js.hooks.set_module = hook(ctx, hooks, "setModule");
  fn_js.hooks.invoke = hook(ctx, hooks, "invoke");
  fn_js.hooks.next_timer = hook(ctx, hooks, "nextTimer");
  fn_js.hooks.run_timers = hook(ctx, hooks, "runTimers");
  fn_js.hooks.failure = hook(ctx, hooks, "failure");
}

static void evaluate_prelude(JSContext *ctx)
{
  /* Precompiled at build time: reading bytecode is far cheaper than parsing the source. */
  JSValue fn = JS_ReadObject(ctx, fn_prelude_bc, fn_prelude_bc_len, JS_READ_OBJ_BYTECODE);
  if (JS_IsException(fn)) {
    struct fn_error_parts e;
    fn_error_parts_take(&e);
    fn_panic("the embedded prelude bytecode does not load: %s: %s", e.name, e.message);
  }
  JSValue r = JS_EvalFunction(ctx, fn);
  if (JS_IsException(r)) {
    struct fn_error_parts e;
    fn_error_parts_take(&e);
    fn_panic("the prelude threw %s: %s\n%s", e.name, e.message, e.stack);
  }
  JS_FreeValue(ctx, r);
  if (!fn_runtime_drain_jobs()) {
    struct fn_error_parts e;
    fn_error_parts_take(&e);
    fn_panic("a prelude job threw %s: %s\n%s", e.name, e.message, e.stack);
  }
}

void fn_runtime_init(void)
{
  JSRuntime *rt = JS_NewRuntime2(&fn_js_malloc_functions, NULL);
  if (!rt)
    fn_panic("JS_NewRuntime2 failed: the arena is too small");
  fn_js_memory_init(rt);
  /* The stack top was taken inside JS_NewRuntime2, one frame below the command loop. */
  JS_SetMaxStackSize(rt, FN_JS_STACK_LIMIT);
  fn_module_loader_install(rt);
  /* Atomics.wait must throw instead of blocking: there is one thread and nothing to wake it. */
  JS_SetCanBlock(rt, 0);
  JSContext *ctx = JS_NewContext(rt);
  if (!ctx)
    fn_panic("JS_NewContext failed: the arena is too small");
  fn_js.rt = rt;
  fn_js.ctx = ctx;
  take_intrinsics(ctx);
  fn_native_api_install(ctx);
  evaluate_prelude(ctx);
  take_hooks(ctx);
}

bool fn_runtime_drain_jobs(void)
{
  JSContext *job_ctx;
  for (;;) {
    int r = JS_ExecutePendingJob(fn_js.rt, &job_ctx);
    if (r == 0)
      return true;
    if (r < 0)
      return false;
  }
}
