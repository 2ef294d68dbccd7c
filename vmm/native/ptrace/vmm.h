/*
 * vmm.h — the pieces of ptrace-vmm and how they fit (see main.c for the overview).
 */
#ifndef PTRACE_VMM_H
#define PTRACE_VMM_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "fn_abi.h"
#include "fn_vmm_control.h"
#include "snapshot_format.h" /* pages.bin and cpu.bin, shared with the KVM core */

#define PAGE 4096ull
#define RAM_BASE 0x1000ull /* page 0 stays unmapped, as in the VM */
/* Two pages right after the window, the only memory of the guest process besides RAM and the
 * window: the start trampoline (code, read-only) and its seccomp program (data, read-only). */
#define STUB_ADDR (FN_WINDOW_ADDR + FN_WINDOW_SIZE)
#define STUB_SIZE (2 * PAGE)
#define USER_TOP 0x7ffffffff000ull /* end of the x86-64 user address space (4-level paging) */
/* The window's first pages (header and the start of the data) are used by every command:
 * prefaulted in both processes so the first command after a start or restore does not fault. */
#define WINDOW_PREFAULT (4 * PAGE)

/* ---- errors: every fallible function returns -1 and fills one of these --------------------- */
struct err {
  uint32_t status; /* enum fn_vmm_status for a control reply */
  char name[32];   /* error class for the JSON reply */
  char msg[1024];
};
int fail(struct err *e, uint32_t status, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Set in a VMM the launcher made: die() also sends its message to the parent as a PANIC frame
 * (there is no stderr of this VM's own for the parent to read). */
extern int panic_frame_on_die;
/* A refused input (usage, bad snapshot files): one line on stderr, exit status 2. */
_Noreturn void refuse(const struct err *e);

/* ---- page runs ------------------------------------------------------------------------------ */
struct run {
  uint64_t first; /* page number: guest-physical address / PAGE */
  uint64_t count;
};
struct runs {
  struct run *v;
  size_t n, cap;
};
void runs_add(struct runs *r, uint64_t first, uint64_t count); /* merges with the last run */
void runs_free(struct runs *r);
uint64_t runs_pages(const struct runs *r);

/* ---- CPU state (cpu_state.c) ---------------------------------------------------------------- */
struct cpu_state {
  struct user_regs_struct regs;
  uint8_t fxsave[512];
};
int cpu_capture_fpu(pid_t pid, struct cpu_state *cpu, struct err *e);
int cpu_apply(pid_t pid, const struct cpu_state *cpu, struct err *e);
int cpu_reset_for_boot(pid_t pid, uint64_t entry, uint64_t mem, struct err *e);
int cpu_file_write(const char *path, const struct cpu_state *cpu, const uint8_t id[16], uint64_t mem,
                   struct err *e);
int cpu_file_read(const char *path, struct cpu_state *cpu, uint8_t id[16], uint64_t mem, struct err *e);

/* ---- memory files (memory_files.c) ---------------------------------------------------------- */
/* The memory a VM runs from: a full image, or a base plus a diff whose runs override it. */
struct backing {
  int base_fd;       /* full image, or the base layer */
  int diff_fd;       /* -1 unless layered */
  struct runs runs;  /* layered: pages taken from diff_fd */
  uint8_t *view;     /* the same composition mapped read-only in this process (RESET's source) */
  uint64_t mem;
  uint8_t id[16];    /* snapshot id */
  uint64_t data_pages;
};
int memory_file_open(const char *path, uint64_t mem, const char *role, struct err *e);
int backing_map(const struct backing *b, uint8_t *at, uint64_t from, int fixed_noreplace, int prot,
                struct err *e);
int backing_map_view(struct backing *b, struct err *e);
void backing_close(struct backing *b);
int file_data_runs(int fd, uint64_t mem, struct runs *out);
void backing_data_runs(const struct backing *b, struct runs *out);
int pages_file_write(const char *path, const struct runs *runs, int layered, uint64_t mem, const uint8_t id[16],
                     const uint8_t base_id[16], uint64_t data_pages, struct err *e);
int pages_file_read(const char *path, struct runs *runs, int *layered, uint64_t mem, uint8_t id[16],
                    uint8_t base_id[16], uint64_t *data_pages, struct err *e);
int pages_file_peek_id(const char *path, uint8_t id[16]); /* 0 and id, or -1 if unreadable */
uint8_t *read_small_file(const char *path, size_t max, size_t *len); /* *len > max: larger than max */
int cpu_file_refused(struct err *e, const char *path, const struct fn_snapshot_refusal *why);
int pages_file_sibling_id(const char *memory_path, uint8_t id[16]);

/* ---- the guest process (tracee.c, elf_image.c) ---------------------------------------------- */
struct elf_image {
  uint8_t *file;
  size_t size;
  uint64_t entry, image_end;
};
int elf_image_read(const char *path, uint64_t mem, struct elf_image *out, struct err *e);
void elf_image_install(const struct elf_image *img, uint64_t mem); /* in the guest process */

struct tracee_spec {
  uint64_t mem;
  const struct elf_image *elf;     /* fresh boot, or */
  const struct backing *backing;   /* restore from files */
  const struct runs *populate_read;  /* restore: pages to prefault read-only / writable (populate.c) */
  const struct runs *populate_write;
};
pid_t tracee_spawn(const struct tracee_spec *spec, struct err *e);
/* Forks a guest process now that waits for the next restore's tracee_spawn (launcher VMMs). */
void tracee_prefork(void);
void tracee_kill(pid_t pid);
void tracee_kill_later(pid_t pid);
void tracee_reap_dead(void);

/* populate.c */
void populate_plan(const struct backing *b, struct runs *read, struct runs *write);

/* ---- guest memory access from here (guest_memory.c) ----------------------------------------- */
int guest_read(pid_t pid, const struct run *runs, size_t n, uint8_t *const *bufs, struct err *e);
int guest_write_runs(pid_t pid, const struct runs *runs, const uint8_t *src_base, struct err *e);

/* ---- dirty and touched pages (dirty_pages.c) ------------------------------------------------ */
enum scan_kind {
  SCAN_PRIVATE, /* pages with a private (anonymous) copy: everything written since the file mapping */
  SCAN_TOUCHED, /* pages with any mapping at all (read or written) */
};
int scan_pages(int pagemap_fd, uint64_t start, uint64_t end, enum scan_kind kind, struct runs *out, struct err *e);
extern int scan_force_pagemap_read; /* --scan=pagemap: use /proc/pid/pagemap instead of PAGEMAP_SCAN */

/* ---- the VM --------------------------------------------------------------------------------- */
struct snapshot {
  struct backing backing;
  struct cpu_state cpu;
  uint8_t id[16];
};

struct vm {
  uint64_t mem;
  pid_t pid;
  int pagemap_fd;
  struct cpu_state cpu;   /* regs valid while stopped at a doorbell (RIP past the `out`) */
  int regs_dirty;         /* cpu.regs must be written before the guest runs again */
  uint32_t last_event;    /* READY / DONE / SLEEP: where the guest stopped */
  struct snapshot *snap;  /* what RESET returns to; NULL until SNAPSHOT or a restore */
  uint64_t window_hwm;    /* bytes of the window the host wrote since the last reset */
  int populate;           /* prefault the snapshot's data pages on restore */
};
extern struct vm vm;

int vm_attach(pid_t pid, struct err *e); /* a new guest process: open its pagemap */
void vm_replace_snapshot(struct snapshot *s);

/* restore.c */
int snapshot_load(const char *dir, const char *base_path, uint64_t mem, struct snapshot **out, struct err *e);
void snapshot_free(struct snapshot *s);
int vm_start_from_snapshot(struct snapshot *s, struct err *e);
/* Where the last restore's time went: mapping and planning here, starting the guest process. */
struct restore_timings {
  double plan_us, spawn_us;
};
extern struct restore_timings restore_timings;

/* doorbell.c */
uint32_t vm_run_to_doorbell(void);
_Noreturn void report_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* frames.c: the process transport towards the parent */
extern struct fn_window_header *const window_header;
extern uint8_t *const window_data;
void frame_send(uint32_t event, const struct fn_window_header *h, const void *data, uint32_t len);
int frame_read_header(struct fn_window_header *h); /* 0 = clean EOF */
void frame_read_input(void *dst, uint64_t len, uint64_t keep);
void frame_reply(uint32_t command, uint32_t event, uint32_t status, const char *json);
uint64_t tsc_khz(void);
extern uint64_t tsc_khz_override;

/* control.c, snapshot.c, reset.c */
void control_command(const struct fn_window_header *h);
void control_reset_after_done(void);
int vm_snapshot(const char *dir, const char *base, char *json, size_t cap, struct err *e);
int vm_reset(char *json, size_t cap, struct err *e);

/* main.c, launcher.c */
int restore_vm(const char *dir, const char *base, char *json, size_t cap, struct err *e);
void lock_down_running_vm(int landlock_abi);
_Noreturn void standby_main(void);
int launcher_main(const char *path);
/* lockdown.c: what this process may still do once its VM runs (SECURITY.md, blast radius) */
enum lockdown_mode {
  LOCKDOWN_SEALED,    /* a restored VM that will never snapshot: opens nothing, starts nothing */
  LOCKDOWN_SNAPSHOTS, /* may write snapshots (beneath snapshot_dir) and restart its guest from them */
};
struct lockdown_paths {
  const char *snapshot_dir; /* --snapshot-dir, or NULL */
  const char *read_dirs[3]; /* the snapshot it came from, its base's directory, the ELF's; or NULL */
};
struct lockdown_report {
  int seccomp;                  /* 1 once the filter is installed */
  int landlock_abi;             /* the Landlock ABI in force, 0 where there is none */
  uint64_t address_space_limit; /* RLIMIT_AS, bytes */
};
int lockdown_early(enum lockdown_mode mode, const struct lockdown_paths *paths); /* the Landlock ABI, or 0 */
struct lockdown_report lockdown(enum lockdown_mode mode, int landlock_abi, const int *keep, int nkeep);
/* The launcher's own filter (inherited by every standby VMM and guest process it forks). */
void launcher_lockdown(void);
extern const unsigned long pagemap_scan_request; /* the one ioctl the filter lets through */
extern struct lockdown_report lockdown_state;    /* what lockdown() put in force (test_hooks.c) */

/* test_hooks.c: TEST_PROBE, only with FN_VMM_TEST_HOOKS=1 in the environment at start */
#define FN_VMM_CMD_TEST_PROBE 0x1F0u
extern int test_hooks_enabled;
int test_probe(const char *what, const char *path, char *out, size_t cap, struct err *e);
/* main.c: where this VM may write snapshots (NULL: nowhere, a sealed VM) */
extern enum lockdown_mode lockdown_mode;

/* small helpers (util.c) */
uint64_t now_ns(void);
int is_zero_page(const uint8_t *p);
void random_id(uint8_t id[16]);
size_t json_escape(char *out, size_t cap, const char *s);

#endif
