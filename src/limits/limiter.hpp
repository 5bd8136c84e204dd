#pragma once

// Admission control: rate limits (requests and tokens per minute, GCRA) and monthly token quota
// reservations, checked together once per request before the upstream call.
// Design, overshoot bound and failure modes: docs/design/rate-limiting.md.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace livery::limits {

// Whose budget a limit spends.
enum class LimitScope : std::uint8_t { kTenant = 0, kApiKey = 1, kEndUser = 2 };
// What a limit counts.
enum class LimitKind : std::uint8_t {
  kRequestsPerMinute = 0,
  kTokensPerMinute = 1,
  kMonthlyTokens = 2,  // a quota: reserved at admission, settled with the actual usage
};

inline constexpr std::size_t kScopeCount = 3;

// Identifies one limit of a request, e.g. {kApiKey, kTokensPerMinute}.
struct LimitId {
  LimitScope scope = LimitScope::kTenant;
  LimitKind kind = LimitKind::kRequestsPerMinute;
  friend bool operator==(const LimitId&, const LimitId&) = default;
};

// "tenant_rpm", "api_key_tpm", "end_user_rpm", "tenant_monthly_tokens", ...: a fixed, low
// cardinality name usable as a log field or metric label.
std::string_view toString(LimitId id);

// Per-minute rate limits of one scope; 0 means "no limit of that kind".
struct RateLimits {
  std::uint32_t rpm = 0;
  std::uint32_t tpm = 0;
};

// Everything that applies to one request. Strings are borrowed for the duration of admit() only.
// A limit applies when its value is non-zero and, for the key and end-user scopes, when the id is
// non-empty. `estimated_tokens` (prompt estimate + max_tokens) is charged to every tokens-per-
// minute limit and reserved against every monthly quota; the Reservation settles it later.
struct AdmissionRequest {
  std::string_view tenant_id;   // required
  std::string_view api_key_id;  // empty: the request carries no Livery API key
  std::string_view end_user;    // empty: no end user named
  RateLimits tenant;
  RateLimits api_key;
  RateLimits end_user_limits;
  std::uint64_t tenant_monthly_quota = 0;   // tokens per UTC calendar month; 0: unlimited
  std::uint64_t api_key_monthly_quota = 0;  // tokens per UTC calendar month; 0: unlimited
  std::uint64_t estimated_tokens = 0;
};

// What the OpenAI-style `x-ratelimit-*` headers need. For each kind the most constraining
// applicable limit is reported (fewest remaining units). `remaining` is what could be admitted
// right now under the smoothed (GCRA) limit; `reset` is the time until the limit is back to its
// initial state.
struct RateLimitHeaders {
  struct Values {
    std::uint64_t limit = 0;      // per minute
    std::uint64_t remaining = 0;  // units admissible right now
    std::chrono::milliseconds reset{0};
  };
  std::optional<Values> requests;  // x-ratelimit-{limit,remaining,reset}-requests
  std::optional<Values> tokens;    // x-ratelimit-{limit,remaining,reset}-tokens
  // Smallest remaining monthly quota after this request's reservation (when a quota applies).
  std::optional<std::uint64_t> quota_remaining_tokens;

  // The header lines, in OpenAI's names and formats ("x-ratelimit-reset-requests: 1s").
  std::vector<std::pair<std::string_view, std::string>> toHeaders() const;
};

// OpenAI's reset format: "20ms", "1s", "6m0s", "1h2m3s" (rounded up to a millisecond).
std::string formatResetDuration(std::chrono::milliseconds d);

// "2026-05" for the UTC calendar month containing `t`.
std::string monthPeriod(std::chrono::system_clock::time_point t);
// "YYYY-MM" → year * 12 + month - 1; -1 when malformed.
std::int32_t periodIndex(std::string_view period);

class Limiter;

// Backend data a Reservation carries from admit() to settle()/cancel(). Opaque to callers.
struct ReservationTicket {
  std::string tenant_id;
  std::string api_key_id;
  std::string end_user;
  std::string period;      // "YYYY-MM" of the quotas reserved
  std::string backend_id;  // e.g. the Redis reservation id
  std::uint64_t estimated_tokens = 0;
  RateLimits rates[kScopeCount];  // the tpm limits charged (indexed by LimitScope)
  // Backend lookup hints: the in-memory limiter's subject hashes per scope (0 when unused) and
  // the hash of tenant_id (its shard), so a settle hashes no string again.
  std::uint64_t subject_hash[kScopeCount] = {0, 0, 0};
  std::uint64_t tenant_hash = 0;
  bool quota_tenant = false;
  bool quota_api_key = false;
};

// The handle for one admitted request's reserved tokens. Must be finished exactly once, with
// settle(actual_tokens) when usage is known (the difference to the estimate is refunded or
// charged, to the quotas and the tokens-per-minute limits) or cancel() when the request never
// consumed tokens (everything reserved is refunded). Move-only. A handle destroyed while still
// pending cancels itself; for a blocking limiter (Limiter::isBlocking()) that is a blocking call,
// so finish it explicitly on a thread that may block. The owning Limiter must outlive it.
// Not thread-safe (one owner at a time).
class Reservation {
 public:
  Reservation() = default;  // empty: nothing to finish
  Reservation(Reservation&& other) noexcept;
  Reservation& operator=(Reservation&& other) noexcept;
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
  ~Reservation();

  // Charges `actual_tokens` instead of the estimate. Errors (kUnavailable when a shared store is
  // unreachable) are for the log only: the handle is finished either way.
  Result<void> settle(std::uint64_t actual_tokens);
  // Refunds the whole reservation.
  Result<void> cancel();

  bool pending() const noexcept { return owner_ != nullptr; }
  std::uint64_t reservedTokens() const noexcept { return ticket_.estimated_tokens; }

 private:
  friend class Limiter;
  Reservation(Limiter& owner, ReservationTicket&& ticket)
      : owner_(&owner), ticket_(std::move(ticket)) {}
  Result<void> finish(std::optional<std::uint64_t> actual_tokens);

  Limiter* owner_ = nullptr;
  ReservationTicket ticket_;
};

// The outcome of admit().
struct Decision {
  // Set when the request is rejected: kRateLimited (retry_after_s set, openai code
  // "rate_limit_exceeded"), kQuotaExceeded (openai code "insufficient_quota") or kUnavailable
  // (a shared store is down and quotas fail closed). Nothing was consumed.
  std::optional<Error> rejection;
  // The limit that rejected (empty when admitted or for kUnavailable).
  std::optional<LimitId> rejected_by;
  RateLimitHeaders headers;
  // Pending iff admitted.
  Reservation reservation;
  // True when the decision was made without the shared store (per-node fallback).
  bool degraded = false;

  bool admitted() const noexcept { return !rejection.has_value(); }
};

// Admission control for requests and tokens. admit() checks every applicable limit atomically
// (all-or-nothing: when one rejects, nothing is consumed) and, when admitted, reserves
// `estimated_tokens` against each tokens-per-minute limit and monthly quota. Implementations are
// safe to call concurrently from any thread. isBlocking() implementations do network I/O in
// admit() and in Reservation::settle/cancel: the gateway runs those on a thread pool
// (core/offload.hpp). A Limiter must outlive every Reservation it returned.
// A monthly quota as the limiter holds it in one period.
struct QuotaUsage {
  std::uint64_t used = 0;      // settled tokens (the ledger is the authoritative figure)
  std::uint64_t reserved = 0;  // tokens reserved by admitted requests not yet settled
};

class Limiter {
 public:
  virtual ~Limiter() = default;

  [[nodiscard]] virtual Decision admit(const AdmissionRequest& request) = 0;
  virtual bool isBlocking() const noexcept = 0;
  // The monthly quota of `scope` (kTenant: `id` ignored; kApiKey: `id` = the key id) in `period`
  // ("YYYY-MM"): zeros when the limiter holds nothing for it. Reservations that expired unsettled
  // (a backend with reservation expiry) are not counted. kBadRequest for a malformed period;
  // kUnavailable when a shared store cannot be read. For a blocking limiter this is network I/O.
  [[nodiscard]] virtual Result<QuotaUsage> quotaUsage(LimitScope scope,
                                                      std::string_view tenant_id,
                                                      std::string_view id,
                                                      std::string_view period) = 0;

 protected:
  friend class Reservation;
  static Reservation makeReservation(Limiter& owner, ReservationTicket&& ticket) {
    return Reservation(owner, std::move(ticket));
  }
  // Finishes a reservation: settle when `actual_tokens` is set, cancel otherwise. Called exactly
  // once per admitted ticket.
  virtual Result<void> finish(const ReservationTicket& ticket,
                              std::optional<std::uint64_t> actual_tokens) = 0;
};

// Builds the rejection errors with the client-safe messages and OpenAI codes used by every
// backend.
Error rateLimitedError(LimitId id, std::chrono::nanoseconds retry_after);
Error quotaExceededError(LimitId id);

}  // namespace livery::limits
