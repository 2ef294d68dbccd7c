// microvm.cc — a MicroVm's life once built: the vCPU thread started, exchanges (validated here,
// run to the next doorbell on the vCPU thread), close and stats. How the VM is built, persisted
// and reset: microvm_parts.h says which file has which job.
#include "microvm.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include "host_clock.h"
#include "memory_image.h"
#include "vm.h"
#include "window.h"
#include "microvm_parts.h"

namespace fnvmm {

using namespace microvm_parts;

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

uint8_t* MicroVm::ram() const { return memory_.region(kRamRegion).mapping.host(); }
uint8_t* MicroVm::window_host() const { return memory_.region(kWindowRegion).mapping.host(); }

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
