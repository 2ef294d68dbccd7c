// The vCPU thread, the watchdog and close(), with real threads and real signals: the fake vCPU blocks
// in ppoll() the way KVM_RUN blocks in the kernel (immediate_exit checked with the kick signal
// blocked, then waiting with it unblocked), so a kick interrupts it exactly as it would KVM_RUN.
#include <poll.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <thread>

#include "../guest_memory.h"
#include "../vcpu_runner.h"
#include "../vm_worker.h"
#include "../watchdog.h"
#include "../window.h"
#include "check.h"
#include "fn_abi.h"

using namespace fnvmm;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// A guest that either spins forever or rings DONE after `finish_after`; optionally asks to sleep first.
class BlockingVcpu : public RunnableVcpu {
 public:
  enum class Mode { Spin, Finish, SleepThenFinish };
  Mode mode = Mode::Finish;
  std::chrono::microseconds finish_after{1000};
  uint8_t* window = nullptr;
  std::atomic<int> runs{0};

  int run() override {
    ++runs;
    if (mode == Mode::SleepThenFinish && !slept_) {
      slept_ = true;
      uint64_t ns = 60ull * 1000000000ull;
      std::memcpy(window + offsetof(fn_window_header, sleep_ns), &ns, 8);
      return doorbell(FN_EVENT_SLEEP);
    }
    const int sig = kick_signal();
    sigset_t block, old, during;
    sigemptyset(&block);
    sigaddset(&block, sig);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (__atomic_load_n(&run_data()->immediate_exit, __ATOMIC_SEQ_CST)) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      return EINTR;
    }
    during = old;
    sigdelset(&during, sig);
    timespec ts;
    ts.tv_sec = finish_after.count() / 1000000;
    ts.tv_nsec = (finish_after.count() % 1000000) * 1000;
    int r = ppoll(nullptr, 0, mode == Mode::Spin ? nullptr : &ts, &during);
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (r < 0) return err;
    return doorbell(FN_EVENT_DONE);
  }
  kvm_run* run_data() override { return reinterpret_cast<kvm_run*>(mem_); }
  size_t run_size() const override { return sizeof mem_; }
  kvm_regs get_regs() override { return kvm_regs{}; }
  kvm_sregs get_sregs() override { return kvm_sregs{}; }

 private:
  int doorbell(uint32_t event) {
    kvm_run* run = run_data();
    run->exit_reason = KVM_EXIT_IO;
    run->io.direction = KVM_EXIT_IO_OUT;
    run->io.size = 4;
    run->io.port = FN_PORT_DOORBELL;
    run->io.count = 1;
    run->io.data_offset = 4096;
    std::memcpy(mem_ + 4096, &event, 4);
    return 0;
  }
  bool slept_ = false;
  alignas(4096) uint8_t mem_[8192] = {};
};

class FakeVm : public ExchangeEngine {
 public:
  GuestMemory mem;
  std::unique_ptr<Window> window;
  BlockingVcpu vcpu;
  std::shared_ptr<KickTarget> kick = std::make_shared<KickTarget>(kick_signal());

  FakeVm() {
    mem.add_region(GuestAddress(FN_WINDOW_ADDR), FN_WINDOW_SIZE);
    window.reset(new Window(mem.region(0).mapping.host(), FN_WINDOW_SIZE, 64ull << 20));
    window->init();
    vcpu.window = mem.region(0).mapping.host();
    kick->bind_run_flag(&vcpu.run_data()->immediate_exit);
  }
  ExchangeOutcome run_exchange(Clock::time_point deadline, uint64_t timeout_ms, KickTarget& k,
                               const std::function<bool(Clock::time_point)>& sleep_until) override {
    RunnerEnv env;
    env.vcpu = &vcpu;
    env.window = window.get();
    env.kick = &k;
    env.deadline = deadline;
    env.timeout_ms = timeout_ms;
    env.sleep_until = sleep_until;
    env.realtime_ns = [] { return uint64_t{1}; };
    RunResult r = run_until_doorbell(env);
    ExchangeOutcome o;
    o.ok = r.ok;
    o.event = r.event;
    o.report = std::move(r.report);
    o.error = std::move(r.error);
    return o;
  }
  bool fatal(const ExchangeOutcome& o) const override { return o.ok && o.event == FN_EVENT_PANIC; }
};

// Collects deliveries from the worker thread.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ExchangeOutcome> got;
  int exits = 0;
  VmWorker::Deliver deliver() {
    return [this](ExchangeOutcome&& o) {
      std::lock_guard<std::mutex> lk(mu);
      got.push_back(std::move(o));
      cv.notify_all();
    };
  }
  std::function<void()> on_exit() {
    return [this] {
      std::lock_guard<std::mutex> lk(mu);
      ++exits;
      cv.notify_all();
    };
  }
  // Waits (bounded, so a bug fails the test instead of hanging it) for n deliveries.
  bool wait_for(size_t n, milliseconds limit = milliseconds(10000)) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, limit, [&] { return got.size() >= n; });
  }
};

Watchdog& test_watchdog() {
  static Watchdog* w = new Watchdog(milliseconds(20));
  return *w;
}

}  // namespace

TEST(worker_delivers_a_result_and_goes_idle) {
  FakeVm vm;
  Inbox in;
  VmWorker w(vm, vm.kick, test_watchdog());
  w.start(in.deliver(), in.on_exit());
  int prepared = 0;
  CHECK(w.submit(5000, [&] { ++prepared; }) == VmWorker::Submit::Ok);
  CHECK_EQ(prepared, 1);
  CHECK(in.wait_for(1));
  if (in.got.size() == 1) {
    CHECK_MSG(in.got[0].ok, "%s: %s", in.got[0].error.kind.c_str(), in.got[0].error.message.c_str());
    CHECK_EQ(in.got[0].event, (uint32_t)FN_EVENT_DONE);
  }
  CHECK(w.state() == VmWorker::State::Idle);
  CHECK(w.submit(5000, [] {}) == VmWorker::Submit::Ok);  // and again
  CHECK(in.wait_for(2));
  w.close();
  CHECK_EQ(in.exits, 1);
  CHECK_EQ(in.got.size(), 2u);
}

TEST(worker_times_out_a_spinning_guest_and_dies) {
  FakeVm vm;
  vm.vcpu.mode = BlockingVcpu::Mode::Spin;
  Inbox in;
  VmWorker w(vm, vm.kick, test_watchdog());
  w.start(in.deliver(), in.on_exit());
  CHECK(w.submit(50, [] {}) == VmWorker::Submit::Ok);
  CHECK_MSG(in.wait_for(1), "the watchdog never stopped the guest");
  if (!in.got.empty()) CHECK_MSG(in.got[0].error.kind == "timeout", "kind %s", in.got[0].error.kind.c_str());
  CHECK(w.state() == VmWorker::State::Dead);
  CHECK(w.dead_reason() == "timeout");
  bool prepared = false;
  CHECK(w.submit(50, [&] { prepared = true; }) == VmWorker::Submit::Dead);
  CHECK(!prepared);
  w.close();
  CHECK(w.state() == VmWorker::State::Closed);
  CHECK_EQ(in.exits, 1);
}

TEST(worker_is_busy_during_an_exchange_and_close_kicks_it) {
  FakeVm vm;
  vm.vcpu.mode = BlockingVcpu::Mode::Spin;
  Inbox in;
  VmWorker w(vm, vm.kick, test_watchdog());
  w.start(in.deliver(), in.on_exit());
  CHECK(w.submit(600000, [] {}) == VmWorker::Submit::Ok);
  while (vm.vcpu.runs.load() == 0) std::this_thread::sleep_for(milliseconds(1));
  bool prepared = false;
  CHECK(w.submit(1000, [&] { prepared = true; }) == VmWorker::Submit::Busy);
  CHECK(!prepared);
  w.close();  // must return promptly although the guest spins with a 10-minute limit
  CHECK_EQ(in.got.size(), 1u);
  if (!in.got.empty()) CHECK_MSG(in.got[0].error.kind == "closed", "kind %s", in.got[0].error.kind.c_str());
  CHECK_EQ(in.exits, 1);
  CHECK(w.submit(1000, [] {}) == VmWorker::Submit::Closed);
  w.close();  // idempotent
  CHECK_EQ(in.exits, 1);
}

TEST(worker_close_wakes_a_sleeping_guest) {
  FakeVm vm;
  vm.vcpu.mode = BlockingVcpu::Mode::SleepThenFinish;  // asks for 60 s
  Inbox in;
  VmWorker w(vm, vm.kick, test_watchdog());
  w.start(in.deliver(), in.on_exit());
  CHECK(w.submit(600000, [] {}) == VmWorker::Submit::Ok);
  while (vm.vcpu.runs.load() == 0) std::this_thread::sleep_for(milliseconds(1));
  std::this_thread::sleep_for(milliseconds(5));
  w.close();
  CHECK_EQ(in.got.size(), 1u);
  if (!in.got.empty()) CHECK_MSG(in.got[0].error.kind == "closed", "kind %s", in.got[0].error.kind.c_str());
}

TEST(worker_sleep_is_cut_at_the_deadline) {
  FakeVm vm;
  vm.vcpu.mode = BlockingVcpu::Mode::SleepThenFinish;  // asks for 60 s, limit is 50 ms
  Inbox in;
  VmWorker w(vm, vm.kick, test_watchdog());
  w.start(in.deliver(), in.on_exit());
  CHECK(w.submit(50, [] {}) == VmWorker::Submit::Ok);
  CHECK(in.wait_for(1));
  if (!in.got.empty()) CHECK_MSG(in.got[0].error.kind == "timeout", "kind %s", in.got[0].error.kind.c_str());
  w.close();
}

TEST(worker_close_when_idle_or_never_started) {
  {
    FakeVm vm;
    Inbox in;
    VmWorker w(vm, vm.kick, test_watchdog());
    w.start(in.deliver(), in.on_exit());
    w.close();
    CHECK_EQ(in.got.size(), 0u);
    CHECK_EQ(in.exits, 1);
  }
  {
    FakeVm vm;
    VmWorker w(vm, vm.kick, test_watchdog());
    CHECK(w.submit(10, [] {}) == VmWorker::Submit::Closed);  // no thread
    w.close();
  }
}

TEST(worker_prepare_failure_leaves_it_idle) {
  FakeVm vm;
  Inbox in;
  VmWorker w(vm, vm.kick, test_watchdog());
  w.start(in.deliver(), in.on_exit());
  bool threw = false;
  try {
    w.submit(1000, [] { throw std::length_error("too long"); });
  } catch (const std::length_error&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(w.state() == VmWorker::State::Idle);
  CHECK(w.submit(5000, [] {}) == VmWorker::Submit::Ok);
  CHECK(in.wait_for(1));
  w.close();
}

TEST(worker_race_guest_finishing_at_the_deadline) {
  // The guest finishes right around its deadline, over and over: every exchange must end exactly
  // once, as either a result or a timeout, and never hang or kick the wrong run.
  int ok = 0, timeouts = 0;
  for (int i = 0; i < 150; ++i) {
    FakeVm vm;
    vm.vcpu.finish_after = std::chrono::microseconds(600 + (i % 9) * 100);
    Inbox in;
    VmWorker w(vm, vm.kick, test_watchdog());
    w.start(in.deliver(), in.on_exit());
    for (int j = 0; j < 3 && w.state() == VmWorker::State::Idle; ++j) {
      size_t before = in.got.size();
      if (w.submit(1, [] {}) != VmWorker::Submit::Ok) break;
      if (!in.wait_for(before + 1)) {
        CHECK_MSG(false, "iteration %d: exchange never ended", i);
        break;
      }
      const ExchangeOutcome& o = in.got.back();
      if (o.ok)
        ++ok;
      else if (o.error.kind == "timeout")
        ++timeouts;
      else
        CHECK_MSG(false, "iteration %d: unexpected %s: %s", i, o.error.kind.c_str(), o.error.message.c_str());
    }
    w.close();
    CHECK_EQ(in.exits, 1);
  }
  std::printf("    (%d results, %d timeouts)\n", ok, timeouts);
  CHECK(ok + timeouts > 0);
}

TEST(kick_target_generations) {
  uint8_t flag = 0;
  KickTarget kt(kick_signal());
  kt.bind_run_flag(&flag);
  CHECK(!kt.kick(0, KickTarget::Reason::Timeout));  // never armed
  uint64_t g1 = kt.arm();
  CHECK(kt.kick(g1, KickTarget::Reason::Timeout));
  CHECK_EQ(flag, 1u);
  CHECK(kt.kick(g1, KickTarget::Reason::Stop));  // re-kick keeps the first reason
  CHECK(kt.reason() == KickTarget::Reason::Timeout);
  CHECK(kt.disarm() == KickTarget::Reason::Timeout);
  CHECK_EQ(flag, 0u);
  CHECK(!kt.kick(g1, KickTarget::Reason::Timeout));  // after disarm: nothing
  CHECK_EQ(flag, 0u);
  uint64_t g2 = kt.arm();
  CHECK(g2 != g1);
  CHECK(!kt.kick(g1, KickTarget::Reason::Timeout));  // a stale deadline cannot hit the next run
  CHECK_EQ(flag, 0u);
  CHECK(kt.disarm() == KickTarget::Reason::None);
  kt.request_stop();
  CHECK(kt.stop_requested());
  kt.arm();  // armed after the stop: the run flag is set at once
  CHECK_EQ(flag, 1u);
  CHECK(kt.reason() == KickTarget::Reason::Stop);
  kt.disarm();
}

TEST(kick_target_cross_thread_stress) {
  // A vCPU thread that arms, works briefly, disarms and exits, against a kicker that fires at the
  // generation it saw at random moments. A kick reaching a thread after it disarmed (or exited)
  // would be a use-after-exit in pthread_kill; this must run clean (also under ASan).
  const int sig = kick_signal();
  for (int i = 0; i < 600; ++i) {
    uint8_t flag = 0;
    auto kt = std::make_shared<KickTarget>(sig);
    kt->bind_run_flag(&flag);
    std::atomic<uint64_t> gen{0};
    std::atomic<bool> done{false};
    std::thread vcpu([&] {
      prepare_vcpu_thread_signals(sig);
      gen = kt->arm();
      for (volatile int k = 0; k < (i % 50) * 20; ++k) {
      }
      kt->disarm();
      done = true;
    });
    while (gen.load() == 0 && !done.load()) std::this_thread::yield();
    kt->kick(gen.load(), KickTarget::Reason::Timeout);
    vcpu.join();
    CHECK_EQ(flag, 0u);  // disarm always leaves the flag clear
    kt->kick(gen.load(), KickTarget::Reason::Timeout);  // after the thread is gone: a no-op
  }
}

TEST(watchdog_fires_rekicks_and_cancels) {
  Watchdog wd(milliseconds(10));
  // Keep this thread's kicks pending instead of delivered, so they do not disturb the test.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, kick_signal());
  pthread_sigmask(SIG_BLOCK, &block, &old);

  uint8_t flag = 0;
  auto kt = std::make_shared<KickTarget>(kick_signal());
  kt->bind_run_flag(&flag);
  auto wait_flag = [&](int ms) {
    for (int i = 0; i < ms; ++i) {
      if (__atomic_load_n(&flag, __ATOMIC_SEQ_CST)) return true;
      std::this_thread::sleep_for(milliseconds(1));
    }
    return false;
  };

  uint64_t g = kt->arm();
  Watchdog::Ticket t = wd.schedule(Clock::now() + std::chrono::hours(1), kt, g);
  CHECK_EQ(wd.pending(), 1u);
  wd.cancel(t);
  CHECK_EQ(wd.pending(), 0u);
  wd.cancel(t);  // twice is fine

  wd.schedule(Clock::now(), kt, g);
  CHECK_MSG(wait_flag(5000), "deadline did not kick");
  CHECK(kt->reason() == KickTarget::Reason::Timeout);
  __atomic_store_n(&flag, 0, __ATOMIC_SEQ_CST);
  CHECK_MSG(wait_flag(5000), "no re-kick while still armed");
  CHECK(kt->disarm() == KickTarget::Reason::Timeout);
  std::this_thread::sleep_for(milliseconds(50));
  CHECK_EQ(flag, 0u);  // nothing after disarm

  // A deadline for an old run, and one for a target that no longer exists.
  uint64_t g2 = kt->arm();
  wd.schedule(Clock::now(), kt, g2 - 1);
  {
    auto gone = std::make_shared<KickTarget>(kick_signal());
    wd.schedule(Clock::now(), gone, gone->arm());
  }
  std::this_thread::sleep_for(milliseconds(50));
  CHECK_EQ(flag, 0u);
  CHECK(kt->disarm() == KickTarget::Reason::None);

  // Drain the pending signal into the no-op handler.
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

// ---- jobs (snapshot, reset) ----------------------------------------------------------------------

namespace {
// A job's report, collected from the worker thread.
struct JobInbox {
  std::mutex mu;
  std::condition_variable cv;
  int delivered = 0;
  bool saw_stop = false;
  std::thread::id ran_on;
  VmWorker::State state_at_delivery = VmWorker::State::Closed;
  bool wait(milliseconds limit = milliseconds(10000)) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, limit, [&] { return delivered > 0; });
  }
};

Job make_job(VmWorker& w, JobInbox& in, bool usable, std::function<void()> body = nullptr) {
  return [&w, &in, usable, body](const std::function<bool()>& stop_requested) {
    if (body) body();
    JobDone d;
    d.usable = usable;
    d.dead_reason = usable ? "" : "lost";
    {
      std::lock_guard<std::mutex> lk(in.mu);
      in.ran_on = std::this_thread::get_id();
      in.saw_stop = stop_requested();
    }
    d.deliver = [&w, &in] {
      std::lock_guard<std::mutex> lk(in.mu);
      in.state_at_delivery = w.state();
      ++in.delivered;
      in.cv.notify_all();
    };
    return d;
  };
}
}  // namespace

TEST(worker_runs_a_job_on_its_thread_and_settles_the_state_before_delivery) {
  FakeVm vm;
  Inbox in;
  JobInbox jobs;
  VmWorker w(vm, vm.kick, test_watchdog());
  w.start(in.deliver(), in.on_exit());
  CHECK(w.submit_job(make_job(w, jobs, true)) == VmWorker::Submit::Ok);
  CHECK(jobs.wait());
  CHECK(jobs.ran_on != std::this_thread::get_id());
  CHECK(!jobs.saw_stop);
  CHECK(jobs.state_at_delivery == VmWorker::State::Idle);  // the callback may submit at once
  CHECK(w.submit(5000, [] {}) == VmWorker::Submit::Ok);     // exchanges still work
  CHECK(in.wait_for(1));
  w.close();
  CHECK_EQ(in.exits, 1);
}

TEST(worker_is_busy_while_a_job_runs) {
  FakeVm vm;
  Inbox in;
  JobInbox jobs;
  std::mutex gate;
  gate.lock();  // the job blocks until the test has looked
  VmWorker w(vm, vm.kick, test_watchdog());
  w.start(in.deliver(), in.on_exit());
  CHECK(w.submit_job(make_job(w, jobs, true, [&] { std::lock_guard<std::mutex> g(gate); })) == VmWorker::Submit::Ok);
  CHECK(w.state() == VmWorker::State::Running);
  bool prepared = false;
  CHECK(w.submit(5000, [&] { prepared = true; }) == VmWorker::Submit::Busy);
  CHECK(!prepared);
  CHECK(w.submit_job(make_job(w, jobs, true)) == VmWorker::Submit::Busy);
  gate.unlock();
  CHECK(jobs.wait());
  w.close();
}

TEST(worker_a_failed_job_leaves_the_vm_dead_with_its_reason) {
  FakeVm vm;
  Inbox in;
  JobInbox jobs;
  VmWorker w(vm, vm.kick, test_watchdog());
  w.start(in.deliver(), in.on_exit());
  CHECK(w.submit_job(make_job(w, jobs, false)) == VmWorker::Submit::Ok);
  CHECK(jobs.wait());
  CHECK(jobs.state_at_delivery == VmWorker::State::Dead);
  CHECK(w.dead_reason() == "lost");
  CHECK(w.submit(5000, [] {}) == VmWorker::Submit::Dead);
  CHECK(w.submit_job(make_job(w, jobs, true)) == VmWorker::Submit::Dead);
  w.close();
}

TEST(worker_close_during_a_job_waits_for_it_and_the_job_sees_the_stop) {
  FakeVm vm;
  Inbox in;
  JobInbox jobs;
  std::atomic<bool> started{false};
  std::atomic<bool> saw_stop_while_running{false};
  VmWorker w(vm, vm.kick, test_watchdog());
  w.start(in.deliver(), in.on_exit());
  Job job = [&](const std::function<bool()>& stop_requested) {
    started = true;
    const Clock::time_point limit = Clock::now() + milliseconds(10000);
    while (!stop_requested() && Clock::now() < limit) std::this_thread::sleep_for(milliseconds(1));
    saw_stop_while_running = stop_requested();
    JobDone d;
    d.deliver = [&] {
      std::lock_guard<std::mutex> lk(jobs.mu);
      ++jobs.delivered;
    };
    return d;
  };
  CHECK(w.submit_job(job) == VmWorker::Submit::Ok);
  while (!started) std::this_thread::sleep_for(milliseconds(1));
  w.close();  // returns only after the job ended
  CHECK(saw_stop_while_running);
  CHECK_EQ(jobs.delivered, 1);
  CHECK_EQ(in.exits, 1);
  CHECK(w.state() == VmWorker::State::Closed);
}
