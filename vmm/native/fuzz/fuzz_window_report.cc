// fuzz_window_report — the KVM host reading what a guest wrote into the shared window at a
// READY / DONE / PANIC doorbell (window.cc). The guest is hostile and controls every byte of the
// window: each report must be refused with a WindowError naming the field, or accepted with an
// output that lies inside the window's data area and equals the bytes there.
//
// Input: the first FN_WINDOW_HEADER_SIZE bytes are the header as the guest left it (short inputs
// are zero-padded), the rest is written at the start of the data area. The window is a heap
// buffer of exactly FN_WINDOW_SIZE bytes, so AddressSanitizer catches any read past it.
#include <algorithm>
#include <memory>

#include "fuzz_support.h"
#include "window.h"

using namespace fnvmm;

static constexpr uint64_t kMemSize = 64ull << 20;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<uint8_t[]> host(new uint8_t[FN_WINDOW_SIZE]());
  static Window window(host.get(), FN_WINDOW_SIZE, kMemSize);
  uint8_t* w = host.get();
  std::memset(w, 0, FN_WINDOW_HEADER_SIZE);
  std::memcpy(w, data, std::min<size_t>(size, FN_WINDOW_HEADER_SIZE));
  const size_t body = size > FN_WINDOW_HEADER_SIZE ? size - FN_WINDOW_HEADER_SIZE : 0;
  if (body) std::memcpy(w + FN_WINDOW_DATA_OFFSET, data + FN_WINDOW_HEADER_SIZE, body);

  fn_window_header h;
  std::memcpy(&h, w, sizeof h);
  (void)window.read_sleep_ns();
  try {
    const GuestReport r = window.read_report();
    FUZZ_CHECK(r.output.size() == h.output_len && h.output_len <= FN_WINDOW_DATA_MAX, "accepted output length is not the header's, or runs past the window");
    FUZZ_CHECK(r.output.empty() || std::memcmp(r.output.data(), w + FN_WINDOW_DATA_OFFSET, r.output.size()) == 0,
               "accepted output differs from the window's bytes");
    FUZZ_CHECK(r.status <= FN_STATUS_NOT_LOADED, "accepted a status that is not an fn_status");
    FUZZ_CHECK(r.heap_used <= kMemSize && r.heap_peak <= kMemSize, "accepted heap figures larger than guest memory");
  } catch (const WindowError& e) {
    const std::string& f = e.field();
    FUZZ_CHECK(f == "output_len" || f == "status" || f == "heap_used" || f == "heap_peak", "a refusal names no header field");
  }
  // The host's next command must not depend on anything the guest left behind.
  WindowCommand cmd;
  cmd.command = FN_CMD_INVOKE;
  window.write_command(cmd);
  FUZZ_CHECK(window.read_report().output.empty(), "a fresh command leaves guest output in the header");
  return 0;
}
