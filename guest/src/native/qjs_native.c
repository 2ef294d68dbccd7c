/*
 * qjs_native.c — the benchmark's baseline: the very same QuickJS engine objects as the guest, run
 * as a plain Linux program.
 *
 *   qjs-native <file.js>   evaluates the file as a global script with two globals:
 *                          print(...values)  writes them, space-separated, as one line to stdout
 *                          now()             milliseconds (float) from CLOCK_MONOTONIC
 * Exits 1 with the exception printed to stderr if the script (or a promise job) throws.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fn_abi.h"
#include "quickjs.h"

/* Same JavaScript stack limit as the guest (see runtime.c), so deep recursion behaves alike. */
#define JS_STACK_LIMIT (FN_STACK_SIZE - 256u * 1024u)

static JSValue js_print(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  (void)this_val;
  for (int i = 0; i < argc; i++) {
    const char *s = JS_ToCString(ctx, argv[i]);
    if (!s)
      return JS_EXCEPTION;
    fputs(s, stdout);
    if (i + 1 < argc)
      fputc(' ', stdout);
    JS_FreeCString(ctx, s);
  }
  fputc('\n', stdout);
  return JS_UNDEFINED;
}

static JSValue js_now(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  (void)this_val;
  (void)argc;
  (void)argv;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return JS_NewFloat64(ctx, (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (n + 1 >= cap)
      buf = realloc(buf, cap *= 2);
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    if (!got)
      break;
    n += got;
  }
  fclose(f);
  buf[n] = 0; /* JS_Eval reads up to a NUL */
  *len = n;
  return buf;
}

static int report_exception(JSContext *ctx)
{
  JSValue e = JS_GetException(ctx);
  const char *s = JS_ToCString(ctx, e);
  fprintf(stderr, "%s\n", s ? s : "(exception)");
  JS_FreeCString(ctx, s);
  if (JS_IsObject(e)) {
    JSValue stack = JS_GetPropertyStr(ctx, e, "stack");
    if (JS_IsString(stack)) {
      const char *st = JS_ToCString(ctx, stack);
      fprintf(stderr, "%s", st ? st : "");
      JS_FreeCString(ctx, st);
    }
    JS_FreeValue(ctx, stack);
  }
  JS_FreeValue(ctx, e);
  return 1;
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: qjs-native <file.js>\n");
    return 2;
  }
  size_t len;
  char *source = read_file(argv[1], &len);
  if (!source) {
    perror(argv[1]);
    return 2;
  }
  JSRuntime *rt = JS_NewRuntime();
  JS_SetMaxStackSize(rt, JS_STACK_LIMIT);
  JSContext *ctx = JS_NewContext(rt);
  JSValue global = JS_GetGlobalObject(ctx);
  JS_SetPropertyStr(ctx, global, "print", JS_NewCFunction(ctx, js_print, "print", 1));
  JS_SetPropertyStr(ctx, global, "now", JS_NewCFunction(ctx, js_now, "now", 0));
  JS_FreeValue(ctx, global);

  int status = 0;
  JSValue r = JS_Eval(ctx, source, len, argv[1], JS_EVAL_TYPE_GLOBAL);
  if (JS_IsException(r))
    status = report_exception(ctx);
  JS_FreeValue(ctx, r);
  JSContext *job_ctx;
  int job;
  while (!status && (job = JS_ExecutePendingJob(rt, &job_ctx)) != 0)
    if (job < 0)
      status = report_exception(job_ctx);
  fflush(stdout);
  free(source);
  return status;
}
