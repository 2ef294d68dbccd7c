#include "elf_loader.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "errors.h"

namespace fnvmm {

namespace {

constexpr uint16_t kMaxProgramHeaders = 256;

using ull = unsigned long long;

[[noreturn]] void fail(const std::string& msg) { throw ElfError("guest ELF: " + msg); }

// [off, off+len) inside [0, size) without overflow.
bool in_file(uint64_t off, uint64_t len, size_t size) { return off <= size && len <= size - off; }

}  // namespace

ElfImage parse_elf(const uint8_t* data, size_t size, const LoadWindow& window) {
  if (data == nullptr || size < sizeof(Elf64_Ehdr))
    fail(format("file is %zu bytes, shorter than an ELF64 header (%zu bytes)", size, sizeof(Elf64_Ehdr)));
  if (window.hi <= window.lo)
    fail(format("no room to load: load window 0x%llx..0x%llx is empty", (ull)window.lo.raw(),
                (ull)window.hi.raw()));

  Elf64_Ehdr eh;
  std::memcpy(&eh, data, sizeof eh);

  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) fail("bad magic: not an ELF file");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64)
    fail(format("EI_CLASS is %u, expected %u (ELFCLASS64)", eh.e_ident[EI_CLASS], ELFCLASS64));
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
    fail(format("EI_DATA is %u, expected %u (little endian)", eh.e_ident[EI_DATA], ELFDATA2LSB));
  if (eh.e_ident[EI_VERSION] != EV_CURRENT)
    fail(format("EI_VERSION is %u, expected %u", eh.e_ident[EI_VERSION], EV_CURRENT));
  if (eh.e_type != ET_EXEC)
    fail(format("e_type is %u, expected %u (ET_EXEC): the guest must be a static, non-PIE executable",
                eh.e_type, ET_EXEC));
  if (eh.e_machine != EM_X86_64)
    fail(format("e_machine is %u, expected %u (EM_X86_64)", eh.e_machine, EM_X86_64));
  if (eh.e_version != EV_CURRENT) fail(format("e_version is %u, expected %u", eh.e_version, EV_CURRENT));
  if (eh.e_ehsize < sizeof(Elf64_Ehdr))
    fail(format("e_ehsize is %u, smaller than %zu", eh.e_ehsize, sizeof(Elf64_Ehdr)));
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    fail(format("e_phentsize is %u, expected %zu", eh.e_phentsize, sizeof(Elf64_Phdr)));
  if (eh.e_phnum == 0) fail("e_phnum is 0: no program headers");
  if (eh.e_phnum > kMaxProgramHeaders)
    fail(format("e_phnum is %u, more than %u", eh.e_phnum, kMaxProgramHeaders));
  if (!in_file(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), size))
    fail(format("program headers at e_phoff 0x%llx (%u entries) run past the end of the %zu-byte file",
                (ull)eh.e_phoff, eh.e_phnum, size));

  ElfImage image;
  image.entry = GuestAddress(eh.e_entry);

  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, data + eh.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr), sizeof ph);
    if (ph.p_type == PT_INTERP) fail(format("program header %u is PT_INTERP: the guest must be static", i));
    if (ph.p_type == PT_DYNAMIC)
      fail(format("program header %u is PT_DYNAMIC: the guest must be static and non-PIE", i));
    if (ph.p_type != PT_LOAD) continue;  // PT_TLS, PT_NOTE, PT_GNU_STACK, ... need no loading

    if (ph.p_filesz > ph.p_memsz)
      fail(format("segment %u: p_filesz 0x%llx is larger than p_memsz 0x%llx", i, (ull)ph.p_filesz,
                  (ull)ph.p_memsz));
    if (!in_file(ph.p_offset, ph.p_filesz, size))
      fail(format("segment %u: file bytes 0x%llx+0x%llx run past the end of the %zu-byte file", i,
                  (ull)ph.p_offset, (ull)ph.p_filesz, size));
    GuestAddress start(ph.p_vaddr);
    GuestAddress end;
    if (!start.checked_add(ph.p_memsz, &end))
      fail(format("segment %u: p_vaddr 0x%llx + p_memsz 0x%llx overflows", i, (ull)ph.p_vaddr, (ull)ph.p_memsz));
    if (start < window.lo || end > window.hi)
      fail(format("segment %u: 0x%llx..0x%llx is outside the loadable guest memory 0x%llx..0x%llx "
                  "(above the system pages, below the stack)",
                  i, (ull)start.raw(), (ull)end.raw(), (ull)window.lo.raw(), (ull)window.hi.raw()));
    if (ph.p_memsz == 0) continue;
    image.segments.push_back(ElfSegment{start, ph.p_offset, ph.p_filesz, ph.p_memsz, ph.p_flags});
  }

  if (image.segments.empty()) fail("no PT_LOAD segment with a non-zero size");

  std::sort(image.segments.begin(), image.segments.end(),
            [](const ElfSegment& a, const ElfSegment& b) { return a.addr < b.addr; });
  for (size_t i = 1; i < image.segments.size(); ++i) {
    const ElfSegment& prev = image.segments[i - 1];
    const ElfSegment& cur = image.segments[i];
    if (prev.addr.plus(prev.mem_size) > cur.addr)
      fail(format("segments at 0x%llx (size 0x%llx) and 0x%llx overlap", (ull)prev.addr.raw(),
                  (ull)prev.mem_size, (ull)cur.addr.raw()));
  }

  bool entry_ok = false;
  for (const ElfSegment& s : image.segments) {
    GuestAddress e = s.addr.plus(s.mem_size);
    if (image.end < e) image.end = e;
    if ((s.flags & PF_X) && s.addr <= image.entry && image.entry < e) entry_ok = true;
  }
  if (!entry_ok)
    fail(format("e_entry 0x%llx is not inside an executable PT_LOAD segment", (ull)image.entry.raw()));
  return image;
}

ElfImage load_elf(const uint8_t* data, size_t size, const LoadWindow& window, GuestMemory& memory) {
  ElfImage image = parse_elf(data, size, window);
  for (const ElfSegment& s : image.segments) {
    if (!memory.contains(s.addr, s.mem_size))
      fail(format("segment at 0x%llx (size 0x%llx) is outside guest memory", (ull)s.addr.raw(),
                  (ull)s.mem_size));
    memory.write(s.addr, data + s.file_offset, s.file_size);
    memory.fill(s.addr.plus(s.file_size), 0, s.mem_size - s.file_size);
  }
  return image;
}

}  // namespace fnvmm
