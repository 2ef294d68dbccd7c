#include "boot_info.h"

#include "errors.h"

namespace fnvmm {

fn_boot_info make_boot_info(uint64_t mem_size, GuestAddress image_end) {
  using ull = unsigned long long;
  constexpr uint64_t kStackAndGuard = FN_STACK_SIZE + FN_STACK_GUARD_SIZE;
  // The stack guard page (fn_abi.h) is not mapped: the image and the heap must both end below it.
  if (mem_size <= kStackAndGuard || image_end.raw() > mem_size - kStackAndGuard)
    throw ElfError(format("guest ELF image ends at 0x%llx, above the stack guard page at 0x%llx", (ull)image_end.raw(),
                          (ull)(mem_size > kStackAndGuard ? mem_size - kStackAndGuard : 0)));
  fn_boot_info b{};
  b.magic = FN_BOOT_MAGIC;
  b.abi_version = FN_ABI_VERSION;
  b.mem_size = mem_size;
  b.heap_start = (image_end.raw() + FN_PAGE_SIZE - 1) & ~(FN_PAGE_SIZE - 1);
  b.heap_end = mem_size - kStackAndGuard;
  if (b.heap_start >= b.heap_end)
    throw ElfError(format("guest ELF image ends at 0x%llx and leaves no heap below the stack guard page at 0x%llx",
                          (ull)image_end.raw(), (ull)b.heap_end));
  b.window_addr = FN_WINDOW_ADDR;
  b.window_size = FN_WINDOW_SIZE;
  b.tls_addr = FN_TLS_ADDR;
  return b;
}

void write_boot_info(GuestMemory& mem, const fn_boot_info& info) {
  mem.fill(GuestAddress(FN_BOOT_INFO_ADDR), 0, FN_PAGE_SIZE);
  mem.write_obj(GuestAddress(FN_BOOT_INFO_ADDR), info);
}

}  // namespace fnvmm
