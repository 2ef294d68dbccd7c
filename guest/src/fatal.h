/*
 * fatal.h — the one way out of the runtime when something is unrecoverable: FN_EVENT_PANIC with a
 * message in the window. abort() and assert() failures (in QuickJS or musl) land here too.
 */
#ifndef FN_FATAL_H
#define FN_FATAL_H

_Noreturn void fn_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* FN_FATAL_H */
