/*
 * elf_image.c — the guest ELF for a fresh boot: read and checked here, copied into guest RAM by
 * the guest process before it starts (tracee.c), then boot info written as the KVM host does.
 */
#include "vmm.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const Elf64_Phdr *phdr(const struct elf_image *img, int i)
{
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img->file;
  return (const Elf64_Phdr *)(img->file + eh->e_phoff + (uint64_t)i * eh->e_phentsize);
}

int elf_image_read(const char *path, uint64_t mem, struct elf_image *out, struct err *e)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return fail(e, FN_VMM_STATUS_BAD_REQUEST, "UsageError", "cannot open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
    fclose(f);
    return fail(e, FN_VMM_STATUS_BAD_REQUEST, "UsageError", "%s is too small to be an ELF file", path);
  }
  uint8_t *file = malloc((size_t)st.st_size);
  if (!file || fread(file, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
    fclose(f);
    free(file);
    return fail(e, FN_VMM_STATUS_BAD_REQUEST, "UsageError", "cannot read %s", path);
  }
  fclose(f);
  *out = (struct elf_image){.file = file, .size = (size_t)st.st_size};
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_EXEC ||
      eh->e_machine != EM_X86_64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
      eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > out->size)
    return fail(e, FN_VMM_STATUS_BAD_REQUEST, "UsageError", "%s is not a static x86-64 executable", path);
  for (int i = 0; i < eh->e_phnum; i++) {
    const Elf64_Phdr *ph = phdr(out, i);
    if (ph->p_type == PT_TLS || ph->p_type == PT_INTERP || ph->p_type == PT_DYNAMIC)
      return fail(e, FN_VMM_STATUS_BAD_REQUEST, "UsageError",
                  "%s has a segment of type %u, which a kernel-less guest cannot have", path, ph->p_type);
    if (ph->p_type != PT_LOAD)
      continue;
    if (ph->p_vaddr < FN_GUEST_LOAD_ADDR || ph->p_vaddr + ph->p_memsz > mem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE ||
        ph->p_filesz > ph->p_memsz || ph->p_offset + ph->p_filesz > out->size)
      return fail(e, FN_VMM_STATUS_BAD_REQUEST, "UsageError", "segment %d of %s does not fit in guest RAM", i, path);
    if (ph->p_vaddr + ph->p_memsz > out->image_end)
      out->image_end = ph->p_vaddr + ph->p_memsz;
  }
  out->entry = eh->e_entry;
  return 0;
}

/* Runs in the guest process, with guest RAM freshly mapped (all zeros): the image at its link
 * addresses, then the boot info the entry code reads (fn_abi.h). */
void elf_image_install(const struct elf_image *img, uint64_t mem)
{
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img->file;
  for (int i = 0; i < eh->e_phnum; i++) {
    const Elf64_Phdr *ph = phdr(img, i);
    if (ph->p_type == PT_LOAD)
      memcpy((void *)(uintptr_t)ph->p_vaddr, img->file + ph->p_offset, ph->p_filesz);
  }
  *(struct fn_boot_info *)(uintptr_t)FN_BOOT_INFO_ADDR = (struct fn_boot_info){
      .magic = FN_BOOT_MAGIC,
      .abi_version = FN_ABI_VERSION,
      .mem_size = mem,
      .heap_start = (img->image_end + PAGE - 1) & ~(PAGE - 1),
      .heap_end = mem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE,
      .window_addr = FN_WINDOW_ADDR,
      .window_size = FN_WINDOW_SIZE,
      .tls_addr = FN_TLS_ADDR,
  };
}
