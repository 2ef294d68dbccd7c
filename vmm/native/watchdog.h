// watchdog.h — stops a runaway guest.
//
// Mechanism: a kick sets kvm_run->immediate_exit = 1 and sends the vCPU thread a real-time signal
// whose handler does nothing and is installed without SA_RESTART. If the thread is inside KVM_RUN the
// signal makes KVM_RUN return EINTR; if it is about to enter, immediate_exit makes KVM_RUN return
// EINTR at once. Either way the vCPU thread sees EINTR, asks the KickTarget why, and reports
// 'timeout' (or 'closed').
//
// Race-freedom: the vCPU thread arms its KickTarget before a run and disarms it after, both under the
// target's mutex; a kick only happens under that mutex, only while armed, and only for the run
// (generation) it was scheduled for. So the vCPU thread can never be signalled after it disarmed (it
// may finish at the same moment: then the guest's result stands), a kick meant for one exchange can
// never hit the next, and pthread_kill never targets a thread that has exited. A signal already queued
// when the thread disarms is harmless: the next KVM_RUN returns EINTR, the target reports no reason,
// and the runner simply re-enters.
//
// Threads: one process-wide Watchdog thread serves every VM's deadlines (a thread per VM would double
// the thread count for nothing); KickTarget methods are called from the vCPU thread (arm/disarm), the
// Watchdog thread (kick) and the JS thread (request_stop).
#ifndef FN_VMM_WATCHDOG_H
#define FN_VMM_WATCHDOG_H

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace fnvmm {

// The kick signal, installed once per process (a no-op handler, no SA_RESTART) on the first real-time
// signal whose disposition is still the default. Throws std::runtime_error if none is free.
int kick_signal();

// Called at the start of a vCPU thread: blocks every signal except the kick signal and the
// synchronous fault signals, so process-directed signals are handled by other threads.
void prepare_vcpu_thread_signals(int kick_signo);

class KickTarget {
 public:
  enum class Reason { None, Timeout, Stop };
  explicit KickTarget(int signo) : signo_(signo) {}

  // The byte KVM polls at KVM_RUN entry (kvm_run->immediate_exit). Set once, before the first arm().
  void bind_run_flag(uint8_t* immediate_exit) { run_flag_ = immediate_exit; }

  // vCPU thread, before running the guest: records the calling thread, clears the run flag and
  // returns the run's generation. If a stop was already requested, the run flag is set at once.
  uint64_t arm();
  // vCPU thread, after the run: no kick can reach it any more. Returns why it was kicked (if at all)
  // and clears the run flag.
  Reason disarm();
  // Why the current armed run was kicked (None if it was not).
  Reason reason() const;
  bool stop_requested() const;

  // Watchdog thread: kicks the run `generation` if it is still armed. Returns true if it kicked (the
  // watchdog kicks again a little later until the thread disarms: belt and braces).
  bool kick(uint64_t generation, Reason why);
  // JS thread (close): permanent; kicks the current run if one is armed.
  void request_stop();

 private:
  void kick_locked();
  mutable std::mutex mu_;
  const int signo_;
  uint8_t* run_flag_ = nullptr;
  bool armed_ = false;
  uint64_t generation_ = 0;
  Reason reason_ = Reason::None;
  bool stop_ = false;
  pthread_t thread_{};
};

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;
  using Ticket = uint64_t;

  // The process-wide instance (started on first use, never destroyed).
  static Watchdog& instance();

  explicit Watchdog(std::chrono::milliseconds rekick_interval = std::chrono::milliseconds(20));
  ~Watchdog();  // stops and joins the thread (tests create their own instances)
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // At `deadline`, kick(generation, Timeout) on the target if it still exists.
  Ticket schedule(Clock::time_point deadline, std::weak_ptr<KickTarget> target, uint64_t generation);
  // Forget a deadline (the run ended first). Unknown or fired tickets are ignored.
  void cancel(Ticket ticket);
  // Pending deadlines (for tests).
  size_t pending() const;

 private:
  struct Entry {
    std::weak_ptr<KickTarget> target;
    uint64_t generation;
  };
  using Key = std::pair<Clock::time_point, Ticket>;
  void loop();

  const std::chrono::milliseconds rekick_interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Entry> queue_;
  std::unordered_map<Ticket, Clock::time_point> index_;
  Ticket next_ticket_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fnvmm

#endif
