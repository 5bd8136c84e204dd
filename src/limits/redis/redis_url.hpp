#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/secret.hpp"

namespace livery::limits {

// Where and how to reach Redis, parsed from a `redis://[[user]:password@]host[:port][/db]` URL
// (config redis.url). The password is held only as SecretBytes; describe() never includes it.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  int db = 0;
  std::string username;  // empty: AUTH with the password only (the "default" user)
  SecretBytes password;  // empty: no AUTH

  // "redis://host:port/db" (no credentials), for logs and errors.
  std::string describe() const;
  RedisEndpoint clone() const;
};

// Parses a redis:// URL. Errors (kUnprocessable) never quote the URL, which may carry a password.
// `rediss://` (TLS) is refused: hiredis 0.14 has no TLS support.
[[nodiscard]] Result<RedisEndpoint> parseRedisUrl(std::string_view url);

}  // namespace livery::limits
