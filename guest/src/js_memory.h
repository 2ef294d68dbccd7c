/*
 * js_memory.h — QuickJS's allocator hooks over the arena, the JS memory limit and OOM tracking.
 *
 * The JS heap limit sits below the arena size, leaving a reserve. When JavaScript hits the limit,
 * QuickJS raises a catchable "out of memory" error; the runtime then opens the reserve to build
 * the error reply (which itself needs memory) and closes it again afterwards.
 */
#ifndef FN_JS_MEMORY_H
#define FN_JS_MEMORY_H

#include <stdbool.h>
#include <stddef.h>

#include "quickjs.h"

extern const JSMallocFunctions fn_js_malloc_functions;

void fn_js_memory_init(JSRuntime *rt);   /* sets the limit from the arena size */
void fn_js_memory_begin_command(void);   /* forgets the previous command's OOM */
bool fn_js_memory_oom_hit(void);         /* an allocation failed since the command began */
void fn_js_memory_open_reserve(void);    /* lift the limit to the whole arena */
void fn_js_memory_close_reserve(void);
size_t fn_js_memory_limit(void);

#endif /* FN_JS_MEMORY_H */
