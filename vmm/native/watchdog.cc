#include "watchdog.h"

#include <signal.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace fnvmm {

namespace {

void kick_handler(int) {}  // its only job is to exist, so the signal interrupts KVM_RUN

int install_kick_signal() {
  // Skip the first two RT signals: some runtimes reserve the low ones.
  for (int sig = SIGRTMIN + 2; sig <= SIGRTMAX; ++sig) {
    struct sigaction old;
    if (sigaction(sig, nullptr, &old) != 0) continue;
    bool is_default = !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL;
    if (!is_default) continue;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = kick_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
    if (sigaction(sig, &sa, nullptr) != 0) continue;
    return sig;
  }
  return -1;
}

}  // namespace

int kick_signal() {
  static const int sig = install_kick_signal();  // thread-safe one-time initialisation
  if (sig < 0) throw std::runtime_error("no free real-time signal for kicking vCPU threads");
  return sig;
}

void prepare_vcpu_thread_signals(int kick_signo) {
  sigset_t set;
  sigfillset(&set);
  for (int s : {kick_signo, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) sigdelset(&set, s);
  pthread_sigmask(SIG_SETMASK, &set, nullptr);
}

// ---- KickTarget ---------------------------------------------------------------------------------

uint64_t KickTarget::arm() {
  std::lock_guard<std::mutex> lk(mu_);
  armed_ = true;
  ++generation_;
  reason_ = Reason::None;
  thread_ = pthread_self();
  if (run_flag_ != nullptr) __atomic_store_n(run_flag_, 0, __ATOMIC_SEQ_CST);
  if (stop_) {
    reason_ = Reason::Stop;
    if (run_flag_ != nullptr) __atomic_store_n(run_flag_, 1, __ATOMIC_SEQ_CST);
  }
  return generation_;
}

KickTarget::Reason KickTarget::disarm() {
  std::lock_guard<std::mutex> lk(mu_);
  armed_ = false;
  Reason r = reason_;
  reason_ = Reason::None;
  if (run_flag_ != nullptr) __atomic_store_n(run_flag_, 0, __ATOMIC_SEQ_CST);
  return r;
}

KickTarget::Reason KickTarget::reason() const {
  std::lock_guard<std::mutex> lk(mu_);
  return reason_;
}

bool KickTarget::stop_requested() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stop_;
}

void KickTarget::kick_locked() {
  if (run_flag_ != nullptr) __atomic_store_n(run_flag_, 1, __ATOMIC_SEQ_CST);
  // The thread is alive: it cannot get past disarm() while we hold mu_.
  pthread_kill(thread_, signo_);
}

bool KickTarget::kick(uint64_t generation, Reason why) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!armed_ || generation != generation_) return false;
  if (reason_ == Reason::None) reason_ = why;
  kick_locked();
  return true;
}

void KickTarget::request_stop() {
  std::lock_guard<std::mutex> lk(mu_);
  stop_ = true;
  if (!armed_) return;
  if (reason_ == Reason::None) reason_ = Reason::Stop;
  kick_locked();
}

// ---- Watchdog -----------------------------------------------------------------------------------

Watchdog& Watchdog::instance() {
  // Leaked on purpose: VMs may still be closing while static destructors run at process exit.
  static Watchdog* w = new Watchdog();
  return *w;
}

Watchdog::Watchdog(std::chrono::milliseconds rekick_interval)
    : rekick_interval_(rekick_interval), thread_([this] { loop(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Watchdog::Ticket Watchdog::schedule(Clock::time_point deadline, std::weak_ptr<KickTarget> target,
                                    uint64_t generation) {
  bool earliest;
  Ticket t;
  {
    std::lock_guard<std::mutex> lk(mu_);
    t = next_ticket_++;
    queue_.emplace(Key{deadline, t}, Entry{std::move(target), generation});
    index_.emplace(t, deadline);
    earliest = queue_.begin()->first.second == t;
  }
  if (earliest) cv_.notify_all();
  return t;
}

void Watchdog::cancel(Ticket ticket) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = index_.find(ticket);
  if (it == index_.end()) return;
  queue_.erase(Key{it->second, ticket});
  index_.erase(it);
}

size_t Watchdog::pending() const {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.size();
}

void Watchdog::loop() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait(lk);
      continue;
    }
    auto first = queue_.begin();
    Clock::time_point when = first->first.first;
    if (Clock::now() < when) {
      cv_.wait_until(lk, when);
      continue;
    }
    Entry e = std::move(first->second);
    index_.erase(first->first.second);
    queue_.erase(first);

    // Kick without holding our own lock (KickTarget has its own; lock order is never reversed).
    lk.unlock();
    bool kicked = false;
    if (std::shared_ptr<KickTarget> target = e.target.lock()) kicked = target->kick(e.generation, KickTarget::Reason::Timeout);
    lk.lock();
    if (kicked && !stopping_) {
      // Still armed: kick again shortly, in case the thread was between checks. Stops once disarmed.
      Ticket t = next_ticket_++;
      Clock::time_point again = Clock::now() + rekick_interval_;
      queue_.emplace(Key{again, t}, std::move(e));
      index_.emplace(t, again);
    }
  }
}

}  // namespace fnvmm
