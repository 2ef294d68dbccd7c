#include "microvm.h"

#include <elf.h>

#include <cerrno>
#include <cstring>

#include "boot_info.h"
#include "elf_loader.h"
#include "errors.h"
#include "fn_abi.h"
#include "host_clock.h"
#include "kvm.h"
#include "long_mode.h"
#include "vcpu.h"
#include "vcpu_runner.h"
#include "vm.h"
#include "watchdog.h"
#include "window.h"

namespace fnvmm {

using ull = unsigned long long;

// The real vCPU as the runner sees it.
class KvmVcpuAdapter final : public RunnableVcpu {
 public:
  explicit KvmVcpuAdapter(Vcpu& v) : v_(v) {}
  int run() override { return v_.run(); }
  kvm_run* run_data() override { return v_.run_data(); }
  size_t run_size() const override { return v_.run_size(); }
  kvm_regs get_regs() override { return v_.get_regs(); }
  kvm_sregs get_sregs() override { return v_.get_sregs(); }

 private:
  Vcpu& v_;
};

namespace {
constexpr uint32_t kRamSlot = 0;
constexpr uint32_t kWindowSlot = 1;
// Where KVM_SET_TSS_ADDR / the EPT identity map would go on Intel if ever needed: keep RAM below.
constexpr uint64_t kIntelTssAddr = 0xFFFBC000;
static_assert(kMaxMemoryBytes <= kIntelTssAddr, "RAM would overlap KVM's Intel private pages");
static_assert(kMaxMemoryBytes <= FN_WINDOW_ADDR, "RAM would overlap the window");
static_assert(kMinMemoryBytes >= long_mode::kMinRamBytes && kMaxMemoryBytes <= long_mode::kMaxRamBytes,
              "the page tables cannot map every allowed memory size");
}  // namespace

void validate_memory_bytes(uint64_t m) {
  if (m < kMinMemoryBytes || m > kMaxMemoryBytes || m % kMemoryAlignment != 0)
    throw ConfigError(format("memoryBytes %llu must be a multiple of 2 MiB between %llu (8 MiB) and %llu (3 GiB)",
                             (ull)m, (ull)kMinMemoryBytes, (ull)kMaxMemoryBytes));
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
  size_t ram_index = m->memory_.add_region(GuestAddress(0), mem);
  size_t window_index = m->memory_.add_region(GuestAddress(FN_WINDOW_ADDR), FN_WINDOW_SIZE);

  ElfImage image = load_elf(opts.elf, opts.elf_size, load_window, m->memory_);
  std::vector<long_mode::GuestRange> exec;
  for (const ElfSegment& s : image.segments)
    if (s.flags & PF_X) exec.push_back({s.addr, s.mem_size});
  long_mode::write_descriptor_tables(m->memory_);
  long_mode::write_page_tables(m->memory_, mem, exec);
  write_boot_info(m->memory_, boot);
  m->memory_.fill(GuestAddress(FN_TLS_ADDR), 0, FN_PAGE_SIZE);

  const GuestRegion& win = m->memory_.region(window_index);
  m->window_.reset(new Window(win.mapping.host(), win.mapping.size(), mem));
  m->window_->init();

  // The VM and its memory slots.
  // No KVM_SET_TSS_ADDR: it only serves real-mode emulation on Intel hosts without unrestricted
  // guest support, and this vCPU never runs in real mode; the PVM prototype ran without it.
  m->vm_.reset(new Vm(kvm.create_vm()));
  const GuestRegion& ram = m->memory_.region(ram_index);
  m->vm_->set_user_memory_region(kRamSlot, ram.base, ram.size(), ram.mapping.host());
  m->vm_->set_user_memory_region(kWindowSlot, win.base, win.size(), win.mapping.host());

  // The vCPU. CPUID first: KVM checks EFER (LME, NXE) and CR4 against the guest's CPUID in SET_SREGS.
  m->vcpu_.reset(new Vcpu(m->vm_->create_vcpu(0)));
  Vcpu& vcpu = *m->vcpu_;
  vcpu.set_cpuid2(kvm.supported_cpuid());
  kvm_sregs sregs = vcpu.get_sregs();
  long_mode::setup_sregs(sregs);
  vcpu.set_sregs(sregs);
  vcpu.set_regs(long_mode::initial_regs(image.entry, mem));
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

  try {
    m->tsc_khz_ = vcpu.tsc_khz();
  } catch (const KvmError&) {
    m->tsc_khz_ = 0;
  }
  if (m->tsc_khz_ == 0) m->tsc_khz_ = measured_tsc_khz();

  m->adapter_.reset(new KvmVcpuAdapter(vcpu));
  m->kick_ = std::make_shared<KickTarget>(signo);
  m->kick_->bind_run_flag(&vcpu.run_data()->immediate_exit);
  m->worker_.reset(new VmWorker(*m, m->kick_, Watchdog::instance()));
  return m;
}

MicroVm::~MicroVm() { close(); }

void MicroVm::start(VmWorker::Deliver deliver, std::function<void()> on_exit) {
  worker_->start(std::move(deliver), std::move(on_exit));
}

VmWorker::Submit MicroVm::exchange(const ExchangeRequest& req) {
  if (req.command > FN_CMD_INVOKE)
    throw BadRequest(format("command %u is not an fn_command (0 NONE, 1 LOAD, 2 INVOKE)", req.command));
  if (!boot_submitted_ && req.command != FN_CMD_NONE)
    throw BadRequest("the first exchange must be command 0 (FN_CMD_NONE): it boots the guest to READY");
  if (boot_submitted_ && req.command == FN_CMD_NONE)
    throw BadRequest("command 0 (FN_CMD_NONE) is only for the first exchange");
  if (req.input_len > FN_WINDOW_DATA_MAX)
    throw BadRequest(format("input is %zu bytes, more than the window holds (%llu)", req.input_len,
                            (ull)FN_WINDOW_DATA_MAX));
  if (req.timeout_ms == 0 || req.timeout_ms > kMaxTimeoutMs)
    throw BadRequest(format("timeoutMs %llu must be between 1 and %llu", (ull)req.timeout_ms, (ull)kMaxTimeoutMs));

  VmWorker::Submit s = worker_->submit(req.timeout_ms, [&] {
    WindowCommand c;
    c.command = req.command;
    c.input = req.input;
    c.input_len = req.input_len;
    c.now_unix_ns = req.now_unix_ns;
    c.tsc_khz = tsc_khz_;
    std::memcpy(c.entropy, req.entropy, sizeof c.entropy);
    window_->write_command(c);
  });
  if (s == VmWorker::Submit::Ok && req.command == FN_CMD_NONE) boot_submitted_ = true;
  return s;
}

void MicroVm::close() {
  if (worker_) worker_->close();  // joins the vCPU thread: nothing touches KVM or memory after this
  adapter_.reset();
  vcpu_.reset();
  vm_.reset();
  window_.reset();
  memory_ = GuestMemory();
}

bool MicroVm::closed() const { return !worker_ || worker_->state() == VmWorker::State::Closed; }

std::string MicroVm::dead_reason() const { return worker_ ? worker_->dead_reason() : std::string(); }

uint64_t MicroVm::resident_bytes() const { return memory_.resident_bytes(); }

ExchangeOutcome MicroVm::run_exchange(std::chrono::steady_clock::time_point deadline, uint64_t timeout_ms,
                                      KickTarget& kick,
                                      const std::function<bool(std::chrono::steady_clock::time_point)>& sleep_until) {
  RunnerEnv env;
  env.vcpu = adapter_.get();
  env.window = window_.get();
  env.kick = &kick;
  env.deadline = deadline;
  env.timeout_ms = timeout_ms;
  env.sleep_until = sleep_until;
  env.realtime_ns = realtime_ns;
  RunResult r = run_until_doorbell(env);
  ExchangeOutcome out;
  out.ok = r.ok;
  out.event = r.event;
  out.report = std::move(r.report);
  out.error = std::move(r.error);
  return out;
}

bool MicroVm::fatal(const ExchangeOutcome& outcome) const { return outcome.ok && outcome.event == FN_EVENT_PANIC; }

}  // namespace fnvmm
