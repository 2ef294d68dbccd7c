/*
 * main_loop.c — the runtime's life: boot, signal READY, then serve commands forever. Each turn of
 * the loop rings the doorbell with the previous result and comes back with the next command.
 */
#include "platform.h"

#include "arena.h"
#include "channel.h"
#include "clock.h"
#include "commands.h"
#include "cpu.h"
#include "entropy.h"
#include "js_memory.h"
#include "out.h"
#include "runtime.h"
#include "fatal.h"
#include "stack_moat.h"

uint32_t fn_reply_error(struct fn_out *out, uint32_t status, const char *name, const char *message,
                        const char *stack)
{
  fn_out_init(out, out->base, out->cap);
  fn_out_error_json(out, name, message, stack);
  return status;
}

static void handle_command(void)
{
  struct fn_host_command cmd;
  const char *bad = fn_channel_take_command(&cmd);
  fn_clock_begin_command(cmd.now_unix_ns, cmd.tsc_khz);
  /* Rekey before any user code can draw a random number: clones of one snapshot diverge here. */
  fn_entropy_reseed(cmd.entropy);
  fn_js_memory_begin_command();

  struct fn_out out;
  fn_out_init(&out, fn_window_data(), FN_WINDOW_DATA_MAX);
  uint32_t status;
  if (bad) {
    status = fn_reply_error(&out, FN_STATUS_BAD_INPUT, "BadInput", bad, "");
  } else if (cmd.command == FN_CMD_LOAD) {
    status = fn_command_load(&cmd, &out);
  } else if (cmd.command == FN_CMD_INVOKE) {
    status = fn_command_invoke(&cmd, &out);
  } else {
    status = fn_reply_error(&out, FN_STATUS_BAD_INPUT, "BadInput", "unknown command", "");
  }
  if (out.overflow) /* only error JSON can get here: the invoke path checks sizes itself */
    status = fn_reply_error(&out, status, "Error", "the reply did not fit in the window", "");
  if (!fn_stack_moat_intact())
    fn_panic("the C stack overflowed into the heap (unchecked native recursion, e.g. JSON.stringify of a "
             "value nested tens of thousands deep); this VM's memory can no longer be trusted");
  fn_channel_set_reply(status, (uint32_t)out.len, fn_clock_command_guest_ns());
}

_Noreturn void fn_serve(void)
{
  const struct fn_platform_info *p = fn_platform();
  uint64_t boot_tsc = fn_rdtsc();
  fn_arena_init(p->heap_start, fn_stack_moat_reserve(p->heap_start, p->heap_end));
  fn_entropy_init();
  fn_clock_begin_command(0, 0); /* no wall clock until the first command brings one */
  fn_runtime_init();
  /* READY carries the boot's cost (0 when the TSC frequency is not known yet, as on KVM). */
  uint64_t boot_ticks = fn_rdtsc() - boot_tsc;
  fn_channel_set_reply(FN_STATUS_OK, 0, p->tsc_khz_fallback ? boot_ticks * 1000000u / p->tsc_khz_fallback : 0);
  uint32_t event = FN_EVENT_READY;
  for (;;) {
    fn_doorbell(event);
    handle_command();
    event = FN_EVENT_DONE;
  }
}
