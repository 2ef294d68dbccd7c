// microvm_vstate.cc — the vCPU and memory state of a running MicroVm, in place: completing the
// doorbell's pending I/O so the state is whole, reading KVM's dirty log, and reset, which puts
// memory and registers back to the snapshot (Firecracker's vstate).
#include "microvm.h"

#include <cerrno>
#include <cstring>

#include "memory_image.h"
#include "memory_snapshot.h"
#include "nested_quirks.h"
#include "vm.h"
#include "window.h"
#include "microvm_parts.h"

namespace fnvmm {

using namespace microvm_parts;

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

}  // namespace fnvmm
