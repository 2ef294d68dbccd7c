/*
 * fuzz_control_input — the ptrace VMM's handling of a control command from its parent
 * (ptrace/control.c: the header checks and its own strict JSON reader, whose functions are static,
 * hence the #include of the real file below rather than a copy). The parent is the worker, not a
 * guest, but the reader is hand-written C that allocates and unescapes: every input must end in a
 * DONE frame whose reply is short, NUL-terminated JSON, with no leak (LeakSanitizer), and a SNAPSHOT
 * reaches vm_snapshot only with a non-empty directory. (Escaped control characters such as \t are
 * valid JSON and valid in a Linux path: the first run of this target stopped on one, a wrong
 * property, not a bug.)
 *
 * Input: byte 0 picks the command (SNAPSHOT, RESET, RESTORE, or an unknown one), byte 1 bit 0
 * breaks the header's magic; the rest is the JSON input. The VMM's own actions are stubs that
 * record; this harness's VMM holds no VM, as a launcher's standby does before RESTORE.
 */
#include "../ptrace/control.c"

#include <assert.h>

struct vm vm = {.pid = -1, .pagemap_fd = -1};
/* What main.c and test_hooks.c set at start: a VMM that may snapshot, with no test hooks (so
 * TEST_PROBE is an unknown command here, as it is in production). */
enum lockdown_mode lockdown_mode = LOCKDOWN_SNAPSHOTS;
int test_hooks_enabled;

static const uint8_t *fuzz_in;
static int replies;

#define CHECK(cond, what)                                                  \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "fuzz property failed: %s\n", what);                 \
      abort();                                                             \
    }                                                                      \
  } while (0)

void frame_read_input(void *dst, uint64_t len, uint64_t keep)
{
  CHECK(keep <= len, "kept more input than there is");
  memcpy(dst, fuzz_in, (size_t)keep);
}

void frame_reply(uint32_t command, uint32_t event, uint32_t status, const char *json)
{
  (void)command;
  size_t n = strlen(json);
  CHECK(event == FN_EVENT_DONE, "a control reply that is not DONE");
  CHECK(n > 1 && n < 4096 && json[0] == '{' && json[n - 1] == '}', "a reply that is not one JSON object");
  CHECK(status == FN_STATUS_OK || status >= FN_VMM_STATUS_BAD_REQUEST, "a reply status that is neither OK nor a VMM status");
  replies++;
}

int vm_snapshot(const char *dir, const char *base, char *json, size_t cap, struct err *e)
{
  CHECK(dir && dir[0], "SNAPSHOT reached the VMM with no directory");
  CHECK(strlen(dir) <= INPUT_MAX && (!base || strlen(base) <= INPUT_MAX), "a path longer than the input it came from");
  (void)base;
  (void)e;
  snprintf(json, cap, "{\"snapshot\":{}}");
  return 0;
}

int vm_reset(char *json, size_t cap, struct err *e)
{
  (void)e;
  snprintf(json, cap, "{\"reset\":{}}");
  return 0;
}

/* RESTORE reaches this only with a directory and a memory size in range; the stub refuses the
 * files, as a restore of garbage would, so the reply stays a DONE frame. */
int restore_vm(const char *dir, const char *base, char *json, size_t cap, struct err *e)
{
  CHECK(dir && dir[0], "RESTORE reached the VMM with no directory");
  CHECK(vm.mem >= (8ull << 20) && vm.mem <= (4095ull << 20), "RESTORE reached the VMM with memory out of range");
  (void)base;
  (void)json;
  (void)cap;
  return fail(e, FN_VMM_STATUS_BAD_SNAPSHOT, "SnapshotError", "the fuzz harness restores nothing");
}

void lock_down_running_vm(int landlock_abi)
{
  (void)landlock_abi;
  CHECK(0, "locked down after a restore that failed");
}

int test_probe(const char *what, const char *path, char *out, size_t cap, struct err *e)
{
  (void)what, (void)path, (void)out, (void)cap, (void)e;
  CHECK(0, "TEST_PROBE ran without test hooks");
  return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  static const uint32_t commands[] = {FN_VMM_CMD_SNAPSHOT, FN_VMM_CMD_RESET, FN_VMM_CMD_RESTORE, FN_VMM_CMD_FIRST + 7, FN_VMM_CMD_TEST_PROBE};
  struct fn_window_header h = {
      .magic = (data[1] & 1) ? 0 : FN_WINDOW_MAGIC,
      .abi_version = FN_ABI_VERSION,
      .command = commands[data[0] % 5],
      .input_len = (uint32_t)(size - 2),
  };
  fuzz_in = data + 2;
  replies = 0;
  control_command(&h);
  CHECK(replies == 1, "a control command without exactly one reply");
  return 0;
}
