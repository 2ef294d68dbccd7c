// elf_loader.h — loads a static, non-PIE ELF64 x86-64 executable into guest memory.
//
// A leaf module: it parses a byte buffer, validates every header field it relies on and every
// segment against the load window it is given, and writes segments through GuestMemory. It never
// touches KVM. All failures throw ElfError with a message naming the field and its value.
#ifndef FN_VMM_ELF_LOADER_H
#define FN_VMM_ELF_LOADER_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "guest_address.h"
#include "guest_memory.h"

namespace fnvmm {

// Where PT_LOAD segments may go: guest [lo, hi). For the microVM: lo = FN_GUEST_LOAD_ADDR (above the
// system pages), hi = mem_size - FN_STACK_SIZE - FN_STACK_GUARD_SIZE (below the stack and its guard page).
struct LoadWindow {
  GuestAddress lo;
  GuestAddress hi;
};

struct ElfSegment {
  GuestAddress addr;     // p_vaddr (identity mapped)
  uint64_t file_offset;  // p_offset
  uint64_t file_size;    // p_filesz
  uint64_t mem_size;     // p_memsz (>= file_size; the rest is zero-filled)
  uint32_t flags;        // PF_R | PF_W | PF_X
};

struct ElfImage {
  GuestAddress entry;                 // e_entry, inside an executable segment
  GuestAddress end;                   // one past the highest byte of any PT_LOAD segment
  std::vector<ElfSegment> segments;   // PT_LOAD only, sorted by address, non-overlapping
};

// Validates the buffer and returns the plan; writes nothing.
ElfImage parse_elf(const uint8_t* data, size_t size, const LoadWindow& window);

// parse_elf, then copies each segment's file bytes and zero-fills the rest of its memory size.
ElfImage load_elf(const uint8_t* data, size_t size, const LoadWindow& window, GuestMemory& memory);

}  // namespace fnvmm

#endif
