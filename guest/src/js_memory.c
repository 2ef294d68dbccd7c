/*
 * js_memory.c — JSMallocFunctions for JS_NewRuntime2, implemented over the arena.
 *
 * With custom malloc functions QuickJS does not enforce JS_SetMemoryLimit itself: these functions
 * do, exactly like QuickJS's default ones (the limit lives in JSMallocState), and they also record
 * that an allocation failed so the runtime can report FN_STATUS_OUT_OF_MEMORY even when JavaScript
 * caught the error.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#include "js_memory.h"

#include "arena.h"

/* QuickJS counts a fixed per-block overhead on top of the usable size (its MALLOC_OVERHEAD). */
#define BLOCK_OVERHEAD 8

static JSRuntime *runtime;
static size_t normal_limit;
static bool oom_hit;

static void *fn_js_malloc(JSMallocState *s, size_t size)
{
  if (s->malloc_size + size > s->malloc_limit) {
    oom_hit = true;
    return NULL;
  }
  void *p = malloc(size);
  if (!p) {
    oom_hit = true;
    return NULL;
  }
  s->malloc_count++;
  s->malloc_size += malloc_usable_size(p) + BLOCK_OVERHEAD;
  return p;
}

static void fn_js_free(JSMallocState *s, void *p)
{
  if (!p)
    return;
  s->malloc_count--;
  s->malloc_size -= malloc_usable_size(p) + BLOCK_OVERHEAD;
  free(p);
}

static void *fn_js_realloc(JSMallocState *s, void *p, size_t size)
{
  if (!p)
    return size ? fn_js_malloc(s, size) : NULL;
  size_t old = malloc_usable_size(p);
  if (size == 0) {
    fn_js_free(s, p);
    return NULL;
  }
  if (s->malloc_size + size - old > s->malloc_limit) {
    oom_hit = true;
    return NULL;
  }
  void *q = realloc(p, size);
  if (!q) {
    oom_hit = true;
    return NULL;
  }
  s->malloc_size += malloc_usable_size(q) - old;
  return q;
}

static size_t fn_js_usable_size(const void *p)
{
  return malloc_usable_size((void *)p);
}

const JSMallocFunctions fn_js_malloc_functions = {
    .js_malloc = fn_js_malloc,
    .js_free = fn_js_free,
    .js_realloc = fn_js_realloc,
    .js_malloc_usable_size = fn_js_usable_size,
};

void fn_js_memory_init(JSRuntime *rt)
{
  struct fn_arena_stats st;
  fn_arena_stats(&st);
  /* Reserve 1/16 of the arena, at least 512 KiB and at most 4 MiB: enough to build an error
   * reply with logs after JavaScript ran out, small enough not to waste a small function's RAM. */
  size_t reserve = st.size / 16;
  if (reserve < (512u << 10))
    reserve = 512u << 10;
  if (reserve > (4u << 20))
    reserve = 4u << 20;
  normal_limit = st.size > reserve ? st.size - reserve : st.size / 2;
  runtime = rt;
  JS_SetMemoryLimit(rt, normal_limit);
}

void fn_js_memory_begin_command(void)
{
  oom_hit = false;
}

bool fn_js_memory_oom_hit(void)
{
  return oom_hit;
}

void fn_js_memory_open_reserve(void)
{
  JS_SetMemoryLimit(runtime, SIZE_MAX);
}

void fn_js_memory_close_reserve(void)
{
  JS_SetMemoryLimit(runtime, normal_limit);
}

size_t fn_js_memory_limit(void)
{
  return normal_limit;
}
