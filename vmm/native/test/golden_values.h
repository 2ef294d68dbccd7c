/*
 * golden_values.h — what the golden snapshot files in vmm/native/testdata/golden/ hold. The same
 * values are asserted by the C test (test_golden_c.c, through snapshot_format.h), the C++ test
 * (test_golden.cc, through the KVM core's cpu_state.h) and the TypeScript test
 * (snapshots/src/snapshot-files.test.ts): a format change that one reader misses fails there.
 * The files were written by the implementations of the day (format version 1) and must never be
 * regenerated to make a test pass: a snapshot on a user's disk looks exactly like them.
 */
#ifndef FN_GOLDEN_VALUES_H
#define FN_GOLDEN_VALUES_H

#define GOLDEN_MEM_SIZE (64ull << 20)

/* pages-full.bin: a full snapshot (no runs); its id is 0x10, 0x11, ... 0x1f. */
#define GOLDEN_FULL_ID_SEED 0x10
#define GOLDEN_FULL_DATA_PAGES 211ull

/* pages-layered.bin: a diff over the full one; id 0x20.., base id 0x10.. */
#define GOLDEN_LAYERED_ID_SEED 0x20
#define GOLDEN_LAYERED_DATA_PAGES 230ull
#define GOLDEN_LAYERED_RUNS {{5, 3}, {1024, 1}, {16000, 20}}
#define GOLDEN_LAYERED_RUN_COUNT 3
#define GOLDEN_LAYERED_DIFF_PAGES 24ull

/* cpu-kvm.bin (id as pages-full.bin) and cpu-ptrace.bin (id as pages-layered.bin). */
#define GOLDEN_RIP 0x401011ull
#define GOLDEN_RAX 0x1111ull
#define GOLDEN_R14 42ull
#define GOLDEN_TSC_KHZ 2500000u
#define GOLDEN_TSC_MSR_VALUE 123456789ull
#define GOLDEN_XSAVE_BYTES 4096u /* byte i of the kvm XSAVE area is (uint8_t)(i * 7) */
#define GOLDEN_MXCSR 0x1f80u     /* ptrace FXSAVE; byte i of xmm0..15 (offset 160) is (uint8_t)(i * 3) */

#endif
