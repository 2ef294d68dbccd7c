#include "cpu_state.h"

#include <cerrno>
#include <cstring>

#include "errors.h"
#include "snapshot_files.h"
#include "fn_abi.h"
#include "long_mode.h"
#include "nested_quirks.h"
#include "vcpu.h"

namespace fnvmm {

namespace {
using ull = unsigned long long;

constexpr char kPlatform[8] = {'k', 'v', 'm', '\0', '\0', '\0', '\0', '\0'};
constexpr size_t kMinXsaveBytes = kXsaveRegionBytes;
constexpr size_t kMaxXsaveBytes = 256u << 10;

enum Tag : uint32_t { kTagRegs = 1, kTagSregs = 2, kTagXsave = 3, kTagFpu = 4, kTagMsrs = 5, kTagCpuid = 6, kTagTsc = 7 };
constexpr uint32_t kLastTag = kTagTsc;

// Where the legacy (FXSAVE) area keeps each field; XSTATE_BV follows it at 512.
constexpr size_t kFxFcw = 0, kFxFsw = 2, kFxFtw = 4, kFxFop = 6, kFxFip = 8, kFxFdp = 16, kFxMxcsr = 24, kFxSt = 32,
                 kFxXmm = 160, kXstateBv = 512;
constexpr uint64_t kXfeatureX87Sse = 3;

static_assert(sizeof(kvm_regs) == 144, "struct kvm_regs changed: bump the cpu.bin version");
static_assert(sizeof(kvm_sregs) == 312, "struct kvm_sregs changed: bump the cpu.bin version");
static_assert(sizeof(kvm_fpu) == 416, "struct kvm_fpu changed: bump the cpu.bin version");

void put32(std::vector<uint8_t>& b, uint32_t v) {
  uint8_t t[4];
  std::memcpy(t, &v, 4);
  b.insert(b.end(), t, t + 4);
}
void put64(std::vector<uint8_t>& b, uint64_t v) {
  uint8_t t[8];
  std::memcpy(t, &v, 8);
  b.insert(b.end(), t, t + 8);
}

void section(std::vector<uint8_t>& out, uint32_t tag, const void* data, size_t len) {
  put32(out, tag);
  put32(out, static_cast<uint32_t>(len));
  const uint8_t* p = static_cast<const uint8_t*>(data);
  out.insert(out.end(), p, p + len);
  while (out.size() % 8 != 0) out.push_back(0);
}

const char* const kAgain = "take the snapshot again";

// The features a guest may have checked once and relied on since (OSXSAVE and OSPKE reflect
// control registers, not the CPU, and are left out).
struct FeatureWord {
  uint32_t function, index, reg, ignore;
  const char* name;
};
const FeatureWord kFeatureWords[] = {
    {1, 0, 2, 1u << 27, "CPUID.1:ECX"},          {1, 0, 3, 0, "CPUID.1:EDX"},
    {7, 0, 1, 0, "CPUID.7.0:EBX"},               {7, 0, 2, 1u << 4, "CPUID.7.0:ECX"},
    {7, 0, 3, 0, "CPUID.7.0:EDX"},               {0x80000001, 0, 2, 0, "CPUID.80000001H:ECX"},
    {0x80000001, 0, 3, 0, "CPUID.80000001H:EDX"},
};

const kvm_cpuid_entry2* find_leaf(const std::vector<kvm_cpuid_entry2>& cpuid, uint32_t function, uint32_t index) {
  for (const kvm_cpuid_entry2& e : cpuid)
    if (e.function == function && (e.index == index || !(e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX))) return &e;
  return nullptr;
}
uint32_t reg_of(const kvm_cpuid_entry2& e, uint32_t reg) {
  switch (reg) {
    case 0: return e.eax;
    case 1: return e.ebx;
    case 2: return e.ecx;
    default: return e.edx;
  }
}

std::vector<kvm_msr_entry> msr_entries(const std::vector<uint32_t>& indices) {
  std::vector<kvm_msr_entry> v;
  for (uint32_t i : indices) {
    kvm_msr_entry e{};
    e.index = i;
    v.push_back(e);
  }
  return v;
}

// The legacy area of an XSAVE buffer as struct kvm_fpu, and back.
kvm_fpu fpu_from_xsave(const std::vector<uint8_t>& x) {
  kvm_fpu f{};
  std::memcpy(&f.fcw, &x[kFxFcw], 2);
  std::memcpy(&f.fsw, &x[kFxFsw], 2);
  f.ftwx = x[kFxFtw];
  std::memcpy(&f.last_opcode, &x[kFxFop], 2);
  std::memcpy(&f.last_ip, &x[kFxFip], 8);
  std::memcpy(&f.last_dp, &x[kFxFdp], 8);
  std::memcpy(&f.mxcsr, &x[kFxMxcsr], 4);
  std::memcpy(f.fpr, &x[kFxSt], sizeof f.fpr);
  std::memcpy(f.xmm, &x[kFxXmm], sizeof f.xmm);
  return f;
}
std::vector<uint8_t> xsave_from_fpu(const kvm_fpu& f, size_t size) {
  std::vector<uint8_t> x(size, 0);
  std::memcpy(&x[kFxFcw], &f.fcw, 2);
  std::memcpy(&x[kFxFsw], &f.fsw, 2);
  x[kFxFtw] = f.ftwx;
  std::memcpy(&x[kFxFop], &f.last_opcode, 2);
  std::memcpy(&x[kFxFip], &f.last_ip, 8);
  std::memcpy(&x[kFxFdp], &f.last_dp, 8);
  std::memcpy(&x[kFxMxcsr], &f.mxcsr, 4);
  std::memcpy(&x[kFxSt], f.fpr, sizeof f.fpr);
  std::memcpy(&x[kFxXmm], f.xmm, sizeof f.xmm);
  std::memcpy(&x[kXstateBv], &kXfeatureX87Sse, 8);  // x87 and SSE hold the values above
  return x;
}
}  // namespace

const std::vector<uint32_t>& required_msrs() {
  static const std::vector<uint32_t> v = {long_mode::kMsrStar, long_mode::kMsrLstar, long_mode::kMsrSfmask};
  return v;
}

const std::vector<uint32_t>& optional_msrs() {
  static const std::vector<uint32_t> v = {long_mode::kMsrCstar, kMsrKernelGsBase, kMsrTsc};
  return v;
}

std::vector<uint8_t> encode_cpu_file(const CpuState& s, const CpuFileInfo& info) {
  std::vector<uint8_t> b;  // the payload: KVM's sections (the envelope is snapshot_format.h's)
  section(b, kTagRegs, &s.regs, sizeof s.regs);
  section(b, kTagSregs, &s.sregs, sizeof s.sregs);
  if (!s.xsave.empty())
    section(b, kTagXsave, s.xsave.data(), s.xsave.size());
  else
    section(b, kTagFpu, &s.fpu, sizeof s.fpu);
  std::vector<uint8_t> m;
  put32(m, static_cast<uint32_t>(s.msrs.size()));
  put32(m, 0);
  for (const CpuMsr& e : s.msrs) {
    put32(m, e.index);
    put32(m, 0);
    put64(m, e.value);
  }
  section(b, kTagMsrs, m.data(), m.size());
  std::vector<uint8_t> c;
  put32(c, static_cast<uint32_t>(s.features.size()));
  put32(c, 0);
  for (const CpuFeature& f : s.features) {
    put32(c, f.function);
    put32(c, f.index);
    put32(c, f.reg);
    put32(c, f.bits);
  }
  section(b, kTagCpuid, c.data(), c.size());
  std::vector<uint8_t> t;
  put32(t, s.tsc_khz);
  put32(t, 0);
  section(b, kTagTsc, t.data(), t.size());
  fn_cpu_header h{};
  std::memcpy(h.platform, kPlatform, 8);
  std::memcpy(h.id, info.id.bytes.data(), 16);
  h.mem_size = info.mem_size;
  h.abi_version = FN_ABI_VERSION;
  std::vector<uint8_t> file(fn_cpu_file_size(b.size()));
  fn_cpu_encode(&h, b.data(), b.size(), file.data());
  return file;
}

CpuState decode_cpu_file(const uint8_t* file, size_t file_len, uint64_t mem, const std::string& path,
                         CpuFileInfo* info) {
  auto refuse = [&](const char* name, const char* reason, const std::string& msg) {
    return SnapshotError(name, reason, path, path + " " + msg);
  };
  fn_cpu_header h{};
  fn_snapshot_refusal why{};
  const uint8_t* d = nullptr;  // the payload: KVM's sections
  size_t end = 0;
  if (fn_cpu_decode(file, file_len, "kvm", mem, FN_ABI_VERSION, &h, &d, &end, &why) != 0)
    throw refusal_error(why, path);
  CpuFileInfo fi;
  std::memcpy(fi.id.bytes.data(), h.id, 16);
  fi.mem_size = mem;

  CpuState s;
  bool seen[kLastTag + 1] = {};
  size_t pos = 0;
  auto corrupt = [&](const std::string& what) {
    return refuse("SnapshotCorruptError", "corrupt", what + " although its CRC matches (a writer bug); " + kAgain);
  };
  while (pos < end) {
    if (end - pos < 8) throw corrupt("ends inside a section header");
    const uint32_t tag = get32(d + pos), slen = get32(d + pos + 4);
    const uint8_t* p = d + pos + 8;
    if (slen > end - pos - 8) throw corrupt(format("has section %u running past the end", tag));
    if (tag == 0 || tag > kLastTag) throw corrupt(format("has an unknown section %u", tag));
    if (seen[tag]) throw corrupt(format("has section %u twice", tag));
    seen[tag] = true;
    auto need = [&](size_t want) {
      if (slen != want) throw corrupt(format("has section %u of %u bytes, expected %zu", tag, slen, want));
    };
    switch (tag) {
      case kTagRegs: need(sizeof s.regs); std::memcpy(&s.regs, p, sizeof s.regs); break;
      case kTagSregs: need(sizeof s.sregs); std::memcpy(&s.sregs, p, sizeof s.sregs); break;
      case kTagXsave:
        if (slen < kMinXsaveBytes || slen > kMaxXsaveBytes || slen % 4 != 0)
          throw corrupt(format("has an XSAVE area of %u bytes", slen));
        s.xsave.assign(p, p + slen);
        break;
      case kTagFpu: need(sizeof s.fpu); std::memcpy(&s.fpu, p, sizeof s.fpu); break;
      case kTagMsrs: {
        if (slen < 8) throw corrupt("has a short MSR section");
        const uint64_t count = get32(p);
        need(8 + count * 16);
        for (uint64_t i = 0; i < count; ++i) s.msrs.push_back({get32(p + 8 + i * 16), get64(p + 8 + i * 16 + 8)});
        break;
      }
      case kTagCpuid: {
        if (slen < 8) throw corrupt("has a short CPUID section");
        const uint64_t count = get32(p);
        need(8 + count * 16);
        for (uint64_t i = 0; i < count; ++i) {
          const uint8_t* q = p + 8 + i * 16;
          s.features.push_back({get32(q), get32(q + 4), get32(q + 8), get32(q + 12)});
          if (s.features.back().reg > 3) throw corrupt("names a CPUID register beyond edx");
        }
        break;
      }
      case kTagTsc: need(8); s.tsc_khz = get32(p); break;
    }
    pos += 8 + ((static_cast<size_t>(slen) + 7) & ~size_t{7});
  }
  if (pos != end) throw corrupt("has padding running past its CRC");
  if (!seen[kTagRegs] || !seen[kTagSregs] || !seen[kTagMsrs] || !seen[kTagCpuid] || !seen[kTagTsc] ||
      seen[kTagXsave] == seen[kTagFpu])
    throw corrupt("lacks a section (it needs REGS, SREGS, one of XSAVE/FPU, MSRS, CPUID, TSC)");
  for (uint32_t want : required_msrs()) {
    bool found = false;
    for (const CpuMsr& m : s.msrs) found = found || m.index == want;
    if (!found) throw corrupt(format("lacks MSR 0x%x", want));
  }

  // The registers are the guest's (never trusted), but they must be a CPL3 long-mode guest's as
  // this VMM sets it up: otherwise a crafted file could start the guest at CPL0.
  const kvm_sregs& sr = s.sregs;
  constexpr uint64_t kLme = 1ull << 8, kLma = 1ull << 10, kPe = 1ull << 0, kPg = 1ull << 31;
  const bool cpl3 = (sr.cs.selector & 3) == 3 && sr.cs.l == 1 && (sr.ss.selector & 3) == 3;
  const bool long_mode_on = (sr.efer & (kLme | kLma)) == (kLme | kLma) && (sr.cr0 & (kPe | kPg)) == (kPe | kPg);
  if (!cpl3 || !long_mode_on || s.regs.rip >= mem)
    throw refuse("SnapshotCorruptError", "state",
                 format("does not hold the registers of a CPL3 guest in this VMM's long mode (cs 0x%x ss 0x%x cr3 0x%llx "
                        "efer 0x%llx rip 0x%llx); %s",
                        sr.cs.selector, sr.ss.selector, (ull)sr.cr3, (ull)sr.efer, (ull)s.regs.rip, kAgain));
  // The system tables must be the ones this VMM writes (the guest cannot move them: lgdt, lidt,
  // ltr and mov cr3 fault at CPL3). A crafted file could otherwise point the IDT, the GDT, the TSS
  // or the page tables at guest-writable memory and run guest code at CPL0. An empty IDT (base 0,
  // limit 0) is a snapshot from before the VMM had one: its faults end in a triple fault, as then.
  const bool idt_ok = (sr.idt.base == FN_IDT_ADDR && sr.idt.limit == long_mode::kIdtLimit) ||
                      (sr.idt.base == 0 && sr.idt.limit == 0);
  const bool tables_ok = idt_ok && sr.gdt.base == FN_GDT_ADDR && sr.gdt.limit == long_mode::kGdtLimit &&
                         sr.tr.base == FN_TSS_ADDR && (sr.cr3 & long_mode::kPteAddrMask) == long_mode::kPml4Addr;
  if (!tables_ok)
    throw refuse("SnapshotCorruptError", "state",
                 format("does not hold this VMM's system tables (gdt 0x%llx/%u, idt 0x%llx/%u, tr 0x%llx, cr3 0x%llx); %s",
                        (ull)sr.gdt.base, sr.gdt.limit, (ull)sr.idt.base, sr.idt.limit, (ull)sr.tr.base, (ull)sr.cr3,
                        kAgain));
  if (info != nullptr) *info = fi;
  return s;
}

std::vector<CpuFeature> cpu_features(const std::vector<kvm_cpuid_entry2>& cpuid) {
  std::vector<CpuFeature> out;
  for (const FeatureWord& w : kFeatureWords) {
    const kvm_cpuid_entry2* e = find_leaf(cpuid, w.function, w.index);
    if (e != nullptr) out.push_back({w.function, w.index, w.reg, reg_of(*e, w.reg) & ~w.ignore});
  }
  return out;
}

std::string missing_cpu_features(const std::vector<CpuFeature>& recorded, const std::vector<kvm_cpuid_entry2>& host) {
  std::string missing;
  for (const CpuFeature& f : recorded) {
    const kvm_cpuid_entry2* e = find_leaf(host, f.function, f.index);
    const uint32_t have = e != nullptr ? reg_of(*e, f.reg) : 0;
    const uint32_t lack = f.bits & ~have;
    if (lack == 0) continue;
    std::string name = format("CPUID.%x.%u:%s", f.function, f.index, f.reg == 0 ? "EAX" : f.reg == 1 ? "EBX" : f.reg == 2 ? "ECX" : "EDX");
    for (const FeatureWord& w : kFeatureWords)
      if (w.function == f.function && w.index == f.index && w.reg == f.reg) name = w.name;
    missing += format("%s%s bits 0x%08x", missing.empty() ? "" : ", ", name.c_str(), lack);
  }
  return missing;
}

namespace {
bool same_segment(const kvm_segment& a, const kvm_segment& b) {
  return a.base == b.base && a.limit == b.limit && a.selector == b.selector && a.type == b.type &&
         a.present == b.present && a.dpl == b.dpl && a.db == b.db && a.s == b.s && a.l == b.l && a.g == b.g &&
         a.avl == b.avl && a.unusable == b.unusable;
}
bool same_dtable(const kvm_dtable& a, const kvm_dtable& b) { return a.base == b.base && a.limit == b.limit; }
}  // namespace

bool same_sregs(const kvm_sregs& a, const kvm_sregs& b) {
  return same_segment(a.cs, b.cs) && same_segment(a.ds, b.ds) && same_segment(a.es, b.es) &&
         same_segment(a.fs, b.fs) && same_segment(a.gs, b.gs) && same_segment(a.ss, b.ss) &&
         same_segment(a.tr, b.tr) && same_segment(a.ldt, b.ldt) && same_dtable(a.gdt, b.gdt) &&
         same_dtable(a.idt, b.idt) && a.cr0 == b.cr0 && a.cr2 == b.cr2 && a.cr3 == b.cr3 && a.cr4 == b.cr4 &&
         a.cr8 == b.cr8 && a.efer == b.efer && a.apic_base == b.apic_base &&
         std::memcmp(a.interrupt_bitmap, b.interrupt_bitmap, sizeof a.interrupt_bitmap) == 0;
}

CpuState capture_cpu_state(Vcpu& v, const FpuAccess& fa, uint32_t tsc_khz, const std::vector<kvm_cpuid_entry2>& cpuid) {
  CpuState s;
  s.regs = regs_for_snapshot(v.get_regs());  // nested_quirks.h: the same with or without a test switch
  s.sregs = v.get_sregs();
  if (fa.xsave_size != 0)
    s.xsave = v.get_xsave(fa.xsave_size, fa.xsave2);
  else
    s.fpu = v.get_fpu();
  std::vector<kvm_msr_entry> req = msr_entries(required_msrs());
  size_t got = v.get_msrs(req);
  if (got != req.size())
    throw KvmError("KVM_GET_MSRS", EINVAL, format("KVM did not return MSR 0x%x", req[got < req.size() ? got : 0].index));
  for (const kvm_msr_entry& e : req) s.msrs.push_back({e.index, e.data});
  for (uint32_t index : optional_msrs()) {
    std::vector<kvm_msr_entry> one = msr_entries({index});
    if (v.get_msrs(one) == 1) s.msrs.push_back({index, one[0].data});
  }
  s.features = cpu_features(cpuid);
  s.tsc_khz = tsc_khz;
  return s;
}

void apply_fpu_state(Vcpu& v, const FpuAccess& fa, const CpuState& s) {
  if (fa.xsave_size == 0) {
    v.set_fpu(s.xsave.empty() ? s.fpu : fpu_from_xsave(s.xsave));
    return;
  }
  if (s.xsave.empty()) {
    v.set_xsave(xsave_from_fpu(s.fpu, fa.xsave_size));
  } else if (s.xsave.size() == fa.xsave_size) {
    v.set_xsave(s.xsave);
  } else {
    // A host whose XSAVE area has another size (dynamic features such as AMX enabled in one of
    // them): the components a guest can use sit in the first 4 KiB either way.
    std::vector<uint8_t> x(fa.xsave_size, 0);
    std::memcpy(x.data(), s.xsave.data(), s.xsave.size() < x.size() ? s.xsave.size() : x.size());
    v.set_xsave(x);
  }
}

ApplyReport apply_cpu_state(Vcpu& v, const FpuAccess& fa, const CpuState& s) {
  ApplyReport report;
  v.set_sregs(sregs_for_host(s.sregs));  // nested_quirks.h: TR type 9 inside the nested test machine only
  v.set_regs(regs_for_host(s.regs));
  apply_fpu_state(v, fa, s);
  std::vector<kvm_msr_entry> req, opt;
  for (const CpuMsr& m : s.msrs) {
    kvm_msr_entry e{};
    e.index = m.index;
    e.data = m.value;
    bool required = false;
    for (uint32_t r : required_msrs()) required = required || r == m.index;
    (required ? req : opt).push_back(e);
  }
  size_t accepted = v.set_msrs(req);
  if (accepted != req.size())
    throw KvmError("KVM_SET_MSRS", EINVAL, format("KVM rejected MSR 0x%x", req[accepted].index));
  for (const kvm_msr_entry& e : opt)
    if (v.set_msrs({e}) != 1) report.msrs_refused.push_back(e.index);
  return report;
}

}  // namespace fnvmm
