/*
 * arena.c — a boundary-tag allocator with segregated free lists over [heap_start, heap_end).
 *
 * Why this design: QuickJS allocates and frees many small objects, so freed memory must be reused
 * quickly (exact-size bins for small chunks) and neighbours must coalesce so the arena does not
 * fragment into unusable slivers over thousands of invocations. Memory that was never handed out
 * stays in one "wilderness" chunk at the end and is only carved when no free chunk fits: that keeps
 * the set of touched pages (what a snapshot has to store) as small as the program allows.
 *
 * Chunk layout (every chunk is 16-aligned, its size a multiple of 16, at least 32 bytes):
 *
 *   chunk + 0   prev_size   size of the previous chunk, valid only while that chunk is free
 *   chunk + 8   head        size | INUSE | PREV_INUSE
 *   chunk + 16  payload     (16-aligned); while free: the fd/bk free-list links
 *
 * An in-use chunk may also use the next chunk's prev_size word (it is only meaningful while this
 * chunk is free), so the overhead is 8 bytes and the usable size is size - 8.
 *
 * Exhaustion returns NULL; nothing here ever traps. There is exactly one thread, so no locking.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"

#define ALIGNMENT 16u
#define MIN_CHUNK 32u
#define OVERHEAD 8u
#define INUSE 1u
#define PREV_INUSE 2u
#define FLAG_MASK 15u

/* Bins: chunks under 1024 bytes get one bin per 16-byte size (exact fit, O(1)); larger ones are
 * grouped four bins per power of two and searched first-fit. A bitmap finds the next non-empty bin. */
#define SMALL_LIMIT 1024u
#define NBINS 256u
#define LARGE_SCAN_LIMIT 64u /* chunks examined in one large bin before moving on to a larger bin */

struct chunk {
  size_t prev_size;
  size_t head;
  struct chunk *fd; /* free chunks only */
  struct chunk *bk;
};

static uint8_t *arena_lo;
static uint8_t *arena_hi;
static struct chunk *wild; /* the wilderness chunk: [wild, arena_hi), never in a bin */
static struct chunk *bins[NBINS];
static uint64_t binmap[NBINS / 64];
static size_t used_bytes;
static size_t peak_bytes;

static inline size_t chunk_size(const struct chunk *c) { return c->head & ~(size_t)FLAG_MASK; }
static inline struct chunk *chunk_at(void *p) { return (struct chunk *)p; }
static inline struct chunk *next_chunk(struct chunk *c) { return chunk_at((uint8_t *)c + chunk_size(c)); }
static inline struct chunk *mem_to_chunk(void *p) { return chunk_at((uint8_t *)p - 16); }
static inline void *chunk_to_mem(struct chunk *c) { return (uint8_t *)c + 16; }
static inline size_t wild_size(void) { return (size_t)(arena_hi - (uint8_t *)wild); }

static unsigned bin_index(size_t size)
{
  if (size < SMALL_LIMIT)
    return (unsigned)(size >> 4); /* 2..63 */
  unsigned log2 = 63u - (unsigned)__builtin_clzll(size); /* >= 10 */
  unsigned sub = (unsigned)(size >> (log2 - 2)) & 3u;
  unsigned idx = 64u + (log2 - 10u) * 4u + sub;
  return idx < NBINS ? idx : NBINS - 1;
}

static void bin_insert(struct chunk *c)
{
  unsigned i = bin_index(chunk_size(c));
  c->bk = NULL;
  c->fd = bins[i];
  if (c->fd)
    c->fd->bk = c;
  bins[i] = c;
  binmap[i / 64] |= 1ull << (i % 64);
}

static void bin_remove(struct chunk *c)
{
  unsigned i = bin_index(chunk_size(c));
  if (c->bk)
    c->bk->fd = c->fd;
  else
    bins[i] = c->fd;
  if (c->fd)
    c->fd->bk = c->bk;
  if (!bins[i])
    binmap[i / 64] &= ~(1ull << (i % 64));
}

/* Marks c free (size already set in its head), writes its footer and files it in a bin. The caller
 * has already merged it with free neighbours, so its previous chunk is in use. */
static void file_free_chunk(struct chunk *c, size_t size)
{
  c->head = size | PREV_INUSE;
  struct chunk *n = chunk_at((uint8_t *)c + size);
  n->prev_size = size;
  n->head &= ~(size_t)PREV_INUSE;
  bin_insert(c);
}

/* Returns chunk c (not counted in used_bytes any more) to the free state, coalescing with its
 * neighbours and with the wilderness. */
static void release_chunk(struct chunk *c)
{
  size_t size = chunk_size(c);
  if (!(c->head & PREV_INUSE)) {
    struct chunk *prev = chunk_at((uint8_t *)c - c->prev_size);
    bin_remove(prev);
    size += chunk_size(prev);
    c = prev;
  }
  struct chunk *n = chunk_at((uint8_t *)c + size);
  if (n == wild) {
    /* Give it back to the wilderness: its predecessor is in use (free chunks never touch). */
    wild = c;
    wild->head = PREV_INUSE;
    return;
  }
  if (!(n->head & INUSE)) {
    bin_remove(n);
    size += chunk_size(n);
  }
  file_free_chunk(c, size);
}

/* Shrinks in-use chunk c to `size` bytes if the rest is big enough to be a chunk of its own. */
static void trim_chunk(struct chunk *c, size_t size)
{
  size_t have = chunk_size(c);
  if (have - size < MIN_CHUNK)
    return;
  c->head = size | (c->head & FLAG_MASK);
  struct chunk *rest = chunk_at((uint8_t *)c + size);
  rest->head = (have - size) | INUSE | PREV_INUSE;
  used_bytes -= have - size;
  release_chunk(rest);
}

static void mark_used(struct chunk *c)
{
  c->head |= INUSE;
  struct chunk *n = next_chunk(c);
  n->head |= PREV_INUSE;
  used_bytes += chunk_size(c);
  if (used_bytes > peak_bytes)
    peak_bytes = used_bytes;
}

/* The chunk size needed for a request of n bytes, or 0 if n is absurd. */
static size_t request_size(size_t n)
{
  if (n > (size_t)(arena_hi - arena_lo))
    return 0;
  size_t size = (n + OVERHEAD + ALIGNMENT - 1) & ~(size_t)(ALIGNMENT - 1);
  return size < MIN_CHUNK ? MIN_CHUNK : size;
}

static struct chunk *take_from_bins(size_t size)
{
  unsigned i = bin_index(size);
  if (size >= SMALL_LIMIT) {
    /* Large bins hold a range of sizes: first fit within the request's own bin. */
    unsigned scanned = 0;
    for (struct chunk *c = bins[i]; c && scanned < LARGE_SCAN_LIMIT; c = c->fd, scanned++) {
      if (chunk_size(c) >= size) {
        bin_remove(c);
        return c;
      }
    }
    i++;
  }
  /* Any chunk in a later bin (or in the exact small bin) is big enough. */
  for (unsigned w = i / 64; w < NBINS / 64; w++) {
    uint64_t bits = binmap[w];
    if (w == i / 64)
      bits &= ~0ull << (i % 64);
    if (bits) {
      struct chunk *c = bins[w * 64 + (unsigned)__builtin_ctzll(bits)];
      bin_remove(c);
      return c;
    }
  }
  return NULL;
}

static struct chunk *take_from_wilderness(size_t size)
{
  /* Keep room for the wilderness header itself so the last chunk always has a successor. */
  if (wild_size() < size + MIN_CHUNK)
    return NULL;
  struct chunk *c = wild;
  size_t prev_flag = c->head & PREV_INUSE;
  wild = chunk_at((uint8_t *)c + size);
  wild->head = PREV_INUSE;
  c->head = size | prev_flag;
  return c;
}

void fn_arena_init(void *start, void *end)
{
  uintptr_t lo = ((uintptr_t)start + ALIGNMENT - 1) & ~(uintptr_t)(ALIGNMENT - 1);
  uintptr_t hi = (uintptr_t)end & ~(uintptr_t)(ALIGNMENT - 1);
  arena_lo = (uint8_t *)lo;
  arena_hi = hi > lo ? (uint8_t *)hi : (uint8_t *)lo;
  memset(bins, 0, sizeof bins);
  memset(binmap, 0, sizeof binmap);
  used_bytes = peak_bytes = 0;
  wild = chunk_at(arena_lo);
  if (wild_size() >= MIN_CHUNK)
    wild->head = PREV_INUSE; /* nothing precedes the first chunk: treat it as in use */
}

void *malloc(size_t n)
{
  size_t size = request_size(n);
  if (!size || !arena_lo) {
    errno = ENOMEM;
    return NULL;
  }
  struct chunk *c = take_from_bins(size);
  if (c) {
    /* A binned chunk is bordered by in-use chunks on both sides (free chunks always coalesce,
     * and a free chunk next to the wilderness merges into it), so its predecessor is in use. */
    size_t have = chunk_size(c);
    if (have - size >= MIN_CHUNK) {
      c->head = size | PREV_INUSE;
      file_free_chunk(chunk_at((uint8_t *)c + size), have - size);
    } else {
      c->head = have | PREV_INUSE;
    }
  } else {
    c = take_from_wilderness(size);
    if (!c) {
      errno = ENOMEM;
      return NULL;
    }
  }
  mark_used(c);
  return chunk_to_mem(c);
}

void free(void *p)
{
  if (!p)
    return;
  struct chunk *c = mem_to_chunk(p);
  used_bytes -= chunk_size(c);
  c->head &= ~(size_t)INUSE;
  release_chunk(c);
}

void *calloc(size_t n, size_t m)
{
  size_t total;
  if (__builtin_mul_overflow(n, m, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = malloc(total);
  if (p)
    memset(p, 0, total);
  return p;
}

void *realloc(void *p, size_t n)
{
  if (!p)
    return malloc(n);
  size_t size = request_size(n);
  if (!size) {
    errno = ENOMEM;
    return NULL;
  }
  struct chunk *c = mem_to_chunk(p);
  size_t have = chunk_size(c);
  if (size <= have) {
    trim_chunk(c, size);
    return p;
  }
  /* Grow in place into the wilderness or a free successor, which avoids a copy. */
  struct chunk *n_chunk = next_chunk(c);
  size_t extra = size - have;
  if (n_chunk == wild) {
    if (wild_size() >= extra + MIN_CHUNK) {
      wild = chunk_at((uint8_t *)c + size);
      wild->head = PREV_INUSE;
      c->head = size | (c->head & FLAG_MASK);
      used_bytes += extra;
      if (used_bytes > peak_bytes)
        peak_bytes = used_bytes;
      return p;
    }
  } else if (!(n_chunk->head & INUSE) && chunk_size(n_chunk) >= extra) {
    size_t merged = have + chunk_size(n_chunk);
    bin_remove(n_chunk);
    c->head = merged | (c->head & FLAG_MASK);
    next_chunk(c)->head |= PREV_INUSE;
    used_bytes += merged - have;
    if (used_bytes > peak_bytes)
      peak_bytes = used_bytes;
    trim_chunk(c, size);
    return p;
  }
  void *q = malloc(n);
  if (!q)
    return NULL; /* the old block stays valid, as realloc requires */
  memcpy(q, p, have - OVERHEAD);
  free(p);
  return q;
}

size_t malloc_usable_size(void *p)
{
  return p ? chunk_size(mem_to_chunk(p)) - OVERHEAD : 0;
}

void fn_arena_stats(struct fn_arena_stats *out)
{
  out->size = (size_t)(arena_hi - arena_lo);
  out->used = used_bytes;
  out->peak = peak_bytes;
  out->touched = (size_t)((uint8_t *)wild - arena_lo);
}

const char *fn_arena_check(void)
{
  size_t in_use = 0, free_in_walk = 0, free_in_bins = 0;
  bool prev_free = false;
  struct chunk *c = chunk_at(arena_lo);
  while (c != wild) {
    if ((uint8_t *)c < arena_lo || (uint8_t *)c >= arena_hi)
      return "chunk outside the arena";
    size_t size = chunk_size(c);
    if (size < MIN_CHUNK || size % ALIGNMENT)
      return "bad chunk size";
    if (!!(c->head & PREV_INUSE) == prev_free)
      return "PREV_INUSE disagrees with the previous chunk";
    if (c->head & INUSE) {
      in_use += size;
      prev_free = false;
    } else {
      if (prev_free)
        return "two free chunks touch";
      struct chunk *n = next_chunk(c);
      if (n->prev_size != size)
        return "footer disagrees with the chunk size";
      free_in_walk += size;
      prev_free = true;
    }
    c = next_chunk(c);
  }
  if (prev_free)
    return "a free chunk borders the wilderness";
  for (unsigned i = 0; i < NBINS; i++) {
    bool has = (binmap[i / 64] >> (i % 64)) & 1;
    if (has != (bins[i] != NULL))
      return "bin bitmap disagrees with the bins";
    for (struct chunk *f = bins[i]; f; f = f->fd) {
      if (f->head & INUSE)
        return "in-use chunk in a bin";
      if (bin_index(chunk_size(f)) != i)
        return "chunk in the wrong bin";
      if (f->fd && f->fd->bk != f)
        return "broken free-list links";
      free_in_bins += chunk_size(f);
    }
  }
  if (free_in_bins != free_in_walk)
    return "free chunks missing from the bins";
  if (in_use != used_bytes)
    return "used_bytes disagrees with the chunks";
  return NULL;
}
