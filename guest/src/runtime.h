/*
 * runtime.h — the one QuickJS runtime and context of this VM, and the references the C side keeps
 * to JavaScript objects (taken before user code runs, so user code cannot swap them out).
 */
#ifndef FN_RUNTIME_H
#define FN_RUNTIME_H

#include <stdbool.h>

#include "quickjs.h"

struct fn_hooks {
  JSValue object;       /* globalThis.__fn_hooks as the prelude left it */
  JSValue set_module;   /* (ns, metaJson) => void */
  JSValue invoke;       /* (metaJson, body: ArrayBuffer) => Promise<{meta, body}> */
  JSValue next_timer;   /* () => unix ms of the next timer, or -1 */
  JSValue run_timers;   /* () => void */
  JSValue failure;      /* (name, message, stack) => meta JSON string */
};

struct fn_js {
  JSRuntime *rt;
  JSContext *ctx;
  struct fn_hooks hooks;
  JSValue promise_resolve; /* Promise.resolve, bound to Promise below */
  JSValue promise_ctor;
  JSValue promise_then;    /* Promise.prototype.then */
  JSValue uint8array_ctor;
};

extern struct fn_js fn_js;

/* Creates the runtime, installs __fn_native and Math.random, evaluates the embedded prelude and
 * takes the hooks. Panics if any of that fails: a guest without its prelude is useless. */
void fn_runtime_init(void);

/* Runs queued promise jobs until none is left. Returns false if a job itself threw (that
 * exception is then pending in the context). */
bool fn_runtime_drain_jobs(void);

/* The pieces of a thrown value, as C strings owned by the struct (free with fn_error_parts_free).
 * Never fails: if reading the error needs memory that is not there, fallbacks are used. */
struct fn_error_parts {
  const char *name;
  const char *message;
  const char *stack;
  const char *owned[3]; /* JS_ToCString results to free */
};
void fn_error_parts_from(JSValueConst error, struct fn_error_parts *out);
/* Takes the context's pending exception (clearing it) and splits it. */
void fn_error_parts_take(struct fn_error_parts *out);
void fn_error_parts_free(struct fn_error_parts *parts);

#endif /* FN_RUNTIME_H */
