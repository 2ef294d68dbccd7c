/*
 * process_io.h — raw read/write/exit for the process transport. These three (plus sigreturn) are
 * all that seccomp strict mode allows; musl's exit() would call exit_group and be killed.
 */
#ifndef FN_PROCESS_IO_H
#define FN_PROCESS_IO_H

#include <stddef.h>
#include <stdint.h>

/* Writes all n bytes to fd or ends the process (the host went away). */
void fn_io_write_all(int fd, const void *p, size_t n);
/* Reads exactly n bytes. Returns 0, or -1 on end of file before the first byte of the read.
 * End of file in the middle ends the process. */
int fn_io_read_exact(int fd, void *p, size_t n);
/* Reads and throws away n bytes (input that does not fit in the window). */
void fn_io_discard(int fd, uint64_t n);
_Noreturn void fn_io_exit(int code);

#endif /* FN_PROCESS_IO_H */
