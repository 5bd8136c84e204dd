#include "providers/sse/sse_parser.hpp"

#include <cstring>
#include <limits>

namespace livery::providers::sse {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Position of the first CR or LF in `s`, or npos. memchr is vectorised in glibc, so long data
// lines cost two fast scans instead of a byte loop.
std::size_t findLineEnd(std::string_view s) {
  const void* lf = std::memchr(s.data(), '\n', s.size());
  std::size_t limit =
      lf == nullptr ? s.size() : static_cast<std::size_t>(static_cast<const char*>(lf) - s.data());
  const void* cr = std::memchr(s.data(), '\r', limit);
  if (cr != nullptr) {
    return static_cast<std::size_t>(static_cast<const char*>(cr) - s.data());
  }
  return lf == nullptr ? std::string_view::npos : limit;
}

std::optional<std::uint64_t> parseRetry(std::string_view value) {
  if (value.empty()) {
    return std::nullopt;
  }
  std::uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      return std::nullopt;  // does not fit: ignore the field like any other invalid value
    }
    n = n * 10 + digit;
  }
  return n;
}

}  // namespace

SseParser::SseParser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

void SseParser::setFailed(std::size_t size) {
  failed_ = true;
  error_ = livery::fail(ErrorCode::kUpstreamUnavailable,
                        "the upstream stream sent an event larger than the gateway accepts",
                        "sse event of at least " + std::to_string(size) +
                            " bytes exceeds the limit of " + std::to_string(max_event_bytes_));
}

SseParser::Step SseParser::next(std::string_view& bytes) {
  if (failed_) {
    return Step::kFailed;
  }
  while (!bytes.empty()) {
    if (at_start_) {
      // The optional BOM, possibly split: match it byte by byte. On a mismatch the bytes
      // matched so far were ordinary line content.
      if (bytes.front() == kBom[bom_matched_]) {
        bytes.remove_prefix(1);
        if (++bom_matched_ == kBom.size()) {
          at_start_ = false;
        }
        continue;
      }
      line_.append(kBom.substr(0, bom_matched_));
      at_start_ = false;
    }
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    std::size_t pos = findLineEnd(bytes);
    if (pos == std::string_view::npos) {
      if (pendingEventBytes() + line_.size() + bytes.size() > max_event_bytes_) {
        setFailed(pendingEventBytes() + line_.size() + bytes.size());
        return Step::kFailed;
      }
      line_.append(bytes);
      bytes = {};
      return Step::kNeedMore;
    }
    if (pendingEventBytes() + line_.size() + pos > max_event_bytes_) {
      setFailed(pendingEventBytes() + line_.size() + pos);
      return Step::kFailed;
    }
    std::string_view line = bytes.substr(0, pos);
    if (!line_.empty()) {
      line_.append(line);
      line = line_;
    }
    if (bytes[pos] == '\r') {
      skip_lf_ = true;
    }
    bytes.remove_prefix(pos + 1);
    bool dispatch = processLine(line);
    line_.clear();
    if (dispatch) {
      return Step::kEvent;
    }
  }
  return Step::kNeedMore;
}

bool SseParser::processLine(std::string_view line) {
  if (line.empty()) {
    if (data_buffer_.empty()) {
      event_.event.clear();  // the standard resets the type even when nothing is dispatched
      return false;
    }
    data_buffer_.pop_back();  // the '\n' after the last data line
    event_.data.swap(data_buffer_);
    event_.id = last_id_;
    event_.retry = pending_retry_;
    return true;
  }
  if (line.front() == ':') {
    return false;  // comment (keep-alive)
  }
  std::string_view name = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
  }
  if (name == "data") {
    data_buffer_.append(value);
    data_buffer_.push_back('\n');
  } else if (name == "event") {
    event_.event.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) {
      last_id_.assign(value);
    }
  } else if (name == "retry") {
    if (auto ms = parseRetry(value)) {
      retry_ms_ = ms;
      pending_retry_ = ms;
    }
  }
  return false;
}

void SseParser::clearEvent() {
  // Swap the data buffer back so its capacity is reused by the next event.
  data_buffer_.swap(event_.data);
  data_buffer_.clear();
  event_.data.clear();
  event_.event.clear();
  pending_retry_.reset();
}

bool SseParser::finish() {
  bool partial = !line_.empty() || !data_buffer_.empty() || !event_.event.empty() ||
                 (at_start_ && bom_matched_ > 0);
  line_.clear();
  data_buffer_.clear();
  event_.event.clear();
  pending_retry_.reset();
  at_start_ = false;
  bom_matched_ = 0;
  skip_lf_ = false;
  return partial;
}

}  // namespace livery::providers::sse
