#include "sync_vm.h"

#include <chrono>
#include <random>

#include "host_clock.h"

namespace fnsmoke {

namespace {
// How long past its own deadline an answer may take: the vCPU thread must notice the kick, and on
// an emulated CPU (Bochs runs ~90 MIPS) everything on the host side is slow too.
constexpr uint64_t kGraceMs = 60000;
// Snapshot and reset have no timeout of their own: bounded host work, slow only when emulated.
constexpr uint64_t kJobLimitMs = 120000;

fnvmm::VmError refused(const char* kind, const std::string& message) {
  fnvmm::VmError e;
  e.kind = kind;
  e.message = message;
  return e;
}

const char* submit_kind(fnvmm::VmWorker::Submit s) {
  switch (s) {
    case fnvmm::VmWorker::Submit::Ok: return "ok";
    case fnvmm::VmWorker::Submit::Busy: return "busy";
    case fnvmm::VmWorker::Submit::Dead: return "dead";
    case fnvmm::VmWorker::Submit::Closed: return "closed";
  }
  return "closed";
}

const char* job_kind(fnvmm::MicroVm::JobSubmit s) {
  switch (s) {
    case fnvmm::MicroVm::JobSubmit::Ok: return "ok";
    case fnvmm::MicroVm::JobSubmit::Busy: return "busy";
    case fnvmm::MicroVm::JobSubmit::Dead: return "dead";
    case fnvmm::MicroVm::JobSubmit::Closed: return "closed";
    case fnvmm::MicroVm::JobSubmit::NotAtDoorbell: return "not_at_doorbell";
    case fnvmm::MicroVm::JobSubmit::NoSnapshot: return "no_snapshot";
  }
  return "closed";
}
}  // namespace

SyncVm::SyncVm(std::unique_ptr<fnvmm::MicroVm> vm) : vm_(std::move(vm)) {
  vm_->start(
      [this](fnvmm::ExchangeOutcome&& out) {
        std::lock_guard<std::mutex> lock(mu_);
        exchange_out_ = std::move(out);
        exchange_done_ = true;
        cv_.notify_all();
      },
      [] {});
}

std::unique_ptr<SyncVm> SyncVm::create(uint64_t memory_bytes, const std::vector<uint8_t>& elf) {
  fnvmm::MicroVmOptions o;
  o.memory_bytes = memory_bytes;
  o.elf = elf.data();
  o.elf_size = elf.size();
  return std::unique_ptr<SyncVm>(new SyncVm(fnvmm::MicroVm::create(o)));
}

std::unique_ptr<SyncVm> SyncVm::restore(uint64_t memory_bytes, const std::string& dir) {
  fnvmm::RestoreOptions o;
  o.memory_bytes = memory_bytes;
  o.dir = dir;
  return std::unique_ptr<SyncVm>(new SyncVm(fnvmm::MicroVm::restore(o)));
}

SyncVm::~SyncVm() { close(); }

void SyncVm::close() {
  if (vm_) vm_->close();
}

bool SyncVm::wait(const bool& done, uint64_t limit_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(limit_ms), [&] { return done; });
}

fnvmm::ExchangeOutcome SyncVm::exchange(uint32_t command, const std::vector<uint8_t>& input, uint64_t timeout_ms) {
  fnvmm::ExchangeRequest req;
  req.command = command;
  req.input = input.empty() ? nullptr : input.data();
  req.input_len = input.size();
  req.now_unix_ns = fnvmm::realtime_ns();
  std::random_device rd;  // fresh entropy per command, as the worker host hands in
  for (uint8_t& b : req.entropy) b = static_cast<uint8_t>(rd());
  req.timeout_ms = timeout_ms;
  {
    std::lock_guard<std::mutex> lock(mu_);
    exchange_done_ = false;
  }
  fnvmm::ExchangeOutcome out;
  fnvmm::VmWorker::Submit s;
  try {
    s = vm_->exchange(req);
  } catch (const std::exception& e) {
    out.error = refused("bad_input", e.what());
    return out;
  }
  if (s != fnvmm::VmWorker::Submit::Ok) {
    out.error = refused(submit_kind(s), std::string("exchange refused: ") + submit_kind(s) +
                                            (s == fnvmm::VmWorker::Submit::Dead ? " after '" + vm_->dead_reason() + "'" : ""));
    return out;
  }
  if (!wait(exchange_done_, timeout_ms + kGraceMs)) {
    out.error = refused("no_answer", "no answer from the vCPU thread within the timeout plus " +
                                         std::to_string(kGraceMs / 1000) + " s");
    return out;
  }
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(exchange_out_);
}

fnvmm::SnapshotOutcome SyncVm::snapshot(const std::string& dir) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_done_ = false;
  }
  fnvmm::SnapshotRequest req;
  req.dir = dir;
  fnvmm::SnapshotOutcome out;
  const fnvmm::MicroVm::JobSubmit s = vm_->snapshot(req, [this](fnvmm::SnapshotOutcome&& o) {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_out_ = std::move(o);
    snapshot_done_ = true;
    cv_.notify_all();
  });
  if (s != fnvmm::MicroVm::JobSubmit::Ok) {
    out.error = refused(job_kind(s), std::string("snapshot refused: ") + job_kind(s));
    return out;
  }
  if (!wait(snapshot_done_, kJobLimitMs)) {
    out.error = refused("no_answer", "the snapshot did not finish in " + std::to_string(kJobLimitMs / 1000) + " s");
    return out;
  }
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(snapshot_out_);
}

fnvmm::ResetOutcome SyncVm::reset() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reset_done_ = false;
  }
  fnvmm::ResetOutcome out;
  const fnvmm::MicroVm::JobSubmit s = vm_->reset([this](fnvmm::ResetOutcome&& o) {
    std::lock_guard<std::mutex> lock(mu_);
    reset_out_ = std::move(o);
    reset_done_ = true;
    cv_.notify_all();
  });
  if (s != fnvmm::MicroVm::JobSubmit::Ok) {
    out.error = refused(job_kind(s), std::string("reset refused: ") + job_kind(s));
    return out;
  }
  if (!wait(reset_done_, kJobLimitMs)) {
    out.error = refused("no_answer", "the reset did not finish in " + std::to_string(kJobLimitMs / 1000) + " s");
    return out;
  }
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(reset_out_);
}

std::string detail_str(const fnvmm::VmError& e, const std::string& name) {
  for (const fnvmm::ErrorDetail& d : e.details)
    if (d.name == name && d.type == fnvmm::ErrorDetail::Type::String) return d.s;
  return "";
}

uint64_t detail_num(const fnvmm::VmError& e, const std::string& name, bool* found) {
  for (const fnvmm::ErrorDetail& d : e.details)
    if (d.name == name && d.type != fnvmm::ErrorDetail::Type::String) {
      if (found) *found = true;
      return d.u;
    }
  if (found) *found = false;
  return 0;
}

}  // namespace fnsmoke
