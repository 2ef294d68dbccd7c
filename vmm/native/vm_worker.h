// vm_worker.h — the one thread that owns a microVM's vCPU, and the exchange state machine.
//
// Thread model: a std::thread per VM, because KVM_RUN blocks for the whole guest run (milliseconds to
// the function's timeout) and must never block the Node event loop or a libuv pool thread. The
// thread parks on a condition variable between exchanges (no CPU). Exchanges are submitted from the
// JS thread; results leave through `deliver`, which addon.cc wires to a Napi::ThreadSafeFunction.
//
// States: Idle → Running → Idle (or Dead after a failed exchange or a PANIC), and Closed from any
// state. Only one exchange runs at a time; submit() refuses with Busy, Dead or Closed otherwise.
//
// The engine (what runs one exchange) is an interface so the state machine, the watchdog arming and
// close() are unit-tested with a fake engine that blocks in a real syscall, without KVM.
#ifndef FN_VMM_VM_WORKER_H
#define FN_VMM_VM_WORKER_H

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "errors.h"
#include "watchdog.h"
#include "window.h"

namespace fnvmm {

struct ExchangeOutcome {
  bool ok = false;
  uint32_t event = 0;
  GuestReport report;
  VmError error;
  uint64_t host_run_ns = 0;  // monotonic time from pick-up to result, sleeps included
};

class ExchangeEngine {
 public:
  virtual ~ExchangeEngine() = default;
  // Runs one exchange on the worker thread. `kick` is armed for this run; `sleep_until` returns
  // false if the VM is being closed. Must not throw.
  virtual ExchangeOutcome run_exchange(std::chrono::steady_clock::time_point deadline, uint64_t timeout_ms,
                                       KickTarget& kick,
                                       const std::function<bool(std::chrono::steady_clock::time_point)>& sleep_until) = 0;
  // Whether the VM must not be used again after this (successful) outcome, e.g. a guest PANIC.
  virtual bool fatal(const ExchangeOutcome& outcome) const = 0;
};

// A job: bounded host work on the vCPU thread while the VM is idle between exchanges (snapshot,
// reset). Why that thread: jobs need KVM_RUN (to complete the pending doorbell I/O before the
// vCPU's state is read or written), and KVM_RUN from any thread other than the one that always
// runs this vCPU makes KVM move the vCPU's owner pid under synchronize_rcu (milliseconds, twice);
// and so every piece of VM state keeps one owning thread. While a job runs the worker is Running:
// exchanges and other jobs are refused as Busy; close() waits for it (jobs poll stop_requested).
struct JobDone {
  bool usable = true;             // false: the VM is dead from now on
  std::string dead_reason;        // what dead_reason() reports when !usable
  std::function<void()> deliver;  // called on the worker thread once the state is settled
};
// Must not throw. stop_requested() turns true once close() has been called.
using Job = std::function<JobDone(const std::function<bool()>& stop_requested)>;

class VmWorker {
 public:
  using Deliver = std::function<void(ExchangeOutcome&&)>;
  enum class Submit { Ok, Busy, Dead, Closed };
  enum class State { Idle, Running, Dead, Closed };

  // `kick` must be bound to the vCPU's immediate_exit byte. `watchdog` is normally Watchdog::instance().
  VmWorker(ExchangeEngine& engine, std::shared_ptr<KickTarget> kick, Watchdog& watchdog);
  ~VmWorker();  // close()
  VmWorker(const VmWorker&) = delete;
  VmWorker& operator=(const VmWorker&) = delete;

  // Starts the thread. `deliver` is called on the worker thread once per accepted exchange (including
  // one ended by close()); `on_exit` once, as the thread's last action.
  void start(Deliver deliver, std::function<void()> on_exit);

  // JS thread. If the worker is idle, marks it Running, calls prepare() (which writes the window; if
  // it throws, the worker goes back to Idle and the exception propagates), then hands the exchange to
  // the thread. Otherwise returns why not, without calling prepare().
  Submit submit(uint64_t timeout_ms, const std::function<void()>& prepare);

  // JS thread. Like submit() for a job; the job reports through its JobDone::deliver.
  Submit submit_job(Job job);

  // JS thread (or a finalizer / env cleanup hook). Idempotent. Kicks a running guest, wakes a sleeping
  // one, joins the thread. A running exchange is delivered as an error of kind 'closed'.
  void close();

  State state() const;
  // The kind of the error that killed the VM ('' if it is not dead).
  std::string dead_reason() const;

 private:
  void thread_main();
  bool sleep_until(std::chrono::steady_clock::time_point until);

  ExchangeEngine& engine_;
  std::shared_ptr<KickTarget> kick_;
  Watchdog& watchdog_;
  Deliver deliver_;
  std::function<void()> on_exit_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::Idle;
  bool pending_ = false;  // an exchange or a job was handed over and not yet picked up
  Job pending_job_;       // the job, when the pending work is one
  bool stop_ = false;
  uint64_t pending_timeout_ms_ = 0;
  std::string dead_reason_;
  std::thread thread_;
};

}  // namespace fnvmm

#endif
