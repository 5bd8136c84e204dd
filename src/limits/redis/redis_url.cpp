#include "limits/redis/redis_url.hpp"

#include <charconv>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>

namespace livery::limits {
namespace {

Error invalid(std::string_view why) {
  return fail(ErrorCode::kUnprocessable,
              fmt::format("invalid redis.url: {}", why),
              fmt::format("redis url rejected: {}", why));
}

}  // namespace

std::string RedisEndpoint::describe() const {
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("redis://{}{}{}:{}/{}", v6 ? "[" : "", host, v6 ? "]" : "", port, db);
}

RedisEndpoint RedisEndpoint::clone() const {
  RedisEndpoint e;
  e.host = host;
  e.port = port;
  e.db = db;
  e.username = username;
  e.password = password.clone();
  return e;
}

Result<RedisEndpoint> parseRedisUrl(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return invalid("not a URL of the form redis://[:password@]host[:port][/db]");
  }
  const boost::urls::url_view& u = *parsed;
  if (u.scheme() == "rediss") {
    return invalid("rediss:// (TLS) is not supported by this build (hiredis 0.14)");
  }
  if (u.scheme() != "redis") {
    return invalid("the scheme must be redis://");
  }
  RedisEndpoint e;
  if (u.has_userinfo()) {
    e.username = u.user();
    if (u.has_password()) {
      std::string pw = u.password();
      e.password = SecretBytes::takeFrom(pw);
    }
  }
  std::string host = u.host_address();
  if (!host.empty()) {
    e.host = std::move(host);
  }
  if (u.has_port()) {
    if (u.port_number() == 0) {
      return invalid("the port must be 1-65535");
    }
    e.port = u.port_number();
  }
  std::string_view path = u.encoded_path();
  if (!path.empty() && path != "/") {
    path.remove_prefix(path.front() == '/' ? 1 : 0);
    int db = -1;
    const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (ec != std::errc() || end != path.data() + path.size() || db < 0) {
      return invalid("the path must be a database number, e.g. /0");
    }
    e.db = db;
  }
  if (u.has_query() || u.has_fragment()) {
    return invalid("query and fragment are not supported");
  }
  return e;
}

}  // namespace livery::limits
