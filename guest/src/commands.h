/*
 * commands.h — the host's commands. Each reads its input from the window first, then writes its
 * output into `out` (the same window data area) and returns an FN_STATUS_*.
 *
 * Output encoding, by status (the host reads status first):
 *   FN_STATUS_OK          the command's own encoding from fn_abi.h (LOAD: {"ok":true};
 *                         INVOKE: u32 meta_len | meta JSON | body). A function that threw still
 *                         gets OK: its meta carries status 500 and "error".
 *   every other status    one JSON object with an "error" member {name, message, stack}. For an
 *                         INVOKE that ran out of memory it is the failure meta (status 500,
 *                         headers, logs, error) when one could be built.
 */
#ifndef FN_COMMANDS_H
#define FN_COMMANDS_H

#include <stdint.h>

#include "channel.h"
#include "out.h"

uint32_t fn_command_load(const struct fn_host_command *cmd, struct fn_out *out);
uint32_t fn_command_invoke(const struct fn_host_command *cmd, struct fn_out *out);

/* Shared by both: writes error JSON (resetting any partial output) and returns status. */
uint32_t fn_reply_error(struct fn_out *out, uint32_t status, const char *name, const char *message,
                        const char *stack);

/* Whether a LOAD succeeded (INVOKE needs it). */
int fn_function_loaded(void);

#endif /* FN_COMMANDS_H */
