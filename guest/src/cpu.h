/*
 * cpu.h — the few x86-64 instructions the runtime uses directly. All of them run natively at CPL3
 * (no VM exit on this PVM host) except cpuid, which the runtime calls once at boot.
 */
#ifndef FN_CPU_H
#define FN_CPU_H

#include <stdbool.h>
#include <stdint.h>

static inline uint64_t fn_rdtsc(void)
{
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static inline void fn_cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4])
{
  __asm__ volatile("cpuid" : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3]) : "a"(leaf), "c"(sub));
}

/* RDRAND may transiently fail (CF=0) when its entropy source is drained; callers retry a few times. */
static inline bool fn_rdrand64(uint64_t *out)
{
  unsigned char ok;
  __asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok) : : "cc");
  return ok != 0;
}

static inline void fn_cpu_relax(void)
{
  __asm__ volatile("pause");
}

#endif /* FN_CPU_H */
