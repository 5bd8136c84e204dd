#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace livery::testing {

// A child process with stdout and stderr captured to files (no pipe deadlocks). Killed with
// SIGKILL on destruction if still running.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv,
               std::map<std::string, std::string> env = {},
               std::string workdir = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Exit code (or 128+signal) once the process ends within `timeout`.
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  bool running();
  std::string out() const;
  std::string err() const;
  // Waits until stdout+stderr contain `needle`; returns false on timeout or exit.
  bool waitForOutput(const std::string& needle, std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_;
  std::string err_path_;
};

// Path of the livery binary under test.
std::string liveryBinary();

// Starts `livery serve` on 127.0.0.1:0 with the given data dir and extra args; waits for the
// "listening" log line and returns the port (0 on failure).
std::uint16_t waitForListeningPort(ChildProcess& p, std::chrono::milliseconds timeout);

}  // namespace livery::testing
