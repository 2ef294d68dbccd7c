// microvm_builder.cc — building a MicroVm: from a guest ELF (create), and the KVM setup a restore
// shares with it: the VM and its memory slots, the vCPU with its CPUID and capabilities, the window,
// the kick target and the vCPU thread's worker (Firecracker's builder).
#include "microvm.h"

#include <elf.h>

#include <cerrno>
#include <vector>

#include "boot_info.h"
#include "elf_loader.h"
#include "host_clock.h"
#include "kvm.h"
#include "nested_quirks.h"
#include "vm.h"
#include "watchdog.h"
#include "window.h"
#include "microvm_parts.h"

namespace fnvmm {

using namespace microvm_parts;

void validate_memory_bytes(uint64_t m) {
  if (m < kMinMemoryBytes || m > kMaxMemoryBytes || m % kMemoryAlignment != 0)
    throw ConfigError(format("memoryBytes %llu must be a multiple of 2 MiB between %llu (8 MiB) and %llu (3 GiB)",
                             (ull)m, (ull)kMinMemoryBytes, (ull)kMaxMemoryBytes));
}

// ---- setup ---------------------------------------------------------------------------------------

void MicroVm::create_vm_and_slots(Kvm& kvm, uint32_t ram_flags) {
  // No KVM_SET_TSS_ADDR: it only serves real-mode emulation on Intel hosts without unrestricted
  // guest support, and this vCPU never runs in real mode; the PVM prototype ran without it.
  vm_.reset(new Vm(kvm.create_vm()));
  const GuestRegion& ram = memory_.region(kRamRegion);
  const GuestRegion& win = memory_.region(kWindowRegion);
  vm_->set_user_memory_region(kRamSlot, ram.base, ram.size(), ram.mapping.host(), ram_flags);
  vm_->set_user_memory_region(kWindowSlot, win.base, win.size(), win.mapping.host());
  dirty_logging_ = (ram_flags & KVM_MEM_LOG_DIRTY_PAGES) != 0;
}

void MicroVm::create_vcpu(std::vector<kvm_cpuid_entry2> cpuid) {
  // CPUID first: KVM checks EFER (LME, NXE) and CR4 against the guest's CPUID in SET_SREGS.
  vcpu_.reset(new Vcpu(vm_->create_vcpu(0)));
  cpuid_ = std::move(cpuid);
  vcpu_->set_cpuid2(cpuid_);
  // What snapshot and reset may use. KVM_CAP_SYNC_REGS is a bit mask of the register sets kvm_run
  // can carry; reset needs regs and sregs.
  const int sync = vm_->check_extension(KVM_CAP_SYNC_REGS);
  sync_regs_ = (sync & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) == (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS);
  const int xsave2 = vm_->check_extension(KVM_CAP_XSAVE2);
  if (xsave2 >= static_cast<int>(kXsaveRegionBytes))
    fpu_ = FpuAccess{static_cast<size_t>(xsave2), true};
  else if (vm_->check_extension(KVM_CAP_XSAVE) > 0)
    fpu_ = FpuAccess{kXsaveRegionBytes, false};
  else
    fpu_ = FpuAccess{0, false};
  manual_protect_cap_ = vm_->check_extension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0;
}

void MicroVm::finish_setup(int signo) {
  Vcpu& vcpu = *vcpu_;
  try {
    tsc_khz_ = vcpu.tsc_khz();
  } catch (const KvmError&) {
    tsc_khz_ = 0;
  }
  if (tsc_khz_ == 0) tsc_khz_ = measured_tsc_khz();

  const GuestRegion& win = memory_.region(kWindowRegion);
  window_.reset(new Window(win.mapping.host(), win.mapping.size(), memory_bytes_));
  window_->init();
  const uint64_t pages = memory_bytes_ / kPageSize;
  divergent_ = PageBitmap(pages);
  dirty_ = PageBitmap(pages);

  adapter_.reset(new KvmVcpuAdapter(vcpu));
  kick_ = std::make_shared<KickTarget>(signo);
  kick_->bind_run_flag(&vcpu.run_data()->immediate_exit);
  worker_.reset(new VmWorker(*this, kick_, Watchdog::instance()));
}

std::unique_ptr<MicroVm> MicroVm::create(const MicroVmOptions& opts) {
  validate_memory_bytes(opts.memory_bytes);
  const uint64_t mem = opts.memory_bytes;
  // Everything from the stack guard page up is the stack's (fn_abi.h): the image must end below it.
  const LoadWindow load_window{GuestAddress(FN_GUEST_LOAD_ADDR),
                               GuestAddress(mem - FN_STACK_SIZE - FN_STACK_GUARD_SIZE)};

  // Validate the ELF before touching /dev/kvm: a bad input is reported as such on any host.
  ElfImage plan = parse_elf(opts.elf, opts.elf_size, load_window);
  fn_boot_info boot = make_boot_info(mem, plan.end);

  const int signo = kick_signal();  // install the no-op kick handler once per process

  Kvm kvm = Kvm::open();  // KvmUnavailableError

  std::unique_ptr<MicroVm> m(new MicroVm());
  m->memory_bytes_ = mem;

  // Guest memory: RAM at 0, the window slot at FN_WINDOW_ADDR.
  m->memory_.add_region(GuestAddress(0), mem);
  m->memory_.add_region(GuestAddress(FN_WINDOW_ADDR), FN_WINDOW_SIZE);

  ElfImage image = load_elf(opts.elf, opts.elf_size, load_window, m->memory_);
  std::vector<long_mode::GuestRange> exec;
  for (const ElfSegment& s : image.segments)
    if (s.flags & PF_X) exec.push_back({s.addr, s.mem_size});
  long_mode::write_descriptor_tables(m->memory_);
  long_mode::write_page_tables(m->memory_, mem, exec);
  write_boot_info(m->memory_, boot);
  m->memory_.fill(GuestAddress(FN_TLS_ADDR), 0, FN_PAGE_SIZE);

  // A fresh VM runs without dirty logging: nothing needs it before the first snapshot, and the
  // guest's first writes would each take an extra write-protection fault.
  m->create_vm_and_slots(kvm, 0);
  m->create_vcpu(kvm.supported_cpuid());
  Vcpu& vcpu = *m->vcpu_;
  kvm_sregs sregs = vcpu.get_sregs();
  long_mode::setup_sregs(sregs);
  vcpu.set_sregs(sregs_for_host(sregs));  // nested_quirks.h: TR type 9 inside the nested test machine only
  vcpu.set_regs(regs_for_host(long_mode::initial_regs(image.entry, mem)));  // nested_quirks.h: IF under Bochs only
  vcpu.set_fpu(long_mode::initial_fpu());

  std::vector<kvm_msr_entry> msrs;
  for (const long_mode::MsrValue& v : long_mode::syscall_msrs()) {
    kvm_msr_entry e{};
    e.index = v.index;
    e.data = v.value;
    msrs.push_back(e);
  }
  size_t accepted = vcpu.set_msrs(msrs);
  if (accepted < long_mode::kRequiredMsrCount)
    throw KvmError("KVM_SET_MSRS", EINVAL, format("KVM rejected MSR 0x%x", msrs[accepted].index));

  m->finish_setup(signo);
  return m;
}

}  // namespace fnvmm
