// smoke_main.cc — `intel_smoke GUEST_ELF PROBE_ELF`: the native core's smoke test on a real /dev/kvm,
// with no Node. Written for Intel VMX emulated by Bochs (scripts/with-kvm-intel), where only a static
// binary in an initramfs can run; it runs wherever /dev/kvm works (scripts/with-kvm: AMD SVM).
//
// Checks, in order; later ones build on earlier ones (a check whose prerequisite failed is reported
// as failed, "not run"):
//   kvm                                   /dev/kvm opens with the API version and capabilities we need
//   boot load snapshot invoke reset restore   the real guest (fn-guest.elf) with a hello bundle that
//                                         counts its invocations: "hello 1", "hello 2", after a reset
//                                         "hello 1" again, and "hello 1" in a VM restored from the
//                                         snapshot taken right after LOAD
//   probe-echo syscall fault-pf fault-gp fault-ud   the probe guest (test/guests/probe_guest.S): an
//                                         echo, a stray syscall, and #PF/#GP/#UD reported with the
//                                         vector, error code and the exact RIP (its `at_*` labels)
//   spin-probe spin-js                    the watchdog stops a guest that never exits (the probe
//                                         guest's `jmp .`, and a JS handler `for (;;) {}`)
// The spinning checks go last: on Bochs 2.7 a KVM guest spinning with RFLAGS.IF=0 cannot be kicked
// and the whole machine hangs. The harness there sets FN_KVM_NESTED_GUEST_IF=1 (the core then runs
// the guest with IF=1, which fn's guest, having no interrupt source, does not notice); if the fault
// reports show the guest still running with IF=0, the spinning checks fail without running.
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "elf_symbols.h"
#include "fn_abi.h"
#include "kvm.h"
#include "payload.h"
#include "report.h"
#include "sync_vm.h"

namespace {

using fnsmoke::Report;
using fnsmoke::SyncVm;
using fnvmm::ExchangeOutcome;
using fnvmm::VmError;
using ull = unsigned long long;

constexpr uint64_t kMemory = 64ull << 20;
// An exchange that should finish: generous, because an emulated CPU is slow (the limit is never
// reached when the core is right).
constexpr uint64_t kSlowMs = 60000;
// A spinning guest's timeout.
constexpr uint64_t kSpinMs = 1000;
constexpr uint64_t kRflagsIf = 1u << 9;
constexpr const char* kGuestIfEnv = "FN_KVM_NESTED_GUEST_IF";

// The hello bundle: an ES module as esbuild emits it (LOAD takes the source text).
const char* const kHelloBundle =
    "let n = 0;\nexport default { fetch() { n += 1; return new Response(\"hello \" + n); } };\n";
const char* const kSpinBundle = "export default { fetch() { for (;;) {} } };\n";

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", (ull)v);
  return b;
}

std::string describe(const VmError& e) { return e.kind + " (" + e.message + ")"; }

std::string fixed1(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string printable(const std::vector<uint8_t>& bytes) {
  std::string s(bytes.begin(), bytes.begin() + (bytes.size() < 200 ? bytes.size() : 200));
  for (char& c : s)
    if (c < 0x20 || c > 0x7e) c = '.';
  return s;
}

// "" if the outcome is `event` with status OK, else why not.
std::string expect_done(const ExchangeOutcome& o, uint32_t event, const char* what) {
  if (!o.ok) return std::string(what) + " failed: " + describe(o.error);
  if (o.event != event)
    return std::string(what) + ": event " + std::to_string(o.event) + ", expected " + std::to_string(event) +
           "; output '" + printable(o.report.output) + "'";
  if (o.report.status != FN_STATUS_OK)
    return std::string(what) + ": status " + std::to_string(o.report.status) + "; output '" +
           printable(o.report.output) + "'";
  return "";
}

std::string boot(SyncVm& vm) { return expect_done(vm.exchange(FN_CMD_NONE, {}, kSlowMs), FN_EVENT_READY, "boot"); }

std::string load(SyncVm& vm, const char* bundle) {
  return expect_done(vm.exchange(FN_CMD_LOAD, fnsmoke::load_input("smoke", bundle), kSlowMs), FN_EVENT_DONE, "LOAD");
}

// One INVOKE that must answer 200 with `want` as its body.
std::string invoke_expect(SyncVm& vm, const std::string& want) {
  static int seq = 0;
  const ExchangeOutcome o =
      vm.exchange(FN_CMD_INVOKE, fnsmoke::invoke_input("smoke-" + std::to_string(++seq), kSlowMs), kSlowMs);
  std::string why = expect_done(o, FN_EVENT_DONE, "INVOKE");
  if (!why.empty()) return why;
  const fnsmoke::InvokeAnswer a = fnsmoke::parse_invoke_output(o.report.output);
  if (!a.ok) return "INVOKE answer: " + a.why;
  if (a.status != 200 || a.body != want)
    return "INVOKE answered status " + std::to_string(a.status) + " body '" + a.body + "', expected 200 '" + want +
           "' (meta " + a.meta + ")";
  return "";
}

// The failed exchange `kind` expected from probe guest scenario `letter`, and then a dead VM.
std::string probe_scenario(const std::vector<uint8_t>& elf, char letter, const std::string& kind, uint64_t timeout_ms,
                           VmError* error) {
  std::unique_ptr<SyncVm> vm = SyncVm::create(kMemory, elf);
  std::string why = boot(*vm);
  if (!why.empty()) return why;
  const ExchangeOutcome o = vm->exchange(FN_CMD_INVOKE, {static_cast<uint8_t>(letter)}, timeout_ms);
  if (o.ok) return "expected error kind '" + kind + "', got event " + std::to_string(o.event);
  *error = o.error;
  if (o.error.kind != kind) return "expected error kind '" + kind + "', got " + describe(o.error);
  const ExchangeOutcome again = vm->exchange(FN_CMD_INVOKE, {'e'}, kSlowMs);
  if (again.ok || again.error.kind != "dead")
    return "after '" + kind + "' the VM still takes exchanges (" + (again.ok ? "ok" : describe(again.error)) + ")";
  return "";
}

struct FaultWant {
  uint64_t vector, error_code;
  const char* label;      // the probe guest's symbol for the faulting instruction
  bool check_cr2 = false;
  uint64_t cr2 = 0;
};

std::string cpu_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, vendor = "?", virt = "no vmx/svm";
  while (std::getline(in, line)) {
    if (line.rfind("vendor_id", 0) == 0 && vendor == "?") vendor = line.substr(line.find(':') + 2);
    if (line.rfind("flags", 0) == 0) {
      const std::string flags = line + " ";
      if (flags.find(" vmx ") != std::string::npos) virt = "vmx";
      if (flags.find(" svm ") != std::string::npos) virt = "svm";
      if (flags.find(" hypervisor ") != std::string::npos) virt += ", under a hypervisor";
      break;
    }
  }
  utsname u{};
  uname(&u);
  return vendor + " (" + virt + "), kernel " + u.release;
}

class Smoke {
 public:
  Smoke(std::vector<uint8_t> guest, std::vector<uint8_t> probe, std::string scratch)
      : guest_(std::move(guest)), probe_(std::move(probe)), symbols_(fnsmoke::elf_symbols(probe_)),
        scratch_(std::move(scratch)) {}

  int run() {
    r_.note("intel-smoke on " + cpu_description());
    check("kvm", [&] {
      const fnvmm::ProbeResult p = fnvmm::probe_kvm();
      if (!p.ok) return p.code + ": " + p.message;
      kvm_ok_ = true;
      return std::string();
    });
    hello_checks();
    probe_checks();
    spin_checks();
    return r_.summary();
  }

 private:
  // Runs a check: `fn` returns "" for ok or why it failed; an exception is a failure too.
  void check(const std::string& name, const std::function<std::string()>& fn) {
    r_.begin(name);
    std::string why;
    try {
      why = fn();
    } catch (const std::exception& e) {
      why = std::string("threw: ") + e.what();
    }
    r_.end(why);
  }
  bool needs(bool ok, const std::string& name, const std::string& prerequisite) {
    if (!ok) r_.blocked(name, prerequisite + " failed");
    return ok;
  }

  void hello_checks() {
    std::unique_ptr<SyncVm> vm;
    bool booted = false, loaded = false, snapped = false;
    const std::string dir = scratch_ + "/hello";
    if (needs(kvm_ok_, "boot", "kvm"))
      check("boot", [&] {
        vm = SyncVm::create(kMemory, guest_);
        std::string why = boot(*vm);
        booted = why.empty();
        return why;
      });
    if (needs(booted, "load", "boot"))
      check("load", [&] {
        std::string why = load(*vm, kHelloBundle);
        loaded = why.empty();
        return why;
      });
    if (needs(loaded, "snapshot", "load"))
      check("snapshot", [&] {
        const fnvmm::SnapshotOutcome s = vm->snapshot(dir);
        if (!s.ok) return "snapshot failed: " + describe(s.error);
        r_.note("snapshot: " + std::to_string(s.result.pages) + " pages, " + std::to_string(s.result.bytes) +
                " bytes, " + fixed1(s.result.ms) + " ms");
        snapped = true;
        return std::string();
      });
    // After a snapshot the VM runs from it; before one (if it failed) the invocations work the same.
    bool invoked = false;
    if (needs(loaded, "invoke", "load"))
      check("invoke", [&] {
        std::string why = invoke_expect(*vm, "hello 1");
        if (why.empty()) why = invoke_expect(*vm, "hello 2");
        invoked = why.empty();
        return why;
      });
    if (needs(snapped && invoked, "reset", "snapshot or invoke"))
      check("reset", [&] {
        const fnvmm::ResetOutcome r = vm->reset();
        if (!r.ok) return "reset failed: " + describe(r.error);
        r_.note("reset: " + std::to_string(r.result.dirty_pages) + " dirty pages, " +
                std::to_string(r.result.copied_pages) + " copied back, " + fixed1(r.result.us) + " us");
        return invoke_expect(*vm, "hello 1");  // the count starts over: the invocations were undone
      });
    if (vm) vm->close();
    if (needs(snapped, "restore", "snapshot"))
      check("restore", [&] {
        std::unique_ptr<SyncVm> b = SyncVm::restore(kMemory, dir);
        const fnvmm::MicroVmStats st = b->vm().stats();
        r_.note("restore: " + fixed1(st.restore.total_us) + " us, " +
                std::to_string(st.restore.msrs_refused.size()) + " optional MSRs refused");
        std::string why = invoke_expect(*b, "hello 1");
        if (why.empty()) why = invoke_expect(*b, "hello 2");
        return why;
      });
  }

  void probe_checks() {
    if (needs(kvm_ok_, "probe-echo", "kvm"))
      check("probe-echo", [&] {
        std::unique_ptr<SyncVm> vm = SyncVm::create(kMemory, probe_);
        std::string why = boot(*vm);
        if (!why.empty()) return why;
        const std::vector<uint8_t> text = {'e', '-', 'h', 'e', 'l', 'l', 'o'};
        const ExchangeOutcome o = vm->exchange(FN_CMD_INVOKE, text, kSlowMs);
        why = expect_done(o, FN_EVENT_DONE, "echo");
        if (why.empty() && o.report.output != text) why = "echo answered '" + printable(o.report.output) + "'";
        return why;
      });
    if (needs(kvm_ok_, "syscall", "kvm"))
      check("syscall", [&] {
        VmError e;
        std::string why = probe_scenario(probe_, 'c', "syscall", kSlowMs, &e);
        if (!why.empty()) return why;
        const uint64_t nr = fnsmoke::detail_num(e, "syscallNumber"), rip = fnsmoke::detail_num(e, "rip");
        if (nr != 39 || rip != symbol("after_syscall"))
          return "syscall " + std::to_string(nr) + " at return RIP " + hex(rip) + ", expected 39 at after_syscall " +
                 hex(symbol("after_syscall")) + ": " + e.message;
        return std::string();
      });
    fault("fault-pf", 'n', {14, 4, "at_null_read", true, 0});    // NULL read: not present, read, user
    fault("fault-gp", 'p', {13, 0, "at_bad_port"});               // `out` to a port the TSS I/O bitmap denies
    fault("fault-ud", 'd', {6, 0, "at_ud"});                      // ud2
  }

  void fault(const std::string& name, char letter, const FaultWant& want) {
    if (!needs(kvm_ok_, name, "kvm")) return;
    check(name, [&] {
      VmError e;
      std::string why = probe_scenario(probe_, letter, "guest_fault", kSlowMs, &e);
      bool have_rflags = false;
      const uint64_t rflags = fnsmoke::detail_num(e, "rflags", &have_rflags);
      if (e.kind == "guest_fault" && have_rflags) {
        rflags_known_ = true;
        guest_if_ = (rflags & kRflagsIf) != 0;
      }
      if (!why.empty()) return why;
      const uint64_t vector = fnsmoke::detail_num(e, "vector"), code = fnsmoke::detail_num(e, "errorCode");
      const uint64_t rip = fnsmoke::detail_num(e, "rip"), cr2 = fnsmoke::detail_num(e, "cr2");
      const uint64_t cpl = fnsmoke::detail_num(e, "cpl");
      if (vector != want.vector || code != want.error_code || rip != symbol(want.label) || cpl != 3 ||
          (want.check_cr2 && cr2 != want.cr2))
        return "vector " + std::to_string(vector) + " error code " + hex(code) + " RIP " + hex(rip) + " CR2 " +
               hex(cr2) + " CPL " + std::to_string(cpl) + "; expected vector " + std::to_string(want.vector) +
               " error code " + hex(want.error_code) + " at " + want.label + " " + hex(symbol(want.label)) +
               " CPL 3: " + e.message;
      return std::string();
    });
  }

  // Whether a guest that never exits can be stopped here without hanging the machine (see the top).
  std::string spin_blocker() const {
    const char* v = std::getenv(kGuestIfEnv);
    if (v == nullptr || std::strcmp(v, "1") != 0) return "";
    if (!rflags_known_)
      return std::string("not run: this machine needs the guest to run with RFLAGS.IF=1 (") + kGuestIfEnv +
             "=1) to stop it, and no fault report showed the guest's RFLAGS";
    if (!guest_if_)
      return std::string("not run: the guest runs with RFLAGS.IF=0 (seen in the fault reports) although ") +
             kGuestIfEnv +
             "=1 is set, so the core does not apply that switch; a KVM guest spinning with IF=0 cannot be "
             "kicked on Bochs 2.7 and the machine would hang";
    return "";
  }

  void spin_checks() {
    const std::string blocker = spin_blocker();
    if (needs(kvm_ok_, "spin-probe", "kvm"))
      check("spin-probe", [&] {
        if (!blocker.empty()) return blocker;
        VmError e;
        return probe_scenario(probe_, 's', "timeout", kSpinMs, &e);
      });
    if (needs(kvm_ok_, "spin-js", "kvm"))
      check("spin-js", [&] {
        if (!blocker.empty()) return blocker;
        std::unique_ptr<SyncVm> vm = SyncVm::create(kMemory, guest_);
        std::string why = boot(*vm);
        if (why.empty()) why = load(*vm, kSpinBundle);
        if (!why.empty()) return why;
        const ExchangeOutcome o = vm->exchange(FN_CMD_INVOKE, fnsmoke::invoke_input("spin", kSpinMs), kSpinMs);
        if (o.ok) return "the spinning handler answered: event " + std::to_string(o.event);
        if (o.error.kind != "timeout") return "expected a timeout, got " + describe(o.error);
        return std::string();
      });
  }

  uint64_t symbol(const std::string& name) const {
    auto it = symbols_.find(name);
    if (it == symbols_.end()) throw std::runtime_error("the probe guest ELF has no symbol " + name);
    return it->second;
  }

  Report r_;
  std::vector<uint8_t> guest_, probe_;
  std::map<std::string, uint64_t> symbols_;
  std::string scratch_;
  bool kvm_ok_ = false;
  bool rflags_known_ = false, guest_if_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr,
                 "usage: %s GUEST_ELF PROBE_ELF\n"
                 "  GUEST_ELF  guest/build/fn-guest.elf (the real runtime)\n"
                 "  PROBE_ELF  the probe guest (make -C vmm/native/smoke builds it beside this program)\n",
                 argv[0]);
    return 2;
  }
  std::vector<uint8_t> guest, probe;
  try {
    guest = read_file(argv[1]);
    probe = read_file(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intel-smoke: %s\n", e.what());
    return 2;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/intel-smoke.XXXXXX";
  if (mkdtemp(&pattern[0]) == nullptr) {
    std::fprintf(stderr, "intel-smoke: mkdtemp %s: %s\n", pattern.c_str(), std::strerror(errno));
    return 2;
  }
  int status = Smoke(std::move(guest), std::move(probe), pattern).run();
  std::error_code ec;
  std::filesystem::remove_all(pattern, ec);
  return status;
}
