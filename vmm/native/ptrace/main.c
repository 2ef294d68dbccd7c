/*
 * ptrace-vmm — runs the KVM guest ELF (fn-guest.elf) without KVM: a faithful stand-in for the KVM
 * VMM on machines with no /dev/kvm, including SNAPSHOT, RESTORE and RESET. A development and test
 * tool, not a sandbox.
 *
 *   ptrace-vmm <fn-guest.elf> [--memory-mib N]                       boot the guest
 *   ptrace-vmm [<fn-guest.elf>] --restore DIR [--base FILE] [--memory-mib N]
 *                                                   restore a snapshot (the ELF is not read)
 *   ptrace-vmm --launcher SOCKET                    fork a standby VMM per connection, which
 *                                                   restores on RESTORE (launcher.c)
 *   options: --tsc-khz N     the TSC frequency to hand the guest when the parent sends 0
 *                            (default: measured over the first 5 ms of this process)
 *            --no-populate   do not prefault the snapshot's data pages on restore
 *            --scan=pagemap  find dirty pages by reading /proc/pid/pagemap, not PAGEMAP_SCAN
 *            --snapshot-dir D  a restored VM may write snapshots beneath D (without it, a restored
 *                            VM is sealed: its VMM can open no file once running, lockdown.c)
 *
 * Why this works: the guest runs at CPL3 in long mode with identity-mapped memory — which is what
 * a Linux process is, once guest RAM sits at its guest-physical addresses, boot info and the
 * thread block are where fn_abi.h puts them and FS points at FN_TLS_ADDR. The guest process
 * (tracee.c) holds nothing but guest RAM, the window and two read-only stub pages; every system
 * call it makes stops it (seccomp) and is reported as a panic, so a run here proves the KVM
 * build's paths make none. Its doorbell `out` faults; the tracer handles that like KVM_EXIT_IO
 * (doorbell.c).
 *
 * Towards its parent it speaks the process transport of fn_abi.h (frames on stdin/stdout), so the
 * smoke tests drive this and fn-guest-process alike, plus the VMM commands of fn_vmm_control.h:
 * SNAPSHOT (snapshot.c), RESET (reset.c); restoring is this program started with --restore
 * (restore.c).
 *
 * Files: main.c (this: options, the command loop), frames.c (parent I/O, TSC),
 * doorbell.c (run to the next doorbell), tracee.c (the guest process), elf_image.c (fresh boot),
 * cpu_state.c (registers, FPU, cpu.bin), memory_files.c (memory images, pages.bin),
 * dirty_pages.c (pagemap scans), guest_memory.c (process_vm_readv/writev), snapshot.c,
 * restore.c, reset.c, control.c (control requests and replies), launcher.c, lockdown.c (what this
 * process may still do once its VM runs), test_hooks.c (TEST_PROBE, for tests of that), util.c.
 */
#include "vmm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct vm vm = {.pid = -1, .pagemap_fd = -1, .populate = 1};
enum lockdown_mode lockdown_mode = LOCKDOWN_SNAPSHOTS;

/* The directory a path names a file in ("." for a bare name), for Landlock's read rules. */
static char *parent_dir(const char *path)
{
  char *d = strdup(path), *slash = strrchr(d, '/');
  if (!slash)
    return strcpy(d, ".");
  if (slash == d)
    slash[1] = 0;
  else
    *slash = 0;
  return d;
}

static void map_window(void);
static _Noreturn void serve(void);

static _Noreturn void usage(const char *why)
{
  struct err e;
  fail(&e, 0, "UsageError",
       "%s\nusage: ptrace-vmm <fn-guest.elf> [--memory-mib N]\n"
       "       ptrace-vmm [<fn-guest.elf>] --restore DIR [--base FILE] [--memory-mib N]\n"
       "       ptrace-vmm --launcher SOCKET   (a VMM per connection, restored by RESTORE)\n"
       "       options: --tsc-khz N, --no-populate, --scan=pagemap, --snapshot-dir DIR (N MiB: 8..4095, default 64)",
       why);
  refuse(&e);
}

/* Forwards the guest's frame from the window; any output length it claims is checked first. */
static void send_guest_frame(uint32_t event)
{
  if (event != FN_EVENT_READY && event != FN_EVENT_DONE && event != FN_EVENT_PANIC && event != FN_EVENT_SLEEP)
    report_panic("the guest rang the doorbell with unknown event %u: only READY, DONE, PANIC and SLEEP exist", event);
  uint32_t n = window_header->output_len;
  if (n > FN_WINDOW_DATA_MAX)
    report_panic("the guest wrote output_len %u > FN_WINDOW_DATA_MAX", n);
  frame_send(event, window_header, window_data, n);
  vm.last_event = event;
  if (event == FN_EVENT_PANIC) {
    tracee_kill(vm.pid);
    exit(70);
  }
}

/* Runs the guest to its first doorbell; the caller forwards that frame once locked down. */
static uint32_t boot(const char *elf)
{
  struct err e;
  struct elf_image img;
  if (elf_image_read(elf, vm.mem, &img, &e) != 0)
    refuse(&e);
  struct tracee_spec spec = {.mem = vm.mem, .elf = &img};
  pid_t pid = tracee_spawn(&spec, &e);
  if (pid < 0 || vm_attach(pid, &e) != 0 || cpu_reset_for_boot(pid, img.entry, vm.mem, &e) != 0)
    die("%s", e.msg);
  free(img.file);
  return vm_run_to_doorbell();
}

/* Restores the snapshot in `dir` (over `base`) into this VMM, which holds no VM yet; fills
 * `json` with the READY frame's output, which the caller sends once locked down
 * (lock_down_running_vm). -1 with `e` set if the files are refused (nothing started); a failure
 * to start the guest process ends this program. */
int restore_vm(const char *dir, const char *base, char *json, size_t cap, struct err *e)
{
  uint64_t t0 = now_ns();
  struct snapshot *s;
  if (snapshot_load(dir, base, vm.mem, &s, e) != 0)
    return -1;
  uint64_t data_pages = s->backing.data_pages, diff_pages = runs_pages(&s->backing.runs);
  if (vm_start_from_snapshot(s, e) != 0)
    die("%s", e->msg);
  vm.last_event = FN_EVENT_READY;
  snprintf(json, cap,
           "{\"restored\":{\"us\":%.1f,\"pages\":%llu,\"diffPages\":%llu,\"planUs\":%.1f,\"spawnUs\":%.1f}}",
           (double)(now_ns() - t0) / 1e3, (unsigned long long)data_pages, (unsigned long long)diff_pages,
           restore_timings.plan_us, restore_timings.spawn_us);
  return 0;
}

/* The VM runs: from here on this process needs only its pipes, its guest and (if it may
 * snapshot) one directory. Called before READY, so whoever sees READY sees a VMM locked down. */
void lock_down_running_vm(int landlock_abi)
{
  int keep[3] = {vm.pagemap_fd, vm.snap ? vm.snap->backing.base_fd : -1, vm.snap ? vm.snap->backing.diff_fd : -1};
  lockdown_state = lockdown(lockdown_mode, landlock_abi, keep, 3);
}

static void restore(const char *dir, const char *base, char *json, size_t cap)
{
  struct err e;
  if (restore_vm(dir, base, json, cap, &e) != 0)
    refuse(&e);
}

/* A guest command: into the window, run the guest to its next doorbell, forward its frame; with
 * reset_after (FN_VMM_FLAG_RESET_AFTER), a DONE is followed at once by a RESET and its reply. */
static void guest_command(const struct fn_window_header *h, int reset_after)
{
  if (vm.pid < 0)
    report_panic("guest command %u before RESTORE: this VMM holds no VM yet", h->command);
  memcpy(window_header, h, FN_WINDOW_HEADER_SIZE);
  uint64_t n = h->input_len, keep = n <= FN_WINDOW_DATA_MAX ? n : FN_WINDOW_DATA_MAX;
  frame_read_input(window_data, n, keep);
  if (FN_WINDOW_DATA_OFFSET + keep > vm.window_hwm)
    vm.window_hwm = FN_WINDOW_DATA_OFFSET + keep;
  if (h->tsc_khz == 0)
    window_header->tsc_khz = tsc_khz();
  uint32_t event = vm_run_to_doorbell();
  send_guest_frame(event);
  if (reset_after && event == FN_EVENT_DONE)
    control_reset_after_done();
}

int main(int argc, char **argv)
{
  const char *elf = NULL, *restore_dir = NULL, *base = NULL, *launcher = NULL, *snapshot_dir = NULL;
  uint64_t mib = 64;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--memory-mib") && i + 1 < argc)
      mib = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(a, "--restore") && i + 1 < argc)
      restore_dir = argv[++i];
    else if (!strcmp(a, "--base") && i + 1 < argc)
      base = argv[++i];
    else if (!strcmp(a, "--tsc-khz") && i + 1 < argc)
      tsc_khz_override = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(a, "--launcher") && i + 1 < argc)
      launcher = argv[++i];
    else if (!strcmp(a, "--snapshot-dir") && i + 1 < argc)
      snapshot_dir = argv[++i];
    else if (!strcmp(a, "--no-populate"))
      vm.populate = 0;
    else if (!strcmp(a, "--scan=pagemap"))
      scan_force_pagemap_read = 1;
    else if (a[0] == '-' || elf)
      usage("unknown or incomplete option");
    else
      elf = a;
  }
  if (mib < 8 || mib > 4095)
    usage("--memory-mib must be 8..4095");
  if (launcher && (restore_dir || elf))
    usage("--launcher starts no VM of its own: give no ELF and no --restore");
  if (!restore_dir && !elf && !launcher)
    usage("give the guest ELF, or --restore DIR, or --launcher SOCKET");
  if (base && !restore_dir)
    usage("--base goes with --restore");
  vm.mem = mib << 20;
  _Static_assert(STUB_ADDR + STUB_SIZE < USER_TOP, "stub pages");

  signal(SIGPIPE, SIG_IGN); /* a parent that went away shows up as a failed write */
  const char *hooks = getenv("FN_VMM_TEST_HOOKS");
  test_hooks_enabled = hooks && !strcmp(hooks, "1");
  if (launcher) {
    /* Its VMMs restore by RESTORE and never snapshot: each is sealed once its VM runs. */
    lockdown_mode = LOCKDOWN_SEALED;
    return launcher_main(launcher);
  }
  map_window();
  /* A restore with nowhere to write is sealed (lockdown.c). Landlock, if any, before the guest
   * process exists: that process must be inside the same domain to stay traceable. */
  lockdown_mode = restore_dir && !snapshot_dir ? LOCKDOWN_SEALED : LOCKDOWN_SNAPSHOTS;
  struct lockdown_paths paths = {.snapshot_dir = snapshot_dir};
  paths.read_dirs[0] = restore_dir;
  paths.read_dirs[1] = base ? parent_dir(base) : NULL;
  paths.read_dirs[2] = elf && !restore_dir ? parent_dir(elf) : NULL;
  int landlock_abi = lockdown_early(lockdown_mode, &paths);
  char ready[256];
  uint32_t first_event = 0;
  if (restore_dir)
    restore(restore_dir, base, ready, sizeof ready);
  else
    first_event = boot(elf);
  lock_down_running_vm(landlock_abi);
  if (restore_dir)
    frame_reply(0, FN_EVENT_READY, FN_STATUS_OK, ready);
  else
    send_guest_frame(first_event);
  serve();
}

/* The window at FN_WINDOW_ADDR, shared with the guest process (which inherits it). */
static void map_window(void)
{
  if (mmap(window_header, FN_WINDOW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
           0) != (void *)window_header)
    die("cannot map the window at 4 GiB: %s", strerror(errno));
  madvise(window_header, WINDOW_PREFAULT, 23 /* MADV_POPULATE_WRITE, best effort */);
}

/* The command loop, until the parent closes the channel. */
static _Noreturn void serve(void)
{
  for (;;) {
    struct fn_window_header h;
    if (!frame_read_header(&h)) {
      tracee_kill(vm.pid);
      exit(0);
    }
    uint32_t command = h.command & ~FN_VMM_FLAG_RESET_AFTER;
    if (h.command >= FN_VMM_CMD_FIRST && command >= FN_VMM_CMD_FIRST)
      control_command(&h); /* the flag on a VMM command leaves it unknown: refused there */
    else {
      int reset_after = command != h.command;
      h.command = command; /* the guest never sees the flag */
      guest_command(&h, reset_after);
    }
    tracee_reap_dead();
  }
}

/* A VMM forked by the launcher for one connection (stdin and stdout are that socket): no VM
 * until a RESTORE command names one. It says hello first, with its pid (the parent's handle on
 * it), and from then on an internal failure is also reported on the channel (die()). */
_Noreturn void standby_main(void)
{
  panic_frame_on_die = 1;
  map_window();
  /* Sealed once RESTORE has started its VM (control.c); no Landlock for a sealed VMM. */
  struct lockdown_paths none = {0};
  lockdown_early(lockdown_mode, &none);
  tracee_prefork(); /* after the window: the guest process shares it */
  char json[64];
  snprintf(json, sizeof json, "{\"standby\":{\"pid\":%d}}", (int)getpid());
  frame_reply(0, FN_EVENT_READY, FN_STATUS_OK, json);
  serve();
}
