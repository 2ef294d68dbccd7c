/*
 * control.c — the VMM's own commands (fn_vmm_control.h): read and check the request, run it,
 * answer with a DONE frame. The guest is not involved and does not run meanwhile.
 */
#include "vmm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#define INPUT_MAX 65536

/* ---- a strict reader for one flat JSON object of string / null members ----------------------- */
struct member {
  const char *name;
  char *value; /* malloc'd; NULL for null or absent */
  int seen;
};

static void skip_ws(const char **p)
{
  while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
    (*p)++;
}

static int hex4(const char *p, unsigned *v)
{
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0)
      return -1;
    *v = *v << 4 | (unsigned)d;
  }
  return 0;
}

static void put_utf8(char **o, unsigned cp)
{
  if (cp < 0x80) {
    *(*o)++ = (char)cp;
  } else if (cp < 0x800) {
    *(*o)++ = (char)(0xC0 | cp >> 6);
    *(*o)++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *(*o)++ = (char)(0xE0 | cp >> 12);
    *(*o)++ = (char)(0x80 | (cp >> 6 & 0x3F));
    *(*o)++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *(*o)++ = (char)(0xF0 | cp >> 18);
    *(*o)++ = (char)(0x80 | (cp >> 12 & 0x3F));
    *(*o)++ = (char)(0x80 | (cp >> 6 & 0x3F));
    *(*o)++ = (char)(0x80 | (cp & 0x3F));
  }
}

/* A JSON string at *p (the opening quote) into a new NUL-terminated buffer; NULL if malformed
 * or if it contains NUL (these strings are paths). */
static char *read_string(const char **p)
{
  const char *s = *p + 1;
  char *out = malloc(strlen(s) + 1), *o = out;
  for (;;) {
    unsigned char c = (unsigned char)*s++;
    if (c == '"')
      break;
    if (c < 0x20)
      goto bad;
    if (c != '\\') {
      *o++ = (char)c;
      continue;
    }
    unsigned cp;
    switch (*s++) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u':
      if (hex4(s, &cp) != 0)
        goto bad;
      s += 4;
      if (cp >= 0xD800 && cp < 0xDC00) {
        unsigned lo;
        if (s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
          goto bad;
        s += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if (cp >= 0xDC00 && cp < 0xE000) {
        goto bad;
      }
      if (cp == 0)
        goto bad;
      put_utf8(&o, cp);
      break;
    default:
      goto bad;
    }
  }
  *o = 0;
  *p = s;
  return out;
bad:
  free(out);
  return NULL;
}

static int parse_object(const char *s, struct member *m, int n, struct err *e)
{
  const char *p = s;
  skip_ws(&p);
  if (*p == 0) /* empty input = {} */
    return 0;
  if (*p++ != '{')
    return fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "the input is not a JSON object");
  skip_ws(&p);
  if (*p == '}')
    goto end;
  for (;;) {
    skip_ws(&p);
    if (*p != '"')
      return fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "expected a member name in the JSON input");
    char *name = read_string(&p);
    if (!name)
      return fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "malformed string in the JSON input");
    struct member *hit = NULL;
    for (int i = 0; i < n; i++)
      if (!strcmp(m[i].name, name))
        hit = &m[i];
    if (!hit || hit->seen) {
      int r = fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", hit ? "member \"%s\" given twice" : "unknown member \"%s\"",
                   name);
      free(name);
      return r;
    }
    free(name);
    hit->seen = 1;
    skip_ws(&p);
    if (*p++ != ':')
      return fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "expected ':' in the JSON input");
    skip_ws(&p);
    if (!strncmp(p, "null", 4)) {
      p += 4;
    } else if (*p == '"') {
      if (!(hit->value = read_string(&p)))
        return fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "member \"%s\" is not a valid string", hit->name);
    } else {
      return fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "member \"%s\" must be a string or null", hit->name);
    }
    skip_ws(&p);
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p == '}')
      break;
    return fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "expected ',' or '}' in the JSON input");
  }
end:
  p++;
  skip_ws(&p);
  if (*p)
    return fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "trailing characters after the JSON object");
  return 0;
}

/* ---- commands -------------------------------------------------------------------------------- */
static int snapshot_command(const char *input, char *out, size_t cap, struct err *e)
{
  if (vm.pid < 0)
    return fail(e, FN_VMM_STATUS_BAD_STATE, "BadState", "SNAPSHOT before RESTORE: this VMM holds no VM yet");
  struct member m[] = {{"dir", NULL, 0}, {"base", NULL, 0}};
  int rc = parse_object(input, m, 2, e);
  if (rc == 0 && (!m[0].value || !m[0].value[0]))
    rc = fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "SNAPSHOT needs {\"dir\": \"<directory>\"}");
  if (rc == 0 && lockdown_mode == LOCKDOWN_SEALED)
    rc = fail(e, FN_VMM_STATUS_BAD_STATE, "SnapshotError",
              "this VM was restored without --snapshot-dir, so its VMM is sealed and can write no file: "
              "restore it with a snapshot directory to take snapshots from it");
  if (rc == 0)
    rc = vm_snapshot(m[0].value, m[1].value, out, cap, e);
  free(m[0].value);
  free(m[1].value);
  return rc;
}

static int probe_command(const char *input, char *out, size_t cap, struct err *e)
{
  struct member m[] = {{"try", NULL, 0}, {"path", NULL, 0}};
  int rc = parse_object(input, m, 2, e);
  if (rc == 0 && !m[0].value)
    rc = fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "TEST_PROBE needs {\"try\": \"...\"}");
  if (rc == 0)
    rc = test_probe(m[0].value, m[1].value, out, cap, e);
  free(m[0].value);
  free(m[1].value);
  return rc;
}

static int reset_command(const char *input, char *out, size_t cap, struct err *e)
{
  if (parse_object(input, NULL, 0, e) != 0)
    return -1;
  return vm_reset(out, cap, e);
}

/* RESTORE: only in a VMM that holds no VM (one the launcher made). Answers READY on success. */
static int restore_command(const char *input, char *out, size_t cap, uint32_t *event, struct err *e)
{
  if (vm.pid >= 0 || vm.snap)
    return fail(e, FN_VMM_STATUS_BAD_STATE, "BadState", "RESTORE into a VMM that holds a VM already: start another VMM");
  struct member m[] = {{"dir", NULL, 0}, {"base", NULL, 0}, {"memoryMiB", NULL, 0}};
  int rc = parse_object(input, m, 3, e);
  char *end = NULL;
  unsigned long long mib = m[2].value ? strtoull(m[2].value, &end, 10) : 0;
  if (rc == 0 && (!m[0].value || !m[0].value[0] || !m[2].value))
    rc = fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "RESTORE needs {\"dir\": \"<directory>\", \"memoryMiB\": \"<n>\"}");
  else if (rc == 0 && (end == m[2].value || *end || mib < 8 || mib > 4095))
    rc = fail(e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "RESTORE: memoryMiB must be 8..4095, not \"%s\"", m[2].value);
  if (rc == 0) {
    vm.mem = mib << 20;
    rc = restore_vm(m[0].value, m[1].value, out, cap, e);
  }
  if (rc == 0) {
    prctl(PR_SET_NAME, "ptrace-vmm"); /* a VMM holding a VM now, like one started with --restore */
    lock_down_running_vm(0);          /* before READY, as a VMM started with --restore does */
    *event = FN_EVENT_READY;
  }
  for (int i = 0; i < 3; i++)
    free(m[i].value);
  return rc;
}

/* The reply to a control command: its output, or its error as JSON. */
static void reply(uint32_t command, uint32_t event, int rc, char *out, size_t cap, const struct err *e)
{
  if (rc == 0) {
    frame_reply(command, event, FN_STATUS_OK, out);
    return;
  }
  char name[80], msg[2200];
  json_escape(name, sizeof name, e->name);
  json_escape(msg, sizeof msg, e->msg);
  snprintf(out, cap, "{\"error\":{\"name\":\"%s\",\"message\":\"%s\"}}", name, msg);
  frame_reply(command, FN_EVENT_DONE, e->status, out);
}

void control_command(const struct fn_window_header *h)
{
  static char input[INPUT_MAX + 1];
  static char out[4096];
  uint64_t keep = h->input_len < INPUT_MAX ? h->input_len : INPUT_MAX;
  frame_read_input(input, h->input_len, keep);
  input[keep] = 0;
  struct err e = {0};
  uint32_t event = FN_EVENT_DONE;
  int rc;
  if (h->magic != FN_WINDOW_MAGIC || h->abi_version != FN_ABI_VERSION)
    rc = fail(&e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "bad window magic or ABI version in the command header");
  else if (h->input_len > INPUT_MAX)
    rc = fail(&e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "control input longer than %d bytes", INPUT_MAX);
  else if (strlen(input) != keep)
    rc = fail(&e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "control input contains a NUL byte");
  else if (h->command == FN_VMM_CMD_SNAPSHOT)
    rc = snapshot_command(input, out, sizeof out, &e);
  else if (h->command == FN_VMM_CMD_RESET)
    rc = reset_command(input, out, sizeof out, &e);
  else if (h->command == FN_VMM_CMD_RESTORE)
    rc = restore_command(input, out, sizeof out, &event, &e);
  else if (h->command == FN_VMM_CMD_TEST_PROBE && test_hooks_enabled)
    rc = probe_command(input, out, sizeof out, &e);
  else
    rc = fail(&e, FN_VMM_STATUS_BAD_REQUEST, "BadRequest", "unknown VMM command 0x%x", h->command);
  reply(h->command, event, rc, out, sizeof out, &e);
}

/* FN_VMM_FLAG_RESET_AFTER: the guest answered DONE; RESET now and reply as to a RESET command. */
void control_reset_after_done(void)
{
  static char out[4096];
  struct err e = {0};
  int rc = vm_reset(out, sizeof out, &e);
  reply(FN_VMM_CMD_RESET, FN_EVENT_DONE, rc, out, sizeof out, &e);
}
