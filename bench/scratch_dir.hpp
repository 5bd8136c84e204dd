#pragma once
// A temporary directory for a benchmark's database files, removed with everything in it when the
// object goes. Under $TMPDIR (default /tmp). Not thread-safe; owned by one benchmark fixture.

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include <stdlib.h>  // mkdtemp

namespace livery::bench {

class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): bench set-up
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/livery-bench.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace livery::bench
