/*
 * channel.c — the guest's side of the window protocol (see fn_abi.h).
 *
 * The host is trusted not to attack the guest, but it is still checked: a host bug must produce a
 * clear FN_STATUS_BAD_INPUT, never a read past the window.
 */
#include <string.h>

#include "channel.h"

#include "arena.h"
#include "clock.h"
#include "cpu.h"
#include "platform.h"

_Static_assert(sizeof(struct fn_window_header) == FN_WINDOW_HEADER_SIZE, "window header layout");

const char *fn_channel_take_command(struct fn_host_command *cmd)
{
  struct fn_window_header h;
  memcpy(&h, fn_window_header(), sizeof h);
  cmd->command = h.command;
  cmd->input = fn_window_data();
  cmd->input_len = 0;
  cmd->now_unix_ns = h.now_unix_ns;
  cmd->tsc_khz = h.tsc_khz;
  memcpy(cmd->entropy, h.entropy, sizeof cmd->entropy);
  if (h.magic != FN_WINDOW_MAGIC)
    return "the window header has a bad magic number";
  if (h.abi_version != FN_ABI_VERSION)
    return "the host speaks another ABI version than this guest (FN_ABI_VERSION in fn_abi.h): build the host and the guest from one checkout";
  if (h.input_len > FN_WINDOW_DATA_MAX)
    return "input_len is larger than the window's data area";
  cmd->input_len = h.input_len;
  return NULL;
}

const char *fn_channel_split_meta(const struct fn_host_command *cmd, const uint8_t **meta, uint32_t *meta_len,
                                  const uint8_t **rest, uint32_t *rest_len)
{
  if (cmd->input_len < 4)
    return "the input is shorter than its u32 meta_len prefix";
  const uint8_t *p = cmd->input;
  uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  if (len > cmd->input_len - 4)
    return "meta_len runs past the end of the input";
  *meta = p + 4;
  *meta_len = len;
  *rest = p + 4 + len;
  *rest_len = cmd->input_len - 4 - len;
  return NULL;
}

void fn_channel_set_reply(uint32_t status, uint32_t output_len, uint64_t guest_ns)
{
  struct fn_arena_stats st;
  fn_arena_stats(&st);
  struct fn_window_header *h = fn_window_header();
  h->status = status;
  h->output_len = output_len <= FN_WINDOW_DATA_MAX ? output_len : 0;
  h->guest_ns = guest_ns;
  h->heap_used = st.used;
  h->heap_peak = st.peak;
  h->sleep_ns = 0;
}

void fn_channel_sleep(uint64_t ns)
{
  struct fn_window_header *h = fn_window_header();
  fn_channel_set_reply(FN_STATUS_OK, 0, fn_clock_command_guest_ns());
  h->sleep_ns = ns;
  uint64_t before = fn_rdtsc();
  fn_doorbell(FN_EVENT_SLEEP);
  uint64_t slept = fn_rdtsc() - before;
  /* The host refreshed now_unix_ns; the command and its input stay as they were. */
  fn_clock_after_sleep(h->now_unix_ns, slept);
}
