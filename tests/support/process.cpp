#include "support/process.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/temp_dir.hpp"

extern char** environ;  // NOLINT

namespace livery::testing {

namespace {
int counter() {
  static std::atomic<int> n{0};  // NOLINT: unique temp names within one test binary
  return n++;
}
}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv,
                           std::map<std::string, std::string> env,
                           std::string workdir) {
  std::string base =
      "/tmp/livery-child-" + std::to_string(::getpid()) + "-" + std::to_string(counter());
  out_path_ = base + ".out";
  err_path_ = base + ".err";
  std::map<std::string, std::string> merged;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) {
      merged[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  for (auto& [k, v] : env) {
    merged[k] = v;
  }
  std::vector<std::string> env_strings;
  for (auto& [k, v] : merged) {
    env_strings.push_back(k + "=" + v);
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!workdir.empty() && ::chdir(workdir.c_str()) != 0) {
      ::_exit(127);
    }
    std::vector<char*> args;
    for (auto& a : argv) {
      args.push_back(a.data());
    }
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env_strings) {
      envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    waitExit(std::chrono::seconds(10));
  }
  ::unlink(out_path_.c_str());
  ::unlink(err_path_.c_str());
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, sig);
  }
}

bool ChildProcess::running() {
  if (status_) {
    return false;
  }
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

std::optional<int> ChildProcess::waitExit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

std::string ChildProcess::out() const {
  return readFile(out_path_);
}
std::string ChildProcess::err() const {
  return readFile(err_path_);
}

bool ChildProcess::waitForOutput(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if ((out() + err()).find(needle) != std::string::npos) {
      return true;
    }
    if (!running() || std::chrono::steady_clock::now() > deadline) {
      return (out() + err()).find(needle) != std::string::npos;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string liveryBinary() {
  return std::string(LIVERY_BINARY_DIR) + "/src/livery";
}

std::uint16_t waitForListeningPort(ChildProcess& p, std::chrono::milliseconds timeout) {
  if (!p.waitForOutput("\"event\":\"listening\"", timeout)) {
    return 0;
  }
  std::string all = p.err() + p.out();
  auto at = all.find("\"event\":\"listening\"");
  auto port = all.find("\"port\":", at);
  if (at == std::string::npos || port == std::string::npos) {
    return 0;
  }
  return static_cast<std::uint16_t>(std::atoi(all.c_str() + port + 7));
}

}  // namespace livery::testing
