#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace livery {

class Clock;

enum class LogLevel : int { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };
std::optional<LogLevel> parseLogLevel(std::string_view name);
std::string_view toString(LogLevel level);

// One key/value of a structured log record. Values are borrowed for the duration of the call.
// There is deliberately no constructor from SecretBytes.
struct LogField {
  using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;
  std::string_view key;
  Value value;

  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, unsigned long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, unsigned long long v)
      : key(k), value(static_cast<std::uint64_t>(v)) {}
};

// Where formatted JSON lines go. Implementations are thread-safe; write() must not block an I/O
// thread on disk (the default sink is asynchronous and drops the oldest lines when overrun).
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(std::string_view line) = 0;
  virtual void flush() = 0;
};

// Asynchronous sink writing to stderr (path empty) or appending to a file (created 0600): lines
// are buffered in memory (bounded; lines are dropped and counted when the disk cannot keep up)
// and written by one background thread at least every 20 ms. Throws if the file cannot be opened.
std::shared_ptr<LogSink> makeAsyncLogSink(const std::string& path);

// Captures lines in memory; tests use it to assert what was (and was not) logged.
class MemoryLogSink final : public LogSink {
 public:
  void write(std::string_view line) override;
  void flush() override {}
  std::vector<std::string> lines() const;
  std::string joined() const;

 private:
  mutable std::mutex mu_;  // guards lines_
  std::vector<std::string> lines_;
};

// Structured JSON-lines logger: {"ts":..,"level":..,"event":..,<fields>}. Safe to use from any
// thread. Check enabled() before building fields (the LIVERY_LOG macro does). As a safety net
// behind "never log a secret" by construction, string values that look like provider or gateway
// keys are masked before they are written.
class Logger {
 public:
  Logger(std::shared_ptr<LogSink> sink, LogLevel level, const Clock& clock);

  bool enabled(LogLevel level) const noexcept {
    return static_cast<int>(level) >= level_.load(std::memory_order_relaxed);
  }
  void setLevel(LogLevel level) noexcept {
    level_.store(static_cast<int>(level), std::memory_order_relaxed);
  }
  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields);
  void flush();

 private:
  std::shared_ptr<LogSink> sink_;
  std::atomic<int> level_;
  const Clock& clock_;
};

// Masks substrings that look like secrets ("sk-…", "lvr_…", "Bearer …") in place.
void redactLikelySecrets(std::string& text);

// Appends `s` to `out` as a JSON string literal (with quotes).
void appendJsonString(std::string& out, std::string_view s);

}  // namespace livery

#define LIVERY_LOG(logger, level, event, ...)                           \
  do {                                                                  \
    if ((logger).enabled(::livery::LogLevel::k##level)) {               \
      (logger).log(::livery::LogLevel::k##level, event, {__VA_ARGS__}); \
    }                                                                   \
  } while (false)
