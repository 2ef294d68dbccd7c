#include "boot_info.h"

#include "errors.h"

namespace fnvmm {

fn_boot_info make_boot_info(uint64_t mem_size, GuestAddress image_end) {
  using ull = unsigned long long;
  if (mem_size <= FN_STACK_SIZE || image_end.raw() > mem_size - FN_STACK_SIZE)
    throw ElfError(format("guest ELF image ends at 0x%llx, above the stack at 0x%llx", (ull)image_end.raw(),
                          (ull)(mem_size > FN_STACK_SIZE ? mem_size - FN_STACK_SIZE : 0)));
  fn_boot_info b{};
  b.magic = FN_BOOT_MAGIC;
  b.abi_version = FN_ABI_VERSION;
  b.mem_size = mem_size;
  b.heap_start = (image_end.raw() + FN_PAGE_SIZE - 1) & ~(FN_PAGE_SIZE - 1);
  b.heap_end = mem_size - FN_STACK_SIZE;
  if (b.heap_start >= b.heap_end)
    throw ElfError(format("guest ELF image ends at 0x%llx and leaves no heap below the stack at 0x%llx",
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
