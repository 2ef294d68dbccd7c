// payload.h — the window payloads of fn_abi.h as the smoke test needs them: `u32 meta_len | meta
// JSON | bytes` for LOAD (the bundle's source text) and INVOKE (the request body), and the INVOKE
// answer split the same way. The TypeScript side (vmm/src/payload.ts) is the real encoder; this is
// the same framing without Node.
#ifndef FN_SMOKE_PAYLOAD_H
#define FN_SMOKE_PAYLOAD_H

#include <cstdint>
#include <string>
#include <vector>

namespace fnsmoke {

// u32 little-endian meta length | meta | bytes.
std::vector<uint8_t> meta_and_bytes(const std::string& meta_json, const std::string& bytes);

// LOAD input: the module source is sent as UTF-8 text (the guest compiles it).
std::vector<uint8_t> load_input(const std::string& name, const std::string& module_source);

// INVOKE input: a GET of http://fn.test/ with no headers and no body.
std::vector<uint8_t> invoke_input(const std::string& invocation_id, uint64_t deadline_ms);

struct InvokeAnswer {
  bool ok = false;      // the framing held together
  std::string why;      // when !ok
  std::string meta;     // the meta JSON text
  std::string body;
  long status = -1;     // meta's "status", -1 if absent
};
// Splits an INVOKE output; the guest is not trusted, so every length is checked.
InvokeAnswer parse_invoke_output(const std::vector<uint8_t>& output);

}  // namespace fnsmoke

#endif
