// sync_vm.h — a MicroVm driven synchronously, for a program with no event loop (the smoke test).
//
// MicroVm answers on its vCPU thread through callbacks (addon.cc turns them into JS callbacks); here
// each call hands the work over and then waits on a condition variable for that answer. The wait is
// bounded (the exchange's own timeout plus a grace period), so a lost answer is reported as an error
// of kind 'no_answer' instead of hanging the program.
#ifndef FN_SMOKE_SYNC_VM_H
#define FN_SMOKE_SYNC_VM_H

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "microvm.h"

namespace fnsmoke {

class SyncVm {
 public:
  // Throw what MicroVm::create / restore throw.
  static std::unique_ptr<SyncVm> create(uint64_t memory_bytes, const std::vector<uint8_t>& elf);
  static std::unique_ptr<SyncVm> restore(uint64_t memory_bytes, const std::string& dir);
  ~SyncVm();  // close(): joins the vCPU thread before this object's members go away
  SyncVm(const SyncVm&) = delete;
  SyncVm& operator=(const SyncVm&) = delete;

  // One command (FN_CMD_NONE boots to READY). A refused submission (busy, dead, closed, bad_input)
  // comes back as a failed outcome with that kind, like the addon's synchronous throws.
  fnvmm::ExchangeOutcome exchange(uint32_t command, const std::vector<uint8_t>& input, uint64_t timeout_ms);
  fnvmm::SnapshotOutcome snapshot(const std::string& dir);
  fnvmm::ResetOutcome reset();
  void close();
  fnvmm::MicroVm& vm() { return *vm_; }

 private:
  explicit SyncVm(std::unique_ptr<fnvmm::MicroVm> vm);
  // Waits until `done` is set by the vCPU thread or `limit_ms` passes; false on the latter.
  bool wait(const bool& done, uint64_t limit_ms);

  std::mutex mu_;
  std::condition_variable cv_;
  bool exchange_done_ = false, snapshot_done_ = false, reset_done_ = false;
  fnvmm::ExchangeOutcome exchange_out_;
  fnvmm::SnapshotOutcome snapshot_out_;
  fnvmm::ResetOutcome reset_out_;
  std::unique_ptr<fnvmm::MicroVm> vm_;  // last member: destroyed (and its thread joined) first
};

// A failed outcome's detail by name ("" / 0 when absent).
std::string detail_str(const fnvmm::VmError& e, const std::string& name);
uint64_t detail_num(const fnvmm::VmError& e, const std::string& name, bool* found = nullptr);

}  // namespace fnsmoke

#endif
