/*
 * arena_test.c — stress test for arena.c, built for the host with plain gcc by
 * scripts/test-c.mjs. The allocator is linked under its own names (malloc etc. renamed with -D) so
 * the test itself keeps using the host's libc.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

void *fn_test_malloc(size_t);
void fn_test_free(void *);
void *fn_test_realloc(void *, size_t);
void *fn_test_calloc(size_t, size_t);
size_t fn_test_malloc_usable_size(void *);

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int failures;
/* The case running now: a failure line names it ("FAIL <case>: file:line: why"). */
static const char *current;
#define CHECK(cond, ...)                                                                            \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("FAIL %s: %s:%d: ", current, __FILE__, __LINE__);                                      \
      printf(__VA_ARGS__);                                                                         \
      printf("\n");                                                                                \
      failures++;                                                                                  \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

#define SLOTS 4096
static uint8_t *ptrs[SLOTS];
static size_t lens[SLOTS];
static uint8_t tags[SLOTS];

static void fill(int i) { memset(ptrs[i], tags[i], lens[i]); }
static int intact(int i)
{
  for (size_t k = 0; k < lens[i]; k++)
    if (ptrs[i][k] != tags[i])
      return 0;
  return 1;
}

static size_t random_size(void)
{
  uint64_t r = next_random();
  switch (r % 10) {
  case 0: return 0;
  case 1: case 2: case 3: case 4: case 5: return r % 128;       /* QuickJS objects, atoms */
  case 6: case 7: return r % 2048;
  case 8: return r % 65536;
  default: return r % (1 << 20);                                 /* big arrays, strings */
  }
}

static void test_stress(void)
{
  static uint8_t heap[64 << 20] __attribute__((aligned(4096)));
  fn_arena_init(heap, heap + sizeof heap);
  for (int round = 0; round < 400000; round++) {
    int i = (int)(next_random() % SLOTS);
    uint64_t op = next_random() % 3;
    if (ptrs[i]) {
      CHECK(intact(i), "block %d corrupted at round %d", i, round);
      CHECK(fn_test_malloc_usable_size(ptrs[i]) >= lens[i], "usable size too small");
    }
    if (op == 0 || !ptrs[i]) {
      fn_test_free(ptrs[i]);
      lens[i] = random_size();
      ptrs[i] = fn_test_malloc(lens[i]);
      if (!ptrs[i]) {
        lens[i] = 0;
        continue; /* exhaustion is allowed: it must just return NULL */
      }
      CHECK(((uintptr_t)ptrs[i] & 15) == 0, "misaligned block");
    } else if (op == 1) {
      size_t n = random_size();
      uint8_t *q = fn_test_realloc(ptrs[i], n);
      if (!q && n)
        continue; /* failed realloc keeps the old block */
      ptrs[i] = q;
      if (n < lens[i])
        lens[i] = n;
      CHECK(!q || intact(i), "realloc lost contents");
      lens[i] = n;
      if (!q)
        continue;
    } else {
      fn_test_free(ptrs[i]);
      ptrs[i] = NULL;
      lens[i] = 0;
      continue;
    }
    tags[i] = (uint8_t)next_random();
    fill(i);
    if (round % 5000 == 0) {
      const char *why = fn_arena_check();
      CHECK(!why, "arena invariant broken at round %d: %s", round, why);
    }
  }
  for (int i = 0; i < SLOTS; i++) {
    if (ptrs[i])
      CHECK(intact(i), "block %d corrupted at the end", i);
    fn_test_free(ptrs[i]);
    ptrs[i] = NULL;
  }
  const char *why = fn_arena_check();
  CHECK(!why, "arena invariant broken after freeing all: %s", why);
  struct fn_arena_stats st;
  fn_arena_stats(&st);
  CHECK(st.used == 0, "used should be 0 after freeing everything, is %zu", st.used);
  CHECK(st.touched == 0, "everything should coalesce back into the wilderness, touched=%zu", st.touched);
  printf("ok stress # peak %zu KiB\n", st.peak >> 10);
}

static void test_exhaustion_and_reuse(void)
{
  static uint8_t heap[1 << 20] __attribute__((aligned(4096)));
  fn_arena_init(heap, heap + sizeof heap);
  void *blocks[100000];
  int n = 0;
  while (n < 100000 && (blocks[n] = fn_test_malloc(100)))
    n++;
  CHECK(n > 1000 && n < 100000, "expected exhaustion after some allocations, got %d", n);
  CHECK(fn_test_malloc((size_t)1 << 40) == NULL, "huge request must fail");
  CHECK(fn_test_calloc((size_t)1 << 62, 8) == NULL, "calloc overflow must fail");
  /* Free every other block: the holes must be reused for same-size requests. */
  for (int i = 0; i < n; i += 2)
    fn_test_free(blocks[i]);
  for (int i = 0; i < n; i += 2) {
    blocks[i] = fn_test_malloc(100);
    CHECK(blocks[i] != NULL, "freed memory was not reused (block %d)", i);
  }
  for (int i = 0; i < n; i++)
    fn_test_free(blocks[i]);
  CHECK(fn_arena_check() == NULL, "invariants: %s", fn_arena_check());
  /* After freeing everything, one allocation of nearly the whole arena must fit (coalescing). */
  void *big = fn_test_malloc((1 << 20) - 4096);
  CHECK(big != NULL, "coalescing failed: no room for one big block");
  fn_test_free(big);
  printf("ok exhaustion and reuse # %d blocks of 100 bytes in 1 MiB\n", n);
}

static void test_calloc_zeroes_reused_memory(void)
{
  static uint8_t heap[1 << 16] __attribute__((aligned(4096)));
  fn_arena_init(heap, heap + sizeof heap);
  uint8_t *a = fn_test_malloc(200);
  memset(a, 0xAB, 200);
  fn_test_free(a);
  uint8_t *b = fn_test_calloc(1, 200);
  for (int i = 0; i < 200; i++)
    CHECK(b[i] == 0, "calloc returned dirty memory");
  fn_test_free(b);
  printf("ok calloc zeroes reused memory\n");
}

int main(void)
{
  current = "calloc zeroes reused memory";
  test_calloc_zeroes_reused_memory();
  current = "exhaustion and reuse";
  test_exhaustion_and_reuse();
  current = "stress";
  test_stress();
  printf("arena: %d passed, %d failed\n", 3 - failures, failures);
  return failures ? 1 : 0;
}
