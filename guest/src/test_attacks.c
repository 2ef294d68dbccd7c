/*
 * test_attacks.c — globalThis.__fnTestAttack(kind): makes this guest do what a guest whose runtime
 * was taken over would do (a stray syscall, a privileged instruction, a read outside its RAM, a
 * lying window, an unknown doorbell), so that a test can drive each attack through the real chain
 * — HTTP, gateway, scheduler, worker, VMM — and show the host ends that VM with a typed error and
 * goes on serving (platform/src/hostile-volume.test.ts).
 *
 * Defined only when the host's LOAD meta says "testHooks": true, which vmm/src/microvm.ts sends
 * only from a process started with FN_VMM_TEST_HOOKS=1 (the platform never sets it). It gives a
 * function nothing the threat model does not already grant it: the guest is hostile by assumption
 * (SECURITY.md), and every one of these is a single instruction any code in the VM can run.
 */
#include <stdint.h>
#include <string.h>

#include "platform.h"
#include "runtime.h"
#include "test_attacks.h"

/* What the host must refuse: a DONE whose header lies (status and output_len are guest-written). */
static _Noreturn void lying_done(uint32_t status, uint32_t output_len)
{
  struct fn_window_header *h = fn_window_header();
  h->status = status;
  h->output_len = output_len;
  for (;;)
    fn_doorbell(FN_EVENT_DONE);
}

static JSValue attack(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  (void)this_val;
  const char *kind = argc > 0 ? JS_ToCString(ctx, argv[0]) : NULL;
  if (!kind)
    return JS_ThrowTypeError(ctx, "__fnTestAttack(kind): kind must be a string");
  if (!strcmp(kind, "syscall")) {
    long rax = 39; /* getpid: harmless if it ever ran, which it must not */
    __asm__ volatile("syscall" : "+a"(rax) : : "rcx", "r11", "memory");
  } else if (!strcmp(kind, "privileged")) {
    __asm__ volatile("hlt" ::: "memory"); /* CPL3: #GP */
  } else if (!strcmp(kind, "read-outside-ram")) {
    /* The first byte past guest RAM: not in the guest's page tables (KVM), unmapped (ptrace). */
    volatile uint8_t *past = (volatile uint8_t *)(uintptr_t)fn_platform()->memory_bytes;
    (void)*past;
  } else if (!strcmp(kind, "unknown-doorbell")) {
    for (;;)
      fn_doorbell(99);
  } else if (!strcmp(kind, "window-length")) {
    lying_done(FN_STATUS_OK, 0xFFFFFFFFu); /* output_len past the window */
  } else if (!strcmp(kind, "window-offset")) {
    /* A well-sized output whose meta length points far past its end. */
    uint8_t *data = fn_window_data();
    uint32_t meta_len = 0x7FFFFFF0u;
    memcpy(data, &meta_len, 4);
    memcpy(data + 4, "{}", 2);
    lying_done(FN_STATUS_OK, 6);
  } else if (!strcmp(kind, "window-status")) {
    lying_done(9, 0); /* no such status */
  } else {
    JSValue e = JS_ThrowRangeError(ctx, "__fnTestAttack: unknown kind \"%s\"", kind);
    JS_FreeCString(ctx, kind);
    return e;
  }
  JS_FreeCString(ctx, kind);
  return JS_ThrowInternalError(ctx, "__fnTestAttack: the attack returned, which it must not");
}

int fn_test_attacks_install(JSContext *ctx)
{
  JSValue global = JS_GetGlobalObject(ctx);
  JSValue f = JS_NewCFunction(ctx, attack, "__fnTestAttack", 1);
  int rc = JS_IsException(f) ? -1 : JS_DefinePropertyValueStr(ctx, global, "__fnTestAttack", f, 0);
  JS_FreeValue(ctx, global);
  return rc < 0 ? -1 : 0;
}
