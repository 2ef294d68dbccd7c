// report.h — the smoke test's output: one line per check, `ok <name> (<s> s)` or `FAIL <name>: why`,
// and a closing `intel-smoke: N passed, M failed`. Before each check a `# <name>` line says what
// runs next, so a harness that must kill a hung machine can name the check that hung. Every line is
// flushed at once: under Bochs the output leaves through the serial port, and whatever was printed
// before a hang must be there.
#ifndef FN_SMOKE_REPORT_H
#define FN_SMOKE_REPORT_H

#include <chrono>
#include <cstdio>
#include <string>

namespace fnsmoke {

class Report {
 public:
  void note(const std::string& text) { line("# " + text); }
  void begin(const std::string& name) {
    name_ = name;
    start_ = std::chrono::steady_clock::now();
    note(name);
  }
  // Ends the check begun last: ok when `why` is empty.
  void end(const std::string& why) {
    if (why.empty()) {
      passed_++;
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.2f",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
      line("ok " + name_ + " (" + secs + " s)");
    } else {
      failed_++;
      line("FAIL " + name_ + ": " + why);
    }
  }
  // A check that could not run because an earlier one failed still counts as failed.
  void blocked(const std::string& name, const std::string& why) {
    name_ = name;
    end("not run: " + why);
  }
  int summary() {
    line("intel-smoke: " + std::to_string(passed_) + " passed, " + std::to_string(failed_) + " failed");
    return failed_ == 0 ? 0 : 1;
  }

 private:
  static void line(const std::string& s) {
    std::fputs((s + "\n").c_str(), stdout);
    std::fflush(stdout);
  }
  std::string name_;
  std::chrono::steady_clock::time_point start_;
  int passed_ = 0, failed_ = 0;
};

}  // namespace fnsmoke

#endif
