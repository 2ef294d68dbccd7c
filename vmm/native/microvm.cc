#include "microvm.h"

#include <elf.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "boot_info.h"
#include "elf_loader.h"
#include "errors.h"
#include "fn_abi.h"
#include "host_clock.h"
#include "kvm.h"
#include "long_mode.h"
#include "memory_image.h"
#include "memory_snapshot.h"
#include "nested_quirks.h"
#include "snapshot_files.h"
#include "vcpu.h"
#include "vcpu_runner.h"
#include "vm.h"
#include "watchdog.h"
#include "window.h"

namespace fnvmm {

using ull = unsigned long long;
using Clock = std::chrono::steady_clock;

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
constexpr size_t kRamRegion = 0;
constexpr size_t kWindowRegion = 1;
// A cpu.bin is a few KiB (the XSAVE area dominates).
constexpr size_t kMaxCpuFileBytes = 1u << 20;
// Where KVM_SET_TSS_ADDR / the EPT identity map would go on Intel if ever needed: keep RAM below.
constexpr uint64_t kIntelTssAddr = 0xFFFBC000;
static_assert(kMaxMemoryBytes <= kIntelTssAddr, "RAM would overlap KVM's Intel private pages");
static_assert(kMaxMemoryBytes <= FN_WINDOW_ADDR, "RAM would overlap the window");
static_assert(kMinMemoryBytes >= long_mode::kMinRamBytes && kMaxMemoryBytes <= long_mode::kMaxRamBytes,
              "the page tables cannot map every allowed memory size");

double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

VmError kvm_vm_error(const KvmError& ke) {
  VmError e;
  e.kind = "kvm";
  e.message = ke.what();
  e.details.push_back(ErrorDetail::str("ioctl", ke.op()));
  e.details.push_back(ErrorDetail::num("errno", static_cast<uint64_t>(ke.error())));
  return e;
}

VmError snapshot_vm_error(const SnapshotError& se) {
  VmError e;
  e.kind = "snapshot";
  e.message = se.what();
  e.details.push_back(ErrorDetail::str("code", "SNAPSHOT_ERROR"));
  e.details.push_back(ErrorDetail::str("errorName", se.name()));
  e.details.push_back(ErrorDetail::str("reason", se.reason()));
  if (!se.path().empty()) e.details.push_back(ErrorDetail::str("path", se.path()));
  if (se.error() != 0) e.details.push_back(ErrorDetail::num("errno", static_cast<uint64_t>(se.error())));
  return e;
}

VmError lost_error(const std::string& message) {
  VmError e;
  e.kind = "lost";
  e.message = message;
  return e;
}

SnapshotError layout_error(const std::string& path, const std::string& message) {
  return SnapshotError("SnapshotError", "layout", path, message);
}
}  // namespace

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

std::unique_ptr<MicroVm> MicroVm::restore(const RestoreOptions& o) {
  validate_memory_bytes(o.memory_bytes);
  if (o.dir.empty()) throw ConfigError("restore: dir must be a non-empty path");
  const uint64_t mem = o.memory_bytes;
  const bool layered = !o.base_memory_path.empty();
  RestoreStats st;
  const Clock::time_point t0 = Clock::now();

  // 1. Every file, checked before anything else happens.
  const std::string cpu_path = join_path(o.dir, kCpuFileName);
  const std::string pages_path = join_path(o.dir, kPagesFileName);
  const std::string memory_path = join_path(o.dir, kMemoryFileName);
  std::vector<uint8_t> cpu_bytes = read_small_file(cpu_path, kMaxCpuFileBytes, "the CPU state file");
  CpuFileInfo info;
  CpuState cpu = decode_cpu_file(cpu_bytes.data(), cpu_bytes.size(), mem, cpu_path, &info);
  std::vector<uint8_t> pages_bytes =
      read_small_file(pages_path, kPagesHeaderBytes + 4 + (mem / kPageSize) * 8, "the page list");
  PagesFile pf = decode_pages_file(pages_bytes.data(), pages_bytes.size(), mem, pages_path);
  if (pf.id != info.id)
    throw SnapshotError("SnapshotError", "mismatch", o.dir,
                        format("%s and %s belong to different snapshots (ids %s and %s): a copy mixed the files of two "
                               "snapshots; take or fetch the snapshot again",
                               cpu_path.c_str(), pages_path.c_str(), info.id.hex().c_str(), pf.id.hex().c_str()));
  if (!pf.layered && layered)
    throw layout_error(o.dir, o.dir + " holds a full snapshot, not a diff: restore it without baseMemoryPath");
  if (pf.layered && !layered)
    throw layout_error(o.dir, o.dir + " holds only the pages that differ from a base snapshot: pass that base's "
                                      "memory.img as baseMemoryPath");
  if (pf.layered && !pf.base_id.is_zero()) {
    SnapshotId actual;
    if (sibling_snapshot_id(o.base_memory_path, &actual) && actual != pf.base_id)
      throw SnapshotError("SnapshotError", "base", o.base_memory_path,
                          format("%s was taken over a different base than %s (the pages.bin beside it names snapshot "
                                 "%s, the diff expects %s): a diff restored over the wrong base would be garbage",
                                 o.dir.c_str(), o.base_memory_path.c_str(), actual.hex().c_str(),
                                 pf.base_id.hex().c_str()));
  }
  std::shared_ptr<const MemoryImage> image = layered ? MemoryImage::open(mem, o.base_memory_path, memory_path, pf.runs)
                                                     : MemoryImage::open(mem, memory_path, "", {});
  MmapRegion ram = image->map_private();

  const int signo = kick_signal();
  Kvm kvm = Kvm::open();
  std::vector<kvm_cpuid_entry2> cpuid = kvm.supported_cpuid();
  const std::string missing = missing_cpu_features(cpu.features, cpuid);
  if (!missing.empty())
    throw SnapshotError("SnapshotError", "cpu_features", cpu_path,
                        cpu_path + " was taken on a CPU with features this host's KVM does not offer (" + missing +
                            "): the guest may rely on them. Restore it on a host with the same CPU, or take the "
                            "snapshot again here");
  st.files_us = us_since(t0);

  std::unique_ptr<MicroVm> m(new MicroVm());
  m->memory_bytes_ = mem;
  m->memory_.add_region(GuestAddress(0), std::move(ram));
  m->memory_.add_region(GuestAddress(FN_WINDOW_ADDR), FN_WINDOW_SIZE);

  // 2. KVM. Dirty logging from the start: reset needs to know every page written from now on.
  Clock::time_point t = Clock::now();
  m->vm_.reset(new Vm(kvm.create_vm()));
  st.create_vm_us = us_since(t);
  t = Clock::now();
  {
    const GuestRegion& r = m->memory_.region(kRamRegion);
    const GuestRegion& w = m->memory_.region(kWindowRegion);
    m->vm_->set_user_memory_region(kRamSlot, r.base, r.size(), r.mapping.host(), KVM_MEM_LOG_DIRTY_PAGES);
    m->vm_->set_user_memory_region(kWindowSlot, w.base, w.size(), w.mapping.host());
    m->dirty_logging_ = true;
  }
  st.memory_us = us_since(t);
  t = Clock::now();
  m->create_vcpu(std::move(cpuid));
  st.vcpu_us = us_since(t);
  t = Clock::now();
  // The snapshot was taken with the doorbell's I/O completed, so nothing is pending: the first
  // KVM_RUN continues right after the `out`.
  ApplyReport applied = apply_cpu_state(*m->vcpu_, m->fpu_, cpu);
  st.state_us = us_since(t);

  m->finish_setup(signo);
  m->image_ = std::move(image);
  m->snap_cpu_.reset(new CpuState(std::move(cpu)));
  m->boot_submitted_ = true;  // the next exchange hands in a command, as after any DONE
  m->at_doorbell_ = true;
  m->has_snapshot_ = true;
  m->restored_ = true;
  st.total_us = us_since(t0);
  st.data_pages = pf.data_pages;
  st.diff_pages = run_pages(pf.runs);
  st.msrs_refused = applied.msrs_refused;
  m->restore_stats_ = st;
  return m;
}

MicroVm::~MicroVm() { close(); }

void MicroVm::start(VmWorker::Deliver deliver, std::function<void()> on_exit) {
  worker_->start(std::move(deliver), std::move(on_exit));
}

// ---- exchanges -----------------------------------------------------------------------------------

VmWorker::Submit MicroVm::exchange(const ExchangeRequest& req) {
  if (req.command > FN_CMD_INVOKE)
    throw BadRequest(format("command %u is not an fn_command (0 NONE, 1 LOAD, 2 INVOKE)", req.command));
  if (!boot_submitted_ && req.command != FN_CMD_NONE)
    throw BadRequest("the first exchange must be command 0 (FN_CMD_NONE): it boots the guest to READY");
  if (boot_submitted_ && req.command == FN_CMD_NONE)
    throw BadRequest("command 0 (FN_CMD_NONE) is only for the first exchange of a VM created from an ELF");
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
    const uint64_t end = FN_WINDOW_DATA_OFFSET + req.input_len;
    if (end > window_extent_) window_extent_ = end;
    at_doorbell_ = false;
  });
  if (s == VmWorker::Submit::Ok && req.command == FN_CMD_NONE) boot_submitted_ = true;
  return s;
}

ExchangeOutcome MicroVm::run_exchange(std::chrono::steady_clock::time_point deadline, uint64_t timeout_ms,
                                      KickTarget& kick,
                                      const std::function<bool(std::chrono::steady_clock::time_point)>& sleep_until) {
  const Clock::time_point start = Clock::now();
  RunnerEnv env;
  env.vcpu = adapter_.get();
  env.memory = &memory_;
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
  if (out.ok) {
    const uint64_t end = FN_WINDOW_DATA_OFFSET + out.report.output.size();
    if (end > window_extent_) window_extent_ = end;
  }
  at_doorbell_ = out.ok && (out.event == FN_EVENT_READY || out.event == FN_EVENT_DONE);
  if (restored_ && first_run_us_.load() < 0) first_run_us_ = static_cast<int64_t>(us_since(start));
  return out;
}

bool MicroVm::fatal(const ExchangeOutcome& outcome) const { return outcome.ok && outcome.event == FN_EVENT_PANIC; }

// ---- jobs: snapshot and reset --------------------------------------------------------------------

namespace {
template <typename Outcome>
JobDone job_done(bool usable, Outcome&& out, std::function<void(Outcome&&)> done) {
  JobDone jd;
  jd.usable = usable;
  jd.dead_reason = out.ok ? std::string() : out.error.kind;
  auto shared = std::make_shared<Outcome>(std::move(out));
  jd.deliver = [done = std::move(done), shared] { done(std::move(*shared)); };
  return jd;
}

MicroVm::JobSubmit to_job_submit(VmWorker::Submit s) {
  switch (s) {
    case VmWorker::Submit::Ok: return MicroVm::JobSubmit::Ok;
    case VmWorker::Submit::Busy: return MicroVm::JobSubmit::Busy;
    case VmWorker::Submit::Dead: return MicroVm::JobSubmit::Dead;
    case VmWorker::Submit::Closed: return MicroVm::JobSubmit::Closed;
  }
  return MicroVm::JobSubmit::Closed;
}

// What a worker that is not idle answers, before any job-specific check.
bool not_idle(VmWorker* w, MicroVm::JobSubmit* why) {
  if (w == nullptr) {
    *why = MicroVm::JobSubmit::Closed;
    return true;
  }
  switch (w->state()) {
    case VmWorker::State::Idle: return false;
    case VmWorker::State::Running: *why = MicroVm::JobSubmit::Busy; return true;
    case VmWorker::State::Dead: *why = MicroVm::JobSubmit::Dead; return true;
    case VmWorker::State::Closed: *why = MicroVm::JobSubmit::Closed; return true;
  }
  return false;
}
}  // namespace

MicroVm::JobSubmit MicroVm::snapshot(const SnapshotRequest& req, std::function<void(SnapshotOutcome&&)> done) {
  if (req.dir.empty()) throw BadRequest("snapshot: dir must be a non-empty path");
  JobSubmit why;
  if (not_idle(worker_.get(), &why)) return why;
  if (!at_doorbell_) return JobSubmit::NotAtDoorbell;
  return to_job_submit(worker_->submit_job([this, req, done](const std::function<bool()>& stop_requested) {
    SnapshotOutcome out;
    bool usable = true;
    if (stop_requested())
      out.error = closed_error();
    else
      out = do_snapshot(req, stop_requested, &usable);
    return job_done<SnapshotOutcome>(usable, std::move(out), done);
  }));
}

MicroVm::JobSubmit MicroVm::reset(std::function<void(ResetOutcome&&)> done) {
  JobSubmit why;
  if (not_idle(worker_.get(), &why)) return why;
  if (!has_snapshot_) return JobSubmit::NoSnapshot;
  return to_job_submit(worker_->submit_job([this, done](const std::function<bool()>& stop_requested) {
    ResetOutcome out;
    bool usable = true;
    if (stop_requested())
      out.error = closed_error();
    else
      out = do_reset(&usable);
    return job_done<ResetOutcome>(usable, std::move(out), done);
  }));
}

uint8_t* MicroVm::ram() const { return memory_.region(kRamRegion).mapping.host(); }
uint8_t* MicroVm::window_host() const { return memory_.region(kWindowRegion).mapping.host(); }

void MicroVm::complete_pending_io(uint64_t valid_regs) {
  // The vCPU stopped on the doorbell's `out`, which KVM completes on the next KVM_RUN (the kernel
  // keeps that pending state where KVM_GET_* cannot see it). With immediate_exit set, KVM_RUN
  // finishes it, applies registers queued in kvm_run (kvm_dirty_regs), and returns EINTR without
  // running a guest instruction; with kvm_valid_regs it also copies the registers out. Only this
  // thread writes immediate_exit here: no exchange is armed, so the watchdog never touches it.
  kvm_run* run = vcpu_->run_data();
  run->kvm_valid_regs = valid_regs;
  __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  const int err = vcpu_->run();
  __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
  run->kvm_valid_regs = 0;  // otherwise every later exit pays for copying them out
  if (err == EINTR) return;
  if (err == 0)
    throw KvmError("KVM_RUN with immediate_exit", EPROTO,
                   format("KVM returned exit %u instead of EINTR while completing the doorbell I/O", run->exit_reason));
  throw KvmError("KVM_RUN with immediate_exit", err, "completing the doorbell I/O");
}

const PageBitmap& MicroVm::fetch_dirty_log() {
  dirty_.clear();
  vm_->get_dirty_log(kRamSlot, dirty_.words());
  dirty_.trim();
  return dirty_;
}

SnapshotOutcome MicroVm::do_snapshot(const SnapshotRequest& req, const std::function<bool()>& stop_requested,
                                     bool* usable) {
  SnapshotOutcome out;
  const Clock::time_point t0 = Clock::now();
  const uint64_t mem = memory_bytes_;
  uint8_t* const r = ram();

  // 1. The vCPU, at the doorbell with its I/O completed (the same point a restore resumes from).
  CpuState cpu;
  try {
    complete_pending_io(0);
    cpu = capture_cpu_state(*vcpu_, fpu_, tsc_khz_, cpuid_);
    if (dirty_logging_) divergent_ |= fetch_dirty_log();
  } catch (const KvmError& e) {
    *usable = false;
    out.error = kvm_vm_error(e);
    return out;
  }

  // 2. The files. Any failure here leaves the VM as it was (usable) and no file behind. The work
  //    is bounded by guest RAM (milliseconds to seconds for GiBs of data), so close() is honoured
  //    between the steps instead of waiting for all of it.
  const SnapshotError closing("SnapshotError", "closed", req.dir, "the microVM was closed while the snapshot was taken");
  SnapshotResult res;
  std::shared_ptr<const MemoryImage> next;
  try {
    std::shared_ptr<const MemoryImage> base;
    SnapshotId base_id;
    const std::string out_memory = join_path(req.dir, kMemoryFileName);
    if (!req.base_memory_path.empty()) {
      struct stat a, b;
      if (::stat(out_memory.c_str(), &a) == 0 && ::stat(req.base_memory_path.c_str(), &b) == 0 &&
          a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        throw layout_error(req.base_memory_path, "baseMemoryPath " + req.base_memory_path +
                                                     " is the memory.img this snapshot would replace: write the diff "
                                                     "into another directory");
      // The base must be a full snapshot: a diff's memory.img has holes where its base has data.
      const std::string base_pages = sibling_path(req.base_memory_path, kPagesFileName);
      struct stat ps;
      if (::stat(base_pages.c_str(), &ps) == 0) {
        std::vector<uint8_t> bytes = read_small_file(base_pages, kPagesHeaderBytes + 4 + (mem / kPageSize) * 8, "the base's page list");
        PagesFile bp = decode_pages_file(bytes.data(), bytes.size(), mem, base_pages);
        if (bp.layered)
          throw layout_error(req.base_memory_path, req.base_memory_path +
                                                       " is a diff, not a full snapshot: a diff can only be taken "
                                                       "over a full snapshot's memory.img");
        base_id = bp.id;
      }
      base = MemoryImage::open(mem, req.base_memory_path, "", {});
    }

    // Candidates: RAM is the snapshot it runs from plus the pages written since (the dirty log);
    // a fresh VM's RAM is anonymous: every page it ever touched. With a base, also every page the
    // base has data in (it may have to be listed as changed to zeros).
    PageBitmap candidates = image_ ? image_->data() : touched_pages(r, mem);
    if (image_) candidates |= divergent_;
    if (base) candidates |= base->data();
    SnapshotPages sel = select_snapshot_pages(r, mem, candidates, base ? base->view() : nullptr);
    if (stop_requested()) throw closing;

    ensure_directory(req.dir);
    StagedFile memf(req.dir, kMemoryFileName);
    uint64_t bytes = write_memory_image(memf, r, mem, sel.write);
    memf.sync();
    PagesFile pf;
    pf.layered = base != nullptr;
    pf.mem_size = mem;
    pf.id = SnapshotId::random();
    pf.base_id = base_id;
    pf.data_pages = sel.data_pages;
    pf.runs = sel.diff;
    const std::vector<uint8_t> pages_bytes = encode_pages_file(pf);
    StagedFile pagesf(req.dir, kPagesFileName);
    pagesf.write_at(pages_bytes.data(), pages_bytes.size(), 0);
    pagesf.sync();
    const std::vector<uint8_t> cpu_bytes = encode_cpu_file(cpu, CpuFileInfo{pf.id, mem});
    StagedFile cpuf(req.dir, kCpuFileName);
    cpuf.write_at(cpu_bytes.data(), cpu_bytes.size(), 0);
    cpuf.sync();
    if (stop_requested()) throw closing;
    // cpu.bin last: once it is in place the ids of all three files agree (a reader that finds
    // them disagreeing refuses the directory).
    memf.publish();
    pagesf.publish();
    cpuf.publish();
    sync_directory(req.dir);
    res.write_ms = us_since(t0) / 1000.0;

    next = base ? MemoryImage::open(mem, req.base_memory_path, memf.final_path(), pf.runs)
                : MemoryImage::open(mem, memf.final_path(), "", {});
    res.pages = sel.data_pages;
    res.layered = base != nullptr;
    res.diff_pages = run_pages(sel.diff);
    res.runs = sel.diff.size();
    res.bytes = bytes + pages_bytes.size() + cpu_bytes.size();
  } catch (const SnapshotError& e) {
    out.error = e.reason() == "closed" ? closed_error() : snapshot_vm_error(e);
    return out;
  } catch (const std::exception& e) {
    out.error = snapshot_vm_error(SnapshotError("SnapshotError", "io", req.dir, std::string("snapshot failed: ") + e.what()));
    return out;
  }

  // 3. From now on the VM runs from the files it just wrote, like a VM restored from them: its RAM
  //    is remapped from them MAP_PRIVATE (KVM follows through its MMU notifier; the next run
  //    faults pages back in), with dirty logging on, and reset returns to them.
  const Clock::time_point t1 = Clock::now();
  try {
    next->map_private_at(r);
    if (!dirty_logging_) {
      vm_->set_user_memory_region(kRamSlot, GuestAddress(0), mem, r, KVM_MEM_LOG_DIRTY_PAGES);
      dirty_logging_ = true;
    }
    fetch_dirty_log();  // nothing the guest did before now matters any more
    divergent_.clear();
    image_ = next;
    snap_cpu_.reset(new CpuState(std::move(cpu)));
    has_snapshot_ = true;
    scrub_window(window_host(), FN_WINDOW_SIZE, window_extent_);
    window_->init();
    window_extent_ = 0;
  } catch (const std::exception& e) {
    *usable = false;
    out.error = lost_error(std::string("the snapshot was written to ") + req.dir +
                           ", but this VM could not be switched over to it (" + e.what() +
                           "): this VM is lost; restore a new one from the snapshot");
    return out;
  }
  res.rebase_ms = us_since(t1) / 1000.0;
  res.ms = us_since(t0) / 1000.0;
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++snapshots_;
  }
  out.ok = true;
  out.result = res;
  return out;
}

ResetOutcome MicroVm::do_reset(bool* usable) {
  ResetOutcome out;
  ResetResult res;
  const Clock::time_point t0 = Clock::now();
  try {
    // 1. The doorbell's I/O completed, the current registers copied out (for the sregs check).
    complete_pending_io(sync_regs_ ? (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS) : 0);
    // 2. Every RAM page written since the snapshot or the last reset, per KVM (not the guest).
    fetch_dirty_log();
    dirty_ |= divergent_;
    const Clock::time_point t1 = Clock::now();
    res.scan_us = std::chrono::duration<double, std::micro>(t1 - t0).count();

    // 3. Memory: pages back from the snapshot's files, first-touched pages zeroed (or dropped, if
    //    many); the window as fresh as a restored VM's.
    ResetPagesResult rp = reset_pages(ram(), *image_, dirty_);
    res.dirty_pages = rp.dirty;
    res.copied_pages = rp.copied;
    res.zeroed_pages = rp.zeroed;
    res.dropped_pages = rp.dropped;
    res.window_pages = scrub_window(window_host(), FN_WINDOW_SIZE, window_extent_);
    window_->init();
    window_extent_ = 0;
    divergent_.clear();
    const Clock::time_point t2 = Clock::now();
    res.copy_us = std::chrono::duration<double, std::micro>(t2 - t1).count();

    // 4. Registers. With KVM_CAP_SYNC_REGS they are queued in kvm_run and applied by the next
    //    KVM_RUN (no ioctl now; ~7 µs each saved); segment and control registers only if the guest
    //    changed them (it can load data segments at CPL3, which also resets the FS base). The
    //    XSAVE area always: reading it to compare costs an ioctl too.
    const CpuState& s = *snap_cpu_;
    if (sync_regs_) {
      kvm_run* run = vcpu_->run_data();
      run->s.regs.regs = regs_for_host(s.regs);  // nested_quirks.h
      uint64_t queued = KVM_SYNC_X86_REGS;
      // Compared as the guest state (what KVM reports), set as this host needs it (nested_quirks.h).
      if (!same_sregs(run->s.regs.sregs, s.sregs)) {
        run->s.regs.sregs = sregs_for_host(s.sregs);
        queued |= KVM_SYNC_X86_SREGS;
        res.sregs_set = true;
      }
      run->kvm_dirty_regs = queued;
    } else {
      vcpu_->set_regs(regs_for_host(s.regs));
      if (!same_sregs(vcpu_->get_sregs(), s.sregs)) {
        vcpu_->set_sregs(sregs_for_host(s.sregs));
        res.sregs_set = true;
      }
    }
    apply_fpu_state(*vcpu_, fpu_, s);
    res.cpu_us = us_since(t2);
  } catch (const KvmError& e) {
    *usable = false;
    out.error = kvm_vm_error(e);
    out.error.message = "reset failed, this VM is lost: " + out.error.message;
    return out;
  } catch (const std::exception& e) {
    *usable = false;
    out.error = lost_error(std::string("reset failed, this VM is lost: ") + e.what());
    return out;
  }
  res.us = us_since(t0);
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++resets_;
    last_reset_ = res;
  }
  out.ok = true;
  out.result = res;
  return out;
}

// ---- lifetime and stats --------------------------------------------------------------------------

void MicroVm::close() {
  if (worker_) worker_->close();  // joins the vCPU thread: nothing touches KVM or memory after this
  adapter_.reset();
  vcpu_.reset();
  vm_.reset();
  window_.reset();
  memory_ = GuestMemory();
  image_.reset();
  snap_cpu_.reset();
}

bool MicroVm::closed() const { return !worker_ || worker_->state() == VmWorker::State::Closed; }

std::string MicroVm::dead_reason() const { return worker_ ? worker_->dead_reason() : std::string(); }

uint64_t MicroVm::resident_bytes() const { return memory_.resident_bytes(); }

MicroVmStats MicroVm::stats() const {
  MicroVmStats s;
  s.restored = restored_;
  s.first_run_us = first_run_us_;
  s.has_snapshot = has_snapshot_;
  s.sync_regs = sync_regs_;
  s.xsave_bytes = fpu_.xsave_size;
  s.manual_dirty_log_protect = manual_protect_cap_;
  std::lock_guard<std::mutex> lk(stats_mu_);
  s.restore = restore_stats_;
  s.resets = resets_;
  s.last_reset = last_reset_;
  s.snapshots = snapshots_;
  return s;
}

}  // namespace fnvmm
