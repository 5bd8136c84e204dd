#include "limits/redis/scripts.hpp"

#include <array>

#include <openssl/evp.h>

namespace livery::limits::redis_scripts {
namespace {

// Prepended to every script: int() formats an integer for a Redis argument, and `now` is
// ARGV[1] in µs, or Redis TIME when ARGV[1] is ''.
constexpr std::string_view kPrelude = R"lua(
local function int(x) return string.format('%d', x) end
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
)lua";

// KEYS: [1..n] GCRA keys (one per rate limit); then per quota j: KEYS[n+2j-1] the period's hash
//       {used, reserved, r:<reservation id> = amount}, KEYS[n+2j] the zset of reservation ids
//       scored by expiry.
// ARGV: [1] now in µs ('' = Redis TIME), [2] n, [3] m, [4] reservation id,
//       [5] reservation ttl µs, [6] quota key ttl ms;
//       per rate limit i: [5+2i] increment µs (cost × interval), [6+2i] tolerance µs;
//       per quota j: [5+2n+2j] limit tokens, [6+2n+2j] estimate tokens.
// Returns {status, index, retry_us, wait_1..wait_n, remaining_1..remaining_m}: status 0 admitted,
// 1 rate limited by rate limit `index`, 2 quota `index` exhausted (a quota wins over a rate
// limit); wait_i is the limit's debt (tat - now) after the decision, remaining_j the quota left.
constexpr std::string_view kAdmit = R"lua(
local n = tonumber(ARGV[2])
local m = tonumber(ARGV[3])
local rid = ARGV[4]
local res_ttl = tonumber(ARGV[5])
local q_ttl = ARGV[6]
local tats, news = {}, {}
local rate_index, rate_retry = 0, -1
for i = 1, n do
  local inc = tonumber(ARGV[5 + 2 * i])
  local tol = tonumber(ARGV[6 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  local cap = math.max(tol, inc)
  tats[i] = tat
  if tat - now + inc <= cap then
    news[i] = tat + inc
  else
    local r = tat - now + inc - cap
    if r >= rate_retry then rate_index, rate_retry = i, r end
  end
end
local taken, limits = {}, {}
local quota_index = 0
for j = 1, m do
  local hk, zk = KEYS[n + 2 * j - 1], KEYS[n + 2 * j]
  local limit = tonumber(ARGV[5 + 2 * n + 2 * j])
  local est = tonumber(ARGV[6 + 2 * n + 2 * j])
  local expired = redis.call('ZRANGEBYSCORE', zk, '-inf', int(now), 'LIMIT', 0, 100)
  for _, id in ipairs(expired) do
    local amt = tonumber(redis.call('HGET', hk, 'r:' .. id))
    if amt then
      redis.call('HINCRBY', hk, 'reserved', int(-amt))
      redis.call('HDEL', hk, 'r:' .. id)
    end
    redis.call('ZREM', zk, id)
  end
  local v = redis.call('HMGET', hk, 'used', 'reserved')
  taken[j] = (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
  limits[j] = limit
  if quota_index == 0 and taken[j] + est > limit then quota_index = j end
end
local status, index, retry = 0, 0, 0
if quota_index > 0 then
  status, index = 2, quota_index
elseif rate_index > 0 then
  status, index, retry = 1, rate_index, rate_retry
else
  for i = 1, n do
    tats[i] = news[i]
    redis.call('SET', KEYS[i], int(news[i]), 'PX', int(math.ceil((news[i] - now) / 1000) + 1000))
  end
  for j = 1, m do
    local hk, zk = KEYS[n + 2 * j - 1], KEYS[n + 2 * j]
    local est = tonumber(ARGV[6 + 2 * n + 2 * j])
    redis.call('HINCRBY', hk, 'reserved', int(est))
    redis.call('HSET', hk, 'r:' .. rid, int(est))
    redis.call('ZADD', zk, int(now + res_ttl), rid)
    redis.call('PEXPIRE', hk, q_ttl)
    redis.call('PEXPIRE', zk, q_ttl)
    taken[j] = taken[j] + est
  end
end
local out = {status, index, retry}
for i = 1, n do out[3 + i] = tats[i] - now end
for j = 1, m do out[3 + n + j] = math.max(limits[j] - taken[j], 0) end
return out
)lua";

// KEYS: per quota j: KEYS[2j-1] the period's hash, KEYS[2j] its reservation zset; then
//       [2m+1..2m+k] the tokens-per-minute GCRA keys to adjust.
// ARGV: [1] now in µs ('' = Redis TIME), [2] m, [3] k, [4] reservation id, [5] actual tokens
//       (0 for a cancel), [6] quota key ttl ms; per GCRA key i: [6+i] TAT delta µs (negative:
//       refund of an over-estimate, positive: charge of an under-estimate).
// A reservation that already expired is not released again, but its actual usage is charged.
constexpr std::string_view kSettle = R"lua(
local m = tonumber(ARGV[2])
local k = tonumber(ARGV[3])
local rid = ARGV[4]
local actual = tonumber(ARGV[5])
local q_ttl = ARGV[6]
for j = 1, m do
  local hk, zk = KEYS[2 * j - 1], KEYS[2 * j]
  local amt = tonumber(redis.call('HGET', hk, 'r:' .. rid))
  if amt then
    redis.call('HINCRBY', hk, 'reserved', int(-amt))
    redis.call('HDEL', hk, 'r:' .. rid)
  end
  redis.call('ZREM', zk, rid)
  if actual > 0 then
    redis.call('HINCRBY', hk, 'used', int(actual))
    redis.call('PEXPIRE', hk, q_ttl)
  end
end
for i = 1, k do
  local key = KEYS[2 * m + i]
  local delta = tonumber(ARGV[6 + i])
  local tat = tonumber(redis.call('GET', key))
  local nt = nil
  if delta > 0 then
    local base = now
    if tat and tat > now then base = tat end
    nt = base + delta
  elseif delta < 0 and tat then
    nt = tat + delta
  end
  if nt then
    if nt <= now then
      redis.call('DEL', key)
    else
      redis.call('SET', key, int(nt), 'PX', int(math.ceil((nt - now) / 1000) + 1000))
    end
  end
end
return 1
)lua";

// KEYS: [1] a quota period's hash, [2] its reservation zset. ARGV: [1] now in µs ('' = Redis
// TIME). Returns {used, reserved}, less the reservations that expired unsettled (the first 1000
// of them; the next admission releases them). Writes nothing.
constexpr std::string_view kQuotaUsage = R"lua(
local v = redis.call('HMGET', KEYS[1], 'used', 'reserved')
local used, reserved = tonumber(v[1]) or 0, tonumber(v[2]) or 0
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', int(now), 'LIMIT', 0, 1000)
for _, id in ipairs(expired) do
  reserved = reserved - (tonumber(redis.call('HGET', KEYS[1], 'r:' .. id)) or 0)
end
if reserved < 0 then reserved = 0 end
return {used, reserved}
)lua";

std::string sha1Hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), md.data(), &len, EVP_sha1(), nullptr) != 1) {
    return {};  // EVALSHA then fails with NOSCRIPT and the EVAL fallback runs the source
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md.at(i) >> 4];
    out += kHex[md.at(i) & 0x0f];
  }
  return out;
}

Script withPrelude(std::string_view body) {
  std::string source(kPrelude);
  source += body;
  std::string sha1 = sha1Hex(source);
  return Script{std::move(source), std::move(sha1)};
}

}  // namespace

const Script& admit() {
  static const Script kScript = withPrelude(kAdmit);  // immutable after first use
  return kScript;
}

const Script& settle() {
  static const Script kScript = withPrelude(kSettle);  // immutable after first use
  return kScript;
}

const Script& quotaUsage() {
  static const Script kScript = withPrelude(kQuotaUsage);  // immutable after first use
  return kScript;
}

}  // namespace livery::limits::redis_scripts
