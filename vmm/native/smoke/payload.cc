#include "payload.h"

#include <cstdlib>
#include <cstring>

namespace fnsmoke {

std::vector<uint8_t> meta_and_bytes(const std::string& meta_json, const std::string& bytes) {
  std::vector<uint8_t> out(4 + meta_json.size() + bytes.size());
  const uint32_t n = static_cast<uint32_t>(meta_json.size());
  for (int i = 0; i < 4; i++) out[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 4, meta_json.data(), meta_json.size());
  std::memcpy(out.data() + 4 + meta_json.size(), bytes.data(), bytes.size());
  return out;
}

std::vector<uint8_t> load_input(const std::string& name, const std::string& module_source) {
  return meta_and_bytes("{\"name\":\"" + name + "\",\"env\":{},\"memoryMiB\":64}", module_source);
}

std::vector<uint8_t> invoke_input(const std::string& invocation_id, uint64_t deadline_ms) {
  return meta_and_bytes("{\"method\":\"GET\",\"url\":\"http://fn.test/\",\"headers\":[],\"invocationId\":\"" +
                            invocation_id + "\",\"deadlineMs\":" + std::to_string(deadline_ms) + "}",
                        "");
}

InvokeAnswer parse_invoke_output(const std::vector<uint8_t>& output) {
  InvokeAnswer a;
  if (output.size() < 4) {
    a.why = "output of " + std::to_string(output.size()) + " bytes, too short for a result";
    return a;
  }
  const uint32_t n = output[0] | (output[1] << 8) | (output[2] << 16) | (static_cast<uint32_t>(output[3]) << 24);
  if (n > output.size() - 4) {
    a.why = "meta length " + std::to_string(n) + " runs past the output";
    return a;
  }
  a.meta.assign(reinterpret_cast<const char*>(output.data()) + 4, n);
  a.body.assign(reinterpret_cast<const char*>(output.data()) + 4 + n, output.size() - 4 - n);
  // Not a JSON parser: the meta's "status" is a number written by the runtime's JSON.stringify.
  const std::string key = "\"status\":";
  const size_t at = a.meta.find(key);
  if (at != std::string::npos) a.status = std::strtol(a.meta.c_str() + at + key.size(), nullptr, 10);
  a.ok = true;
  return a;
}

}  // namespace fnsmoke
