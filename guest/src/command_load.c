/*
 * command_load.c — FN_CMD_LOAD: compile the function's module as "fn:function", evaluate it
 * through a tiny wrapper module that hands its namespace to __fn_hooks.setModule, run the jobs its
 * initialisation queued.
 *
 * Why a wrapper: QuickJS 2021 has no API returning a module's namespace, but a module can import
 * it. The wrapper reaches C through its own import.meta, which only C can write to, rather than a
 * global that the user's module (evaluated first) could replace.
 */
#include <stdbool.h>
#include <string.h>

#include "commands.h"

#include "js_memory.h"
#include "module_loader.h"
#include "runtime.h"
#include "test_attacks.h"

static const char wrapper_source[] =
    "import * as ns from \"" FN_FUNCTION_MODULE_NAME "\";\n"
    "import.meta.fnSetModule(ns);\n";

enum load_state { NOT_LOADED, LOAD_FAILED, LOADED };
static enum load_state load_state = NOT_LOADED;

int fn_function_loaded(void)
{
  return load_state == LOADED;
}

/* import.meta.fnSetModule(ns) → __fn_hooks.setModule(ns, metaJson). func_data[0] is the meta. */
static JSValue set_module(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic,
                          JSValue *func_data)
{
  (void)this_val;
  (void)magic;
  JSValueConst args[2] = {argc > 0 ? argv[0] : JS_UNDEFINED, func_data[0]};
  return JS_Call(ctx, fn_js.hooks.set_module, fn_js.hooks.object, 2, args);
}

/* JS_Eval and JS_ParseJSON read up to a NUL: copy window bytes into a terminated arena buffer. */
static char *terminated_copy(JSContext *ctx, const uint8_t *p, size_t n)
{
  char *s = js_malloc(ctx, n + 1);
  if (s) {
    memcpy(s, p, n);
    s[n] = 0;
  }
  return s;
}

static uint32_t load_failed(struct fn_out *out)
{
  bool oom = fn_js_memory_oom_hit();
  if (oom)
    fn_js_memory_open_reserve(); /* reading the error's strings needs a little memory */
  struct fn_error_parts e;
  fn_error_parts_take(&e);
  uint32_t status = oom ? FN_STATUS_OUT_OF_MEMORY : FN_STATUS_LOAD_ERROR;
  fn_reply_error(out, status, e.name, e.message, e.stack);
  fn_error_parts_free(&e);
  if (oom)
    fn_js_memory_close_reserve();
  return status;
}

/* Parses the meta (it must be a JSON object) and returns it as a JS string for setModule;
 * *test_hooks says whether it asked for the test-only attacks ("testHooks": true). */
static const char *take_meta(JSContext *ctx, const uint8_t *meta, uint32_t meta_len, JSValue *meta_json,
                             bool *test_hooks)
{
  char *text = terminated_copy(ctx, meta, meta_len);
  if (!text)
    return "out of memory copying the load meta";
  JSValue parsed = JS_ParseJSON(ctx, text, meta_len, "<load meta>");
  const char *why = NULL;
  if (JS_IsException(parsed)) {
    JS_FreeValue(ctx, JS_GetException(ctx));
    why = "the load meta is not valid JSON";
  } else if (!JS_IsObject(parsed) || JS_IsArray(ctx, parsed)) {
    why = "the load meta is not a JSON object";
  } else {
    JSValue hooks = JS_GetPropertyStr(ctx, parsed, "testHooks");
    *test_hooks = JS_IsBool(hooks) && JS_ToBool(ctx, hooks);
    JS_FreeValue(ctx, hooks);
    *meta_json = JS_NewStringLen(ctx, text, meta_len);
    if (JS_IsException(*meta_json)) {
      JS_FreeValue(ctx, JS_GetException(ctx));
      why = "out of memory copying the load meta";
    }
  }
  JS_FreeValue(ctx, parsed);
  js_free(ctx, text);
  return why;
}

uint32_t fn_command_load(const struct fn_host_command *cmd, struct fn_out *out)
{
  JSContext *ctx = fn_js.ctx;
  const uint8_t *meta, *source;
  uint32_t meta_len, source_len;
  const char *bad = fn_channel_split_meta(cmd, &meta, &meta_len, &source, &source_len);
  if (bad)
    return fn_reply_error(out, FN_STATUS_BAD_INPUT, "BadInput", bad, "");
  if (load_state != NOT_LOADED)
    return fn_reply_error(out, FN_STATUS_LOAD_ERROR, "Error",
                          "this VM already loaded a function: a VM loads exactly one, once", "");
  JSValue meta_json = JS_UNDEFINED;
  bool test_hooks = false;
  bad = take_meta(ctx, meta, meta_len, &meta_json, &test_hooks);
  if (bad)
    return fn_reply_error(out, FN_STATUS_BAD_INPUT, "BadInput", bad, "");
  /* Before the module is compiled: its init may use them as well as its handler. */
  if (test_hooks && fn_test_attacks_install(ctx) != 0) {
    JS_FreeValue(ctx, meta_json);
    return load_failed(out);
  }
  char *text = terminated_copy(ctx, source, source_len);
  if (!text) {
    JS_FreeValue(ctx, meta_json);
    return fn_reply_error(out, FN_STATUS_OUT_OF_MEMORY, "InternalError", "out of memory copying the module source", "");
  }

  /* From here on a module named fn:function may exist: a retry could not replace it. */
  load_state = LOAD_FAILED;
  JSValue user = JS_Eval(ctx, text, source_len, FN_FUNCTION_MODULE_NAME, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
  js_free(ctx, text);
  if (JS_IsException(user)) {
    JS_FreeValue(ctx, meta_json);
    return load_failed(out);
  }
  /* Module values are owned by the context's module list: QuickJS aborts if one is freed. */
  (void)user;

  JSValue wrapper = JS_Eval(ctx, wrapper_source, sizeof wrapper_source - 1, "fn:loader",
                            JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
  if (JS_IsException(wrapper)) {
    JS_FreeValue(ctx, meta_json);
    return load_failed(out);
  }
  JSValue import_meta = JS_GetImportMeta(ctx, (JSModuleDef *)JS_VALUE_GET_PTR(wrapper));
  JSValue setter = JS_NewCFunctionData(ctx, set_module, 1, 0, 1, &meta_json);
  JS_FreeValue(ctx, meta_json);
  int set = -1;
  if (JS_IsException(import_meta))
    JS_FreeValue(ctx, setter);
  else if (!JS_IsException(setter))
    set = JS_SetPropertyStr(ctx, import_meta, "fnSetModule", setter); /* consumes setter */
  JS_FreeValue(ctx, import_meta);
  if (set < 0)
    return load_failed(out);

  /* Evaluates fn:function (its top level: the function's init) and then the wrapper. */
  JSValue r = JS_EvalFunction(ctx, wrapper);
  if (JS_IsException(r))
    return load_failed(out);
  JS_FreeValue(ctx, r);
  if (!fn_runtime_drain_jobs())
    return load_failed(out);
  if (fn_js_memory_oom_hit())
    return fn_reply_error(out, FN_STATUS_OUT_OF_MEMORY, "InternalError",
                          "out of memory while the module initialised", "");
  load_state = LOADED;
  fn_out_str(out, "{\"ok\":true}");
  return FN_STATUS_OK;
}
