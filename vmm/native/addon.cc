// addon.cc — the N-API surface of fn_vmm, and nothing else.
//
//   probe(): { ok, code?, message?, apiVersion? }                       never throws
//   new NativeMicroVm({ memoryBytes, guestElf })                         sync; throws .code
//   NativeMicroVm.restore({ memoryBytes, dir, baseMemoryPath? }, cb)     async: cb(err, vm); sync throw .code
//   vm.exchange(req, callback)                                           async result; sync throw .kind
//   vm.snapshot({ dir, baseMemoryPath? }, cb)                            async: cb(err, result); sync throw .kind
//   vm.reset(cb)                                                         async: cb(err, result); sync throw .kind
//   vm.close()                                                           idempotent
//   vm.stats(): { memoryBytes, rssBytes?, hasSnapshot, syncRegs, xsaveBytes, snapshots, resets,
//                 lastReset?, restore? }
//
// One operation at a time per VM: exchange, snapshot and reset all run on the VM's vCPU thread
// (snapshot and reset need KVM_RUN to complete the doorbell's I/O, and KVM_RUN belongs on the
// thread that always runs this vCPU) and answer through the same ThreadSafeFunction; a second call
// while one is pending throws kind 'busy'.
//
// TypeScript (vmm/src) validates first and holds the handle privately; this layer re-checks types
// and ranges only so that a wrong call cannot crash the process.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "errors.h"
#include "host_lockdown.h"
#include "fn_abi.h"
#include "kvm.h"
#include "microvm.h"

namespace {

using fnvmm::ExchangeOutcome;

// What the vCPU thread hands back to JS: the outcome of an exchange, a snapshot or a reset.
struct Completion {
  enum class Kind { Exchange, Snapshot, Reset };
  Kind kind = Kind::Exchange;
  ExchangeOutcome exchange;
  fnvmm::SnapshotOutcome snapshot;
  fnvmm::ResetOutcome reset;
};

// Per-environment data: the class, so restore() can make instances from native code.
struct AddonData {
  Napi::FunctionReference constructor;
};

class NativeMicroVm;
void CallJs(Napi::Env env, Napi::Function, NativeMicroVm* self, Completion* data);
using Tsfn = Napi::TypedThreadSafeFunction<NativeMicroVm, Completion, CallJs>;

[[noreturn]] void ThrowCode(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  throw e;
}

[[noreturn]] void ThrowKind(Napi::Env env, const char* kind, const std::string& message, bool type_error = false) {
  Napi::Error e = type_error ? Napi::TypeError::New(env, message) : Napi::Error::New(env, message);
  e.Set("kind", Napi::String::New(env, kind));
  throw e;
}

Napi::Value MakeVmError(Napi::Env env, const fnvmm::VmError& err) {
  Napi::Error e = Napi::Error::New(env, err.message);
  e.Set("kind", Napi::String::New(env, err.kind));
  for (const fnvmm::ErrorDetail& d : err.details) {
    switch (d.type) {
      case fnvmm::ErrorDetail::Type::BigInt: e.Set(d.name, Napi::BigInt::New(env, d.u)); break;
      case fnvmm::ErrorDetail::Type::Number: e.Set(d.name, Napi::Number::New(env, static_cast<double>(d.u))); break;
      case fnvmm::ErrorDetail::Type::String: e.Set(d.name, Napi::String::New(env, d.s)); break;
    }
  }
  return e.Value();
}

Napi::Value MakeResult(Napi::Env env, ExchangeOutcome& out) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("event", Napi::Number::New(env, out.event));
  r.Set("status", Napi::Number::New(env, out.report.status));
  std::vector<uint8_t>& bytes = out.report.output;
  if (bytes.empty()) {
    r.Set("output", Napi::Buffer<uint8_t>::New(env, 0));
  } else {
    // Hand the already-copied bytes to JS without another copy where the runtime allows it.
    auto* owned = new std::vector<uint8_t>(std::move(bytes));
    r.Set("output", Napi::Buffer<uint8_t>::NewOrCopy(env, owned->data(), owned->size(),
                                                     [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; },
                                                     owned));
  }
  r.Set("guestNs", Napi::BigInt::New(env, out.report.guest_ns));
  r.Set("heapUsed", Napi::BigInt::New(env, out.report.heap_used));
  r.Set("heapPeak", Napi::BigInt::New(env, out.report.heap_peak));
  r.Set("hostRunNs", Napi::BigInt::New(env, out.host_run_ns));
  return r;
}

Napi::Value MakeSnapshotResult(Napi::Env env, const fnvmm::SnapshotResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pages", Napi::Number::New(env, static_cast<double>(r.pages)));
  if (r.layered) {
    o.Set("diffPages", Napi::Number::New(env, static_cast<double>(r.diff_pages)));
    o.Set("runs", Napi::Number::New(env, static_cast<double>(r.runs)));
  }
  o.Set("bytes", Napi::Number::New(env, static_cast<double>(r.bytes)));
  o.Set("ms", Napi::Number::New(env, r.ms));
  o.Set("writeMs", Napi::Number::New(env, r.write_ms));
  o.Set("rebaseMs", Napi::Number::New(env, r.rebase_ms));
  return o;
}

Napi::Object MakeResetResult(Napi::Env env, const fnvmm::ResetResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("dirtyPages", Napi::Number::New(env, static_cast<double>(r.dirty_pages)));
  o.Set("copiedPages", Napi::Number::New(env, static_cast<double>(r.copied_pages)));
  o.Set("zeroedPages", Napi::Number::New(env, static_cast<double>(r.zeroed_pages)));
  o.Set("droppedPages", Napi::Number::New(env, static_cast<double>(r.dropped_pages)));
  o.Set("windowPages", Napi::Number::New(env, static_cast<double>(r.window_pages)));
  o.Set("sregsSet", Napi::Boolean::New(env, r.sregs_set));
  o.Set("us", Napi::Number::New(env, r.us));
  o.Set("scanUs", Napi::Number::New(env, r.scan_us));
  o.Set("copyUs", Napi::Number::New(env, r.copy_us));
  o.Set("cpuUs", Napi::Number::New(env, r.cpu_us));
  return o;
}

// memoryBytes as the constructor and restore() accept it.
uint64_t MemoryBytesOption(Napi::Env env, Napi::Object opts, const char* who) {
  Napi::Value mb = opts.Get("memoryBytes");
  if (!mb.IsNumber()) ThrowCode(env, "BAD_OPTIONS", std::string(who) + ": memoryBytes must be a number");
  double m = mb.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(m) || m < 0 || m != std::floor(m) || m > 9007199254740991.0)
    ThrowCode(env, "BAD_OPTIONS", std::string(who) + ": memoryBytes must be a non-negative integer");
  return static_cast<uint64_t>(m);
}

// A path option: a non-empty string without NUL bytes; `optional` allows undefined.
bool PathOption(Napi::Value v, bool optional, std::string* out) {
  if (optional && v.IsUndefined()) return true;
  if (!v.IsString()) return false;
  *out = v.As<Napi::String>().Utf8Value();
  return !out->empty() && out->find('\0') == std::string::npos;
}

// A native error as a JS error with .code and the fields TypeScript maps to its classes.
struct NativeError {
  std::string code;  // 'BAD_OPTIONS' | 'KVM_UNAVAILABLE' | 'KVM_ERROR' | 'SNAPSHOT_ERROR'
  std::string message;
  std::vector<fnvmm::ErrorDetail> details;
};

NativeError DescribeException(const std::exception_ptr& ep) {
  NativeError e;
  try {
    std::rethrow_exception(ep);
  } catch (const fnvmm::ConfigError& x) {
    e = {"BAD_OPTIONS", x.what(), {}};
  } catch (const fnvmm::SnapshotError& x) {
    e = {"SNAPSHOT_ERROR", x.what(), {}};
    e.details.push_back(fnvmm::ErrorDetail::str("errorName", x.name()));
    e.details.push_back(fnvmm::ErrorDetail::str("reason", x.reason()));
    if (!x.path().empty()) e.details.push_back(fnvmm::ErrorDetail::str("path", x.path()));
    if (x.error() != 0) e.details.push_back(fnvmm::ErrorDetail::num("errno", static_cast<uint64_t>(x.error())));
  } catch (const fnvmm::KvmUnavailableError& x) {
    e = {"KVM_UNAVAILABLE", x.what(), {fnvmm::ErrorDetail::str("reason", x.code())}};
  } catch (const fnvmm::KvmError& x) {
    e = {"KVM_ERROR", x.what(), {}};
    e.details.push_back(fnvmm::ErrorDetail::str("ioctl", x.op()));
    e.details.push_back(fnvmm::ErrorDetail::num("errno", static_cast<uint64_t>(x.error())));
  } catch (const std::exception& x) {
    e = {"KVM_ERROR", x.what(), {}};
  } catch (...) {
    e = {"KVM_ERROR", "unknown native error", {}};
  }
  return e;
}

Napi::Error MakeNativeError(Napi::Env env, const NativeError& n) {
  Napi::Error e = Napi::Error::New(env, n.message);
  e.Set("code", Napi::String::New(env, n.code));
  for (const fnvmm::ErrorDetail& d : n.details) {
    switch (d.type) {
      case fnvmm::ErrorDetail::Type::BigInt: e.Set(d.name, Napi::BigInt::New(env, d.u)); break;
      case fnvmm::ErrorDetail::Type::Number: e.Set(d.name, Napi::Number::New(env, static_cast<double>(d.u))); break;
      case fnvmm::ErrorDetail::Type::String: e.Set(d.name, Napi::String::New(env, d.s)); break;
    }
  }
  return e;
}

class NativeMicroVm : public Napi::ObjectWrap<NativeMicroVm> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeMicroVm",
                       {InstanceMethod<&NativeMicroVm::Exchange>("exchange"),
                        InstanceMethod<&NativeMicroVm::Snapshot>("snapshot"),
                        InstanceMethod<&NativeMicroVm::Reset>("reset"),
                        InstanceMethod<&NativeMicroVm::Close>("close"),
                        InstanceMethod<&NativeMicroVm::Stats>("stats"),
                        StaticMethod<&NativeMicroVm::Restore>("restore")});
  }

  // Synchronous on purpose: creating the VM is bounded work with no guest execution — KVM_CREATE_VM,
  // two memory slots, one vCPU, copying the ELF image (~1-2 MB) and a few KB of tables, ~7 register
  // ioctls: a few ms in all (measured 1.5-4 ms on our hosts), comparable to a synchronous fs call.
  // The guest itself only ever runs on the vCPU thread (exchange).
  NativeMicroVm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeMicroVm>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (info.Length() == 1 && info[0].IsExternal()) {
      // From restore(): the VM was built on a libuv thread; only its vCPU thread starts here.
      vm_.reset(info[0].As<Napi::External<fnvmm::MicroVm>>().Data());
      Start(env);
      return;
    }
    if (info.Length() < 1 || !info[0].IsObject()) ThrowCode(env, "BAD_OPTIONS", "NativeMicroVm: options object required");
    Napi::Object opts = info[0].As<Napi::Object>();
    const uint64_t memory_bytes = MemoryBytesOption(env, opts, "NativeMicroVm");
    Napi::Value elf = opts.Get("guestElf");
    if (!elf.IsBuffer()) ThrowCode(env, "BAD_OPTIONS", "NativeMicroVm: guestElf must be a Buffer");
    Napi::Buffer<uint8_t> elf_buf = elf.As<Napi::Buffer<uint8_t>>();

    fnvmm::MicroVmOptions o;
    o.memory_bytes = memory_bytes;
    o.elf = elf_buf.Data();
    o.elf_size = elf_buf.Length();
    try {
      vm_ = fnvmm::MicroVm::create(o);
    } catch (const fnvmm::ConfigError& e) {
      ThrowCode(env, "BAD_OPTIONS", e.what());
    } catch (const fnvmm::ElfError& e) {
      ThrowCode(env, "BAD_ELF", e.what());
    } catch (const fnvmm::KvmUnavailableError& e) {
      Napi::Error err = Napi::Error::New(env, e.what());
      err.Set("code", Napi::String::New(env, "KVM_UNAVAILABLE"));
      err.Set("reason", Napi::String::New(env, e.code()));
      throw err;
    } catch (const fnvmm::KvmError& e) {
      Napi::Error err = Napi::Error::New(env, e.what());
      err.Set("code", Napi::String::New(env, "KVM_ERROR"));
      err.Set("ioctl", Napi::String::New(env, e.op()));
      err.Set("errno", Napi::Number::New(env, e.error()));
      throw err;
    } catch (const std::exception& e) {
      ThrowCode(env, "KVM_ERROR", std::string("NativeMicroVm: ") + e.what());
    }
    Start(env);
  }

  // Starts the vCPU thread and the way back from it.
  void Start(Napi::Env env) {
    // Results come back from the vCPU thread through this TSFN. The worker thread owns its one
    // thread reference and releases it as its last action; the queue is unbounded so the worker never
    // blocks on JS. Unref'd while idle so an idle VM does not keep the process alive.
    tsfn_ = Tsfn::New(env, "fn_vmm.exchange", 0, 1, this);
    tsfn_.Unref(env);
    napi_add_env_cleanup_hook(env, &NativeMicroVm::OnEnvCleanup, this);
    hook_installed_ = true;
    try {
      vm_->start(
          [this](ExchangeOutcome&& out) {
            auto* c = new Completion();
            c->kind = Completion::Kind::Exchange;
            c->exchange = std::move(out);
            Post(c);
          },
          [this] { tsfn_.Release(); });
    } catch (const std::exception& e) {  // the thread could not be created
      tsfn_.Release();
      closed_ = true;
      napi_remove_env_cleanup_hook(env, &NativeMicroVm::OnEnvCleanup, this);
      hook_installed_ = false;
      vm_->close();
      ThrowCode(env, "KVM_ERROR", std::string("NativeMicroVm: cannot start the vCPU thread: ") + e.what());
    }
  }

  ~NativeMicroVm() override { DoClose(); }

  // vCPU thread: hands a completion to the JS thread.
  void Post(Completion* c) {
    if (tsfn_.NonBlockingCall(c) != napi_ok) delete c;  // env is being torn down
  }

  // JS thread, via the TSFN.
  void Deliver(Napi::Env env, Completion& c) {
    Napi::HandleScope scope(env);
    Napi::Object self = Value();  // keeps this object alive until we return, whatever the callback does
    Napi::Function cb = pending_cb_.Value();
    pending_cb_.Reset();
    pending_ = false;
    if (!closed_) tsfn_.Unref(env);
    Unref();  // balances the Ref() in Pend
    bool ok = false;
    Napi::Value arg;
    switch (c.kind) {
      case Completion::Kind::Exchange:
        ok = c.exchange.ok;
        arg = ok ? MakeResult(env, c.exchange) : MakeVmError(env, c.exchange.error);
        break;
      case Completion::Kind::Snapshot:
        ok = c.snapshot.ok;
        arg = ok ? MakeSnapshotResult(env, c.snapshot.result) : MakeVmError(env, c.snapshot.error);
        break;
      case Completion::Kind::Reset:
        ok = c.reset.ok;
        arg = ok ? MakeResetResult(env, c.reset.result) : MakeVmError(env, c.reset.error);
        break;
    }
    if (cb.IsEmpty()) return;
    try {
      if (ok)
        cb.Call(self, {env.Null(), arg});
      else
        cb.Call(self, {arg});
    } catch (const Napi::Error& e) {
      // A throwing callback is an uncaught exception, as for any other async callback (Node 20
      // would otherwise only print a deprecation warning for an exception left pending here).
      napi_fatal_exception(env, e.Value());
    }
  }

 private:
  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<NativeMicroVm*>(arg);
    self->hook_installed_ = false;  // Node is running it; do not remove it from inside
    self->DoClose();
  }

  void DoClose() {
    if (closed_) return;
    closed_ = true;
    if (hook_installed_) {
      napi_remove_env_cleanup_hook(env_, &NativeMicroVm::OnEnvCleanup, this);
      hook_installed_ = false;
    }
    // Joins the vCPU thread (kicking a running guest first), which releases the TSFN on its way out.
    // A pending exchange is still answered, with kind 'closed'.
    if (vm_) vm_->close();
  }

  Napi::Value Exchange(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      ThrowKind(env, "bad_input", "exchange(req, callback): req object and callback function required", true);
    if (closed_ || !vm_) ThrowKind(env, "closed", "the microVM is closed");
    if (pending_) ThrowKind(env, "busy", "another operation (exchange, snapshot or reset) is running on this microVM");

    Napi::Object req = info[0].As<Napi::Object>();
    fnvmm::ExchangeRequest r;

    Napi::Value command = req.Get("command");
    if (!command.IsNumber()) ThrowKind(env, "bad_input", "req.command must be a number", true);
    double c = command.As<Napi::Number>().DoubleValue();
    if (!(c >= 0 && c <= 0xFFFFFFFF && c == std::floor(c)))
      ThrowKind(env, "bad_input", "req.command must be a non-negative integer", true);
    r.command = static_cast<uint32_t>(c);

    Napi::Value input = req.Get("input");
    Napi::Buffer<uint8_t> input_buf;
    if (!input.IsNull() && !input.IsUndefined()) {
      if (!input.IsBuffer()) ThrowKind(env, "bad_input", "req.input must be a Buffer or null", true);
      input_buf = input.As<Napi::Buffer<uint8_t>>();
      r.input = input_buf.Data();
      r.input_len = input_buf.Length();
    }

    Napi::Value now = req.Get("nowUnixNs");
    if (!now.IsBigInt()) ThrowKind(env, "bad_input", "req.nowUnixNs must be a bigint", true);
    bool lossless = false;
    r.now_unix_ns = now.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) ThrowKind(env, "bad_input", "req.nowUnixNs must fit an unsigned 64-bit integer", true);

    Napi::Value entropy = req.Get("entropy");
    if (!entropy.IsBuffer() || entropy.As<Napi::Buffer<uint8_t>>().Length() != sizeof r.entropy)
      ThrowKind(env, "bad_input", "req.entropy must be a Buffer of 32 bytes", true);
    std::memcpy(r.entropy, entropy.As<Napi::Buffer<uint8_t>>().Data(), sizeof r.entropy);

    Napi::Value timeout = req.Get("timeoutMs");
    if (!timeout.IsNumber()) ThrowKind(env, "bad_input", "req.timeoutMs must be a number", true);
    double t = timeout.As<Napi::Number>().DoubleValue();
    if (!(t > 0 && t <= static_cast<double>(fnvmm::kMaxTimeoutMs)))
      ThrowKind(env, "bad_input", "req.timeoutMs must be > 0 and at most 24 hours", true);
    r.timeout_ms = static_cast<uint64_t>(std::ceil(t));

    fnvmm::VmWorker::Submit s;
    try {
      s = vm_->exchange(r);  // copies the input into the window before returning
    } catch (const fnvmm::BadRequest& e) {
      ThrowKind(env, "bad_input", e.what(), true);
    } catch (const std::exception& e) {
      ThrowKind(env, "bad_input", e.what(), true);
    }
    switch (s) {
      case fnvmm::VmWorker::Submit::Ok: break;
      case fnvmm::VmWorker::Submit::Busy: ThrowKind(env, "busy", "another operation (exchange, snapshot or reset) is running on this microVM");
      case fnvmm::VmWorker::Submit::Closed: ThrowKind(env, "closed", "the microVM is closed");
      case fnvmm::VmWorker::Submit::Dead: {
        std::string reason = vm_->dead_reason();
        Napi::Error e = Napi::Error::New(env, "the microVM is dead after an earlier '" + reason +
                                                  "' failure; close it and create a new one");
        e.Set("kind", Napi::String::New(env, "dead"));
        e.Set("reason", Napi::String::New(env, reason));
        throw e;
      }
    }
    Pend(env, info[1].As<Napi::Function>());
    return env.Undefined();
  }

  // An operation was handed to the vCPU thread: remember its callback until it answers.
  void Pend(Napi::Env env, Napi::Function cb) {
    pending_cb_ = Napi::Persistent(cb);
    pending_ = true;
    Ref();             // the object stays alive until its callback has run
    tsfn_.Ref(env);    // and so does the process
  }

  // Throws the JS error for a job that could not be handed over.
  [[noreturn]] void ThrowJobSubmit(Napi::Env env, fnvmm::MicroVm::JobSubmit s) {
    switch (s) {
      case fnvmm::MicroVm::JobSubmit::Busy: ThrowKind(env, "busy", "another operation is running on this microVM");
      case fnvmm::MicroVm::JobSubmit::Closed: ThrowKind(env, "closed", "the microVM is closed");
      case fnvmm::MicroVm::JobSubmit::NotAtDoorbell:
        ThrowKind(env, "not_at_doorbell",
                  "the guest has not reached a doorbell yet: boot it to READY (the first exchange) before a snapshot");
      case fnvmm::MicroVm::JobSubmit::NoSnapshot:
        ThrowKind(env, "no_snapshot", "there is no snapshot to reset to: take a snapshot (or restore from one) first");
      case fnvmm::MicroVm::JobSubmit::Dead:
      case fnvmm::MicroVm::JobSubmit::Ok: break;
    }
    std::string reason = vm_->dead_reason();
    Napi::Error e = Napi::Error::New(env, "the microVM is dead after an earlier '" + reason +
                                              "' failure; close it and create a new one");
    e.Set("kind", Napi::String::New(env, "dead"));
    e.Set("reason", Napi::String::New(env, reason));
    throw e;
  }

  // vm.snapshot({ dir, baseMemoryPath? }, cb). The work (KVM_RUN to complete the doorbell I/O,
  // reading the vCPU, scanning and writing memory: milliseconds) runs on the vCPU thread, off the
  // event loop; cb(err, { pages, diffPages?, runs?, bytes, ms, writeMs, rebaseMs }).
  Napi::Value Snapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      ThrowKind(env, "bad_input", "snapshot(opts, callback): opts object and callback function required", true);
    if (closed_ || !vm_) ThrowKind(env, "closed", "the microVM is closed");
    if (pending_) ThrowKind(env, "busy", "another operation is running on this microVM");
    Napi::Object opts = info[0].As<Napi::Object>();
    fnvmm::SnapshotRequest req;
    if (!PathOption(opts.Get("dir"), false, &req.dir))
      ThrowKind(env, "bad_input", "opts.dir must be a non-empty path", true);
    if (!PathOption(opts.Get("baseMemoryPath"), true, &req.base_memory_path))
      ThrowKind(env, "bad_input", "opts.baseMemoryPath must be a non-empty path or undefined", true);
    fnvmm::MicroVm::JobSubmit s;
    try {
      s = vm_->snapshot(req, [this](fnvmm::SnapshotOutcome&& out) {
        auto* c = new Completion();
        c->kind = Completion::Kind::Snapshot;
        c->snapshot = std::move(out);
        Post(c);
      });
    } catch (const std::exception& e) {
      ThrowKind(env, "bad_input", e.what(), true);
    }
    if (s != fnvmm::MicroVm::JobSubmit::Ok) ThrowJobSubmit(env, s);
    Pend(env, info[1].As<Napi::Function>());
    return env.Undefined();
  }

  // vm.reset(cb). Runs on the vCPU thread, like an exchange: it needs KVM_RUN there, and its cost
  // follows what the guest dirtied (tens of µs for a small invocation, unbounded for one that
  // wrote 100 MB), so it must not run on the event loop. The caller sends the invocation's
  // response first and resets before giving the VM back to its pool, so the TSFN hop is off the
  // request path. cb(err, { dirtyPages, copiedPages, zeroedPages, droppedPages, windowPages,
  // sregsSet, us, scanUs, copyUs, cpuUs }).
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction())
      ThrowKind(env, "bad_input", "reset(callback): callback function required", true);
    if (closed_ || !vm_) ThrowKind(env, "closed", "the microVM is closed");
    if (pending_) ThrowKind(env, "busy", "another operation is running on this microVM");
    fnvmm::MicroVm::JobSubmit s = vm_->reset([this](fnvmm::ResetOutcome&& out) {
      auto* c = new Completion();
      c->kind = Completion::Kind::Reset;
      c->reset = std::move(out);
      Post(c);
    });
    if (s != fnvmm::MicroVm::JobSubmit::Ok) ThrowJobSubmit(env, s);
    Pend(env, info[0].As<Napi::Function>());
    return env.Undefined();
  }

  // NativeMicroVm.restore({ memoryBytes, dir, baseMemoryPath? }, cb): cb(err, vm). Asynchronous
  // (a libuv pool thread), unlike the constructor: on top of the same KVM setup a restore reads
  // and checks the snapshot files, opens and maps them and asks the file system where their data
  // is, and KVM_CREATE_VM itself slows down as a process holds more VMs (0.2 → 1 ms); a worker
  // that keeps pools topped up restores often and must not stall every request in flight on its
  // event loop meanwhile. Bad arguments throw synchronously (code BAD_OPTIONS); everything else
  // arrives as cb(err) with err.code 'BAD_OPTIONS' | 'SNAPSHOT_ERROR' (+ errorName, reason, path,
  // errno) | 'KVM_UNAVAILABLE' (+ reason) | 'KVM_ERROR' (+ ioctl, errno).
  static Napi::Value Restore(const Napi::CallbackInfo& info);

  Napi::Value Close(const Napi::CallbackInfo& info) {
    DoClose();
    return info.Env().Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("memoryBytes", Napi::Number::New(env, vm_ ? static_cast<double>(vm_->memory_bytes()) : 0));
    if (vm_ && !closed_) o.Set("rssBytes", Napi::Number::New(env, static_cast<double>(vm_->resident_bytes())));
    if (!vm_) return o;
    const fnvmm::MicroVmStats st = vm_->stats();
    o.Set("hasSnapshot", Napi::Boolean::New(env, st.has_snapshot));
    o.Set("syncRegs", Napi::Boolean::New(env, st.sync_regs));
    o.Set("xsaveBytes", Napi::Number::New(env, static_cast<double>(st.xsave_bytes)));
    o.Set("manualDirtyLogProtect", Napi::Boolean::New(env, st.manual_dirty_log_protect));
    o.Set("snapshots", Napi::Number::New(env, static_cast<double>(st.snapshots)));
    o.Set("resets", Napi::Number::New(env, static_cast<double>(st.resets)));
    if (st.resets > 0) o.Set("lastReset", MakeResetResult(env, st.last_reset));
    if (st.restored) {
      Napi::Object r = Napi::Object::New(env);
      r.Set("filesUs", Napi::Number::New(env, st.restore.files_us));
      r.Set("createVmUs", Napi::Number::New(env, st.restore.create_vm_us));
      r.Set("memoryUs", Napi::Number::New(env, st.restore.memory_us));
      r.Set("vcpuUs", Napi::Number::New(env, st.restore.vcpu_us));
      r.Set("stateUs", Napi::Number::New(env, st.restore.state_us));
      r.Set("totalUs", Napi::Number::New(env, st.restore.total_us));
      if (st.first_run_us >= 0) r.Set("firstRunUs", Napi::Number::New(env, static_cast<double>(st.first_run_us)));
      r.Set("dataPages", Napi::Number::New(env, static_cast<double>(st.restore.data_pages)));
      r.Set("diffPages", Napi::Number::New(env, static_cast<double>(st.restore.diff_pages)));
      Napi::Array refused = Napi::Array::New(env, st.restore.msrs_refused.size());
      for (size_t i = 0; i < st.restore.msrs_refused.size(); ++i)
        refused.Set(static_cast<uint32_t>(i), Napi::Number::New(env, st.restore.msrs_refused[i]));
      r.Set("msrsRefused", refused);
      o.Set("restore", r);
    }
    return o;
  }

  napi_env env_;
  std::unique_ptr<fnvmm::MicroVm> vm_;
  Tsfn tsfn_;
  Napi::FunctionReference pending_cb_;
  bool pending_ = false;
  bool closed_ = false;
  bool hook_installed_ = false;
};

void CallJs(Napi::Env env, Napi::Function, NativeMicroVm* self, Completion* data) {
  std::unique_ptr<Completion> out(data);
  if (env == nullptr || self == nullptr || !out) return;  // the environment is being torn down
  self->Deliver(env, *out);
}

// Builds the VM on a libuv pool thread; the JS object (and its vCPU thread) on the JS thread.
class RestoreWorker : public Napi::AsyncWorker {
 public:
  RestoreWorker(Napi::Function cb, fnvmm::RestoreOptions opts)
      : Napi::AsyncWorker(cb, "fn_vmm.restore"), opts_(std::move(opts)) {}

  void Execute() override {
    try {
      vm_ = fnvmm::MicroVm::restore(opts_);
    } catch (...) {
      error_ = DescribeException(std::current_exception());
      SetError(error_.message);
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    AddonData* data = env.GetInstanceData<AddonData>();
    Napi::Value vm;
    try {
      fnvmm::MicroVm* raw = vm_.release();  // the constructor takes it over
      vm = data->constructor.New({Napi::External<fnvmm::MicroVm>::New(env, raw)});
    } catch (const Napi::Error& e) {
      Callback().Call({e.Value()});
      return;
    }
    Callback().Call({env.Null(), vm});
  }

  void OnError(const Napi::Error&) override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Callback().Call({MakeNativeError(env, error_).Value()});
  }

 private:
  fnvmm::RestoreOptions opts_;
  std::unique_ptr<fnvmm::MicroVm> vm_;  // closed by its destructor if OnOK never runs
  NativeError error_;
};

Napi::Value NativeMicroVm::Restore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
    ThrowCode(env, "BAD_OPTIONS", "NativeMicroVm.restore(opts, callback): opts object and callback function required");
  Napi::Object opts = info[0].As<Napi::Object>();
  fnvmm::RestoreOptions o;
  o.memory_bytes = MemoryBytesOption(env, opts, "NativeMicroVm.restore");
  if (!PathOption(opts.Get("dir"), false, &o.dir))
    ThrowCode(env, "BAD_OPTIONS", "NativeMicroVm.restore: dir must be a non-empty path");
  if (!PathOption(opts.Get("baseMemoryPath"), true, &o.base_memory_path))
    ThrowCode(env, "BAD_OPTIONS", "NativeMicroVm.restore: baseMemoryPath must be a non-empty path or undefined");
  (new RestoreWorker(info[1].As<Napi::Function>(), std::move(o)))->Queue();
  return env.Undefined();
}

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  fnvmm::ProbeResult p = fnvmm::probe_kvm();
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", Napi::Boolean::New(env, p.ok));
  if (!p.ok) {
    o.Set("code", Napi::String::New(env, p.code));
    o.Set("message", Napi::String::New(env, p.message));
  }
  if (p.api_version >= 0) o.Set("apiVersion", Napi::Number::New(env, p.api_version));
  return o;
}

// lockDownHost({ dataLimitBytes }): the VMM host process locks itself down once set up
// (host_lockdown.h). On the JS thread: it must run before any VM exists.
Napi::Value LockDownHost(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowCode(env, "BAD_OPTIONS", "lockDownHost(opts): opts object required");
  Napi::Value limit = info[0].As<Napi::Object>().Get("dataLimitBytes");
  fnvmm::HostLockdownOptions o;
  if (!limit.IsUndefined()) {
    double d = limit.IsNumber() ? limit.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d <= 9007199254740991.0 && d == static_cast<double>(static_cast<uint64_t>(d))))
      ThrowCode(env, "BAD_OPTIONS", "lockDownHost: dataLimitBytes must be a whole number of bytes");
    o.data_limit_bytes = static_cast<uint64_t>(d);
  }
  Napi::Value writes = info[0].As<Napi::Object>().Get("allowFileWrites");
  o.allow_file_writes = writes.IsBoolean() && writes.As<Napi::Boolean>().Value();
  fnvmm::HostLockdownReport r;
  try {
    r = fnvmm::lock_down_host(o);
  } catch (const std::exception& e) {
    ThrowCode(env, "LOCKDOWN_FAILED", std::string("the VMM host could not lock itself down: ") + e.what());
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("seccomp", Napi::Boolean::New(env, r.seccomp));
  out.Set("dataLimitBytes", Napi::Number::New(env, static_cast<double>(r.data_limit_bytes)));
  return out;
}

// lockdownProbe(what, path): test-only, what a taken-over host would try (host_lockdown.h).
Napi::Value LockdownProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString())
    ThrowCode(env, "BAD_OPTIONS", "lockdownProbe(what, path): two strings required");
  try {
    return Napi::String::New(env, fnvmm::host_lockdown_probe(info[0].As<Napi::String>(), info[1].As<Napi::String>()));
  } catch (const std::exception& e) {
    ThrowCode(env, "BAD_OPTIONS", e.what());
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probe", Napi::Function::New<Probe>(env, "probe"));
  exports.Set("lockDownHost", Napi::Function::New<LockDownHost>(env, "lockDownHost"));
  exports.Set("lockdownProbe", Napi::Function::New<LockdownProbe>(env, "lockdownProbe"));
  Napi::Function cls = NativeMicroVm::Init(env);
  auto* data = new AddonData();
  data->constructor = Napi::Persistent(cls);
  env.SetInstanceData<AddonData>(data);
  exports.Set("NativeMicroVm", cls);
  return exports;
}

}  // namespace

NODE_API_MODULE(fn_vmm, Init)
