#include "core/log.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "core/clock.hpp"
#include "core/thread_name.hpp"

namespace livery {

std::optional<LogLevel> parseLogLevel(std::string_view name) {
  if (name == "trace")
    return LogLevel::kTrace;
  if (name == "debug")
    return LogLevel::kDebug;
  if (name == "info")
    return LogLevel::kInfo;
  if (name == "warn" || name == "warning")
    return LogLevel::kWarn;
  if (name == "error")
    return LogLevel::kError;
  if (name == "off")
    return LogLevel::kOff;
  return std::nullopt;
}

std::string_view toString(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

namespace {

// True when one of the eight bytes in `w` needs escaping in a JSON string: a control character
// (< 0x20), '"' or '\\'. The classic SWAR zero-byte test; bytes >= 0x80 (UTF-8) never match.
constexpr bool needsEscape(std::uint64_t w) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [](std::uint64_t v) {
    return ((v - kOnes) & ~v & kHigh) != 0;
  };
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return below_space != 0 || has_zero(w ^ (kOnes * '"')) || has_zero(w ^ (kOnes * '\\'));
}

}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
  // Copies runs of characters that need no escaping in one append, and finds them eight bytes
  // at a time: log lines are mostly plain ASCII, and scanning them byte by byte was the largest
  // cost of an access-log line.
  out.push_back('"');
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s.size() - i >= 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, 8);
      if (!needsEscape(w)) {
        i += 8;
        continue;
      }
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.data() + run, i - run);
    run = i + 1;
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

namespace {

bool isKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Masks the run of key characters that follows `marker` when it is at least `min_len` long.
void maskAfter(std::string& text, std::string_view marker, std::size_t min_len) {
  std::size_t pos = 0;
  while ((pos = text.find(marker, pos)) != std::string::npos) {
    std::size_t start = pos + marker.size();
    std::size_t end = start;
    while (end < text.size() && isKeyChar(text[end])) {
      ++end;
    }
    if (end - start >= min_len) {
      text.replace(start, end - start, "[REDACTED]");
      pos = start + 10;
    } else {
      pos = end;
    }
  }
}

// Why not spdlog's async logger: its queue signals a condition variable for every message,
// which on a 2-core machine costs a futex call and often a context switch per log line (we
// measured -30% request throughput with one access-log line per request). This sink appends
// under a mutex and a flusher thread wakes on a short timer (or when the buffer is large), so
// the I/O thread never waits for the disk and never wakes another thread per line.
class BatchingSink final : public LogSink {
 public:
  explicit BatchingSink(const std::string& path) {
    if (path.empty()) {
      fd_ = 2;
    } else {
      fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd_ < 0) {
        throw std::runtime_error("cannot open log file " + path + ": " + std::strerror(errno));
      }
      owns_fd_ = true;
    }
    buffer_.reserve(kWakeBytes);
    thread_ = std::thread([this] {
      nameThisThread("lv-log");
      run();
    });
  }

  ~BatchingSink() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (owns_fd_) {
      ::close(fd_);
    }
  }

  void write(std::string_view line) override {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      if (buffer_.size() + line.size() + 1 > kMaxBufferBytes) {
        ++dropped_;  // the disk cannot keep up: shed log lines, never block an I/O thread
        return;
      }
      buffer_.append(line);
      buffer_.push_back('\n');
      wake = buffer_.size() >= kWakeBytes && !wake_pending_;
      if (wake) {
        wake_pending_ = true;
      }
    }
    if (wake) {
      cv_.notify_one();
    }
  }

  void flush() override {
    std::unique_lock lock(mu_);
    std::uint64_t target = ++flush_requests_;
    cv_.notify_all();
    flushed_cv_.wait(lock, [&] { return flushed_ >= target || stopping_; });
  }

 private:
  static constexpr std::size_t kWakeBytes = 256 * 1024;
  static constexpr std::size_t kMaxBufferBytes = 16 * 1024 * 1024;
  static constexpr auto kInterval = std::chrono::milliseconds(20);

  void run() {
    std::string out;
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait_for(lock, kInterval, [&] {
        return stopping_ || wake_pending_ || flush_requests_ > flushed_;
      });
      wake_pending_ = false;
      out.swap(buffer_);
      std::uint64_t dropped = std::exchange(dropped_, 0);
      std::uint64_t requests = flush_requests_;
      bool stop = stopping_;
      lock.unlock();
      if (dropped > 0) {
        out += fmt::format("{{\"level\":\"warn\",\"event\":\"log_lines_dropped\",\"count\":{}}}\n",
                           dropped);
      }
      writeAll(out);
      out.clear();
      lock.lock();
      flushed_ = requests;
      flushed_cv_.notify_all();
      if (stop && buffer_.empty()) {
        return;
      }
    }
  }

  void writeAll(std::string_view data) const {
    while (!data.empty()) {
      auto n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return;  // nowhere to report a failing log destination
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  int fd_ = -1;
  bool owns_fd_ = false;
  std::thread thread_;
  std::mutex mu_;  // guards buffer_, dropped_, stopping_, wake_pending_, flush counters
  std::condition_variable cv_;
  std::condition_variable flushed_cv_;
  std::string buffer_;
  std::uint64_t dropped_ = 0;
  std::uint64_t flush_requests_ = 0;
  std::uint64_t flushed_ = 0;
  bool stopping_ = false;
  bool wake_pending_ = false;
};

}  // namespace

void redactLikelySecrets(std::string& text) {
  if (text.find("sk-") != std::string::npos) {
    maskAfter(text, "sk-", 12);
  }
  if (text.find("lvr_") != std::string::npos) {
    maskAfter(text, "lvr_", 12);
  }
  if (text.find("Bearer ") != std::string::npos) {
    maskAfter(text, "Bearer ", 8);
  }
}

std::shared_ptr<LogSink> makeAsyncLogSink(const std::string& path) {
  return std::make_shared<BatchingSink>(path);
}

void MemoryLogSink::write(std::string_view line) {
  std::lock_guard lock(mu_);
  lines_.emplace_back(line);
}

std::vector<std::string> MemoryLogSink::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

std::string MemoryLogSink::joined() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& l : lines_) {
    out += l;
    out += '\n';
  }
  return out;
}

Logger::Logger(std::shared_ptr<LogSink> sink, LogLevel level, const Clock& clock)
    : sink_(std::move(sink)), level_(static_cast<int>(level)), clock_(clock) {}

namespace {

void appendDigits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "2026-11-27T07:18:56.525Z" from Unix milliseconds, by civil-calendar arithmetic: gmtime_r
// takes glibc's timezone lock and fmt's parser showed up per access-log line.
void appendTimestamp(std::string& out, std::int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(unix_ms)};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[24];
  appendDigits(buf, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  buf[4] = '-';
  appendDigits(buf + 5, static_cast<unsigned>(ymd.month()), 2);
  buf[7] = '-';
  appendDigits(buf + 8, static_cast<unsigned>(ymd.day()), 2);
  buf[10] = 'T';
  appendDigits(buf + 11, static_cast<unsigned>(hms.hours().count()), 2);
  buf[13] = ':';
  appendDigits(buf + 14, static_cast<unsigned>(hms.minutes().count()), 2);
  buf[16] = ':';
  appendDigits(buf + 17, static_cast<unsigned>(hms.seconds().count()), 2);
  buf[19] = '.';
  appendDigits(buf + 20, static_cast<unsigned>(hms.subseconds().count()), 3);
  buf[23] = 'Z';
  out.append(buf, sizeof buf);
}

template <typename Int>
void appendInteger(std::string& out, Int value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

}  // namespace

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(512);  // an access-log line is ~400 bytes: one allocation, no regrowth
  auto wall = clock_.wallNow();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
  line += "{\"ts\":\"";
  appendTimestamp(line, ms);
  line += "\",\"level\":\"";
  line += toString(level);
  line += "\",\"event\":";
  appendJsonString(line, event);
  std::string scratch;
  for (const auto& f : fields) {
    line.push_back(',');
    appendJsonString(line, f.key);
    line.push_back(':');
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string_view>) {
            if (v.find("sk-") == std::string_view::npos &&
                v.find("lvr_") == std::string_view::npos &&
                v.find("Bearer ") == std::string_view::npos) {
              appendJsonString(line, v);
            } else {
              scratch.assign(v);
              redactLikelySecrets(scratch);
              appendJsonString(line, scratch);
            }
          } else if constexpr (std::is_same_v<V, bool>) {
            line += v ? "true" : "false";
          } else if constexpr (std::is_integral_v<V>) {
            appendInteger(line, v);
          } else {
            fmt::format_to(std::back_inserter(line), "{}", v);
          }
        },
        f.value);
  }
  line.push_back('}');
  sink_->write(line);
}

void Logger::flush() {
  sink_->flush();
}

}  // namespace livery
