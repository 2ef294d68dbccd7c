#include "elf_symbols.h"

#include <elf.h>

#include <cstring>

namespace fnsmoke {

namespace {
// A copy of a T at `off`, if the whole of it lies inside the file.
template <typename T>
bool read_at(const std::vector<uint8_t>& f, uint64_t off, T* out) {
  if (off > f.size() || f.size() - off < sizeof(T)) return false;
  std::memcpy(out, f.data() + off, sizeof(T));
  return true;
}
}  // namespace

std::map<std::string, uint64_t> elf_symbols(const std::vector<uint8_t>& f) {
  std::map<std::string, uint64_t> syms;
  Elf64_Ehdr eh;
  if (!read_at(f, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
    return syms;
  for (unsigned i = 0; i < eh.e_shnum; i++) {
    Elf64_Shdr sh, str;
    if (!read_at(f, eh.e_shoff + uint64_t{i} * eh.e_shentsize, &sh) || sh.sh_type != SHT_SYMTAB) continue;
    if (!read_at(f, eh.e_shoff + uint64_t{sh.sh_link} * eh.e_shentsize, &str)) continue;
    if (str.sh_offset > f.size() || f.size() - str.sh_offset < str.sh_size) continue;
    for (uint64_t o = 0; sh.sh_entsize >= sizeof(Elf64_Sym) && o + sizeof(Elf64_Sym) <= sh.sh_size; o += sh.sh_entsize) {
      Elf64_Sym s;
      if (!read_at(f, sh.sh_offset + o, &s) || s.st_name == 0 || s.st_name >= str.sh_size) continue;
      const char* name = reinterpret_cast<const char*>(f.data() + str.sh_offset + s.st_name);
      const size_t max = str.sh_size - s.st_name;
      syms[std::string(name, strnlen(name, max))] = s.st_value;
    }
  }
  return syms;
}

}  // namespace fnsmoke
