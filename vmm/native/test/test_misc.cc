// Errors, guest memory bounds, the /dev/kvm probe (which must never throw), and the kernel's C layout
// of the ioctl structs with flexible arrays.
#include <cerrno>
#include <climits>
#include <cstring>

#include "../errors.h"
#include "../guest_memory.h"
#include "../kvm.h"
#include "../kvm_ioctls.h"
#include "check.h"
#include "fn_abi.h"

using namespace fnvmm;
namespace kvm_abi = fnvmm::kvm_abi;

TEST(errno_names_and_kvm_error_messages) {
  CHECK(errno_name(EINVAL) == "EINVAL");
  CHECK(errno_name(ENOENT) == "ENOENT");
  CHECK(errno_name(9999) == "E9999");
  KvmError e("KVM_SET_SREGS", EINVAL);
  CHECK(fntest::contains(e.what(), "KVM_SET_SREGS failed: EINVAL (Invalid argument)"));
  CHECK(e.op() == "KVM_SET_SREGS" && e.error() == EINVAL);
  KvmError d("KVM_SET_USER_MEMORY_REGION", EEXIST, "slot 1");
  CHECK(fntest::contains(d.what(), "EEXIST"));
  CHECK(fntest::contains(d.what(), "slot 1"));
}

TEST(guest_memory_bounds) {
  GuestMemory m;
  m.add_region(GuestAddress(0), 1 << 20);
  m.add_region(GuestAddress(FN_WINDOW_ADDR), FN_WINDOW_SIZE);
  CHECK(m.contains(GuestAddress(0), 1 << 20));
  CHECK(!m.contains(GuestAddress(0), (1 << 20) + 1));
  CHECK(!m.contains(GuestAddress(1 << 20), 1));
  CHECK(m.contains(GuestAddress((1 << 20) - 1), 1));
  CHECK(!m.contains(GuestAddress(~0ull - 2), 8));   // wraps
  CHECK(!m.contains(GuestAddress(8), ~0ull));        // huge length
  CHECK(!m.contains(GuestAddress(FN_WINDOW_ADDR - 4), 8));  // straddles a hole
  CHECK(m.contains(GuestAddress(FN_WINDOW_ADDR + FN_WINDOW_SIZE - 8), 8));
  CHECK(m.host_range(GuestAddress(0x10), 4) == m.region(0).mapping.host() + 0x10);
  CHECK_THROWS(GuestMemoryError, m.write_obj<uint64_t>(GuestAddress((1 << 20) - 4), 1), "outside guest memory");
  CHECK_THROWS(GuestMemoryError, m.fill(GuestAddress(FN_WINDOW_ADDR), 0, FN_WINDOW_SIZE + 1), "outside");
  uint64_t before = m.resident_bytes();
  m.fill(GuestAddress(0), 1, 64 * 1024);
  CHECK(m.resident_bytes() >= before + 64 * 1024);
}

TEST(guest_memory_rejects_bad_regions) {
  GuestMemory m;
  m.add_region(GuestAddress(0), 1 << 20);
  CHECK_THROWS(ConfigError, m.add_region(GuestAddress(0x80000), 1 << 20), "overlaps");
  CHECK_THROWS(ConfigError, m.add_region(GuestAddress(0x100001), 4096), "not page aligned");
  CHECK_THROWS(ConfigError, m.add_region(GuestAddress(0x200000), 100), "not page aligned");
  CHECK_THROWS(ConfigError, m.add_region(GuestAddress(~0ull & ~0xFFFull), 0x2000), "wraps");
}

TEST(probe_never_throws_and_names_the_problem) {
  ProbeResult missing = probe_kvm("/nonexistent/kvm");
  CHECK(!missing.ok);
  CHECK(missing.code == "ENOENT");
  CHECK(fntest::contains(missing.message, "not found"));
  ProbeResult not_kvm = probe_kvm("/dev/null");  // opens, but the ioctl is not KVM's
  CHECK(!not_kvm.ok);
  CHECK_MSG(not_kvm.code == "ENOTTY", "code %s", not_kvm.code.c_str());
  CHECK(fntest::contains(not_kvm.message, "KVM_GET_API_VERSION"));
  CHECK_THROWS(KvmUnavailableError, Kvm::open("/nonexistent/kvm"), "not found");
  try {
    Kvm::open("/nonexistent/kvm");
  } catch (const KvmUnavailableError& e) {
    CHECK(e.code() == "ENOENT");
  }
}

// From kvm_c_layout.c, compiled as C: what the kernel reads.
extern "C" {
extern const size_t fn_c_kvm_msrs_entries, fn_c_kvm_msrs_size, fn_c_kvm_cpuid2_entries, fn_c_kvm_cpuid2_size,
    fn_c_kvm_xsave_size, fn_c_kvm_msr_entry_size, fn_c_kvm_cpuid_entry2_size;
extern const unsigned long fn_c_ioctls[7];
}

TEST(flexible_array_structs_have_the_kernels_c_layout) {
  CHECK_EQ(kvm_abi::kMsrsEntriesOffset, fn_c_kvm_msrs_entries);
  CHECK_EQ(sizeof(kvm_abi::MsrsHeader), fn_c_kvm_msrs_size);
  CHECK_EQ(kvm_abi::kCpuid2EntriesOffset, fn_c_kvm_cpuid2_entries);
  CHECK_EQ(sizeof(kvm_abi::Cpuid2Header), fn_c_kvm_cpuid2_size);
  CHECK_EQ(sizeof(kvm_abi::XsaveRegion), fn_c_kvm_xsave_size);
  CHECK_EQ(sizeof(kvm_msr_entry), fn_c_kvm_msr_entry_size);
  CHECK_EQ(sizeof(kvm_cpuid_entry2), fn_c_kvm_cpuid_entry2_size);
  const unsigned long ours[7] = {kvm_abi::kGetSupportedCpuid, kvm_abi::kSetCpuid2, kvm_abi::kGetMsrs, kvm_abi::kSetMsrs,
                                 kvm_abi::kGetXsave,          kvm_abi::kSetXsave,  kvm_abi::kGetXsave2};
  for (int i = 0; i < 7; ++i) CHECK_MSG(ours[i] == fn_c_ioctls[i], "ioctl %d: 0x%lx, C has 0x%lx", i, ours[i], fn_c_ioctls[i]);

  // The bytes the kernel gets: count at 0, the entries from offset 8 on.
  kvm_abi::MsrsBuffer m(2);
  m.header().nmsrs = 2;
  m.entries()[1].index = 0xC0000082;
  m.entries()[1].data = 0x5000;
  const uint8_t* b = static_cast<const uint8_t*>(m.data());
  uint32_t n, index;
  uint64_t data;
  std::memcpy(&n, b, 4);
  std::memcpy(&index, b + 8 + 16, 4);
  std::memcpy(&data, b + 8 + 16 + 8, 8);
  CHECK(n == 2 && index == 0xC0000082 && data == 0x5000);
  CHECK(reinterpret_cast<uintptr_t>(m.entries()) % 8 == 0);
  // And the other side's view (fake_kvm.cc) of the same bytes agrees.
  CHECK(kvm_abi::msrs_header(m.data())->nmsrs == 2 && kvm_abi::msrs_entries(m.data())[1].index == 0xC0000082);

  kvm_abi::Cpuid2Buffer c(3);
  c.header().nent = 3;
  c.entries()[2].function = 0x80000001;
  c.entries()[2].edx = 0x12345678;
  const uint8_t* cb = static_cast<const uint8_t*>(c.data());
  uint32_t function, edx;
  std::memcpy(&function, cb + 8 + 2 * 40, 4);
  std::memcpy(&edx, cb + 8 + 2 * 40 + 24, 4);
  CHECK(function == 0x80000001 && edx == 0x12345678);
  CHECK(kvm_abi::cpuid2_entries(c.data())[2].edx == 0x12345678);
}
