/*
 * cpu_state.c — the vCPU's state: general registers (incl. FS/GS base) and the FXSAVE area
 * (x87, SSE, MXCSR), read and written with ptrace, and their file cpu.bin (fn_vmm_control.h).
 *
 * Extended state beyond SSE (AVX, AVX-512, ...) is not part of a snapshot: the guest is built
 * without it. A guest that turns it on anyway cannot be snapshotted (refused), and RESET / restore
 * put it back to its initial state, so nothing survives a reset in the upper vector registers.
 * Measured here: PTRACE_SETREGSET(NT_X86_XSTATE) 8 us, SETFPREGS 1.3 us, GETREGSET 1.8 us — so
 * cpu_apply reads XSTATE_BV first and pays for the full write only when it is needed.
 */
#include "vmm.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#define XSTATE_MAX 16384
#define XSTATE_BV_OFFSET 512       /* the XSAVE header follows the 512-byte legacy area */
#define FX_SW_RESERVED_OFFSET 464  /* bytes 464..511 of the legacy area belong to the kernel */
#define XFEATURES_X87_SSE 3ull

_Static_assert(sizeof(struct user_regs_struct) == 216, "x86-64 user_regs_struct");
_Static_assert(sizeof(struct user_fpregs_struct) == 512, "FXSAVE area");

static int get_xstate(pid_t pid, uint8_t *buf, size_t *len, struct err *e)
{
  struct iovec iov = {buf, XSTATE_MAX};
  if (ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov) != 0 || iov.iov_len < XSTATE_BV_OFFSET + 64)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "PTRACE_GETREGSET(NT_X86_XSTATE): %s", strerror(errno));
  *len = iov.iov_len;
  return 0;
}

static uint64_t xstate_bv(const uint8_t *buf)
{
  uint64_t bv;
  memcpy(&bv, buf + XSTATE_BV_OFFSET, 8);
  return bv;
}

/* Writes x87/SSE from `fxsave` and puts every other component in its initial state. */
static int set_x87_sse_only(pid_t pid, uint8_t *buf, size_t len, const uint8_t fxsave[512], struct err *e)
{
  memcpy(buf, fxsave, FX_SW_RESERVED_OFFSET);
  uint64_t bv = XFEATURES_X87_SSE;
  memcpy(buf + XSTATE_BV_OFFSET, &bv, 8);
  memset(buf + XSTATE_BV_OFFSET + 8, 0, 56); /* XCOMP_BV and the reserved header bytes */
  struct iovec iov = {buf, len};
  if (ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, &iov) != 0)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "PTRACE_SETREGSET(NT_X86_XSTATE): %s", strerror(errno));
  return 0;
}

int cpu_capture_fpu(pid_t pid, struct cpu_state *cpu, struct err *e)
{
  static uint8_t buf[XSTATE_MAX];
  size_t len;
  if (get_xstate(pid, buf, &len, e) != 0)
    return -1;
  if (xstate_bv(buf) & ~XFEATURES_X87_SSE)
    return fail(e, FN_VMM_STATUS_BAD_STATE, "SnapshotError",
                "the guest has extended CPU state in use (XSTATE_BV 0x%llx: AVX or later), which a snapshot does "
                "not carry; the fn guest never enables it",
                (unsigned long long)xstate_bv(buf));
  memcpy(cpu->fxsave, buf, 512);
  return 0;
}

int cpu_apply(pid_t pid, const struct cpu_state *cpu, struct err *e)
{
  static uint8_t buf[XSTATE_MAX];
  size_t len;
  if (ptrace(PTRACE_SETREGS, pid, 0, &cpu->regs) != 0)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "PTRACE_SETREGS: %s", strerror(errno));
  if (get_xstate(pid, buf, &len, e) != 0)
    return -1;
  if (xstate_bv(buf) & ~XFEATURES_X87_SSE)
    return set_x87_sse_only(pid, buf, len, cpu->fxsave, e);
  if (ptrace(PTRACE_SETFPREGS, pid, 0, cpu->fxsave) != 0)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "PTRACE_SETFPREGS: %s", strerror(errno));
  return 0;
}

/* The state the KVM host gives a fresh vCPU at the guest's entry: RIP = entry, RSP = top of RAM,
 * RDI = &boot info, FS base = the thread block, other registers 0, FPU in its initial state. */
int cpu_reset_for_boot(pid_t pid, uint64_t entry, uint64_t mem, struct err *e)
{
  struct user_regs_struct r;
  if (ptrace(PTRACE_GETREGS, pid, 0, &r) != 0)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "PTRACE_GETREGS: %s", strerror(errno));
  struct user_regs_struct boot = {
      .rip = entry,
      .rsp = mem,
      .rdi = FN_BOOT_INFO_ADDR,
      .fs_base = FN_TLS_ADDR,
      .eflags = 0x202,
      .orig_rax = (unsigned long long)-1,
      .cs = r.cs,
      .ss = r.ss,
      .ds = r.ds,
      .es = r.es,
  };
  struct cpu_state cpu = {.regs = boot};
  uint16_t fcw = 0x37f;
  uint32_t mxcsr = 0x1f80;
  memcpy(cpu.fxsave, &fcw, 2);
  memcpy(cpu.fxsave + 24, &mxcsr, 4);
  if (ptrace(PTRACE_SETREGS, pid, 0, &cpu.regs) != 0)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "VmmError", "PTRACE_SETREGS: %s", strerror(errno));
  static uint8_t buf[XSTATE_MAX];
  size_t len;
  if (get_xstate(pid, buf, &len, e) != 0)
    return -1;
  return set_x87_sse_only(pid, buf, len, cpu.fxsave, e);
}

/* ---- cpu.bin: the envelope is snapshot_format.h's; the payload is this platform's ----------- */
#define CPU_PLATFORM "ptrace"
#define CPU_PAYLOAD_BYTES (sizeof(struct user_regs_struct) + 512) /* regs at 56, FXSAVE at 272 */
_Static_assert(FN_CPU_HEADER_BYTES + CPU_PAYLOAD_BYTES + 4 == 788, "cpu.bin of the ptrace platform is 788 bytes");

int cpu_file_write(const char *path, const struct cpu_state *cpu, const uint8_t id[16], uint64_t mem, struct err *e)
{
  uint8_t payload[CPU_PAYLOAD_BYTES];
  memcpy(payload, &cpu->regs, sizeof cpu->regs);
  memcpy(payload + sizeof cpu->regs, cpu->fxsave, 512);
  struct fn_cpu_header h = {.platform = CPU_PLATFORM, .mem_size = mem, .abi_version = FN_ABI_VERSION};
  memcpy(h.id, id, 16);
  uint8_t b[FN_CPU_HEADER_BYTES + CPU_PAYLOAD_BYTES + 4];
  fn_cpu_encode(&h, payload, sizeof payload, b);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "SnapshotError", "cannot create %s: %s", path, strerror(errno));
  ssize_t w = write(fd, b, sizeof b);
  int error = errno;
  close(fd);
  if (w != (ssize_t)sizeof b)
    return fail(e, FN_VMM_STATUS_IO_ERROR, "SnapshotError", "cannot write %s: %s", path, strerror(error));
  return 0;
}

int cpu_file_read(const char *path, struct cpu_state *cpu, uint8_t id[16], uint64_t mem, struct err *e)
{
  const uint32_t bad = FN_VMM_STATUS_BAD_SNAPSHOT;
  size_t n;
  uint8_t *b = read_small_file(path, 65536, &n);
  if (!b)
    return fail(e, bad, "SnapshotError", "cannot open %s: %s", path, strerror(errno));
  struct fn_cpu_header h;
  struct fn_snapshot_refusal why;
  const uint8_t *payload;
  size_t payload_len;
  int rc = -1;
  if (n > 65536)
    fail(e, bad, "SnapshotCorruptError", "%s is larger than 64 KiB: not a CPU state file", path);
  else if (fn_cpu_decode(b, n, CPU_PLATFORM, mem, FN_ABI_VERSION, &h, &payload, &payload_len, &why) != 0)
    cpu_file_refused(e, path, &why);
  else if (payload_len != CPU_PAYLOAD_BYTES)
    fail(e, bad, "SnapshotCorruptError", "%s holds %zu bytes of CPU state, not the %zu of the ptrace platform", path,
         payload_len, (size_t)CPU_PAYLOAD_BYTES);
  else {
    memcpy(id, h.id, 16);
    memcpy(&cpu->regs, payload, sizeof cpu->regs);
    memcpy(cpu->fxsave, payload + sizeof cpu->regs, 512);
    rc = 0;
  }
  free(b);
  if (rc != 0)
    return rc;
  /* The registers are the guest's own (never trusted), but they must be a CPL3 guest's. */
  if (cpu->regs.cs != 0x33 || cpu->regs.ss != 0x2b || cpu->regs.rip < RAM_BASE || cpu->regs.rip >= mem)
    return fail(e, bad, "SnapshotCorruptError", "%s does not hold a guest's registers (cs 0x%llx ss 0x%llx rip 0x%llx)",
                path, cpu->regs.cs, cpu->regs.ss, cpu->regs.rip);
  return 0;
}
