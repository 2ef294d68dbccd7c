// Errors, guest memory bounds, and the /dev/kvm probe (which must never throw).
#include <cerrno>
#include <climits>

#include "../errors.h"
#include "../guest_memory.h"
#include "../kvm.h"
#include "check.h"
#include "fn_abi.h"

using namespace fnvmm;

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
