// boot_info.h — struct fn_boot_info, computed from the memory size and the loaded image, written at
// FN_BOOT_INFO_ADDR before the first run. Pure; no KVM.
#ifndef FN_VMM_BOOT_INFO_H
#define FN_VMM_BOOT_INFO_H

#include <cstdint>

#include "fn_abi.h"
#include "guest_address.h"
#include "guest_memory.h"

namespace fnvmm {

// heap_start = image_end rounded up to a page; heap_end = mem_size - FN_STACK_SIZE - FN_STACK_GUARD_SIZE,
// the stack guard page (left out of the page tables by long_mode) between the heap and the stack.
// Throws ElfError when the image reaches the guard page or leaves no heap.
fn_boot_info make_boot_info(uint64_t mem_size, GuestAddress image_end);
void write_boot_info(GuestMemory& mem, const fn_boot_info& info);

}  // namespace fnvmm

#endif
