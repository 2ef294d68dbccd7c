// microvm_parts.h — what the files of MicroVm share, and nothing else includes: the vCPU as the
// runner sees it, the slot and region numbers, and the helpers that turn errors and job results
// into outcomes. MicroVm is cut by job, as Firecracker cuts its VMM (builder / persist / vstate):
//   microvm.cc          the VM's life: start, exchange (vCPU thread: run to the doorbell), close, stats
//   microvm_builder.cc  creating a VM from a guest ELF, and the KVM setup restore shares with it
//   microvm_persist.cc  snapshot (to files) and restore (a new VM from files)
//   microvm_vstate.cc   the vCPU and memory state in place: pending I/O, the dirty log, reset
#ifndef FN_VMM_MICROVM_PARTS_H
#define FN_VMM_MICROVM_PARTS_H

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "errors.h"
#include "fn_abi.h"
#include "long_mode.h"
#include "microvm.h"
#include "vcpu.h"
#include "vcpu_runner.h"
#include "vm_worker.h"

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

namespace microvm_parts {
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

inline double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

inline VmError kvm_vm_error(const KvmError& ke) {
  VmError e;
  e.kind = "kvm";
  e.message = ke.what();
  e.details.push_back(ErrorDetail::str("ioctl", ke.op()));
  e.details.push_back(ErrorDetail::num("errno", static_cast<uint64_t>(ke.error())));
  return e;
}

inline VmError snapshot_vm_error(const SnapshotError& se) {
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

inline VmError lost_error(const std::string& message) {
  VmError e;
  e.kind = "lost";
  e.message = message;
  return e;
}

inline SnapshotError layout_error(const std::string& path, const std::string& message) {
  return SnapshotError("SnapshotError", "layout", path, message);
}

// ---- jobs: snapshot and reset (submitted from the JS thread, run on the vCPU thread) ----------

template <typename Outcome>
JobDone job_done(bool usable, Outcome&& out, std::function<void(Outcome&&)> done) {
  JobDone jd;
  jd.usable = usable;
  jd.dead_reason = out.ok ? std::string() : out.error.kind;
  auto shared = std::make_shared<Outcome>(std::move(out));
  jd.deliver = [done = std::move(done), shared] { done(std::move(*shared)); };
  return jd;
}

inline MicroVm::JobSubmit to_job_submit(VmWorker::Submit s) {
  switch (s) {
    case VmWorker::Submit::Ok: return MicroVm::JobSubmit::Ok;
    case VmWorker::Submit::Busy: return MicroVm::JobSubmit::Busy;
    case VmWorker::Submit::Dead: return MicroVm::JobSubmit::Dead;
    case VmWorker::Submit::Closed: return MicroVm::JobSubmit::Closed;
  }
  return MicroVm::JobSubmit::Closed;
}

// What a worker that is not idle answers, before any job-specific check.
inline bool not_idle(VmWorker* w, MicroVm::JobSubmit* why) {
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
}  // namespace microvm_parts

}  // namespace fnvmm

#endif
