#include "limits/limiter.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include <fmt/format.h>

namespace livery::limits {

std::string_view toString(LimitId id) {
  static constexpr std::array<std::array<std::string_view, 3>, kScopeCount> kNames = {{
      {"tenant_rpm", "tenant_tpm", "tenant_monthly_tokens"},
      {"api_key_rpm", "api_key_tpm", "api_key_monthly_tokens"},
      {"end_user_rpm", "end_user_tpm", "end_user_monthly_tokens"},
  }};
  return kNames.at(static_cast<std::size_t>(id.scope)).at(static_cast<std::size_t>(id.kind));
}

std::string formatResetDuration(std::chrono::milliseconds d) {
  // Go's time.Duration format, which OpenAI's headers use ("20ms", "1s", "6m0s", "1.5s").
  std::int64_t ms = std::max<std::int64_t>(d.count(), 0);
  if (ms == 0) {
    return "0s";
  }
  if (ms < 1000) {
    return fmt::format("{}ms", ms);
  }
  std::string out;
  const std::int64_t hours = ms / 3'600'000;
  ms %= 3'600'000;
  const std::int64_t minutes = ms / 60'000;
  ms %= 60'000;
  if (hours > 0) {
    out += fmt::format("{}h", hours);
  }
  if (hours > 0 || minutes > 0) {
    out += fmt::format("{}m", minutes);
  }
  const std::int64_t seconds = ms / 1000;
  std::int64_t frac = ms % 1000;
  out += fmt::format("{}", seconds);
  if (frac != 0) {
    std::string digits = fmt::format("{:03}", frac);
    while (!digits.empty() && digits.back() == '0') {
      digits.pop_back();
    }
    out += '.';
    out += digits;
  }
  out += 's';
  return out;
}

std::int32_t periodIndex(std::string_view period) {
  if (period.size() != 7 || period[4] != '-') {
    return -1;
  }
  int year = 0;
  int month = 0;
  for (std::size_t i = 0; i < 7; ++i) {
    if (i == 4) {
      continue;
    }
    const char c = period[i];
    if (c < '0' || c > '9') {
      return -1;
    }
    (i < 4 ? year : month) = (i < 4 ? year : month) * 10 + (c - '0');
  }
  if (month < 1 || month > 12) {
    return -1;
  }
  return year * 12 + month - 1;
}

std::string monthPeriod(std::chrono::system_clock::time_point t) {
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  // Hand-formatted: this runs on every admission that has a quota.
  const int year = std::clamp(static_cast<int>(ymd.year()), 0, 9999);
  const auto month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  std::string out = "0000-00";
  out[0] = static_cast<char>('0' + year / 1000);
  out[1] = static_cast<char>('0' + year / 100 % 10);
  out[2] = static_cast<char>('0' + year / 10 % 10);
  out[3] = static_cast<char>('0' + year % 10);
  out[5] = static_cast<char>('0' + month / 10);
  out[6] = static_cast<char>('0' + month % 10);
  return out;
}

std::vector<std::pair<std::string_view, std::string>> RateLimitHeaders::toHeaders() const {
  std::vector<std::pair<std::string_view, std::string>> out;
  out.reserve(6);
  if (requests) {
    out.emplace_back("x-ratelimit-limit-requests", std::to_string(requests->limit));
    out.emplace_back("x-ratelimit-remaining-requests", std::to_string(requests->remaining));
    out.emplace_back("x-ratelimit-reset-requests", formatResetDuration(requests->reset));
  }
  if (tokens) {
    out.emplace_back("x-ratelimit-limit-tokens", std::to_string(tokens->limit));
    out.emplace_back("x-ratelimit-remaining-tokens", std::to_string(tokens->remaining));
    out.emplace_back("x-ratelimit-reset-tokens", formatResetDuration(tokens->reset));
  }
  return out;
}

Error rateLimitedError(LimitId id, std::chrono::nanoseconds retry_after) {
  const auto ns = std::max<std::int64_t>(retry_after.count(), 0);
  const int seconds =
      static_cast<int>(std::max<std::int64_t>(1, (ns + 999'999'999) / 1'000'000'000));
  const bool tokens = id.kind == LimitKind::kTokensPerMinute;
  std::string message =
      fmt::format("Rate limit reached for {} per minute ({}). Please try again in {}s.",
                  tokens ? "tokens" : "requests",
                  toString(id),
                  seconds);
  return std::move(Error(ErrorCode::kRateLimited, std::move(message), std::string(toString(id)))
                       .withCode("rate_limit_exceeded"))
      .withRetryAfter(seconds);
}

Error quotaExceededError(LimitId id) {
  return Error(ErrorCode::kQuotaExceeded,
               "You exceeded your current quota: the monthly token quota is exhausted.",
               std::string(toString(id)))
      .withCode("insufficient_quota");
}

Reservation::Reservation(Reservation&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), ticket_(std::move(other.ticket_)) {}

Reservation& Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) {
      (void)finish(std::nullopt);
    }
    owner_ = std::exchange(other.owner_, nullptr);
    ticket_ = std::move(other.ticket_);
  }
  return *this;
}

Reservation::~Reservation() {
  if (owner_ != nullptr) {
    (void)finish(std::nullopt);
  }
}

Result<void> Reservation::settle(std::uint64_t actual_tokens) {
  return finish(actual_tokens);
}

Result<void> Reservation::cancel() {
  return finish(std::nullopt);
}

Result<void> Reservation::finish(std::optional<std::uint64_t> actual_tokens) {
  Limiter* owner = std::exchange(owner_, nullptr);
  if (owner == nullptr) {
    return fail(ErrorCode::kInternal,
                "internal error",
                "limits: reservation finished twice or never admitted");
  }
  return owner->finish(ticket_, actual_tokens);
}

}  // namespace livery::limits
