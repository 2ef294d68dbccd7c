// test_main.cc — runs every registered test (or those whose name contains argv[1]). Per test it
// prints "ok   NAME" / "FAIL NAME" for people, and one result line for vitest
// (vmm/src/native-core.test.ts makes each one a test of its own):
//   ##fn-test {"suite":"native","name":NAME,"ok":BOOL,"detail":FAILED CHECKS}
// then "native: N passed, N failed"; exits non-zero on any failure.
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "check.h"

namespace fntest {
std::vector<TestCase>& registry() {
  static std::vector<TestCase> r;
  return r;
}
int g_check_failures = 0;
namespace {
std::string g_detail;  // the current test's failed checks
}

void check_failed(const char* file, int line, const char* cond, const char* fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char head[512];
  std::snprintf(head, sizeof head, "CHECK FAILED %s:%d: %s", file, line, cond);
  std::fprintf(stderr, "    %s\n      %s\n", head, msg);
  g_detail += std::string(head) + "\n  " + msg + "\n";
}
}  // namespace fntest

namespace {
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char u[8];
      std::snprintf(u, sizeof u, "\\u%04x", c);  // bytes past ASCII too: the line stays valid JSON
      out += u;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}
}  // namespace

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const fntest::TestCase& t : fntest::registry()) {
    if (filter && !std::strstr(t.name, filter)) continue;
    fntest::g_check_failures = 0;
    fntest::g_detail.clear();
    bool threw = false;
    try {
      t.fn();
    } catch (const std::exception& e) {
      threw = true;
      std::fprintf(stderr, "    unexpected exception: %s\n", e.what());
      fntest::g_detail += std::string("unexpected exception: ") + e.what() + "\n";
    } catch (...) {
      threw = true;
      std::fprintf(stderr, "    unexpected non-std exception\n");
      fntest::g_detail += "unexpected non-std exception\n";
    }
    const bool ok = !threw && fntest::g_check_failures == 0;
    if (ok)
      ++passed;
    else
      ++failed;
    std::fflush(stderr);
    std::printf("%s %s\n##fn-test {\"suite\":\"native\",\"name\":%s,\"ok\":%s,\"detail\":%s}\n", ok ? "ok  " : "FAIL",
                t.name, json_string(t.name).c_str(), ok ? "true" : "false", json_string(fntest::g_detail).c_str());
    std::fflush(stdout);
  }
  std::printf("native: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
