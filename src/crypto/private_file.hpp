#pragma once

// Files that hold secrets (the local KEK keyring, the API-key pepper): read only when they are
// private to this user, written atomically with mode 0600. Blocking file I/O: start-up, CLI and
// offload-pool code only.

#include <chrono>
#include <cstddef>
#include <string>

#include "core/error.hpp"
#include "core/secret.hpp"

namespace livery::crypto {

// Reads a whole secret file. Refuses (kInternal, message naming the file and its mode) when it
// is not a regular file, is a symlink, is not owned by the effective user (unless running as
// root), has any group/other permission bit (mode & 077), or is larger than `max_bytes`.
// kNotFound when it does not exist.
Result<SecretBytes> readPrivateFile(const std::string& path, std::size_t max_bytes);

enum class WriteMode {
  kCreateNew,  // fails with kConflict if `path` already exists (first-start races)
  kReplace,    // atomically replaces an existing file
};

// Writes `bytes` to a temporary file in the same directory (mode 0600), fsyncs it, then links
// (kCreateNew) or renames (kReplace) it into place and fsyncs the directory: readers see the
// old or the new content, never a torn file, and the change survives a crash.
Result<void> writePrivateFile(const std::string& path, const SecretBytes& bytes, WriteMode mode);

// An exclusive advisory lock (flock) on `<path>.lock`, serialising read-modify-write cycles
// across processes (the server and the CLI). Waits at most `timeout` (kUnavailable after).
// Released on destruction.
class PrivateFileLock {
 public:
  static Result<PrivateFileLock> acquire(
      const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  PrivateFileLock(PrivateFileLock&& other) noexcept;
  PrivateFileLock& operator=(PrivateFileLock&&) = delete;
  PrivateFileLock(const PrivateFileLock&) = delete;
  PrivateFileLock& operator=(const PrivateFileLock&) = delete;
  ~PrivateFileLock();

 private:
  explicit PrivateFileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// "0644"-style rendering of the permission bits, for messages.
std::string modeString(unsigned mode);

}  // namespace livery::crypto
