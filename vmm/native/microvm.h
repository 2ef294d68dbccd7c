// microvm.h — one kernel-less microVM: guest memory + window, a KVM VM with one vCPU in long mode at
// CPL3, the guest ELF loaded, and the VmWorker thread that runs it. No N-API here (addon.cc wraps it).
#ifndef FN_VMM_MICROVM_H
#define FN_VMM_MICROVM_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "guest_memory.h"
#include "vm_worker.h"

namespace fnvmm {

class Vm;
class Vcpu;
class Window;
class KvmVcpuAdapter;

constexpr uint64_t kMinMemoryBytes = 8ull << 20;
// Below the window at 4 GiB, below 0xFFFBD000 where KVM_SET_TSS_ADDR puts Intel's private pages, and
// within what the page tables map (long_mode::kMaxRamBytes).
constexpr uint64_t kMaxMemoryBytes = 3ull << 30;
constexpr uint64_t kMemoryAlignment = 2ull << 20;
constexpr uint64_t kMaxTimeoutMs = 24ull * 3600 * 1000;

struct MicroVmOptions {
  uint64_t memory_bytes = 0;
  const uint8_t* elf = nullptr;
  size_t elf_size = 0;
};

// Throws ConfigError unless memory_bytes is a multiple of 2 MiB in [kMinMemoryBytes, kMaxMemoryBytes].
void validate_memory_bytes(uint64_t memory_bytes);

// An exchange request that breaks the rules (the VM stays usable). addon.cc maps it to kind 'bad_input'.
class BadRequest : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct ExchangeRequest {
  uint32_t command = 0;            // FN_CMD_NONE for the first exchange (boot to READY), then LOAD/INVOKE
  const uint8_t* input = nullptr;  // copied into the window before exchange() returns
  size_t input_len = 0;
  uint64_t now_unix_ns = 0;
  uint8_t entropy[32] = {};
  uint64_t timeout_ms = 0;
};

class MicroVm final : private ExchangeEngine {
 public:
  // Synchronous, bounded setup (see addon.cc for why that is fine on the JS thread).
  // Throws ConfigError (options), ElfError (guest ELF), KvmUnavailableError (/dev/kvm), KvmError.
  static std::unique_ptr<MicroVm> create(const MicroVmOptions& opts);
  ~MicroVm() override;
  MicroVm(const MicroVm&) = delete;
  MicroVm& operator=(const MicroVm&) = delete;

  // Starts the vCPU thread. See VmWorker::start.
  void start(VmWorker::Deliver deliver, std::function<void()> on_exit);

  // JS thread. Validates the request (BadRequest), writes it into the window and hands it to the
  // vCPU thread; or says why it cannot (Busy, Dead, Closed) without touching the window.
  VmWorker::Submit exchange(const ExchangeRequest& req);

  // Stops the vCPU thread (kicking a running guest), then releases the vCPU, the VM and guest memory.
  // Idempotent.
  void close();

  uint64_t memory_bytes() const { return memory_bytes_; }
  uint64_t resident_bytes() const;  // guest RAM + window pages resident on the host (0 after close)
  bool closed() const;
  std::string dead_reason() const;
  uint32_t tsc_khz() const { return tsc_khz_; }

 private:
  MicroVm() = default;
  ExchangeOutcome run_exchange(std::chrono::steady_clock::time_point deadline, uint64_t timeout_ms, KickTarget& kick,
                               const std::function<bool(std::chrono::steady_clock::time_point)>& sleep_until) override;
  bool fatal(const ExchangeOutcome& outcome) const override;

  // Declaration order is teardown order reversed: the worker goes first, guest memory last.
  uint64_t memory_bytes_ = 0;
  uint32_t tsc_khz_ = 0;
  bool boot_submitted_ = false;  // JS thread only
  GuestMemory memory_;
  std::unique_ptr<Vm> vm_;
  std::unique_ptr<Vcpu> vcpu_;
  std::unique_ptr<KvmVcpuAdapter> adapter_;
  std::unique_ptr<Window> window_;
  std::shared_ptr<KickTarget> kick_;
  std::unique_ptr<VmWorker> worker_;
};

}  // namespace fnvmm

#endif
