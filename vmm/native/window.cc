#include "window.h"

#include <cstddef>
#include <cstring>

#include "errors.h"

namespace fnvmm {

WindowError::WindowError(std::string field, uint64_t value, const std::string& why)
    : std::runtime_error(format("guest wrote window header field %s = %llu (0x%llx): %s", field.c_str(),
                                (unsigned long long)value, (unsigned long long)value, why.c_str())),
      field_(std::move(field)),
      value_(value) {}

Window::Window(uint8_t* host, size_t size, uint64_t mem_size) : host_(host), mem_size_(mem_size) {
  if (host == nullptr || size != FN_WINDOW_SIZE)
    throw ConfigError(format("window mapping is %zu bytes, expected %llu", size, (unsigned long long)FN_WINDOW_SIZE));
}

void Window::init() {
  fn_window_header h{};
  h.magic = FN_WINDOW_MAGIC;
  h.abi_version = FN_ABI_VERSION;
  std::memcpy(host_, &h, sizeof h);
}

void Window::write_command(const WindowCommand& cmd) {
  if (cmd.input_len > FN_WINDOW_DATA_MAX || (cmd.input_len != 0 && cmd.input == nullptr))
    throw std::length_error(format("input of %zu bytes does not fit the window (max %llu)", cmd.input_len,
                                   (unsigned long long)FN_WINDOW_DATA_MAX));
  if (cmd.input_len != 0) std::memcpy(host_ + FN_WINDOW_DATA_OFFSET, cmd.input, cmd.input_len);
  fn_window_header h{};
  h.magic = FN_WINDOW_MAGIC;
  h.abi_version = FN_ABI_VERSION;
  h.command = cmd.command;
  h.input_len = static_cast<uint32_t>(cmd.input_len);
  h.now_unix_ns = cmd.now_unix_ns;
  h.tsc_khz = cmd.tsc_khz;
  std::memcpy(h.entropy, cmd.entropy, sizeof h.entropy);
  // Guest fields (status, output_len, guest_ns, heap_*, sleep_ns, reserved) are zero.
  std::memcpy(host_, &h, sizeof h);
}

void Window::refresh_now(uint64_t now_unix_ns) {
  std::memcpy(host_ + offsetof(fn_window_header, now_unix_ns), &now_unix_ns, sizeof now_unix_ns);
}

fn_window_header Window::snapshot() const {
  fn_window_header h;
  std::memcpy(&h, host_, sizeof h);
  return h;
}

GuestReport Window::read_report() const {
  const fn_window_header h = snapshot();  // read every field exactly once
  if (h.output_len > FN_WINDOW_DATA_MAX)
    throw WindowError("output_len", h.output_len, format("larger than the window data area (%llu bytes)",
                                                         (unsigned long long)FN_WINDOW_DATA_MAX));
  if (h.status > FN_STATUS_NOT_LOADED)
    throw WindowError("status", h.status, format("not an fn_status (0..%u)", (unsigned)FN_STATUS_NOT_LOADED));
  if (h.heap_used > mem_size_)
    throw WindowError("heap_used", h.heap_used, "larger than guest memory");
  if (h.heap_peak > mem_size_)
    throw WindowError("heap_peak", h.heap_peak, "larger than guest memory");
  GuestReport r;
  r.status = h.status;
  r.guest_ns = h.guest_ns;
  r.heap_used = h.heap_used;
  r.heap_peak = h.heap_peak;
  r.output.assign(host_ + FN_WINDOW_DATA_OFFSET, host_ + FN_WINDOW_DATA_OFFSET + h.output_len);
  return r;
}

uint64_t Window::read_sleep_ns() const {
  uint64_t v;
  std::memcpy(&v, host_ + offsetof(fn_window_header, sleep_ns), sizeof v);
  return v;
}

}  // namespace fnvmm
