// fake_vcpu.h — a scripted RunnableVcpu: each run() plays the next step, which fills in kvm_run the
// way KVM would for that exit.
#ifndef FN_VMM_TEST_FAKE_VCPU_H
#define FN_VMM_TEST_FAKE_VCPU_H

#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

#include "../errors.h"
#include "../vcpu_runner.h"

namespace fntest {

class FakeVcpu : public fnvmm::RunnableVcpu {
 public:
  using Step = std::function<int(kvm_run*)>;
  std::vector<Step> steps;
  size_t next = 0;
  kvm_regs regs{};
  kvm_sregs sregs{};
  bool regs_fail = false;

  FakeVcpu() { std::memset(mem_, 0, sizeof mem_); }
  int run() override {
    if (next >= steps.size()) return EIO;  // the script ran out: shows up as a 'kvm' error
    return steps[next++](run_data());
  }
  kvm_run* run_data() override { return reinterpret_cast<kvm_run*>(mem_); }
  size_t run_size() const override { return sizeof mem_; }
  kvm_regs get_regs() override {
    if (regs_fail) throw fnvmm::KvmError("KVM_GET_REGS", EBADF);
    return regs;
  }
  kvm_sregs get_sregs() override { return sregs; }

 private:
  alignas(4096) uint8_t mem_[8192];
};

// An I/O exit with the data in the second page of the mapping, as KVM lays it out.
inline FakeVcpu::Step io_exit(uint16_t port, uint8_t direction, uint8_t size, uint32_t value,
                              std::function<void()> before = nullptr) {
  return [=](kvm_run* run) {
    if (before) before();
    run->exit_reason = KVM_EXIT_IO;
    run->io.direction = direction;
    run->io.size = size;
    run->io.port = port;
    run->io.count = 1;
    run->io.data_offset = 4096;
    std::memcpy(reinterpret_cast<uint8_t*>(run) + 4096, &value, sizeof value);
    return 0;
  };
}

inline FakeVcpu::Step simple_exit(uint32_t reason, std::function<void(kvm_run*)> fill = nullptr) {
  return [=](kvm_run* run) {
    run->exit_reason = reason;
    if (fill) fill(run);
    return 0;
  };
}

inline FakeVcpu::Step fail_with(int err) {
  return [=](kvm_run* run) {
    run->exit_reason = KVM_EXIT_INTR;
    return err;
  };
}

}  // namespace fntest

#endif
