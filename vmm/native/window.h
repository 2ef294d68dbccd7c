// window.h — the host side of the shared window (struct fn_window_header + data, fn_abi.h).
//
// Threads: write_command() runs on the JS thread while the vCPU thread is parked (no exchange in
// flight, ordered by VmWorker's mutex); every other method runs on the vCPU thread while the guest is
// stopped in an exit. The guest is hostile: every guest-written field is read once into a private
// copy, validated, and output bytes are copied out before the guest runs again, so nothing the host
// validated can change under it.
#ifndef FN_VMM_WINDOW_H
#define FN_VMM_WINDOW_H

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "fn_abi.h"

namespace fnvmm {

static_assert(sizeof(fn_window_header) == FN_WINDOW_HEADER_SIZE, "fn_window_header size changed");
static_assert(FN_WINDOW_HEADER_SIZE <= FN_WINDOW_DATA_OFFSET, "header overlaps data");

// A guest-written field failed validation. field() is the fn_window_header field name.
class WindowError : public std::runtime_error {
 public:
  WindowError(std::string field, uint64_t value, const std::string& why);
  const std::string& field() const { return field_; }
  uint64_t value() const { return value_; }

 private:
  std::string field_;
  uint64_t value_;
};

struct WindowCommand {
  uint32_t command = FN_CMD_NONE;
  const uint8_t* input = nullptr;
  size_t input_len = 0;  // <= FN_WINDOW_DATA_MAX, checked by the caller (and again here)
  uint64_t now_unix_ns = 0;
  uint64_t tsc_khz = 0;
  uint8_t entropy[32] = {};
};

// What the guest reported with a READY / DONE / PANIC doorbell, validated and copied out.
struct GuestReport {
  uint32_t status = 0;
  std::vector<uint8_t> output;
  uint64_t guest_ns = 0;
  uint64_t heap_used = 0;
  uint64_t heap_peak = 0;
};

class Window {
 public:
  // `host` maps the window slot (FN_WINDOW_SIZE bytes); mem_size bounds the heap figures.
  Window(uint8_t* host, size_t size, uint64_t mem_size);

  // Writes magic and ABI version; zeroes the rest of the header.
  void init();
  // Hands a command in: host fields, input bytes, and zeroed guest fields (so stale values from the
  // last command are never mistaken for new ones). Throws std::length_error if input is too long.
  void write_command(const WindowCommand& cmd);
  // Refreshes now_unix_ns after a SLEEP.
  void refresh_now(uint64_t now_unix_ns);

  // Validates and copies out the guest's report. Throws WindowError.
  GuestReport read_report() const;
  // The guest's sleep request with FN_EVENT_SLEEP (any value is acceptable: the caller clamps it).
  uint64_t read_sleep_ns() const;

 private:
  fn_window_header snapshot() const;
  uint8_t* host_;
  uint64_t mem_size_;
};

}  // namespace fnvmm

#endif
