/*
 * arena.h — the guest's only allocator, over a fixed range of memory handed over at boot.
 * It provides malloc/free/realloc/calloc/malloc_usable_size under their standard names so that
 * everything (QuickJS, cutils' dbuf, musl internals) uses it and musl's malloc never links in.
 */
#ifndef FN_ARENA_H
#define FN_ARENA_H

#include <stddef.h>
#include <stdint.h>

void fn_arena_init(void *start, void *end);

struct fn_arena_stats {
  size_t size;     /* bytes in the arena */
  size_t used;     /* bytes in allocated chunks, headers included */
  size_t peak;     /* high-water mark of used */
  size_t touched;  /* bytes below the wilderness: memory ever handed out (pages possibly dirty) */
};
void fn_arena_stats(struct fn_arena_stats *out);

/* Walks every chunk and checks the invariants; returns NULL or a description of the corruption.
 * For tests: O(arena). */
const char *fn_arena_check(void);

#endif /* FN_ARENA_H */
