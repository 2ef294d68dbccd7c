// microvm.h — one kernel-less microVM: guest memory + window, a KVM VM with one vCPU in long mode at
// CPL3, the guest ELF loaded (or a snapshot restored), and the VmWorker thread that runs it. No N-API
// here (addon.cc wraps it).
//
// Snapshots (formats: snapshot_files.h, cpu_state.h, guest/include/fn_vmm_control.h):
//   snapshot()  at a doorbell between commands: writes dir/{memory.img,pages.bin,cpu.bin}, full or
//               as a diff over a base; afterwards the VM runs from those very files, exactly like a
//               VM restored from them (its RAM is remapped MAP_PRIVATE from them: it shares their
//               page cache with every VM restored from them), and reset() returns to it.
//   restore()   a new VM from a snapshot directory, idle at the doorbell the snapshot was taken at:
//               the next exchange hands in a command exactly as after any DONE.
//   reset()     the VM back to its snapshot after an invocation, without the guest's help.
// Guest RAM of a VM with a snapshot is the snapshot's files mapped MAP_PRIVATE, with KVM dirty
// logging on the RAM slot. Which pages reset (or a later snapshot) must look at comes from KVM's
// dirty log, not from the guest: every guest write to RAM goes through KVM and is logged; the
// host never writes RAM after setup.
#ifndef FN_VMM_MICROVM_H
#define FN_VMM_MICROVM_H

#include <linux/kvm.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpu_state.h"
#include "guest_memory.h"
#include "page_bitmap.h"
#include "vm_worker.h"

namespace fnvmm {

class Vm;
class Vcpu;
class Kvm;
class Window;
class KvmVcpuAdapter;
class MemoryImage;

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

struct RestoreOptions {
  uint64_t memory_bytes = 0;
  std::string dir;               // holds cpu.bin, pages.bin, memory.img
  std::string base_memory_path;  // the base's memory.img when dir holds a diff; empty otherwise
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

// Where the time of a restore went, in µs, on the thread that restored.
struct RestoreStats {
  double files_us = 0;      // cpu.bin + pages.bin read and checked, memory files opened and mapped
  double create_vm_us = 0;  // /dev/kvm opened, KVM_CREATE_VM
  double memory_us = 0;     // the RAM and window slots
  double vcpu_us = 0;       // KVM_CREATE_VCPU, kvm_run mapped, KVM_SET_CPUID2
  double state_us = 0;      // sregs, regs, XSAVE, MSRs
  double total_us = 0;
  uint64_t data_pages = 0;  // from pages.bin
  uint64_t diff_pages = 0;
  std::vector<uint32_t> msrs_refused;  // optional MSRs KVM did not take (IA32_TSC on some hosts)
};

struct SnapshotRequest {
  std::string dir;
  std::string base_memory_path;  // empty: a full snapshot
};

struct SnapshotResult {
  uint64_t pages = 0;       // non-zero pages of guest RAM
  uint64_t diff_pages = 0;  // with a base: pages listed in pages.bin
  uint64_t runs = 0;        // with a base: runs in pages.bin (one mmap each on restore)
  uint64_t bytes = 0;       // bytes written: memory.img data + pages.bin + cpu.bin
  double ms = 0, write_ms = 0, rebase_ms = 0;
  bool layered = false;
};

struct ResetResult {
  uint64_t dirty_pages = 0;    // RAM pages written since the snapshot or the last reset
  uint64_t copied_pages = 0;   // of those, snapshot pages put back because they differed
  uint64_t zeroed_pages = 0;   // of those, first touched since the snapshot, zeroed in place
  uint64_t dropped_pages = 0;  // of those, first touched, given back (many at once: memory_snapshot.h)
  uint64_t window_pages = 0;   // window pages zeroed or dropped
  bool sregs_set = false;      // segment/control registers differed from the snapshot and were set
  double us = 0, scan_us = 0, copy_us = 0, cpu_us = 0;
};

struct SnapshotOutcome {
  bool ok = false;
  SnapshotResult result;
  VmError error;  // kind 'snapshot' (files; the VM is unchanged), 'kvm' or 'lost' (the VM is dead), 'closed'
};

struct ResetOutcome {
  bool ok = false;
  ResetResult result;
  VmError error;  // kind 'kvm' or 'lost' (the VM is dead), 'closed'
};

struct MicroVmStats {
  bool restored = false;
  RestoreStats restore;
  int64_t first_run_us = -1;  // host time of the first exchange after restore (first-touch faults included)
  bool has_snapshot = false;
  bool sync_regs = false;     // registers are reset through kvm_run (KVM_CAP_SYNC_REGS)
  size_t xsave_bytes = 0;     // 0: FPU through KVM_GET/SET_FPU
  bool manual_dirty_log_protect = false;  // KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 exists (not used: see reset)
  uint64_t resets = 0;
  ResetResult last_reset;
  uint64_t snapshots = 0;
};

class MicroVm final : private ExchangeEngine {
 public:
  // Synchronous, bounded setup (see addon.cc for why that is fine on the JS thread).
  // Throws ConfigError (options), ElfError (guest ELF), KvmUnavailableError (/dev/kvm), KvmError.
  static std::unique_ptr<MicroVm> create(const MicroVmOptions& opts);
  // A new VM from a snapshot directory (bounded, no guest execution; any thread). Every file is
  // checked before KVM is touched: a refused snapshot never half-starts. Throws ConfigError,
  // SnapshotError, KvmUnavailableError, KvmError.
  static std::unique_ptr<MicroVm> restore(const RestoreOptions& opts);
  ~MicroVm() override;
  MicroVm(const MicroVm&) = delete;
  MicroVm& operator=(const MicroVm&) = delete;

  // Starts the vCPU thread. See VmWorker::start.
  void start(VmWorker::Deliver deliver, std::function<void()> on_exit);

  // JS thread. Validates the request (BadRequest), writes it into the window and hands it to the
  // vCPU thread; or says why it cannot (Busy, Dead, Closed) without touching the window.
  VmWorker::Submit exchange(const ExchangeRequest& req);

  enum class JobSubmit { Ok, Busy, Dead, Closed, NotAtDoorbell, NoSnapshot };
  // JS thread. Hands a snapshot to the vCPU thread; `done` is called there with the outcome once
  // the VM is idle again (or dead). NotAtDoorbell: the guest has not reached READY yet. Throws
  // BadRequest for an empty dir.
  JobSubmit snapshot(const SnapshotRequest& req, std::function<void(SnapshotOutcome&&)> done);
  // JS thread. Hands a reset to the vCPU thread. NoSnapshot: no snapshot taken or restored from.
  JobSubmit reset(std::function<void(ResetOutcome&&)> done);

  // Stops the vCPU thread (kicking a running guest), then releases the vCPU, the VM and guest memory.
  // Idempotent.
  void close();

  uint64_t memory_bytes() const { return memory_bytes_; }
  uint64_t resident_bytes() const;  // guest RAM + window pages resident on the host (0 after close)
  bool closed() const;
  std::string dead_reason() const;
  uint32_t tsc_khz() const { return tsc_khz_; }
  MicroVmStats stats() const;

 private:
  MicroVm() = default;
  ExchangeOutcome run_exchange(std::chrono::steady_clock::time_point deadline, uint64_t timeout_ms, KickTarget& kick,
                               const std::function<bool(std::chrono::steady_clock::time_point)>& sleep_until) override;
  bool fatal(const ExchangeOutcome& outcome) const override;

  // Setup shared by create() and restore().
  void create_vm_and_slots(Kvm& kvm, uint32_t ram_flags);
  void create_vcpu(std::vector<kvm_cpuid_entry2> cpuid);
  void finish_setup(int kick_signo);

  // vCPU thread (jobs).
  SnapshotOutcome do_snapshot(const SnapshotRequest& req, const std::function<bool()>& stop_requested, bool* usable);
  ResetOutcome do_reset(bool* usable);
  // KVM_RUN with immediate_exit: KVM finishes the doorbell's `out` (and applies registers queued in
  // kvm_run) without running a guest instruction, so the vCPU state is consistent and complete.
  void complete_pending_io(uint64_t valid_regs);
  const PageBitmap& fetch_dirty_log();
  uint8_t* ram() const;
  uint8_t* window_host() const;

  // Declaration order is teardown order reversed: the worker goes first, guest memory last.
  uint64_t memory_bytes_ = 0;
  uint32_t tsc_khz_ = 0;
  bool boot_submitted_ = false;  // JS thread only
  GuestMemory memory_;           // region 0: RAM, region 1: window
  std::unique_ptr<Vm> vm_;
  std::unique_ptr<Vcpu> vcpu_;
  std::unique_ptr<KvmVcpuAdapter> adapter_;
  std::unique_ptr<Window> window_;
  std::shared_ptr<KickTarget> kick_;

  // Snapshot state: the vCPU thread's once the worker runs (set up before it starts).
  std::vector<kvm_cpuid_entry2> cpuid_;
  FpuAccess fpu_;
  bool sync_regs_ = false;
  bool manual_protect_cap_ = false;
  bool dirty_logging_ = false;                 // KVM_MEM_LOG_DIRTY_PAGES on the RAM slot
  std::shared_ptr<const MemoryImage> image_;   // the snapshot's memory; RAM is mapped from it
  std::unique_ptr<CpuState> snap_cpu_;         // the snapshot's vCPU state
  PageBitmap divergent_;  // pages that may differ from image_ (dirty log read, not yet reset)
  PageBitmap dirty_;      // scratch for KVM_GET_DIRTY_LOG
  // Bytes of the window the host wrote or the guest reported since the last reset (JS thread in
  // exchange(), vCPU thread in exchanges and jobs; never at the same time: the worker's hand-off
  // orders them).
  uint64_t window_extent_ = 0;
  std::atomic<bool> at_doorbell_{false};  // idle at READY/DONE (or restored): snapshot allowed
  std::atomic<bool> has_snapshot_{false};
  std::atomic<bool> restored_{false};
  std::atomic<int64_t> first_run_us_{-1};

  mutable std::mutex stats_mu_;
  RestoreStats restore_stats_;
  uint64_t resets_ = 0, snapshots_ = 0;
  ResetResult last_reset_;

  std::unique_ptr<VmWorker> worker_;
};

}  // namespace fnvmm

#endif
