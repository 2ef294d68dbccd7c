#include "vcpu_runner.h"

#include <cerrno>
#include <cstring>

#include "fn_abi.h"
#include "long_mode.h"

namespace fnvmm {

namespace {

using Clock = std::chrono::steady_clock;
using ull = unsigned long long;

// RIP at or just past any instruction of the syscall stub (KVM reports an `out` with RIP on it, a
// hlt with RIP past it). The fault stubs share the page, so the range is the stub's own bytes.
bool in_syscall_stub(uint64_t rip) {
  return rip >= FN_SYSCALL_STUB_ADDR && rip <= FN_SYSCALL_STUB_ADDR + long_mode::kSyscallStubBytes;
}
bool in_fault_stubs(uint64_t rip) { return rip >= long_mode::kFaultStubsAddr && rip < long_mode::kFaultStubsEnd; }

RunResult fail(VmError e) {
  RunResult r;
  r.ok = false;
  r.error = std::move(e);
  return r;
}

VmError syscall_error(uint64_t nr, uint64_t return_rip, const char* how) {
  VmError e;
  e.kind = "syscall";
  e.message = format("guest made system call %llu at RIP 0x%llx (%s); the guest runtime must not make "
                     "syscalls: find the libc function that made it and replace it",
                     (ull)nr, (ull)return_rip, how);
  e.details.push_back(ErrorDetail::num("syscallNumber", nr));
  e.details.push_back(ErrorDetail::big("rip", return_rip));
  return e;
}

VmError bad_io(std::string message) {
  VmError e;
  e.kind = "bad_io";
  e.message = std::move(message);
  return e;
}

// ---- guest faults ---------------------------------------------------------------------------------

struct ExceptionName {
  const char* mnemonic;
  const char* name;
};
ExceptionName exception_name(uint64_t vector) {
  static const ExceptionName names[32] = {
      {"#DE", "divide error"},        {"#DB", "debug exception"},         {"NMI", "non-maskable interrupt"},
      {"#BP", "breakpoint"},          {"#OF", "overflow"},                {"#BR", "bound range exceeded"},
      {"#UD", "invalid opcode"},      {"#NM", "device not available"},    {"#DF", "double fault"},
      {"#CSO", "coprocessor segment overrun"}, {"#TS", "invalid TSS"},    {"#NP", "segment not present"},
      {"#SS", "stack-segment fault"}, {"#GP", "general protection fault"}, {"#PF", "page fault"},
      {"#15", "reserved exception 15"}, {"#MF", "x87 floating-point error"}, {"#AC", "alignment check"},
      {"#MC", "machine check"},       {"#XM", "SIMD floating-point exception"}, {"#VE", "virtualization exception"},
      {"#CP", "control protection exception"}, {"#22", "reserved exception 22"}, {"#23", "reserved exception 23"},
      {"#24", "reserved exception 24"}, {"#25", "reserved exception 25"}, {"#26", "reserved exception 26"},
      {"#27", "reserved exception 27"}, {"#HV", "hypervisor injection exception"}, {"#VC", "VMM communication exception"},
      {"#SX", "security exception"},  {"#31", "reserved exception 31"},
  };
  return vector < 32 ? names[vector] : ExceptionName{"#?", "unknown exception"};
}

// What the exception was about, from its vector, error code and CR2.
std::string fault_what(uint64_t vector, uint64_t err, uint64_t cr2) {
  const ExceptionName n = exception_name(vector);
  std::string what = format("%s %s", n.mnemonic, n.name);
  if (vector == 14) {  // error code: P(0) W(1) U(2) RSVD(3) I/D(4) PK(5) SS(6)
    const char* access = (err & 0x10) ? "executing" : (err & 0x2) ? "writing" : "reading";
    const char* why = (err & 0x8)    ? "a reserved bit set in a page-table entry"
                      : (err & 0x20) ? "a protection-key violation"
                      : (err & 0x1)  ? "a protection violation"
                                     : "page not present";
    what += format(" %s 0x%llx (%s)", access, (ull)cr2, why);
  } else if (vector == 13 && err == 0) {
    what += " (a privileged instruction, a denied I/O port or a non-canonical address)";
  } else if (vector == 8 || vector == 10 || vector == 11 || vector == 12 || vector == 13) {
    // A selector error code: index, and whether it names the IDT, the LDT or the GDT.
    what += format(" (error code 0x%llx: %s entry %llu)", (ull)err, (err & 2) ? "IDT" : (err & 4) ? "LDT" : "GDT",
                   (ull)((err >> 3) & 0x1FFF));
  } else if (long_mode::cpu_pushes_error_code(static_cast<unsigned>(vector))) {
    what += format(" (error code 0x%llx)", (ull)err);
  }
  return what;
}

VmError fault_error(uint64_t vector, uint64_t err, uint64_t rip, uint64_t rsp, uint64_t rflags, uint64_t cr2,
                    unsigned cpl) {
  VmError e;
  e.kind = "guest_fault";
  e.message = format("guest faulted: %s at RIP 0x%llx (RSP 0x%llx, CPL %u); the VM was stopped. The guest "
                     "runtime crashed: a bug in it, or a function that ran it past its stack",
                     fault_what(vector, err, cr2).c_str(), (ull)rip, (ull)rsp, cpl);
  e.details.push_back(ErrorDetail::num("vector", vector));
  e.details.push_back(ErrorDetail::str("exception", exception_name(vector).mnemonic));
  e.details.push_back(ErrorDetail::num("errorCode", err));
  e.details.push_back(ErrorDetail::big("rip", rip));
  e.details.push_back(ErrorDetail::big("rsp", rsp));
  e.details.push_back(ErrorDetail::big("rflags", rflags));
  e.details.push_back(ErrorDetail::big("cr2", cr2));
  e.details.push_back(ErrorDetail::num("cpl", cpl));
  return e;
}

// A fault stub reported (FN_PORT_FAULT, or its hlt): the exception frame on the IST stack. The stub
// runs at CPL0 and the frame lies in a supervisor page, so neither can come from CPL3 code; still,
// every value is checked before use. Returns false if this is not a stub's report.
bool stub_fault_report(RunnableVcpu& vcpu, const GuestMemory* memory, VmError* out) {
  const kvm_regs regs = vcpu.get_regs();
  const kvm_sregs sregs = vcpu.get_sregs();
  if (!in_fault_stubs(regs.rip) || (sregs.cs.selector & 3u) != 0) return false;
  const uint64_t stub_vector = (regs.rip - long_mode::kFaultStubsAddr) / long_mode::kFaultStubStride;
  const uint64_t rsp = regs.rsp;
  const bool in_ist = rsp >= FN_IST_STACK_ADDR && rsp <= long_mode::kIstTop - long_mode::kFaultFrameBytes;
  if (memory == nullptr || !in_ist || !memory->contains(GuestAddress(rsp), long_mode::kFaultFrameBytes)) {
    VmError e = fault_error(stub_vector, 0, 0, 0, 0, sregs.cr2, 0);
    e.message = format("guest faulted: %s, but its exception frame is unreadable (stub RSP 0x%llx is not in the IST "
                       "page 0x%llx)",
                       fault_what(stub_vector, 0, sregs.cr2).c_str(), (ull)rsp, (ull)FN_IST_STACK_ADDR);
    *out = std::move(e);
    return true;
  }
  auto at = [&](uint64_t off) { return memory->read_obj<uint64_t>(GuestAddress(rsp + off)); };
  // The vector is the stub's (the CPU chose the stub by it); the one it pushed must agree.
  *out = fault_error(stub_vector, at(long_mode::kFrameErrorCode), at(long_mode::kFrameRip), at(long_mode::kFrameRsp),
                     at(long_mode::kFrameRflags), sregs.cr2, static_cast<unsigned>(at(long_mode::kFrameCs) & 3));
  if (at(long_mode::kFrameVector) != stub_vector)
    out->message += format(" (the frame says vector %llu: the stack page was overwritten; trust the RIP less)",
                           (ull)at(long_mode::kFrameVector));
  return true;
}

// KVM_EXIT_SHUTDOWN: the exception could not be delivered at all.
VmError shutdown_error(const kvm_regs& regs, const kvm_sregs& sregs) {
  VmError e;
  e.kind = "guest_fault";
  // SVM: KVM reinitialises the vCPU before it reports a shutdown; what it reads back is the reset
  // state (CS base 0xffff0000, RIP 0xfff0), not the guest's.
  const bool reset_state = regs.rip == 0xfff0 && sregs.cs.base == 0xffff0000ull;
  if (reset_state)
    e.message = "guest faulted and the fault could not be delivered (triple fault); this KVM (AMD SVM) reset the "
                "vCPU before reporting it, so RIP, RSP and CR2 are lost";
  else
    e.message = format("guest faulted and the fault could not be delivered (triple fault) at RIP 0x%llx, RSP 0x%llx, "
                       "CR2 0x%llx, CPL %u; CR2 is the faulting address if it was a page fault",
                       (ull)regs.rip, (ull)regs.rsp, (ull)sregs.cr2, sregs.cs.selector & 3u);
  e.details.push_back(ErrorDetail::big("rip", regs.rip));
  e.details.push_back(ErrorDetail::big("rsp", regs.rsp));
  e.details.push_back(ErrorDetail::big("cr2", sregs.cr2));
  e.details.push_back(ErrorDetail::num("cpl", sregs.cs.selector & 3u));
  e.details.push_back(ErrorDetail::str("exception", "triple fault"));
  return e;
}

const char* internal_suberror_name(uint32_t s) {
  switch (s) {
    case KVM_INTERNAL_ERROR_EMULATION: return "emulation failure";
    case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV: return "exit while delivering an event";
    case 4: return "unexpected exit reason";  // KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON
    default: return "unknown suberror";
  }
}

// The value of an `out`: data_offset into the kvm_run mapping, `size` bytes (count 1).
bool io_value(const kvm_run* run, size_t run_size, uint64_t* out) {
  const auto& io = run->io;
  if (io.size != 1 && io.size != 2 && io.size != 4) return false;
  if (io.data_offset > run_size || io.size > run_size - io.data_offset) return false;
  uint32_t v = 0;
  std::memcpy(&v, reinterpret_cast<const uint8_t*>(run) + io.data_offset, io.size);
  *out = v;
  return true;
}

}  // namespace

const char* exit_reason_name(uint32_t reason) {
  switch (reason) {
    case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
    case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    case KVM_EXIT_HYPERCALL: return "KVM_EXIT_HYPERCALL";
    case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_IRQ_WINDOW_OPEN: return "KVM_EXIT_IRQ_WINDOW_OPEN";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
    case KVM_EXIT_NMI: return "KVM_EXIT_NMI";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
    case KVM_EXIT_X86_RDMSR: return "KVM_EXIT_X86_RDMSR";
    case KVM_EXIT_X86_WRMSR: return "KVM_EXIT_X86_WRMSR";
    case KVM_EXIT_X86_BUS_LOCK: return "KVM_EXIT_X86_BUS_LOCK";
    default: return "unknown exit reason";
  }
}

VmError timeout_error(uint64_t timeout_ms) {
  VmError e;
  e.kind = "timeout";
  e.message = format("guest did not answer within its time limit of %llu ms; the microVM was stopped", (ull)timeout_ms);
  e.details.push_back(ErrorDetail::num("timeoutMs", timeout_ms));
  return e;
}

VmError closed_error() {
  VmError e;
  e.kind = "closed";
  e.message = "the microVM was closed while the exchange was running";
  return e;
}

RunResult run_until_doorbell(RunnerEnv& env) {
  RunnableVcpu& vcpu = *env.vcpu;
  KickTarget& kick = *env.kick;
  try {
    for (;;) {
      if (kick.stop_requested()) return fail(closed_error());
      if (Clock::now() >= env.deadline) return fail(timeout_error(env.timeout_ms));

      int err = vcpu.run();
      kvm_run* run = vcpu.run_data();
      if (err == EINTR || err == EAGAIN || (err == 0 && run->exit_reason == KVM_EXIT_INTR)) {
        switch (kick.reason()) {
          case KickTarget::Reason::Timeout: return fail(timeout_error(env.timeout_ms));
          case KickTarget::Reason::Stop: return fail(closed_error());
          case KickTarget::Reason::None: continue;  // a stale or foreign signal: re-enter
        }
      }
      if (err != 0) {
        VmError e;
        e.kind = "kvm";
        e.message = "KVM_RUN failed: " + errno_text(err);
        e.details.push_back(ErrorDetail::str("ioctl", "KVM_RUN"));
        e.details.push_back(ErrorDetail::num("errno", static_cast<uint64_t>(err)));
        return fail(std::move(e));
      }

      switch (run->exit_reason) {
        case KVM_EXIT_IO: {
          const auto& io = run->io;
          uint64_t value = 0;
          bool have_value = io_value(run, vcpu.run_size(), &value);
          if (io.port == FN_PORT_DOORBELL) {
            if (io.direction != KVM_EXIT_IO_OUT || io.size != 4 || io.count != 1 || !have_value)
              return fail(bad_io(format("doorbell port 0x%x used with direction %s, size %u, count %u; "
                                        "the guest must use `out dx, eax` once",
                                        io.port, io.direction == KVM_EXIT_IO_OUT ? "out" : "in", io.size, io.count)));
            uint32_t event = static_cast<uint32_t>(value);
            switch (event) {
              case FN_EVENT_READY:
              case FN_EVENT_DONE:
              case FN_EVENT_PANIC: {
                RunResult r;
                try {
                  r.report = env.window->read_report();
                } catch (const WindowError& we) {
                  VmError e;
                  e.kind = "bad_window";
                  e.message = we.what();
                  e.details.push_back(ErrorDetail::str("field", we.field()));
                  e.details.push_back(ErrorDetail::big("value", we.value()));
                  e.details.push_back(ErrorDetail::num("event", event));
                  return fail(std::move(e));
                }
                r.ok = true;
                r.event = event;
                return r;
              }
              case FN_EVENT_SLEEP: {
                uint64_t ns = env.window->read_sleep_ns();
                Clock::time_point now = Clock::now();
                Clock::time_point wake = env.deadline;
                if (now < env.deadline) {
                  uint64_t left = static_cast<uint64_t>(
                      std::chrono::duration_cast<std::chrono::nanoseconds>(env.deadline - now).count());
                  if (ns < left) wake = now + std::chrono::nanoseconds(ns);
                }
                if (!env.sleep_until(wake)) return fail(closed_error());
                env.window->refresh_now(env.realtime_ns());
                continue;  // the loop top checks the deadline before re-entering
              }
              default: {
                VmError e = bad_io(format("doorbell rung with event %u, which is not an fn_event", event));
                e.details.push_back(ErrorDetail::num("event", event));
                return fail(std::move(e));
              }
            }
          }
          if (io.port == FN_PORT_FAULT && io.direction == KVM_EXIT_IO_OUT) {
            VmError e;
            if (stub_fault_report(vcpu, env.memory, &e)) return fail(std::move(e));
          }
          if (io.port == FN_PORT_SYSCALL && io.direction == KVM_EXIT_IO_OUT) {
            kvm_regs regs = vcpu.get_regs();
            // Only the stub's report counts: the dword doorbell window in the I/O bitmap also lets
            // CPL3 code reach this port. The stub ran `out dx, eax` with the syscall number still in
            // eax; syscall saved the return RIP in RCX. (RIP is at or just past the `out`.)
            if (in_syscall_stub(regs.rip))
              return fail(syscall_error(have_value ? value : (regs.rax & 0xFFFFFFFF), regs.rcx, "reported by the syscall stub"));
          }
          VmError e = bad_io(format("guest used I/O port 0x%x (%s, %u bytes); only the doorbell port 0x%x is allowed",
                                    io.port, io.direction == KVM_EXIT_IO_OUT ? "out" : "in", io.size, FN_PORT_DOORBELL));
          e.details.push_back(ErrorDetail::num("port", io.port));
          return fail(std::move(e));
        }

        case KVM_EXIT_MMIO: {
          VmError e = bad_io(format("guest %s %u bytes at guest-physical 0x%llx, which is neither RAM nor the window",
                                    run->mmio.is_write ? "wrote" : "read", run->mmio.len, (ull)run->mmio.phys_addr));
          e.details.push_back(ErrorDetail::big("address", run->mmio.phys_addr));
          return fail(std::move(e));
        }

        case KVM_EXIT_HLT: {
          kvm_regs regs = vcpu.get_regs();
          if (in_syscall_stub(regs.rip)) return fail(syscall_error(regs.rax, regs.rcx, "the stub halted"));
          VmError fault;
          if (stub_fault_report(vcpu, env.memory, &fault)) return fail(std::move(fault));
          VmError e;
          e.kind = "halt";
          e.message = format("guest executed hlt at RIP 0x%llx", (ull)regs.rip);
          e.details.push_back(ErrorDetail::big("rip", regs.rip));
          return fail(std::move(e));
        }

        case KVM_EXIT_SHUTDOWN: {
          kvm_regs regs = vcpu.get_regs();
          kvm_sregs sregs = vcpu.get_sregs();
          if (in_syscall_stub(regs.rip)) return fail(syscall_error(regs.rax, regs.rcx, "the stub faulted"));
          return fail(shutdown_error(regs, sregs));
        }

        case KVM_EXIT_INTERNAL_ERROR: {
          const auto& ie = run->internal;
          VmError e;
          e.kind = "internal";
          std::string data;
          uint32_t n = ie.ndata < 16 ? ie.ndata : 16;
          for (uint32_t i = 0; i < n; ++i) data += format("%s0x%llx", i ? " " : "", (ull)ie.data[i]);
          uint64_t rip = 0;
          bool have_rip = false;
          try {
            rip = vcpu.get_regs().rip;
            have_rip = true;
          } catch (const KvmError&) {
          }
          std::string where = have_rip ? format(", at RIP 0x%llx", (ull)rip) : std::string();
          e.message = format("KVM internal error: suberror %u (%s)%s%s%s", ie.suberror, internal_suberror_name(ie.suberror),
                             data.empty() ? "" : ", data ", data.c_str(), where.c_str());
          e.details.push_back(ErrorDetail::num("suberror", ie.suberror));
          if (have_rip) e.details.push_back(ErrorDetail::big("rip", rip));
          return fail(std::move(e));
        }

        case KVM_EXIT_FAIL_ENTRY: {
          VmError e;
          e.kind = "fail_entry";
          e.message = format("KVM could not enter the guest: hardware_entry_failure_reason 0x%llx on CPU %u",
                             (ull)run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu);
          e.details.push_back(ErrorDetail::big("reason", run->fail_entry.hardware_entry_failure_reason));
          e.details.push_back(ErrorDetail::num("cpu", run->fail_entry.cpu));
          return fail(std::move(e));
        }

        default: {
          VmError e;
          e.kind = "unknown_exit";
          e.message = format("unexpected KVM exit %u (%s)", run->exit_reason, exit_reason_name(run->exit_reason));
          e.details.push_back(ErrorDetail::num("exitReason", run->exit_reason));
          return fail(std::move(e));
        }
      }
    }
  } catch (const KvmError& ke) {
    VmError e;
    e.kind = "kvm";
    e.message = ke.what();
    e.details.push_back(ErrorDetail::str("ioctl", ke.op()));
    e.details.push_back(ErrorDetail::num("errno", static_cast<uint64_t>(ke.error())));
    return fail(std::move(e));
  }
}

}  // namespace fnvmm
