/*
 * snapshot_format.h — the bytes of a snapshot's pages.bin and cpu.bin (their layouts are in
 * guest/include/fn_vmm_control.h), in the one implementation both VMMs use: the KVM core (C++:
 * snapshot_files.cc and cpu_state.cc wrap it) and the ptrace stand-in (C: ptrace/). Pure: no I/O,
 * no allocation, callers own the buffers. Pinned by the golden files in testdata/golden/, which
 * the C test (test/test_golden_c.c), the C++ test (test/test_golden.cc) and the TypeScript reader
 * (snapshots/src/snapshot-files.ts) all read: a format change one of them misses fails a test.
 *
 * cpu.bin: this file owns its envelope (header, length, CRC, version, platform, RAM size, ABI
 * version); the payload is private to the platform that wrote it (KVM: tagged sections,
 * cpu_state.h; ptrace: user_regs_struct + FXSAVE, ptrace/cpu_state.c).
 */
#ifndef FN_SNAPSHOT_FORMAT_H
#define FN_SNAPSHOT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FN_SNAPSHOT_PAGE_SIZE 4096u
#define FN_SNAPSHOT_ID_BYTES 16u

/* zlib's CRC-32 (the same value as node:zlib crc32), continuing from `crc` (0 to start). */
uint32_t fn_crc32(uint32_t crc, const void *data, size_t len);

/* Why a file was refused. name: the error class (SnapshotMagicError, SnapshotTruncatedError,
 * SnapshotCorruptError, SnapshotVersionError or SnapshotError); reason: a short code (magic,
 * truncated, corrupt, version, memory_size, platform, abi); message: a sentence that starts with
 * a verb and names no path (the caller prefixes the file's path). For memory_size the caller adds
 * how to restore with found_mem_size, in its own terms (memoryBytes, --memory-mib). */
struct fn_snapshot_refusal {
  const char *name;
  const char *reason;
  uint64_t found_mem_size;
  char message[320];
};

/* ---- pages.bin --------------------------------------------------------------------------- */
#define FN_PAGES_HEADER_BYTES 80u

struct fn_pages_info {
  int layered;                        /* memory.img is a diff over a base */
  uint64_t mem_size;                  /* bytes of guest RAM */
  uint8_t id[FN_SNAPSHOT_ID_BYTES];   /* this snapshot (cpu.bin carries the same) */
  uint8_t base_id[FN_SNAPSHOT_ID_BYTES]; /* the base's id; zeros if not layered or unknown */
  uint64_t data_pages;                /* non-zero pages written to memory.img */
  uint64_t diff_pages;                /* sum of the run lengths (encode computes it) */
  uint32_t run_count;                 /* decode: how many runs fn_pages_run() can read */
};

struct fn_page_run {
  uint64_t first; /* page number: guest-physical address / 4096 */
  uint64_t count; /* > 0 */
};

size_t fn_pages_file_size(size_t run_count);
/* Writes the whole file, CRC included, into out (fn_pages_file_size(run_count) bytes). Page
 * numbers are stored in 32 bits: RAM is at most 3 GiB. */
void fn_pages_encode(const struct fn_pages_info *info, const struct fn_page_run *runs, size_t run_count,
                     uint8_t *out);
/* Checks everything: magic, length, CRC (before the version is believed, so damage is not taken
 * for a newer format), version, flags, mem_size == expected_mem_size, page size, data pages, and
 * the runs (non-empty, sorted, not overlapping, inside RAM, summing to the diff pages; none unless
 * layered). 0 and *info, or -1 and *why. */
int fn_pages_decode(const uint8_t *data, size_t len, uint64_t expected_mem_size, struct fn_pages_info *info,
                    struct fn_snapshot_refusal *why);
/* Run i (< info.run_count) of a file fn_pages_decode accepted. */
struct fn_page_run fn_pages_run(const uint8_t *data, uint32_t i);
/* The snapshot id of a pages.bin whose magic and CRC are right, nothing else checked: 0, or -1. */
int fn_pages_peek_id(const uint8_t *data, size_t len, uint8_t id[FN_SNAPSHOT_ID_BYTES]);

/* ---- cpu.bin ----------------------------------------------------------------------------- */
#define FN_CPU_HEADER_BYTES 56u
#define FN_CPU_FORMAT_VERSION 1u

struct fn_cpu_header {
  char platform[8];                   /* "kvm" or "ptrace", NUL-padded */
  uint8_t id[FN_SNAPSHOT_ID_BYTES];   /* the snapshot's id (as in its pages.bin) */
  uint64_t mem_size;
  uint32_t abi_version;               /* FN_ABI_VERSION of the guest in the snapshot */
};

size_t fn_cpu_file_size(size_t payload_len);
/* Writes header | payload | CRC into out (fn_cpu_file_size(payload_len) bytes). */
void fn_cpu_encode(const struct fn_cpu_header *h, const uint8_t *payload, size_t payload_len, uint8_t *out);
/* Checks magic, length, CRC (before the version), version, platform == `platform`, mem_size ==
 * expected_mem_size and abi_version == expected_abi. 0 with *h and the payload (a pointer into
 * data), or -1 and *why. The payload is the platform's to check. */
int fn_cpu_decode(const uint8_t *data, size_t len, const char *platform, uint64_t expected_mem_size,
                  uint32_t expected_abi, struct fn_cpu_header *h, const uint8_t **payload, size_t *payload_len,
                  struct fn_snapshot_refusal *why);

#ifdef __cplusplus
}
#endif

#endif /* FN_SNAPSHOT_FORMAT_H */
