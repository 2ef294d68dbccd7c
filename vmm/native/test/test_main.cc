// test_main.cc — runs every registered test; prints "N passed, N failed" and exits non-zero on failure.
#include <cstdio>
#include <cstring>
#include <exception>

#include "check.h"

namespace fntest {
std::vector<TestCase>& registry() {
  static std::vector<TestCase> r;
  return r;
}
int g_check_failures = 0;
}  // namespace fntest

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const fntest::TestCase& t : fntest::registry()) {
    if (filter && !std::strstr(t.name, filter)) continue;
    fntest::g_check_failures = 0;
    bool threw = false;
    try {
      t.fn();
    } catch (const std::exception& e) {
      threw = true;
      std::fprintf(stderr, "    unexpected exception: %s\n", e.what());
    } catch (...) {
      threw = true;
      std::fprintf(stderr, "    unexpected non-std exception\n");
    }
    if (threw || fntest::g_check_failures) {
      ++failed;
      std::printf("FAIL %s\n", t.name);
    } else {
      ++passed;
      std::printf("ok   %s\n", t.name);
    }
    std::fflush(stdout);
  }
  std::printf("native: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
