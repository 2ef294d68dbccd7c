// Window: host fields in, guest fields validated and copied out. The guest is hostile.
#include <cstddef>
#include <cstring>

#include "../errors.h"
#include "../guest_memory.h"
#include "../window.h"
#include "check.h"
#include "fn_abi.h"

using namespace fnvmm;

namespace {

constexpr uint64_t kMem = 64ull << 20;

struct Fixture {
  GuestMemory mem;
  uint8_t* host;
  Window window;
  Fixture()
      : host((mem.add_region(GuestAddress(FN_WINDOW_ADDR), FN_WINDOW_SIZE), mem.region(0).mapping.host())),
        window(host, FN_WINDOW_SIZE, kMem) {
    window.init();
  }
  fn_window_header header() const {
    fn_window_header h;
    std::memcpy(&h, host, sizeof h);
    return h;
  }
  template <typename T>
  void poke(size_t offset, T v) { std::memcpy(host + offset, &v, sizeof v); }
};

void expect_window_error(Fixture& f, const char* field, uint64_t value) {
  bool thrown = false;
  try {
    f.window.read_report();
  } catch (const WindowError& e) {
    thrown = true;
    CHECK_MSG(e.field() == field, "field %s, expected %s", e.field().c_str(), field);
    CHECK_MSG(e.value() == value, "value 0x%llx, expected 0x%llx", (unsigned long long)e.value(), (unsigned long long)value);
    CHECK_MSG(fntest::contains(e.what(), field), "message \"%s\" does not name %s", e.what(), field);
  }
  CHECK_MSG(thrown, "no WindowError for %s = 0x%llx", field, (unsigned long long)value);
}

}  // namespace

TEST(window_header_matches_the_abi) {
  CHECK_EQ(sizeof(fn_window_header), 128u);
  CHECK_EQ(offsetof(fn_window_header, command), 8u);
  CHECK_EQ(offsetof(fn_window_header, input_len), 12u);
  CHECK_EQ(offsetof(fn_window_header, now_unix_ns), 16u);
  CHECK_EQ(offsetof(fn_window_header, tsc_khz), 24u);
  CHECK_EQ(offsetof(fn_window_header, entropy), 32u);
  CHECK_EQ(offsetof(fn_window_header, status), 0x40u);
  CHECK_EQ(offsetof(fn_window_header, output_len), 0x44u);
  CHECK_EQ(offsetof(fn_window_header, guest_ns), 0x48u);
  CHECK_EQ(offsetof(fn_window_header, heap_used), 0x50u);
  CHECK_EQ(offsetof(fn_window_header, heap_peak), 0x58u);
  CHECK_EQ(offsetof(fn_window_header, sleep_ns), 0x60u);
}

TEST(window_write_command_sets_host_fields_and_clears_guest_fields) {
  Fixture f;
  CHECK_EQ(f.header().magic, FN_WINDOW_MAGIC);
  CHECK_EQ(f.header().abi_version, FN_ABI_VERSION);
  // Stale guest output from a previous command.
  f.poke<uint32_t>(offsetof(fn_window_header, status), 3);
  f.poke<uint32_t>(offsetof(fn_window_header, output_len), 77);
  f.poke<uint64_t>(offsetof(fn_window_header, sleep_ns), 99);
  f.poke<uint32_t>(offsetof(fn_window_header, magic), 0);

  const uint8_t input[] = {'h', 'e', 'l', 'l', 'o'};
  WindowCommand c;
  c.command = FN_CMD_INVOKE;
  c.input = input;
  c.input_len = sizeof input;
  c.now_unix_ns = 1700000000123456789ull;
  c.tsc_khz = 2400000;
  for (int i = 0; i < 32; ++i) c.entropy[i] = static_cast<uint8_t>(i * 7);
  f.window.write_command(c);

  fn_window_header h = f.header();
  CHECK_EQ(h.magic, FN_WINDOW_MAGIC);
  CHECK_EQ(h.command, (uint32_t)FN_CMD_INVOKE);
  CHECK_EQ(h.input_len, 5u);
  CHECK_EQ(h.now_unix_ns, 1700000000123456789ull);
  CHECK_EQ(h.tsc_khz, 2400000u);
  CHECK(std::memcmp(h.entropy, c.entropy, 32) == 0);
  CHECK_EQ(h.status, 0u);
  CHECK_EQ(h.output_len, 0u);
  CHECK_EQ(h.sleep_ns, 0u);
  CHECK(std::memcmp(f.host + FN_WINDOW_DATA_OFFSET, "hello", 5) == 0);

  f.window.refresh_now(42);
  CHECK_EQ(f.header().now_unix_ns, 42u);
  CHECK_EQ(f.header().tsc_khz, 2400000u);

  c.input_len = FN_WINDOW_DATA_MAX + 1;
  CHECK_THROWS(std::length_error, f.window.write_command(c), "does not fit");
  std::vector<uint8_t> big(FN_WINDOW_DATA_MAX, 0x5A);
  c.input = big.data();
  c.input_len = big.size();
  f.window.write_command(c);  // exactly full is fine
  CHECK_EQ(f.host[FN_WINDOW_SIZE - 1], 0x5Au);
}

TEST(window_report_is_copied_out) {
  Fixture f;
  std::memcpy(f.host + FN_WINDOW_DATA_OFFSET, "result!", 7);
  f.poke<uint32_t>(offsetof(fn_window_header, status), FN_STATUS_LOAD_ERROR);
  f.poke<uint32_t>(offsetof(fn_window_header, output_len), 7);
  f.poke<uint64_t>(offsetof(fn_window_header, guest_ns), 1234);
  f.poke<uint64_t>(offsetof(fn_window_header, heap_used), 4096);
  f.poke<uint64_t>(offsetof(fn_window_header, heap_peak), 8192);
  GuestReport r = f.window.read_report();
  CHECK_EQ(r.status, (uint32_t)FN_STATUS_LOAD_ERROR);
  CHECK_EQ(r.output.size(), 7u);
  CHECK_EQ(r.guest_ns, 1234u);
  CHECK_EQ(r.heap_used, 4096u);
  CHECK_EQ(r.heap_peak, 8192u);
  // The guest scribbles after the host validated: the host's copy does not change.
  std::memcpy(f.host + FN_WINDOW_DATA_OFFSET, "XXXXXXX", 7);
  f.poke<uint32_t>(offsetof(fn_window_header, output_len), 0xFFFFFFFF);
  CHECK(std::memcmp(r.output.data(), "result!", 7) == 0);

  f.poke<uint64_t>(offsetof(fn_window_header, sleep_ns), 5000000);
  CHECK_EQ(f.window.read_sleep_ns(), 5000000u);
}

TEST(window_rejects_hostile_output_len) {
  Fixture f;
  for (uint64_t bad : {uint64_t{FN_WINDOW_DATA_MAX} + 1, uint64_t{FN_WINDOW_SIZE}, uint64_t{0x80000000u}, uint64_t{0xFFFFFFFFu}}) {
    f.poke<uint32_t>(offsetof(fn_window_header, output_len), static_cast<uint32_t>(bad));
    expect_window_error(f, "output_len", bad);
  }
  f.poke<uint32_t>(offsetof(fn_window_header, output_len), static_cast<uint32_t>(FN_WINDOW_DATA_MAX));
  CHECK_EQ(f.window.read_report().output.size(), FN_WINDOW_DATA_MAX);  // the maximum itself is fine
}

TEST(window_rejects_status_out_of_range) {
  Fixture f;
  for (uint32_t bad : {5u, 6u, 0x100u, 0xFFFFFFFFu}) {
    f.poke<uint32_t>(offsetof(fn_window_header, status), bad);
    expect_window_error(f, "status", bad);
  }
  for (uint32_t ok = 0; ok <= FN_STATUS_NOT_LOADED; ++ok) {
    f.poke<uint32_t>(offsetof(fn_window_header, status), ok);
    CHECK_EQ(f.window.read_report().status, ok);
  }
}

TEST(window_rejects_impossible_heap_figures) {
  Fixture f;
  f.poke<uint64_t>(offsetof(fn_window_header, heap_used), kMem + 1);
  expect_window_error(f, "heap_used", kMem + 1);
  f.poke<uint64_t>(offsetof(fn_window_header, heap_used), 0);
  f.poke<uint64_t>(offsetof(fn_window_header, heap_peak), ~0ull);
  expect_window_error(f, "heap_peak", ~0ull);
}

TEST(window_requires_the_full_mapping) {
  uint8_t small[16];
  CHECK_THROWS(ConfigError, Window(small, sizeof small, kMem), "window mapping");
}
