/*
 * fn_vmm_control.h — commands for the VMM itself, not the guest: SNAPSHOT and RESET. They travel
 * on the same channel as guest commands (the process transport frames of fn_abi.h) and are
 * answered by the VMM; the guest never sees them and cannot tell they happened.
 *
 * Implemented by vmm/build/ptrace-vmm (ptrace stand-in for the KVM VMM, vmm/native/ptrace/); the KVM VMM
 * implements the same semantics. fn_abi.h is the guest contract; this header adds to the host side
 * only, so it never changes FN_ABI_VERSION.
 *
 * ---------------------------------------------------------------------------------------------
 * Framing (host → VMM): a normal command frame, struct fn_window_header (magic and abi_version as
 * for any command) | input_len bytes of UTF-8 JSON. A command number >= FN_VMM_CMD_FIRST is
 * handled by the VMM. Reply (VMM → host): u32 FN_EVENT_DONE | struct fn_window_header with
 * magic, abi_version, command (echoed), status, output_len set and every other field 0 | output.
 * status FN_STATUS_OK: output is the command's JSON result; otherwise output is
 * {"error":{"name":string,"message":string}} and status one of enum fn_vmm_status.
 *
 * A control command is accepted only while the guest is stopped at a doorbell between commands
 * (after READY or DONE). After FN_EVENT_SLEEP the guest is in the middle of a command: SNAPSHOT is
 * refused (FN_VMM_STATUS_BAD_STATE); RESET is allowed and abandons the command in flight.
 * ------------------------------------------------------------------------------------------- */
#ifndef FN_VMM_CONTROL_H
#define FN_VMM_CONTROL_H

#include <stdint.h>

#define FN_VMM_CMD_FIRST 0x100u /* every command number from here up is for the VMM */

/*
 * Set on a guest command (a number below FN_VMM_CMD_FIRST, e.g. an invoke), this bit asks the
 * VMM to RESET the VM as soon as the guest answers DONE: the VMM forwards the guest's DONE frame,
 * then resets at once and sends the RESET reply (a DONE frame with command FN_VMM_CMD_RESET, as
 * below) as the next frame. Saves the host a RESET command, and the VMM a wake-up, per
 * invocation; the reset overlaps with the host's handling of the answer. The guest never sees
 * the bit. After SLEEP the host resends the command with the same bit to resume. On a VMM
 * command the bit makes the command unknown (FN_VMM_STATUS_BAD_REQUEST).
 */
#define FN_VMM_FLAG_RESET_AFTER 0x80000000u

enum fn_vmm_command {
  /*
   * SNAPSHOT input:  {"dir": string, "base": string | null}   ("base" may be omitted)
   *   Writes the VM's state into dir (created if missing; files are written under temporary
   *   names and renamed into place, so VMs already running from older files there keep theirs):
   *     cpu.bin    CPU state, private to the VMM platform that wrote it (see below)
   *     memory.img guest RAM: a sparse file of exactly mem_size bytes, guest-physical offsets.
   *                Without base: every page that is not all zeros. With base (path of another
   *                snapshot's memory.img): only pages whose content differs from base.
   *     pages.bin  the memory layout: which pages of memory.img override the base (below)
   *   Afterwards this VM runs from those files exactly like a VM restored from them, and RESET
   *   returns it to this snapshot.
   * SNAPSHOT output: {"pages": n, "diffPages": n, "bytes": n, "ms": x, "writeMs": x, "rebaseMs": x}
   *   pages = non-zero pages of guest RAM, diffPages = pages listed in pages.bin (0 without a
   *   base), bytes = bytes of data written (memory.img data + cpu.bin + pages.bin).
   */
  FN_VMM_CMD_SNAPSHOT = 0x100,
  /*
   * RESET input: empty, or {}. Returns the VM to its last snapshot (SNAPSHOT or --restore): every
   * page of guest RAM written since is put back, window pages the guest or host touched are
   * zeroed, registers and FPU/SSE state are set from the snapshot (any other extended state the
   * guest enabled, e.g. AVX, goes back to its initial state). Needs no cooperation from the guest.
   * RESET output: {"dirtyPages": n, "runs": n, "windowPages": n, "us": x,
   *                "scanUs": x, "copyUs": x, "cpuUs": x}
   * If a RESET fails after it started changing the VM, the VM is lost: the VMM sends
   * FN_EVENT_PANIC with a message and exits, like a guest panic.
   */
  FN_VMM_CMD_RESET = 0x101,
  /*
   * RESTORE input: {"dir": string, "base": string | null, "memoryMiB": string}. Only to a VMM
   * that holds no VM yet (ptrace-vmm started by its launcher, below): it restores the snapshot in
   * dir exactly as `--restore DIR [--base FILE] --memory-mib N` would, and answers with the frame
   * a restore sends (FN_EVENT_READY, {"restored": ...}, see below) instead of a DONE. A refused
   * snapshot is a DONE reply with FN_VMM_STATUS_BAD_SNAPSHOT; the VMM then still holds no VM.
   */
  FN_VMM_CMD_RESTORE = 0x102,
};

enum fn_vmm_status {
  FN_VMM_STATUS_BAD_REQUEST = 0x100, /* unknown control command, bad header or JSON input */
  FN_VMM_STATUS_BAD_STATE = 0x101,   /* not allowed now: mid-command, or RESET without a snapshot */
  FN_VMM_STATUS_BAD_SNAPSHOT = 0x102,/* a base file is unusable: missing, shorter than RAM, ... */
  FN_VMM_STATUS_IO_ERROR = 0x103,    /* the snapshot could not be written */
};

/*
 * After a restore (ptrace-vmm ... --restore DIR [--base FILE]) the VMM itself sends one frame
 * in place of the guest's READY: u32 FN_EVENT_READY | header with status FN_STATUS_OK |
 * output JSON {"restored": {"us": x, "pages": n, "diffPages": n}}. The guest is then waiting for
 * its next command exactly as if its doorbell had just returned. A restore that is refused (bad
 * files) prints one line on stderr and exits with status 2 before any frame. RESTORE answers with
 * the same READY frame (plus "planUs" and "spawnUs": where the restore's time went).
 *
 * ---------------------------------------------------------------------------------------------
 * The bytes of pages.bin and of cpu.bin's envelope are read and written by one C implementation,
 * vmm/native/snapshot_format.{h,c}, in both VMMs; snapshots/src/snapshot-files.ts reads them on
 * the host. Golden files in vmm/native/testdata/golden/ pin the layouts below for all of them:
 * a change here needs a new format version (snapshots on users' disks have version 1).
 *
 * pages.bin (shared by every VMM platform; little endian)
 *   0   8   magic "FNPAGES\0"
 *   8   4   format version (1)
 *   12  4   flags: bit 0 = layered (memory.img is a diff over a base)
 *   16  8   mem_size (bytes of guest RAM)
 *   24  4   page size (4096)
 *   28  4   run count R
 *   32  16  snapshot id (random; cpu.bin carries the same id)
 *   48  16  base id: the snapshot id of the base, 0 if not layered or unknown
 *   64  8   data pages (non-zero pages written to memory.img)
 *   72  8   diff pages (sum of run lengths)
 *   80  8*R runs: u32 first page number (guest-physical address / 4096), u32 page count;
 *           sorted, not overlapping. Only for layered snapshots: the pages of memory.img that
 *           replace the base's (a listed page may be a hole: it went from data to zeros).
 *   ..  4   CRC-32 (zlib) of every byte before it
 * A restore maps the base MAP_PRIVATE over all of RAM, then each run of the diff MAP_PRIVATE |
 * MAP_FIXED at its offset; memory files shorter than mem_size are refused (they would SIGBUS).
 *
 * cpu.bin: the envelope is every platform's; its payload (from 56 to the CRC) is private to the
 * platform that wrote it. KVM's: tagged sections (vmm/native/cpu_state.h). The ptrace platform's:
 *   0   8   magic "FNCPUST\0"        8  4  version (1)      12  4  file length
 *   16  8   platform "ptrace\0\0"   24  16 snapshot id       40  8  mem_size
 *   48  4   FN_ABI_VERSION           52  4  0
 *   56  216 x86-64 user_regs_struct (RIP just past the doorbell `out`)
 *   272 512 FXSAVE area (x87, SSE, MXCSR)
 *   784 4   CRC-32 (zlib) of bytes [0, 784)
 * ------------------------------------------------------------------------------------------- */
#define FN_PAGES_MAGIC "FNPAGES"
#define FN_PAGES_VERSION 1u
#define FN_PAGES_FLAG_LAYERED 1u

#endif /* FN_VMM_CONTROL_H */
