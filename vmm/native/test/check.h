// check.h — a minimal test harness: no framework dependency, plain checks with clear messages.
// Each CHECK failure prints file:line, the expression and a message, and the run continues; main()
// prints one result line per test (harness.cjs's format, for vitest: vmm/src/native-core.test.ts),
// then "N passed, N failed", and exits non-zero on any failure.
#ifndef FN_VMM_TEST_CHECK_H
#define FN_VMM_TEST_CHECK_H

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace fntest {

struct TestCase {
  const char* name;
  std::function<void()> fn;
};
std::vector<TestCase>& registry();
extern int g_check_failures;  // failures within the current test
// Prints a failed check on stderr and keeps it for the test's result line (test_main.cc).
void check_failed(const char* file, int line, const char* cond, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace fntest

#define FN_CAT2(a, b) a##b
#define FN_CAT(a, b) FN_CAT2(a, b)
#define TEST(name)                                                          \
  static void name();                                                       \
  static ::fntest::Register FN_CAT(reg_, name)(#name, name);                \
  static void name()

#define CHECK_MSG(cond, ...)                                                   \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++::fntest::g_check_failures;                                            \
      ::fntest::check_failed(__FILE__, __LINE__, #cond, __VA_ARGS__);          \
    }                                                                          \
  } while (0)
#define CHECK(cond) CHECK_MSG(cond, "(no message)")
#define CHECK_EQ(a, b)                                                                       \
  CHECK_MSG((a) == (b), "%s = 0x%llx, expected %s = 0x%llx", #a, (unsigned long long)(a), #b, \
            (unsigned long long)(b))

// Runs `stmt`, expects it to throw `Ex` whose what() contains `needle`.
#define CHECK_THROWS(Ex, stmt, needle)                                                        \
  do {                                                                                        \
    bool thrown_ = false;                                                                     \
    try {                                                                                     \
      stmt;                                                                                   \
    } catch (const Ex& e_) {                                                                  \
      thrown_ = true;                                                                         \
      CHECK_MSG(::fntest::contains(e_.what(), needle), "message \"%s\" lacks \"%s\"", e_.what(), needle); \
    }                                                                                         \
    CHECK_MSG(thrown_, "expected %s from: %s", #Ex, #stmt);                                   \
  } while (0)

#endif
