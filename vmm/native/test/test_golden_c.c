/*
 * test_golden_c.c — the golden snapshot files (../testdata/golden/, values in golden_values.h)
 * through snapshot_format.h from C, as the ptrace VMM uses it: each file is decoded, its values
 * checked, and encoded again byte for byte. Compiled as C on purpose; test_golden.cc runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>

#include "../snapshot_format.h"
#include "fn_abi.h"
#include "golden_values.h"

static int failures;

#define EXPECT(cond)                                                                   \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      failures++;                                                                      \
      fprintf(stderr, "    CHECK FAILED %s:%d (C): %s\n", __FILE__, __LINE__, #cond); \
    }                                                                                  \
  } while (0)

static uint8_t *read_golden(const char *dir, const char *name, size_t *len)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    failures++;
    fprintf(stderr, "    cannot open %s\n", path);
    return NULL;
  }
  uint8_t *b = malloc(1 << 16);
  *len = b ? fread(b, 1, 1 << 16, f) : 0;
  fclose(f);
  return b;
}

static int is_seeded(const uint8_t *id, int seed)
{
  for (int i = 0; i < 16; i++)
    if (id[i] != (uint8_t)(seed + i))
      return 0;
  return 1;
}

/* Decodes a pages.bin and encodes it again from the decoded values. */
static void pages_round_trip(const uint8_t *b, size_t n, struct fn_pages_info *info)
{
  struct fn_snapshot_refusal why;
  if (fn_pages_decode(b, n, GOLDEN_MEM_SIZE, info, &why) != 0) {
    failures++;
    fprintf(stderr, "    refused: %s (%s)\n", why.message, why.name);
    return;
  }
  struct fn_page_run runs[16];
  EXPECT(info->run_count <= 16);
  for (uint32_t i = 0; i < info->run_count && i < 16; i++)
    runs[i] = fn_pages_run(b, i);
  uint8_t again[256];
  EXPECT(fn_pages_file_size(info->run_count) == n && n <= sizeof again);
  fn_pages_encode(info, runs, info->run_count, again);
  EXPECT(memcmp(again, b, n) == 0);
}

static void check_pages(const char *dir)
{
  size_t n;
  uint8_t *b = read_golden(dir, "pages-full.bin", &n);
  struct fn_pages_info info;
  if (b) {
    pages_round_trip(b, n, &info);
    EXPECT(!info.layered);
    EXPECT(info.mem_size == GOLDEN_MEM_SIZE);
    EXPECT(is_seeded(info.id, GOLDEN_FULL_ID_SEED));
    EXPECT(info.data_pages == GOLDEN_FULL_DATA_PAGES);
    EXPECT(info.run_count == 0 && info.diff_pages == 0);
    uint8_t id[16];
    EXPECT(fn_pages_peek_id(b, n, id) == 0 && is_seeded(id, GOLDEN_FULL_ID_SEED));
  }
  free(b);
  b = read_golden(dir, "pages-layered.bin", &n);
  if (b) {
    pages_round_trip(b, n, &info);
    const uint64_t want[][2] = GOLDEN_LAYERED_RUNS;
    EXPECT(info.layered);
    EXPECT(is_seeded(info.id, GOLDEN_LAYERED_ID_SEED));
    EXPECT(is_seeded(info.base_id, GOLDEN_FULL_ID_SEED));
    EXPECT(info.data_pages == GOLDEN_LAYERED_DATA_PAGES);
    EXPECT(info.diff_pages == GOLDEN_LAYERED_DIFF_PAGES);
    EXPECT(info.run_count == GOLDEN_LAYERED_RUN_COUNT);
    for (uint32_t i = 0; i < info.run_count && i < GOLDEN_LAYERED_RUN_COUNT; i++) {
      struct fn_page_run r = fn_pages_run(b, i);
      EXPECT(r.first == want[i][0] && r.count == want[i][1]);
    }
    /* Refused as another RAM size, saying which. */
    struct fn_snapshot_refusal why;
    EXPECT(fn_pages_decode(b, n, GOLDEN_MEM_SIZE * 2, &info, &why) == -1);
    EXPECT(strcmp(why.reason, "memory_size") == 0 && why.found_mem_size == GOLDEN_MEM_SIZE);
  }
  free(b);
}

/* Decodes a cpu.bin's envelope and encodes it again around the same payload. */
static const uint8_t *cpu_round_trip(const uint8_t *b, size_t n, const char *platform, struct fn_cpu_header *h,
                                     size_t *payload_len)
{
  struct fn_snapshot_refusal why;
  const uint8_t *payload = NULL;
  if (fn_cpu_decode(b, n, platform, GOLDEN_MEM_SIZE, FN_ABI_VERSION, h, &payload, payload_len, &why) != 0) {
    failures++;
    fprintf(stderr, "    refused: %s (%s)\n", why.message, why.name);
    return NULL;
  }
  EXPECT(fn_cpu_file_size(*payload_len) == n);
  uint8_t *again = malloc(n);
  if (again) {
    fn_cpu_encode(h, payload, *payload_len, again);
    EXPECT(memcmp(again, b, n) == 0);
  }
  free(again);
  /* Each platform's cpu.bin is refused by the other, with the reason. */
  const char *other = strcmp(platform, "kvm") == 0 ? "ptrace" : "kvm";
  struct fn_cpu_header h2;
  const uint8_t *p2;
  size_t l2;
  EXPECT(fn_cpu_decode(b, n, other, GOLDEN_MEM_SIZE, FN_ABI_VERSION, &h2, &p2, &l2, &why) == -1 &&
         strcmp(why.reason, "platform") == 0);
  return payload;
}

static void check_cpu(const char *dir)
{
  size_t n, payload_len;
  struct fn_cpu_header h;
  uint8_t *b = read_golden(dir, "cpu-kvm.bin", &n);
  if (b && cpu_round_trip(b, n, "kvm", &h, &payload_len)) {
    EXPECT(memcmp(h.platform, "kvm\0\0\0\0\0", 8) == 0);
    EXPECT(is_seeded(h.id, GOLDEN_FULL_ID_SEED));
    EXPECT(h.mem_size == GOLDEN_MEM_SIZE && h.abi_version == FN_ABI_VERSION);
  }
  free(b);

  b = read_golden(dir, "cpu-ptrace.bin", &n);
  const uint8_t *payload = b ? cpu_round_trip(b, n, "ptrace", &h, &payload_len) : NULL;
  if (payload) {
    EXPECT(memcmp(h.platform, "ptrace\0\0", 8) == 0);
    EXPECT(is_seeded(h.id, GOLDEN_LAYERED_ID_SEED));
    EXPECT(payload_len == sizeof(struct user_regs_struct) + 512);
    struct user_regs_struct regs;
    memcpy(&regs, payload, sizeof regs);
    EXPECT(regs.rip == GOLDEN_RIP && regs.rax == GOLDEN_RAX && regs.r14 == GOLDEN_R14);
    EXPECT(regs.cs == 0x33 && regs.ss == 0x2b && regs.fs_base == FN_TLS_ADDR);
    const uint8_t *fx = payload + sizeof regs;
    uint32_t mxcsr;
    memcpy(&mxcsr, fx + 24, 4);
    EXPECT(mxcsr == GOLDEN_MXCSR);
    int xmm_ok = 1;
    for (int i = 0; i < 256; i++)
      xmm_ok &= fx[160 + i] == (uint8_t)(i * 3);
    EXPECT(xmm_ok);
  }
  free(b);
}

int golden_files_check_in_c(const char *dir)
{
  failures = 0;
  check_pages(dir);
  check_cpu(dir);
  return failures;
}
