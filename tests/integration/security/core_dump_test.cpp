// Issue 3 (and research/security.md): provider keys and data keys live in the gateway's memory,
// so `livery serve` must never write a core dump. The process sets RLIMIT_CORE to 0 and
// PR_SET_DUMPABLE to 0 at start (src/app/main.cpp). This test raises the core limit it hands
// to its children, kills the served process with SIGQUIT (whose default action dumps core) and
// checks that no core file appeared; a positive control shows that, on this machine and with
// the same limit, an ordinary process killed the same way does leave one. When the kernel's
// core_pattern does not write plain files the positive control cannot run and only the limit
// is checked.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include "integration/soak/live_gateway.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace livery {
namespace {

using namespace std::chrono_literals;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The "Max core file size" line of /proc/<pid>/limits, whitespace collapsed.
std::string coreLimitLine(pid_t pid) {
  std::istringstream in(readFile("/proc/" + std::to_string(pid) + "/limits"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max core file size", 0) == 0) {
      std::istringstream words(line);
      std::string w;
      std::string out;
      while (words >> w) {
        out += (out.empty() ? "" : " ") + w;
      }
      return out;
    }
  }
  return {};
}

bool hasCoreFile(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with("core")) {
      return true;
    }
  }
  return false;
}

// Raises this process's soft core limit (inherited by children) for the test's duration.
class CoreLimitRaised {
 public:
  CoreLimitRaised() {
    getrlimit(RLIMIT_CORE, &saved_);
    rlimit raised = saved_;
    raised.rlim_cur = saved_.rlim_max;
    ok_ = setrlimit(RLIMIT_CORE, &raised) == 0 && raised.rlim_cur != 0;
  }
  ~CoreLimitRaised() { setrlimit(RLIMIT_CORE, &saved_); }
  CoreLimitRaised(const CoreLimitRaised&) = delete;
  CoreLimitRaised& operator=(const CoreLimitRaised&) = delete;
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

TEST(CoreDumpTest, ServeDisablesCoreDumpsAndLeavesNoCoreFileWhenKilled) {
  testing::TempDir dir;
  CoreLimitRaised raised;
  // With a hard core limit of 0 or a core_pattern that does not write into the working directory,
  // no process can leave a core file there, and only the process's own limit is checked.
  const bool empirical = raised.ok() && [] {
    auto pattern = readFile("/proc/sys/kernel/core_pattern");
    return !pattern.empty() && pattern[0] != '|' && pattern.find('/') == std::string::npos;
  }();
  if (!empirical) {
    std::printf("core_dump_test: core files cannot be observed here; checking the limit only\n");
  }

  // Positive control: an ordinary process, same limit, same signal.
  std::filesystem::create_directories(dir.file("control"));
  if (empirical) {
    testing::ChildProcess control({"/bin/sleep", "60"}, {}, dir.file("control"));
    EXPECT_NE(coreLimitLine(control.pid()), "Max core file size 0 0 bytes");
    std::this_thread::sleep_for(200ms);
    control.signal(SIGQUIT);
    EXPECT_EQ(control.waitExit(10s), 128 + SIGQUIT);
    EXPECT_TRUE(hasCoreFile(dir.file("control")))
        << "the positive control left no core file: this check cannot fail here";
  }

  std::filesystem::create_directories(dir.file("gateway"));
  testing::LiveGateway gw(dir.file("data"), {"log.level=info"});
  gw.createTenant("coretest");
  gw.setWorkdir(dir.file("gateway"));
  gw.start(1);
  EXPECT_EQ(coreLimitLine(gw.pid()), "Max core file size 0 0 bytes");
  gw.process().signal(SIGQUIT);
  auto code = gw.process().waitExit(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 128 + SIGQUIT) << gw.output().substr(0, 2000);
  EXPECT_FALSE(hasCoreFile(dir.file("gateway"))) << "livery serve left a core dump";
  EXPECT_FALSE(hasCoreFile(dir.file("data")));
}

}  // namespace
}  // namespace livery
