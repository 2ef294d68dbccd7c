// fake_vcpu.h — a scripted RunnableVcpu: each run() plays the next step, which fills in kvm_run the
// way KVM would for that exit. Guest faults are played the way the CPU takes them (cpu_model.h):
// through the IDT the VMM wrote into a GuestMemory, onto the IST stack, into the fault stub.
#ifndef FN_VMM_TEST_FAKE_VCPU_H
#define FN_VMM_TEST_FAKE_VCPU_H

#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

#include "../errors.h"
#include "../guest_memory.h"
#include "../long_mode.h"
#include "../vcpu_runner.h"
#include "cpu_model.h"

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

// GuestMemory as the CPU model sees it.
class GuestMemoryCpu final : public cpu::Memory {
 public:
  explicit GuestMemoryCpu(const fnvmm::GuestMemory& m) : m_(m) {}
  uint8_t* host(uint64_t gpa, uint64_t len) override { return m_.host_range(fnvmm::GuestAddress(gpa), len); }

 private:
  const fnvmm::GuestMemory& m_;
};

// Guest RAM set up as MicroVm::create does it (descriptor tables, stubs, page tables; no ELF),
// and the registers of its CPL3 guest.
struct TestGuest {
  static constexpr uint64_t kRam = 8ull << 20;
  fnvmm::GuestMemory mem;
  kvm_regs regs{};
  kvm_sregs sregs{};
  TestGuest() {
    mem.add_region(fnvmm::GuestAddress(0), kRam);
    mem.add_region(fnvmm::GuestAddress(FN_WINDOW_ADDR), FN_WINDOW_SIZE);
    fnvmm::long_mode::write_descriptor_tables(mem);
    fnvmm::long_mode::write_page_tables(mem, kRam, {{fnvmm::GuestAddress(0x401000), 0x1000}});
    fnvmm::long_mode::setup_sregs(sregs);
    regs = fnvmm::long_mode::initial_regs(fnvmm::GuestAddress(0x401000), kRam);
  }
};

// The exit a CPU exception at `rip` causes: the CPU model delivers it (CR2 = `cr2` for a #PF)
// through g's tables and runs the stub to its `out` (KVM_EXIT_IO, RIP on the `out`) or hlt; a
// delivery that fails is a triple fault, with the state reset as KVM on AMD reports it. The vCPU's
// registers are g's afterwards.
inline FakeVcpu::Step cpu_fault(FakeVcpu& v, TestGuest& g, unsigned vector, uint64_t error, uint64_t rip,
                                uint64_t cr2 = 0) {
  return [&v, &g, vector, error, rip, cr2](kvm_run* run) {
    GuestMemoryCpu m(g.mem);
    g.regs.rip = rip;
    if (vector == 14) g.sregs.cr2 = cr2;
    cpu::StubStop st;
    if (cpu::raise(m, g.regs, g.sregs, vector, error)) st = cpu::run_stub(m, g.regs, g.sregs);
    if (st.kind == cpu::StubStop::Fault) {
      g.regs = kvm_regs{};
      g.regs.rip = 0xfff0;
      g.sregs.cs = kvm_segment{};
      g.sregs.cs.base = 0xffff0000;
      g.sregs.cs.selector = 0xf000;
      g.sregs.cr2 = 0;
      run->exit_reason = KVM_EXIT_SHUTDOWN;
    } else if (st.kind == cpu::StubStop::Hlt) {
      run->exit_reason = KVM_EXIT_HLT;
    } else {
      run->exit_reason = KVM_EXIT_IO;
      run->io.direction = KVM_EXIT_IO_OUT;
      run->io.size = st.size;
      run->io.port = st.port;
      run->io.count = 1;
      run->io.data_offset = 4096;
      std::memcpy(reinterpret_cast<uint8_t*>(run) + 4096, &st.value, sizeof st.value);
    }
    v.regs = g.regs;
    v.sregs = g.sregs;
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
