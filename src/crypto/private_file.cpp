#include "crypto/private_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace livery::crypto {
namespace {

std::string errnoText(int err) {
  return std::string(std::strerror(err));  // NOLINT(concurrency-mt-unsafe): glibc uses a TLS buffer
}

Error ioError(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + errnoText(err);
  return fail(ErrorCode::kInternal, msg, msg);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Result<void> writeAll(int fd,
                      const unsigned char* data,
                      std::size_t size,
                      const std::string& path) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ioError("cannot write", path, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<void> fsyncDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) {
    dir = ".";
  }
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    return ioError("cannot open directory", dir, errno);
  }
  if (::fsync(fd.get()) != 0) {
    return ioError("cannot fsync directory", dir, errno);
  }
  return {};
}

}  // namespace

std::string modeString(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777U);
  return buf;
}

Result<SecretBytes> readPrivateFile(const std::string& path, std::size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ENOENT) {
      std::string msg = "file " + path + " does not exist";
      return fail(ErrorCode::kNotFound, msg, msg);
    }
    if (err == ELOOP) {
      std::string msg = "refusing to read " + path + ": it is a symbolic link";
      return fail(ErrorCode::kInternal, msg, msg);
    }
    return ioError("cannot open", path, err);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return ioError("cannot stat", path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    std::string msg = "refusing to read " + path + ": not a regular file";
    return fail(ErrorCode::kInternal, msg, msg);
  }
  unsigned mode = static_cast<unsigned>(st.st_mode) & 07777U;
  if ((mode & 077U) != 0) {
    std::string msg = "refusing to use " + path + ": its mode is " + modeString(mode) +
                      ", so group or others can access it; it must be private to its owner " +
                      "(chmod 600 " + path + ")";
    return fail(ErrorCode::kInternal, msg, msg);
  }
  uid_t me = ::geteuid();
  if (me != 0 && st.st_uid != me) {
    std::string msg = "refusing to use " + path + ": owned by uid " + std::to_string(st.st_uid) +
                      ", not by this process's uid " + std::to_string(me);
    return fail(ErrorCode::kInternal, msg, msg);
  }
  if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > max_bytes) {
    std::string msg =
        "refusing to read " + path + ": larger than " + std::to_string(max_bytes) + " bytes";
    return fail(ErrorCode::kInternal, msg, msg);
  }
  SecretBytes out(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ioError("cannot read", path, errno);
    }
    if (n == 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (done != out.size()) {
    std::string msg = "file " + path + " changed size while being read";
    return fail(ErrorCode::kInternal, msg, msg);
  }
  return out;
}

Result<void> writePrivateFile(const std::string& path, const SecretBytes& bytes, WriteMode mode) {
  std::string tmpl = path + ".tmp-XXXXXX";
  // mkstemp creates the file with mode 0600 and O_EXCL.
  Fd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (fd.get() < 0) {
    return ioError("cannot create temporary file next to", path, errno);
  }
  const std::string tmp = tmpl;
  auto cleanup = [&tmp] {
    ::unlink(tmp.c_str());
  };
  if (::fchmod(fd.get(), 0600) != 0) {
    int err = errno;
    cleanup();
    return ioError("cannot chmod", tmp, err);
  }
  if (auto r = writeAll(fd.get(), bytes.data(), bytes.size(), tmp); !r) {
    cleanup();
    return r;
  }
  if (::fsync(fd.get()) != 0) {
    int err = errno;
    cleanup();
    return ioError("cannot fsync", tmp, err);
  }
  ::close(fd.release());
  if (mode == WriteMode::kCreateNew) {
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      cleanup();
      if (err == EEXIST) {
        std::string msg = "file " + path + " already exists";
        return fail(ErrorCode::kConflict, msg, msg);
      }
      return ioError("cannot create", path, err);
    }
    cleanup();
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    cleanup();
    return ioError("cannot replace", path, err);
  }
  return fsyncDir(path);
}

Result<PrivateFileLock> PrivateFileLock::acquire(const std::string& path,
                                                 std::chrono::milliseconds timeout) {
  std::string lock_path = path + ".lock";
  Fd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    return ioError("cannot open lock file", lock_path, errno);
  }
  // Non-blocking attempts with a short sleep, so a stuck holder cannot hang us forever.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EINTR) {
      continue;
    }
    if (err != EWOULDBLOCK) {
      return ioError("cannot lock", lock_path, err);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string msg = lock_path + " is held by another process (a concurrent rotate?)";
      return fail(ErrorCode::kUnavailable, msg, msg);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return PrivateFileLock(fd.release());
}

PrivateFileLock::PrivateFileLock(PrivateFileLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

PrivateFileLock::~PrivateFileLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

}  // namespace livery::crypto
