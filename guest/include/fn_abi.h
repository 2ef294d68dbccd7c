/*
 * fn_abi.h — the contract between the host (vmm/, or the process sandbox) and the guest runtime.
 *
 * This header is the single source of truth for the guest memory layout, the shared window and
 * the doorbell protocol. Both sides include it; the TypeScript process sandbox mirrors the window
 * header layout in vmm/src/window-layout.ts (a test checks the two agree).
 *
 * Version this ABI independently of the package version: bump FN_ABI_VERSION on any change in
 * layout or meaning, and the host refuses a guest built for another version.
 */
#ifndef FN_ABI_H
#define FN_ABI_H

#include <stdint.h>

#define FN_ABI_VERSION 1u

/* ---------------------------------------------------------------------------------------------
 * Guest physical memory (KVM backend). Identity mapped: guest virtual == guest physical.
 * Page 0 is never mapped so a NULL dereference faults.
 * ------------------------------------------------------------------------------------------- */
#define FN_PAGE_SIZE        0x1000ull
#define FN_GDT_ADDR         0x1000ull  /* GDT: null, code64 (DPL0), data (DPL0), data (DPL3), code64 (DPL3), TSS(16 bytes) */
#define FN_TSS_ADDR         0x2000ull  /* 64-bit TSS (104 bytes) followed by the I/O permission bitmap */
#define FN_TSS_IOMAP_OFFSET 0x68u      /* the I/O bitmap starts right after the TSS proper */
#define FN_IDT_ADDR         0x3000ull  /* IDT: interrupt gates for the CPU exceptions, all to the fault stubs (supervisor) */
#define FN_IST_STACK_ADDR   0x4000ull  /* the fault stubs' stack page: TSS IST1 and RSP0 = its top (supervisor, NX) */
#define FN_SYSCALL_STUB_ADDR 0x5000ull /* LSTAR points here: reports a stray syscall through FN_PORT_SYSCALL;
                                          the same page holds the fault stubs (supervisor, executable) */
#define FN_BOOT_INFO_ADDR   0x6000ull  /* struct fn_boot_info, written by the host before the first run */
#define FN_TLS_ADDR         0x7000ull  /* FS base: musl's thread block, filled in by the guest's entry code */
#define FN_PAGE_TABLES_ADDR 0x8000ull  /* PML4, PDPT, page directories, the page tables for the first and last 2 MiB */
#define FN_PAGE_TABLES_END  0x10000ull
#define FN_GUEST_LOAD_ADDR  0x400000ull /* the guest ELF is linked here (static, non-PIE) */
#define FN_STACK_SIZE       0x100000ull /* 1 MiB at the top of guest RAM */
/* An unmapped page between the heap and the stack, so a stack overflow faults (#PF → guest_fault)
 * instead of corrupting the heap. The top of guest RAM, mem_size = fn_boot_info.mem_size:
 *   stack     [mem_size - FN_STACK_SIZE, mem_size)           RSP starts at mem_size
 *   guard     [mem_size - FN_STACK_SIZE - FN_STACK_GUARD_SIZE, mem_size - FN_STACK_SIZE)  not present
 *   heap_end   = mem_size - FN_STACK_SIZE - FN_STACK_GUARD_SIZE (the arena and the ELF image end below)
 * The guest takes heap_end from the boot info and needs no knowledge of the guard. */
#define FN_STACK_GUARD_SIZE FN_PAGE_SIZE

/* The shared window is its own memory slot outside guest RAM, so it never counts against the
 * function's memory limit. Layout: struct fn_window_header at offset 0, data from FN_WINDOW_DATA_OFFSET. */
#define FN_WINDOW_ADDR        0x100000000ull /* 4 GiB */
#define FN_WINDOW_SIZE        0x800000ull    /* 8 MiB */
#define FN_WINDOW_DATA_OFFSET 0x1000u
#define FN_WINDOW_DATA_MAX    (FN_WINDOW_SIZE - FN_WINDOW_DATA_OFFSET)

/* ---------------------------------------------------------------------------------------------
 * Doorbell: the guest executes `out dx, eax` with dx = FN_PORT_DOORBELL and eax = an FN_EVENT_*.
 * The vCPU exits (KVM_EXIT_IO); the host reads the window, writes the next command into it, and
 * resumes the guest, which continues after the `out` and reads the command.
 * ------------------------------------------------------------------------------------------- */
#define FN_PORT_DOORBELL 0xE0u
#define FN_PORT_SYSCALL  0xE1u  /* used only by the syscall stub; eax = syscall number */
/* Used only by the fault stubs at CPL0 (the exception frame is on the IST stack). The TSS I/O bitmap
 * denies it at CPL3, and it lies outside the doorbell's dword (0xE0..0xE3, which `out dx, eax` at
 * CPL3 may reach), so the guest cannot forge a fault report. */
#define FN_PORT_FAULT    0xF0u

enum fn_event {
  FN_EVENT_READY = 1,  /* runtime initialised, nothing loaded yet; waiting for a command */
  FN_EVENT_DONE = 2,   /* the last command finished: status + output in the window */
  FN_EVENT_PANIC = 3,  /* unrecoverable guest error; UTF-8 message in the window data */
  FN_EVENT_SLEEP = 4,  /* a timer is pending: the host sleeps up to sleep_ns (never past the deadline),
                          refreshes now_unix_ns and resumes the guest with the same command */
};

enum fn_command {
  FN_CMD_NONE = 0,
  FN_CMD_LOAD = 1,     /* data = fn_load_input: load and evaluate the function module */
  FN_CMD_INVOKE = 2,   /* data = fn_invoke_input: run one invocation */
};

enum fn_status {
  FN_STATUS_OK = 0,
  FN_STATUS_LOAD_ERROR = 1,   /* module failed to compile or threw during evaluation; output = error JSON */
  FN_STATUS_OUT_OF_MEMORY = 2,/* the guest arena is exhausted; output = error JSON */
  FN_STATUS_BAD_INPUT = 3,    /* the host sent something the guest could not parse; output = error JSON */
  FN_STATUS_NOT_LOADED = 4,   /* INVOKE before a successful LOAD */
};

/*
 * The window header. Host-written fields are valid when the guest returns from a doorbell; guest-
 * written fields are valid when the host handles a doorbell exit. The host treats every guest-
 * written field as hostile and validates it (output_len <= FN_WINDOW_DATA_MAX, and so on).
 * Fixed-size little-endian fields only; 8-byte aligned.
 */
struct fn_window_header {
  uint32_t magic;          /* FN_WINDOW_MAGIC, written by the host */
  uint32_t abi_version;    /* FN_ABI_VERSION, written by the host */
  /* host → guest */
  uint32_t command;        /* enum fn_command */
  uint32_t input_len;      /* bytes of input at FN_WINDOW_DATA_OFFSET */
  uint64_t now_unix_ns;    /* wall clock when the command was handed in */
  uint64_t tsc_khz;        /* guest TSC frequency, so the guest can advance its clock with rdtsc */
  uint8_t  entropy[32];    /* fresh random bytes for every command: reseed Math.random and crypto */
  /* guest → host */
  uint32_t status;         /* enum fn_status */
  uint32_t output_len;     /* bytes of output at FN_WINDOW_DATA_OFFSET */
  uint64_t guest_ns;       /* time the guest spent on the command, by its own clock */
  uint64_t heap_used;      /* arena bytes in use after the command */
  uint64_t heap_peak;      /* arena high-water mark */
  uint64_t sleep_ns;       /* with FN_EVENT_SLEEP: how long the guest wants to sleep (timers) */
  uint8_t  reserved[24];
};
#define FN_WINDOW_MAGIC 0x4e57464eu /* "NFWN" little endian: "FNWN" in memory order */
#define FN_WINDOW_HEADER_SIZE 128u   /* sizeof(struct fn_window_header) padded; fixed for the ABI */

/* The boot info page, written by the host before the first vCPU run (KVM backend only; the
 * process sandbox builds the same values in-process). */
struct fn_boot_info {
  uint32_t magic;          /* FN_BOOT_MAGIC */
  uint32_t abi_version;
  uint64_t mem_size;       /* bytes of guest RAM */
  uint64_t heap_start;     /* first byte of the arena (page aligned, after the ELF image) */
  uint64_t heap_end;       /* one past the last arena byte (below the stack guard page) */
  uint64_t window_addr;    /* FN_WINDOW_ADDR */
  uint64_t window_size;    /* FN_WINDOW_SIZE */
  uint64_t tls_addr;       /* FN_TLS_ADDR, also loaded into FS base */
};
#define FN_BOOT_MAGIC 0x544f4f42u /* "BOOT" */

/*
 * Payload encodings in the window data (all lengths little-endian u32):
 *
 *   LOAD input:    u32 meta_len | meta JSON {"name":string,"env":{string:string},"memoryMiB":number}
 *                  | module source (UTF-8 ES module text, the esbuild bundle)
 *   LOAD output:   JSON {"ok":true} or {"error":{"name","message","stack"}}
 *
 *   INVOKE input:  u32 meta_len | meta JSON {"method","url","headers":[[name,value],...],
 *                  "invocationId","deadlineMs"} | body bytes
 *   INVOKE output: u32 meta_len | meta JSON {"status":number,"headers":[[name,value],...],
 *                  "logs":[{"level","message","ms"}],"error"?:{"name","message","stack"}}
 *                  | body bytes
 */

/*
 * Process sandbox transport (no KVM; development and test backend). The same guest runtime, built
 * for Linux, runs in its own process under seccomp strict mode. The window is a private buffer in
 * that process and a doorbell becomes a frame on its pipes:
 *   guest → host (stdout): u32 event | struct fn_window_header (128 bytes) | output_len bytes
 *   host → guest (stdin):  struct fn_window_header (128 bytes) | input_len bytes
 * The guest writes a READY frame once initialised, then waits for a command frame.
 */

#endif /* FN_ABI_H */
