// elf_builder.h — hand-made ELF64 images for loader tests (valid ones, and every way to break one).
#ifndef FN_VMM_TEST_ELF_BUILDER_H
#define FN_VMM_TEST_ELF_BUILDER_H

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace fntest {

struct SegmentSpec {
  uint32_t type = PT_LOAD;
  uint32_t flags = PF_R | PF_X;
  uint64_t vaddr = 0x400000;
  std::vector<uint8_t> bytes;  // file contents
  uint64_t memsz = 0;          // 0: same as bytes.size()
};

struct ElfSpec {
  Elf64_Ehdr eh{};
  std::vector<SegmentSpec> segments;
};

// A valid static x86-64 executable: text at 0x400000 (entry), data+bss at 0x600000.
inline ElfSpec valid_spec() {
  ElfSpec s;
  std::memcpy(s.eh.e_ident, ELFMAG, SELFMAG);
  s.eh.e_ident[EI_CLASS] = ELFCLASS64;
  s.eh.e_ident[EI_DATA] = ELFDATA2LSB;
  s.eh.e_ident[EI_VERSION] = EV_CURRENT;
  s.eh.e_type = ET_EXEC;
  s.eh.e_machine = EM_X86_64;
  s.eh.e_version = EV_CURRENT;
  s.eh.e_entry = 0x400010;
  s.eh.e_ehsize = sizeof(Elf64_Ehdr);
  s.eh.e_phentsize = sizeof(Elf64_Phdr);
  SegmentSpec text;
  text.flags = PF_R | PF_X;
  text.vaddr = 0x400000;
  for (int i = 0; i < 64; ++i) text.bytes.push_back(static_cast<uint8_t>(0x90 + (i % 7)));
  SegmentSpec data;
  data.flags = PF_R | PF_W;
  data.vaddr = 0x600000;
  data.bytes = {1, 2, 3, 4, 5, 6, 7, 8};
  data.memsz = 0x3000;  // bss beyond the file bytes
  s.segments = {text, data};
  return s;
}

// Lays out: header | program headers | segment bytes (each 16-byte aligned).
inline std::vector<uint8_t> build_elf(const ElfSpec& spec) {
  Elf64_Ehdr eh = spec.eh;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_phnum = static_cast<uint16_t>(spec.segments.size());
  size_t off = sizeof(Elf64_Ehdr) + spec.segments.size() * sizeof(Elf64_Phdr);
  std::vector<Elf64_Phdr> phs;
  std::vector<size_t> offsets;
  for (const SegmentSpec& sg : spec.segments) {
    off = (off + 15) & ~size_t{15};
    Elf64_Phdr ph{};
    ph.p_type = sg.type;
    ph.p_flags = sg.flags;
    ph.p_offset = off;
    ph.p_vaddr = sg.vaddr;
    ph.p_paddr = sg.vaddr;
    ph.p_filesz = sg.bytes.size();
    ph.p_memsz = sg.memsz ? sg.memsz : sg.bytes.size();
    ph.p_align = 0x1000;
    phs.push_back(ph);
    offsets.push_back(off);
    off += sg.bytes.size();
  }
  std::vector<uint8_t> out(off, 0);
  std::memcpy(out.data(), &eh, sizeof eh);
  for (size_t i = 0; i < phs.size(); ++i) {
    std::memcpy(out.data() + sizeof eh + i * sizeof(Elf64_Phdr), &phs[i], sizeof(Elf64_Phdr));
    if (!spec.segments[i].bytes.empty())
      std::memcpy(out.data() + offsets[i], spec.segments[i].bytes.data(), spec.segments[i].bytes.size());
  }
  return out;
}

// Patches the program header `i` of a built image.
inline Elf64_Phdr* phdr(std::vector<uint8_t>& img, size_t i) {
  return reinterpret_cast<Elf64_Phdr*>(img.data() + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}
inline Elf64_Ehdr* ehdr(std::vector<uint8_t>& img) { return reinterpret_cast<Elf64_Ehdr*>(img.data()); }

}  // namespace fntest

#endif
