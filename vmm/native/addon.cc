// addon.cc — the N-API surface of fn_vmm, and nothing else.
//
//   probe(): { ok, code?, message?, apiVersion? }                       never throws
//   new NativeMicroVm({ memoryBytes, guestElf })                         sync; throws .code
//   vm.exchange(req, callback)                                           async result; sync throw .kind
//   vm.close()                                                           idempotent
//   vm.stats(): { memoryBytes, rssBytes? }
//
// TypeScript (vmm/src) validates first and holds the handle privately; this layer re-checks types
// and ranges only so that a wrong call cannot crash the process.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "errors.h"
#include "fn_abi.h"
#include "kvm.h"
#include "microvm.h"

namespace {

using fnvmm::ExchangeOutcome;

class NativeMicroVm;
void CallJs(Napi::Env env, Napi::Function, NativeMicroVm* self, ExchangeOutcome* data);
using Tsfn = Napi::TypedThreadSafeFunction<NativeMicroVm, ExchangeOutcome, CallJs>;

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

class NativeMicroVm : public Napi::ObjectWrap<NativeMicroVm> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeMicroVm",
                       {InstanceMethod<&NativeMicroVm::Exchange>("exchange"),
                        InstanceMethod<&NativeMicroVm::Close>("close"),
                        InstanceMethod<&NativeMicroVm::Stats>("stats")});
  }

  // Synchronous on purpose: creating the VM is bounded work with no guest execution — KVM_CREATE_VM,
  // two memory slots, one vCPU, copying the ELF image (~1-2 MB) and a few KB of tables, ~7 register
  // ioctls: a few ms in all (measured 1.5-4 ms on our hosts), comparable to a synchronous fs call.
  // The guest itself only ever runs on the vCPU thread (exchange).
  NativeMicroVm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeMicroVm>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) ThrowCode(env, "BAD_OPTIONS", "NativeMicroVm: options object required");
    Napi::Object opts = info[0].As<Napi::Object>();
    Napi::Value mb = opts.Get("memoryBytes");
    Napi::Value elf = opts.Get("guestElf");
    if (!mb.IsNumber()) ThrowCode(env, "BAD_OPTIONS", "NativeMicroVm: memoryBytes must be a number");
    double m = mb.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(m) || m < 0 || m != std::floor(m) || m > 9007199254740991.0)
      ThrowCode(env, "BAD_OPTIONS", "NativeMicroVm: memoryBytes must be a non-negative integer");
    if (!elf.IsBuffer()) ThrowCode(env, "BAD_OPTIONS", "NativeMicroVm: guestElf must be a Buffer");
    Napi::Buffer<uint8_t> elf_buf = elf.As<Napi::Buffer<uint8_t>>();

    fnvmm::MicroVmOptions o;
    o.memory_bytes = static_cast<uint64_t>(m);
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
            auto* d = new ExchangeOutcome(std::move(out));
            if (tsfn_.NonBlockingCall(d) != napi_ok) delete d;  // env is being torn down
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

  // JS thread, via the TSFN.
  void Deliver(Napi::Env env, ExchangeOutcome& out) {
    Napi::HandleScope scope(env);
    Napi::Object self = Value();  // keeps this object alive until we return, whatever the callback does
    Napi::Function cb = pending_cb_.Value();
    pending_cb_.Reset();
    pending_ = false;
    if (!closed_) tsfn_.Unref(env);
    Unref();  // balances the Ref() in Exchange
    Napi::Value arg = out.ok ? MakeResult(env, out) : MakeVmError(env, out.error);
    if (cb.IsEmpty()) return;
    try {
      if (out.ok)
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
    if (pending_) ThrowKind(env, "busy", "an exchange is already running on this microVM");

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
      case fnvmm::VmWorker::Submit::Busy: ThrowKind(env, "busy", "an exchange is already running on this microVM");
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
    pending_cb_ = Napi::Persistent(info[1].As<Napi::Function>());
    pending_ = true;
    Ref();             // the object stays alive until its callback has run
    tsfn_.Ref(env);    // and so does the process
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    DoClose();
    return info.Env().Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("memoryBytes", Napi::Number::New(env, vm_ ? static_cast<double>(vm_->memory_bytes()) : 0));
    if (vm_ && !closed_) o.Set("rssBytes", Napi::Number::New(env, static_cast<double>(vm_->resident_bytes())));
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

void CallJs(Napi::Env env, Napi::Function, NativeMicroVm* self, ExchangeOutcome* data) {
  std::unique_ptr<ExchangeOutcome> out(data);
  if (env == nullptr || self == nullptr || !out) return;  // the environment is being torn down
  self->Deliver(env, *out);
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probe", Napi::Function::New<Probe>(env, "probe"));
  exports.Set("NativeMicroVm", NativeMicroVm::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(fn_vmm, Init)
