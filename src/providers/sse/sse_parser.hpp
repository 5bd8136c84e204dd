#pragma once

// Incremental Server-Sent Events parser: the event-stream interpretation of the WHATWG HTML
// standard (section 9.2.6), fed with upstream body bytes split at arbitrary boundaries.
//
// Contract:
//   - Lines end in CRLF, LF or CR, also when a CRLF pair is split across two feed() calls.
//   - One leading UTF-8 byte order mark is ignored, also when split.
//   - `:`-lines are comments and are ignored; unknown field names are ignored.
//   - `data:` lines are joined with '\n'; a blank line dispatches the event when its data buffer
//     is non-empty (so `data:` with an empty value still dispatches an event with empty data).
//   - `id:` sets the last event id (ignored when it contains NUL); it persists across events and
//     is reported with every dispatched event, as the standard says.
//   - `retry:` with only ASCII digits sets the reconnection time; it is reported with the next
//     dispatched event and by retryMs().
//   - At end of stream (finish()) an event without its terminating blank line is discarded.
//   - Bound: the bytes of one event (its data, event type, id and the line being read) never
//     exceed `max_event_bytes`. Crossing the bound is an error (ErrorCode::kUpstreamUnavailable)
//     and the parser stays failed: every later feed() returns the same error.
//
// The result does not depend on how the input is split (tests/unit/providers/sse_parser_test.cpp
// checks every split of random inputs; tests/fuzz/sse_parser_fuzz.cpp fuzzes it).
//
// Thread-safety: none; one parser per upstream stream. The SseEvent passed to the handler is
// owned by the parser and valid only during the handler call.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace livery::providers::sse {

struct SseEvent {
  std::string event;  // the `event:` field; empty means the default type ("message")
  std::string data;   // `data:` lines joined with '\n' (no trailing newline)
  std::string id;     // the last event id in effect when the event was dispatched
  std::optional<std::uint64_t> retry;  // a `retry:` value seen since the previous dispatch

  bool operator==(const SseEvent&) const = default;
};

class SseParser {
 public:
  static constexpr std::size_t kDefaultMaxEventBytes = std::size_t{4} * 1024 * 1024;

  explicit SseParser(std::size_t max_event_bytes = kDefaultMaxEventBytes);

  // Parses `bytes` and calls `on_event(const SseEvent&)` for every complete event, in order.
  // Returns an error once the size bound is crossed (events before it were delivered).
  template <class Handler>
  [[nodiscard]] Result<void> feed(std::string_view bytes, Handler&& on_event) {
    for (;;) {
      switch (next(bytes)) {
        case Step::kEvent:
          on_event(static_cast<const SseEvent&>(event_));
          clearEvent();
          break;
        case Step::kNeedMore:
          return {};
        case Step::kFailed:
          return error_;
      }
    }
  }

  // The stream ended. Discards a partial event; returns true when one (or a partial line) was
  // pending, which tells the caller the upstream stream was cut mid-event.
  bool finish();

  std::optional<std::uint64_t> retryMs() const { return retry_ms_; }
  std::string_view lastEventId() const { return last_id_; }
  bool failed() const { return failed_; }

 private:
  enum class Step { kEvent, kNeedMore, kFailed };

  // Consumes bytes from `bytes` up to and including the line that completes an event.
  Step next(std::string_view& bytes);
  // Applies one complete line; returns true when it dispatches an event.
  bool processLine(std::string_view line);
  void setFailed(std::size_t size);
  std::size_t pendingEventBytes() const {
    return data_buffer_.size() + event_.event.size() + last_id_.size();
  }
  void clearEvent();

  std::size_t max_event_bytes_;
  SseEvent event_;
  std::string data_buffer_;  // data lines, each followed by '\n' (the standard's data buffer)
  std::string line_;         // a line split across feed() calls
  std::string last_id_;
  std::optional<std::uint64_t> retry_ms_;
  std::optional<std::uint64_t> pending_retry_;
  std::size_t bom_matched_ = 0;  // bytes of the leading BOM seen so far
  bool at_start_ = true;         // still looking for the optional BOM
  bool skip_lf_ = false;         // the last line ended in CR: a following LF belongs to it
  bool failed_ = false;
  Error error_;
};

}  // namespace livery::providers::sse
