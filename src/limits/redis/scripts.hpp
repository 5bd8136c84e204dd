#pragma once

#include <string>
#include <string_view>

namespace livery::limits::redis_scripts {

// One Lua script per operation, each atomic inside Redis. Argument layouts are documented in
// scripts.cpp next to the code and mirrored by RedisLimiter (redis_limiter.cpp).
struct Script {
  std::string source;  // the prelude (scripts.cpp) and the script
  std::string sha1;    // lowercase hex, for EVALSHA
};

// admit: every GCRA check and quota reservation of one request, all-or-nothing.
const Script& admit();
// settle / cancel: release a reservation, charge the actual usage, adjust tokens-per-minute TATs.
const Script& settle();
// quota usage: a quota period's used and live reserved tokens (read only).
const Script& quotaUsage();

}  // namespace livery::limits::redis_scripts
