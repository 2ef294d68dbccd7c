/*
 * channel.h — reading the host's command from the window and writing the guest's reply fields.
 * The header is copied once; every length is checked before any byte of input is used.
 */
#ifndef FN_CHANNEL_H
#define FN_CHANNEL_H

#include <stdint.h>

#include "fn_abi.h"

struct fn_host_command {
  uint32_t command;     /* enum fn_command */
  const uint8_t *input; /* in the window data: read it before writing any output */
  uint32_t input_len;   /* <= FN_WINDOW_DATA_MAX once validated */
  uint64_t now_unix_ns;
  uint64_t tsc_khz;
  uint8_t entropy[32];
};

/* Copies the command out of the window header. Returns NULL, or why the command is unusable (the
 * caller answers FN_STATUS_BAD_INPUT); the clock and entropy fields are filled in either way. */
const char *fn_channel_take_command(struct fn_host_command *cmd);

/* Splits "u32 meta_len | meta | rest" input. Returns NULL or why it is malformed. */
const char *fn_channel_split_meta(const struct fn_host_command *cmd, const uint8_t **meta, uint32_t *meta_len,
                                  const uint8_t **rest, uint32_t *rest_len);

/* Fills in the guest fields of the header (status, output, timing, heap) before a doorbell. */
void fn_channel_set_reply(uint32_t status, uint32_t output_len, uint64_t guest_ns);

/* Asks the host to sleep (FN_EVENT_SLEEP) for up to ns and takes its fresh clock on return. */
void fn_channel_sleep(uint64_t ns);

#endif /* FN_CHANNEL_H */
