#include "core/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "core/clock.hpp"

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

void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
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
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
          out.push_back(ch);
        }
    }
  }
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

class SpdlogSink final : public LogSink {
 public:
  explicit SpdlogSink(const std::string& path)
      : pool_(std::make_shared<spdlog::details::thread_pool>(8192, 1)) {
    spdlog::sink_ptr sink;
    if (path.empty()) {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
    }
    // Not registered in spdlog's global registry: the logger belongs to this sink object.
    logger_ = std::make_shared<spdlog::async_logger>(
        "livery", std::move(sink), pool_, spdlog::async_overflow_policy::overrun_oldest);
    logger_->set_pattern("%v");
    logger_->set_level(spdlog::level::trace);
    logger_->flush_on(spdlog::level::err);
  }
  ~SpdlogSink() override { logger_->flush(); }
  void write(std::string_view line) override { logger_->info("{}", line); }
  void flush() override { logger_->flush(); }

 private:
  std::shared_ptr<spdlog::details::thread_pool> pool_;
  std::shared_ptr<spdlog::async_logger> logger_;
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
  return std::make_shared<SpdlogSink>(path);
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

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(256);
  auto wall = clock_.wallNow();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  fmt::format_to(
      std::back_inserter(line),
      "{{\"ts\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"level\":\"{}\",\"event\":",
      tm.tm_year + 1900,
      tm.tm_mon + 1,
      tm.tm_mday,
      tm.tm_hour,
      tm.tm_min,
      tm.tm_sec,
      ms % 1000,
      toString(level));
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
            scratch.assign(v);
            redactLikelySecrets(scratch);
            appendJsonString(line, scratch);
          } else if constexpr (std::is_same_v<V, bool>) {
            line += v ? "true" : "false";
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
