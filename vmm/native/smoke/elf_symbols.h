// elf_symbols.h — the .symtab of an ELF64 file as name → address. The probe guest labels each
// faulting instruction (`at_*`, `after_syscall`), so a fault report can be checked against the exact
// RIP. Bounds-checked: a truncated or odd file gives fewer symbols, never a crash.
#ifndef FN_SMOKE_ELF_SYMBOLS_H
#define FN_SMOKE_ELF_SYMBOLS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fnsmoke {

std::map<std::string, uint64_t> elf_symbols(const std::vector<uint8_t>& file);

}  // namespace fnsmoke

#endif
