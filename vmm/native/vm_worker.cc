#include "vm_worker.h"

#include "vcpu_runner.h"

namespace fnvmm {

using Clock = std::chrono::steady_clock;

VmWorker::VmWorker(ExchangeEngine& engine, std::shared_ptr<KickTarget> kick, Watchdog& watchdog)
    : engine_(engine), kick_(std::move(kick)), watchdog_(watchdog) {}

VmWorker::~VmWorker() { close(); }

void VmWorker::start(Deliver deliver, std::function<void()> on_exit) {
  deliver_ = std::move(deliver);
  on_exit_ = std::move(on_exit);
  thread_ = std::thread([this] { thread_main(); });
}

VmWorker::Submit VmWorker::submit(uint64_t timeout_ms, const std::function<void()>& prepare) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    switch (state_) {
      case State::Running: return Submit::Busy;
      case State::Dead: return Submit::Dead;
      case State::Closed: return Submit::Closed;
      case State::Idle: break;
    }
    if (!thread_.joinable()) return Submit::Closed;
    state_ = State::Running;
  }
  // The worker thread is parked: it only wakes for pending_ or stop_, so writing guest memory here is
  // safe; the mutex below publishes these writes to it.
  try {
    prepare();
  } catch (...) {
    std::lock_guard<std::mutex> lk(mu_);
    if (state_ == State::Running) state_ = State::Idle;
    throw;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (state_ == State::Closed) return Submit::Closed;
    pending_ = true;
    pending_timeout_ms_ = timeout_ms;
  }
  cv_.notify_all();
  return Submit::Ok;
}

VmWorker::Submit VmWorker::submit_job(Job job) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    switch (state_) {
      case State::Running: return Submit::Busy;
      case State::Dead: return Submit::Dead;
      case State::Closed: return Submit::Closed;
      case State::Idle: break;
    }
    if (!thread_.joinable()) return Submit::Closed;
    state_ = State::Running;
    pending_ = true;
    pending_job_ = std::move(job);
  }
  cv_.notify_all();
  return Submit::Ok;
}

void VmWorker::close() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
    state_ = State::Closed;
  }
  cv_.notify_all();       // wakes a parked or sleeping worker
  kick_->request_stop();  // kicks a running guest out of KVM_RUN
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

VmWorker::State VmWorker::state() const {
  std::lock_guard<std::mutex> lk(mu_);
  return state_;
}

std::string VmWorker::dead_reason() const {
  std::lock_guard<std::mutex> lk(mu_);
  return dead_reason_;
}

bool VmWorker::sleep_until(Clock::time_point until) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait_until(lk, until, [this] { return stop_; });
  return !stop_;
}

void VmWorker::thread_main() {
  try {
    prepare_vcpu_thread_signals(kick_signal());  // installed already by whoever created the KickTarget
  } catch (const std::exception&) {
  }
  const std::function<bool(Clock::time_point)> sleeper = [this](Clock::time_point t) { return sleep_until(t); };
  const std::function<bool()> stop_requested = [this] { return kick_->stop_requested(); };
  for (;;) {
    uint64_t timeout_ms;
    Job job;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [this] { return pending_ || stop_; });
      if (!pending_) break;  // stop with nothing to run
      pending_ = false;
      timeout_ms = pending_timeout_ms_;
      job = std::move(pending_job_);
      pending_job_ = nullptr;
    }

    if (job) {
      // No deadline: a job is host work bounded by what the guest left behind, not guest code.
      JobDone done;
      try {
        done = job(stop_requested);
      } catch (const std::exception& e) {  // jobs must not throw; keep the thread alive if one does
        done = JobDone{};
        done.usable = false;
        done.dead_reason = "internal";
      }
      bool stop_now;
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (state_ == State::Running) {
          state_ = done.usable ? State::Idle : State::Dead;
          if (!done.usable) dead_reason_ = done.dead_reason.empty() ? "internal" : done.dead_reason;
        }
        stop_now = stop_;
      }
      if (done.deliver) done.deliver();
      if (stop_now) break;
      continue;
    }

    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + std::chrono::milliseconds(timeout_ms);
    const uint64_t generation = kick_->arm();
    const Watchdog::Ticket ticket = watchdog_.schedule(deadline, kick_, generation);

    ExchangeOutcome out;
    try {
      out = engine_.run_exchange(deadline, timeout_ms, *kick_, sleeper);
    } catch (const std::exception& e) {  // engines must not throw; never let it escape the thread
      out = ExchangeOutcome{};
      out.error.kind = "internal";
      out.error.message = std::string("exchange failed in the VMM: ") + e.what();
    }

    kick_->disarm();  // from here on no kick can reach this thread for this run
    watchdog_.cancel(ticket);
    out.host_run_ns =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());

    bool stop_now;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (state_ == State::Running) {
        if (!out.ok || engine_.fatal(out)) {
          state_ = State::Dead;
          dead_reason_ = out.ok ? "panic" : out.error.kind;
        } else {
          state_ = State::Idle;
        }
      }
      stop_now = stop_;
    }
    // The state is settled before delivery, so the JS callback may submit the next exchange at once.
    if (deliver_) deliver_(std::move(out));
    if (stop_now) break;
  }
  if (on_exit_) on_exit_();
}

}  // namespace fnvmm
