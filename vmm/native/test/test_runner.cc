// The exit loop, driven by scripted exits: every exit reason maps to the right outcome.
#include <chrono>
#include <cstddef>
#include <cstring>
#include <thread>

#include "../guest_memory.h"
#include "../vcpu_runner.h"
#include "../watchdog.h"
#include "../window.h"
#include "check.h"
#include "fake_vcpu.h"
#include "fn_abi.h"

using namespace fnvmm;
using namespace fntest;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kMem = 64ull << 20;

struct Rig {
  TestGuest guest;  // guest RAM with the VMM's tables: the fault stubs' frames land in it
  GuestMemory mem;
  uint8_t* win;
  Window window;
  FakeVcpu vcpu;
  KickTarget kick{kick_signal()};
  std::vector<Clock::time_point> sleeps;
  bool sleep_result = true;
  RunnerEnv env;

  Rig()
      : win((mem.add_region(GuestAddress(FN_WINDOW_ADDR), FN_WINDOW_SIZE), mem.region(0).mapping.host())),
        window(win, FN_WINDOW_SIZE, kMem) {
    window.init();
    kick.bind_run_flag(&vcpu.run_data()->immediate_exit);
    env.vcpu = &vcpu;
    env.memory = &guest.mem;
    env.window = &window;
    env.kick = &kick;
    env.deadline = Clock::now() + std::chrono::seconds(30);
    env.timeout_ms = 30000;
    env.sleep_until = [this](Clock::time_point t) {
      sleeps.push_back(t);
      return sleep_result;
    };
    env.realtime_ns = [] { return uint64_t{777}; };
  }
  template <typename T>
  void poke(size_t off, T v) { std::memcpy(win + off, &v, sizeof v); }
  // The guest's side of a doorbell: write the report fields, then ring.
  FakeVcpu::Step ring(uint32_t event, uint32_t status = 0, uint32_t out_len = 0) {
    return io_exit(FN_PORT_DOORBELL, KVM_EXIT_IO_OUT, 4, event, [=] {
      poke<uint32_t>(offsetof(fn_window_header, status), status);
      poke<uint32_t>(offsetof(fn_window_header, output_len), out_len);
    });
  }
  RunResult go() {
    kick.arm();
    RunResult r = run_until_doorbell(env);
    kick.disarm();
    return r;
  }
};

const ErrorDetail* detail(const VmError& e, const char* name) {
  for (const ErrorDetail& d : e.details)
    if (d.name == name) return &d;
  return nullptr;
}

void expect_kind(const RunResult& r, const char* kind) {
  CHECK_MSG(!r.ok, "expected error kind %s, got ok (event %u)", kind, r.event);
  CHECK_MSG(r.error.kind == kind, "kind %s, expected %s (message: %s)", r.error.kind.c_str(), kind, r.error.message.c_str());
}

}  // namespace

TEST(runner_returns_ready_done_and_panic_with_the_report) {
  for (uint32_t ev : {FN_EVENT_READY, FN_EVENT_DONE, FN_EVENT_PANIC}) {
    Rig rig;
    std::memcpy(rig.win + FN_WINDOW_DATA_OFFSET, "out", 3);
    rig.vcpu.steps = {rig.ring(ev, FN_STATUS_OK, 3)};
    RunResult r = rig.go();
    CHECK_MSG(r.ok, "event %u: %s", ev, r.error.message.c_str());
    CHECK_EQ(r.event, ev);
    CHECK_EQ(r.report.output.size(), 3u);
  }
}

TEST(runner_sleeps_refreshes_the_clock_and_reenters) {
  Rig rig;
  rig.vcpu.steps = {
      io_exit(FN_PORT_DOORBELL, KVM_EXIT_IO_OUT, 4, FN_EVENT_SLEEP,
              [&] { rig.poke<uint64_t>(offsetof(fn_window_header, sleep_ns), 5000000); }),
      rig.ring(FN_EVENT_DONE),
  };
  Clock::time_point before = Clock::now();
  RunResult r = rig.go();
  CHECK_MSG(r.ok, "%s", r.error.message.c_str());
  CHECK_EQ(rig.vcpu.next, 2u);
  CHECK_EQ(rig.sleeps.size(), 1u);
  if (!rig.sleeps.empty()) {
    auto asked = std::chrono::duration_cast<std::chrono::microseconds>(rig.sleeps[0] - before).count();
    CHECK_MSG(asked >= 5000 && asked < 5000 + 1000000, "slept until +%lld us", (long long)asked);
  }
  uint64_t now;
  std::memcpy(&now, rig.win + offsetof(fn_window_header, now_unix_ns), 8);
  CHECK_EQ(now, 777u);
}

TEST(runner_never_sleeps_past_the_deadline) {
  Rig rig;
  rig.env.deadline = Clock::now() + std::chrono::milliseconds(200);
  rig.vcpu.steps = {io_exit(FN_PORT_DOORBELL, KVM_EXIT_IO_OUT, 4, FN_EVENT_SLEEP,
                            [&] { rig.poke<uint64_t>(offsetof(fn_window_header, sleep_ns), ~0ull); })};
  // The fake sleep returns at once; the loop must then see the deadline is not yet reached and
  // re-enter... so make the fake sleep actually wait until the requested time.
  rig.env.sleep_until = [&](Clock::time_point t) {
    rig.sleeps.push_back(t);
    std::this_thread::sleep_until(t);
    return true;
  };
  RunResult r = rig.go();
  expect_kind(r, "timeout");
  CHECK_EQ(rig.sleeps.size(), 1u);
  if (!rig.sleeps.empty()) CHECK(rig.sleeps[0] == rig.env.deadline);
}

TEST(runner_sleep_interrupted_by_close) {
  Rig rig;
  rig.sleep_result = false;
  rig.vcpu.steps = {io_exit(FN_PORT_DOORBELL, KVM_EXIT_IO_OUT, 4, FN_EVENT_SLEEP)};
  expect_kind(rig.go(), "closed");
}

TEST(runner_rejects_misused_doorbells) {
  {
    Rig rig;
    rig.vcpu.steps = {io_exit(FN_PORT_DOORBELL, KVM_EXIT_IO_OUT, 1, FN_EVENT_DONE)};
    expect_kind(rig.go(), "bad_io");
  }
  {
    Rig rig;
    rig.vcpu.steps = {io_exit(FN_PORT_DOORBELL, KVM_EXIT_IO_IN, 4, 0)};
    expect_kind(rig.go(), "bad_io");
  }
  {
    Rig rig;
    rig.vcpu.steps = {io_exit(FN_PORT_DOORBELL, KVM_EXIT_IO_OUT, 4, 99)};
    RunResult r = rig.go();
    expect_kind(r, "bad_io");
    CHECK(fntest::contains(r.error.message, "event 99"));
  }
  {
    Rig rig;  // data_offset pointing outside the mapping
    rig.vcpu.steps = {[](kvm_run* run) {
      run->exit_reason = KVM_EXIT_IO;
      run->io.direction = KVM_EXIT_IO_OUT;
      run->io.size = 4;
      run->io.port = FN_PORT_DOORBELL;
      run->io.count = 1;
      run->io.data_offset = 1 << 20;
      return 0;
    }};
    expect_kind(rig.go(), "bad_io");
  }
}

TEST(runner_reports_bad_window_with_field) {
  Rig rig;
  rig.vcpu.steps = {rig.ring(FN_EVENT_DONE, 0, 0xFFFFFFFF)};
  RunResult r = rig.go();
  expect_kind(r, "bad_window");
  const ErrorDetail* f = detail(r.error, "field");
  CHECK(f && f->s == "output_len");
  const ErrorDetail* v = detail(r.error, "value");
  CHECK(v && v->u == 0xFFFFFFFFu);

  Rig rig2;
  rig2.vcpu.steps = {rig2.ring(FN_EVENT_DONE, 17, 0)};
  RunResult r2 = rig2.go();
  expect_kind(r2, "bad_window");
  f = detail(r2.error, "field");
  CHECK(f && f->s == "status");
}

TEST(runner_reports_syscalls_from_the_stub) {
  Rig rig;
  rig.vcpu.regs.rip = FN_SYSCALL_STUB_ADDR + 6;
  rig.vcpu.regs.rcx = 0x401234;
  rig.vcpu.steps = {io_exit(FN_PORT_SYSCALL, KVM_EXIT_IO_OUT, 4, 60)};
  RunResult r = rig.go();
  expect_kind(r, "syscall");
  const ErrorDetail* nr = detail(r.error, "syscallNumber");
  CHECK(nr && nr->u == 60);
  const ErrorDetail* rip = detail(r.error, "rip");
  CHECK(rip && rip->type == ErrorDetail::Type::BigInt && rip->u == 0x401234);
  CHECK(fntest::contains(r.error.message, "0x401234"));

  // The same port from anywhere else is just a bad port.
  Rig rig2;
  rig2.vcpu.regs.rip = 0x401000;
  rig2.vcpu.steps = {io_exit(FN_PORT_SYSCALL, KVM_EXIT_IO_OUT, 1, 60)};
  expect_kind(rig2.go(), "bad_io");

  // The stub halting or faulting (if its `out` did not exit) still reads as a syscall.
  Rig rig3;
  rig3.vcpu.regs.rip = FN_SYSCALL_STUB_ADDR + 7;
  rig3.vcpu.regs.rax = 39;
  rig3.vcpu.regs.rcx = 0x402000;
  rig3.vcpu.steps = {simple_exit(KVM_EXIT_HLT)};
  RunResult r3 = rig3.go();
  expect_kind(r3, "syscall");
  CHECK(detail(r3.error, "syscallNumber") && detail(r3.error, "syscallNumber")->u == 39);
  Rig rig4;
  rig4.vcpu.regs.rip = FN_SYSCALL_STUB_ADDR + 5;
  rig4.vcpu.regs.rax = 1;
  rig4.vcpu.steps = {simple_exit(KVM_EXIT_SHUTDOWN)};
  expect_kind(rig4.go(), "syscall");
}

TEST(runner_reports_other_ports_and_mmio_as_bad_io) {
  Rig rig;
  rig.vcpu.steps = {io_exit(0x3F8, KVM_EXIT_IO_OUT, 1, 'A')};
  RunResult r = rig.go();
  expect_kind(r, "bad_io");
  CHECK(detail(r.error, "port") && detail(r.error, "port")->u == 0x3F8);

  Rig rig2;
  rig2.vcpu.steps = {simple_exit(KVM_EXIT_MMIO, [](kvm_run* run) {
    run->mmio.phys_addr = 0xFEE00000;
    run->mmio.len = 4;
    run->mmio.is_write = 1;
  })};
  RunResult r2 = rig2.go();
  expect_kind(r2, "bad_io");
  CHECK(fntest::contains(r2.error.message, "0xfee00000"));
}

namespace {
uint64_t u(const RunResult& r, const char* name) {
  const ErrorDetail* d = detail(r.error, name);
  CHECK_MSG(d != nullptr, "no detail %s in: %s", name, r.error.message.c_str());
  return d ? d->u : ~0ull;
}
}  // namespace

TEST(runner_reports_cpu_exceptions_from_the_fault_stubs_frame) {
  {  // #PF writing a user read-only page: vector, error code, RIP, RSP, CR2, CPL from the frame
    Rig rig;
    rig.guest.regs.rsp = 0x7ff1230;
    rig.guest.regs.rflags = 0x246;
    rig.vcpu.steps = {cpu_fault(rig.vcpu, rig.guest, 14, 0x7, 0x401abc, FN_BOOT_INFO_ADDR)};
    RunResult r = rig.go();
    expect_kind(r, "guest_fault");
    CHECK_EQ(u(r, "vector"), 14u);
    CHECK_EQ(u(r, "errorCode"), 7u);
    CHECK_EQ(u(r, "rip"), 0x401abcu);
    CHECK_EQ(u(r, "rsp"), 0x7ff1230u);
    CHECK_EQ(u(r, "rflags"), 0x246u);
    CHECK_EQ(u(r, "cr2"), FN_BOOT_INFO_ADDR);
    CHECK_EQ(u(r, "cpl"), 3u);
    CHECK(detail(r.error, "rip")->type == ErrorDetail::Type::BigInt && detail(r.error, "exception")->s == "#PF");
    CHECK_MSG(fntest::contains(r.error.message, "#PF page fault writing 0x6000 (a protection violation) at RIP 0x401abc"),
              "%s", r.error.message.c_str());
    // The registers of the guest are not what was reported: those were read from the frame.
    CHECK(rig.vcpu.regs.rip != 0x401abc && (rig.vcpu.sregs.cs.selector & 3) == 0);
  }
  {  // page not present, reading, and executing
    Rig rig;
    rig.vcpu.steps = {cpu_fault(rig.vcpu, rig.guest, 14, 0x4, 0x401000, 0)};
    RunResult r = rig.go();
    CHECK(fntest::contains(r.error.message, "reading 0x0 (page not present)"));
    Rig rig2;
    rig2.vcpu.steps = {cpu_fault(rig2.vcpu, rig2.guest, 14, 0x15, 0x7ff0000, 0x7ff0000)};
    CHECK(fntest::contains(rig2.go().error.message, "executing 0x7ff0000"));
  }
  {  // no error code from the CPU: the stub's dummy 0
    Rig rig;
    rig.guest.regs.rax = 0xdead;  // the frame's slot must not pick up a register
    rig.vcpu.steps = {cpu_fault(rig.vcpu, rig.guest, 6, 0x55, 0x401010)};
    RunResult r = rig.go();
    expect_kind(r, "guest_fault");
    CHECK_EQ(u(r, "vector"), 6u);
    CHECK_EQ(u(r, "errorCode"), 0u);
    CHECK_EQ(u(r, "rip"), 0x401010u);
    CHECK_MSG(fntest::contains(r.error.message, "#UD invalid opcode at RIP 0x401010"), "%s", r.error.message.c_str());
  }
  {  // #GP with a selector error code (int3 at CPL3 through a DPL0 gate), and #GP(0)
    Rig rig;
    rig.vcpu.steps = {cpu_fault(rig.vcpu, rig.guest, 13, (3 << 3) | 2, 0x401020)};
    RunResult r = rig.go();
    CHECK_EQ(u(r, "errorCode"), 0x1au);
    CHECK_MSG(fntest::contains(r.error.message, "#GP general protection fault (error code 0x1a: IDT entry 3)"), "%s",
              r.error.message.c_str());
    Rig rig2;
    rig2.vcpu.steps = {cpu_fault(rig2.vcpu, rig2.guest, 13, 0, 0x401030)};
    CHECK(fntest::contains(rig2.go().error.message, "privileged instruction, a denied I/O port"));
  }
  {  // the stub's hlt (its `out` did not exit) reads the same frame
    Rig rig;
    rig.vcpu.steps = {[&](kvm_run* run) {
      cpu_fault(rig.vcpu, rig.guest, 0, 0, 0x401040)(run);
      rig.vcpu.regs.rip += 3;  // past the `out` and the hlt
      run->exit_reason = KVM_EXIT_HLT;
      return 0;
    }};
    RunResult r = rig.go();
    expect_kind(r, "guest_fault");
    CHECK_EQ(u(r, "vector"), 0u);
    CHECK(fntest::contains(r.error.message, "#DE divide error at RIP 0x401040"));
  }
}

TEST(runner_trusts_the_fault_port_only_from_the_stubs_at_cpl0) {
  {  // from CPL3 code (which the I/O bitmap prevents; the runner does not rely on it)
    Rig rig;
    rig.vcpu.regs.rip = 0x401000;
    rig.vcpu.sregs.cs.selector = 0x23;
    rig.vcpu.steps = {io_exit(FN_PORT_FAULT, KVM_EXIT_IO_OUT, 1, 14)};
    expect_kind(rig.go(), "bad_io");
  }
  {  // RIP in the stubs but CPL3
    Rig rig;
    rig.vcpu.regs.rip = long_mode::kFaultStubsAddr + 14 * long_mode::kFaultStubStride + 2;
    rig.vcpu.sregs.cs.selector = 0x23;
    rig.vcpu.steps = {io_exit(FN_PORT_FAULT, KVM_EXIT_IO_OUT, 1, 14)};
    expect_kind(rig.go(), "bad_io");
  }
  {  // the syscall stub is not a fault stub, nor the other way round
    Rig rig;
    rig.vcpu.regs.rip = FN_SYSCALL_STUB_ADDR + 5;
    rig.vcpu.steps = {io_exit(FN_PORT_FAULT, KVM_EXIT_IO_OUT, 1, 14)};
    expect_kind(rig.go(), "bad_io");
    Rig rig2;
    rig2.vcpu.regs.rip = long_mode::kFaultStubsAddr + 4;
    rig2.vcpu.steps = {io_exit(FN_PORT_SYSCALL, KVM_EXIT_IO_OUT, 4, 60)};
    expect_kind(rig2.go(), "bad_io");
  }
  {  // a stub with its RSP outside the IST page: the frame is not read
    Rig rig;
    rig.vcpu.regs.rip = long_mode::kFaultStubsAddr + 14 * long_mode::kFaultStubStride + 2;
    for (uint64_t rsp : {uint64_t{0x7ff0000}, uint64_t{FN_IST_STACK_ADDR + FN_PAGE_SIZE - 48}, uint64_t{FN_IST_STACK_ADDR - 8}}) {
      Rig r2;
      r2.vcpu.regs.rip = rig.vcpu.regs.rip;
      r2.vcpu.regs.rsp = rsp;
      r2.vcpu.sregs.cr2 = 0x1234;
      r2.vcpu.steps = {io_exit(FN_PORT_FAULT, KVM_EXIT_IO_OUT, 1, 0)};
      RunResult r = r2.go();
      expect_kind(r, "guest_fault");
      CHECK_EQ(u(r, "vector"), 14u);
      CHECK_EQ(u(r, "cr2"), 0x1234u);
      CHECK_MSG(fntest::contains(r.error.message, "unreadable"), "%s", r.error.message.c_str());
    }
  }
  {  // no guest memory to read the frame from
    Rig rig;
    rig.env.memory = nullptr;
    rig.vcpu.steps = {cpu_fault(rig.vcpu, rig.guest, 6, 0, 0x401010)};
    RunResult r = rig.go();
    expect_kind(r, "guest_fault");
    CHECK(fntest::contains(r.error.message, "unreadable"));
  }
}

TEST(runner_reports_faults_halts_and_kvm_failures) {
  {  // a triple fault where KVM keeps the state (VMX, PVM)
    Rig rig;
    rig.vcpu.regs.rip = 0x401abc;
    rig.vcpu.regs.rsp = 0x3fffff0;
    rig.vcpu.sregs.cr2 = 0x10;
    rig.vcpu.sregs.cs.selector = 0x23;
    rig.vcpu.steps = {simple_exit(KVM_EXIT_SHUTDOWN)};
    RunResult r = rig.go();
    expect_kind(r, "guest_fault");
    CHECK(detail(r.error, "rip") && detail(r.error, "rip")->u == 0x401abc);
    CHECK(detail(r.error, "rsp") && detail(r.error, "rsp")->u == 0x3fffff0);
    CHECK(detail(r.error, "cr2") && detail(r.error, "cr2")->u == 0x10);
    CHECK(fntest::contains(r.error.message, "RIP 0x401abc"));
    CHECK(fntest::contains(r.error.message, "CR2 0x10"));
    CHECK(fntest::contains(r.error.message, "triple fault"));
  }
  {  // a triple fault as KVM on AMD reports it: the vCPU reset first; the tables broken so the
     // fault cannot be delivered
    Rig rig;
    rig.guest.sregs.idt = kvm_dtable{};
    rig.vcpu.steps = {cpu_fault(rig.vcpu, rig.guest, 14, 4, 0x401abc, 0)};
    RunResult r = rig.go();
    expect_kind(r, "guest_fault");
    CHECK_MSG(fntest::contains(r.error.message, "reset the vCPU"), "%s", r.error.message.c_str());
    CHECK(detail(r.error, "vector") == nullptr);
  }
  {
    Rig rig;
    rig.vcpu.regs.rip = 0x401000;
    rig.vcpu.steps = {simple_exit(KVM_EXIT_HLT)};
    expect_kind(rig.go(), "halt");
  }
  {
    Rig rig;
    rig.vcpu.steps = {simple_exit(KVM_EXIT_INTERNAL_ERROR, [](kvm_run* run) {
      run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
      run->internal.ndata = 2;
      run->internal.data[0] = 0xAB;
      run->internal.data[1] = 0xCD;
    })};
    RunResult r = rig.go();
    expect_kind(r, "internal");
    CHECK(detail(r.error, "suberror") && detail(r.error, "suberror")->u == 1);
    CHECK(fntest::contains(r.error.message, "emulation failure"));
    CHECK(fntest::contains(r.error.message, "0xab 0xcd"));
  }
  {
    Rig rig;
    rig.vcpu.steps = {simple_exit(KVM_EXIT_FAIL_ENTRY, [](kvm_run* run) {
      run->fail_entry.hardware_entry_failure_reason = 0x80000021;
      run->fail_entry.cpu = 3;
    })};
    RunResult r = rig.go();
    expect_kind(r, "fail_entry");
    CHECK(detail(r.error, "reason") && detail(r.error, "reason")->u == 0x80000021);
  }
  {
    Rig rig;
    rig.vcpu.steps = {simple_exit(KVM_EXIT_DEBUG)};
    RunResult r = rig.go();
    expect_kind(r, "unknown_exit");
    CHECK(fntest::contains(r.error.message, "KVM_EXIT_DEBUG"));
  }
  {
    Rig rig;
    rig.vcpu.steps = {fail_with(EFAULT)};
    RunResult r = rig.go();
    expect_kind(r, "kvm");
    CHECK(fntest::contains(r.error.message, "KVM_RUN failed: EFAULT"));
  }
  {
    Rig rig;
    rig.vcpu.regs_fail = true;
    rig.vcpu.steps = {simple_exit(KVM_EXIT_SHUTDOWN)};
    RunResult r = rig.go();
    expect_kind(r, "kvm");
    CHECK(fntest::contains(r.error.message, "KVM_GET_REGS"));
  }
}

TEST(runner_reenters_after_a_stray_signal_but_not_after_a_kick) {
  {
    Rig rig;  // EINTR with no kick reason: re-enter
    rig.vcpu.steps = {fail_with(EINTR), simple_exit(KVM_EXIT_INTR), rig.ring(FN_EVENT_DONE)};
    RunResult r = rig.go();
    CHECK_MSG(r.ok, "%s", r.error.message.c_str());
    CHECK_EQ(rig.vcpu.next, 3u);
  }
  {
    Rig rig;  // kicked for the timeout while "in KVM_RUN"
    rig.vcpu.steps = {[](kvm_run*) { return EINTR; }};  // what KVM_RUN returns once kicked
    uint64_t gen = rig.kick.arm();
    CHECK(rig.kick.kick(gen, KickTarget::Reason::Timeout));
    CHECK_EQ(rig.vcpu.run_data()->immediate_exit, 1u);
    RunResult r = run_until_doorbell(rig.env);
    CHECK(rig.kick.disarm() == KickTarget::Reason::Timeout);
    expect_kind(r, "timeout");
    CHECK_EQ(rig.vcpu.run_data()->immediate_exit, 0u);  // cleared for the next run
  }
  {
    Rig rig;  // deadline already passed: never enters
    rig.env.deadline = Clock::now() - std::chrono::milliseconds(1);
    RunResult r = rig.go();
    expect_kind(r, "timeout");
    CHECK_EQ(rig.vcpu.next, 0u);
  }
  {
    Rig rig;  // stop requested: never enters
    rig.kick.request_stop();
    expect_kind(rig.go(), "closed");
    CHECK_EQ(rig.vcpu.next, 0u);
  }
}
