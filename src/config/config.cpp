#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "core/log.hpp"

extern char** environ;  // NOLINT: POSIX; read only in liveryEnvironment()

namespace livery::config {

namespace {

struct Source {
  std::string name;  // file path, "environment" or "flag"
  int line = 0;
};

using Setter = std::function<void(Config&, const YAML::Node*, std::string_view, const Source&)>;

struct Entry {
  std::string key;
  std::string type;
  Setter set;                                      // from a YAML node (node != null) or text
  std::function<std::string(const Config&)> show;  // default value as text
  bool secret = false;
};

[[noreturn]] void bad(const Source& src, std::string_view key, std::string message) {
  throw ConfigError{src.name, std::string(key), src.line, std::move(message)};
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) {
    return {};
  }
  auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::string scalarText(const YAML::Node* node,
                       std::string_view text,
                       const Source& src,
                       std::string_view key) {
  if (node == nullptr) {
    return std::string(text);
  }
  if (!node->IsScalar()) {
    bad(src, key, "expected a single value, not a list or a map");
  }
  return node->Scalar();
}

template <class Int>
Int parseInt(std::string_view text, const Source& src, std::string_view key, Int min_value) {
  Int v{};
  auto t = trim(text);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) {
    bad(src, key, fmt::format("expected an integer, got '{}'", t));
  }
  if (v < min_value) {
    bad(src, key, fmt::format("must be at least {}", min_value));
  }
  return v;
}

std::string showDuration(Duration d) {
  auto ms = d.count();
  if (ms % 3'600'000 == 0 && ms != 0)
    return fmt::format("{}h", ms / 3'600'000);
  if (ms % 60'000 == 0 && ms != 0)
    return fmt::format("{}m", ms / 60'000);
  if (ms % 1000 == 0)
    return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

// Entry factories keyed on the field's C++ type. `get` returns a reference into Config.
template <class Get>
Entry entry(std::string key, Get get, std::string kind = {}) {
  using T = std::remove_reference_t<decltype(get(std::declval<Config&>()))>;
  Entry e;
  e.key = std::move(key);
  if constexpr (std::is_same_v<T, std::string>) {
    e.type = "string";
    e.set = [get](Config& c, const YAML::Node* n, std::string_view t, const Source& s) {
      get(c) = scalarText(n, t, s, "");
    };
    e.show = [get](const Config& c) {
      return get(const_cast<Config&>(c));
    };  // NOLINT
  } else if constexpr (std::is_same_v<T, bool>) {
    e.type = "bool";
    e.set = [get, k = e.key](Config& c, const YAML::Node* n, std::string_view t, const Source& s) {
      auto v = lower(trim(scalarText(n, t, s, k)));
      if (v == "true" || v == "yes" || v == "on" || v == "1") {
        get(c) = true;
      } else if (v == "false" || v == "no" || v == "off" || v == "0") {
        get(c) = false;
      } else {
        bad(s, k, fmt::format("expected true or false, got '{}'", v));
      }
    };
    e.show = [get](const Config& c) {
      return std::string(get(const_cast<Config&>(c)) ? "true" : "false");  // NOLINT
    };
  } else if constexpr (std::is_same_v<T, Duration>) {
    e.type = "duration";
    e.set = [get, k = e.key](Config& c, const YAML::Node* n, std::string_view t, const Source& s) {
      auto text = scalarText(n, t, s, k);
      auto d = parseDuration(text);
      if (!d) {
        bad(s, k, fmt::format("expected a duration such as 30s, 250ms or 5m, got '{}'", text));
      }
      get(c) = *d;
    };
    e.show = [get](const Config& c) {
      return showDuration(get(const_cast<Config&>(c)));
    };  // NOLINT
  } else if constexpr (std::is_same_v<T, double>) {
    e.type = "number";
    e.set = [get, k = e.key](Config& c, const YAML::Node* n, std::string_view t, const Source& s) {
      auto text = trim(scalarText(n, t, s, k));
      try {
        std::size_t used = 0;
        double v = std::stod(text, &used);
        if (used != text.size() || !std::isfinite(v) || v < 0) {
          throw std::invalid_argument("x");
        }
        get(c) = v;
      } catch (const std::exception&) {
        bad(s, k, fmt::format("expected a non-negative number, got '{}'", text));
      }
    };
    e.show = [get](const Config& c) {
      return fmt::format("{}", get(const_cast<Config&>(c)));
    };  // NOLINT
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    e.type = "list";
    e.set = [get, k = e.key](Config& c, const YAML::Node* n, std::string_view t, const Source& s) {
      std::vector<std::string> out;
      if (n != nullptr) {
        if (n->IsNull()) {
          // empty list
        } else if (n->IsSequence()) {
          for (const auto& item : *n) {
            if (!item.IsScalar()) {
              bad(s, k, "expected a list of strings");
            }
            out.push_back(item.Scalar());
          }
        } else {
          bad(s, k, "expected a list, e.g. [a, b]");
        }
      } else {
        std::string text(t);
        std::stringstream ss(text);
        std::string item;
        while (std::getline(ss, item, ',')) {
          item = trim(item);
          if (!item.empty()) {
            out.push_back(item);
          }
        }
      }
      get(c) = std::move(out);
    };
    e.show = [get](const Config& c) {
      return fmt::format("[{}]", fmt::join(get(const_cast<Config&>(c)), ", "));  // NOLINT
    };
  } else if constexpr (std::is_integral_v<T>) {
    e.type = kind.empty() ? "integer" : kind;
    bool is_size = kind == "size";
    e.set = [get, k = e.key, is_size](
                Config& c, const YAML::Node* n, std::string_view t, const Source& s) {
      auto text = scalarText(n, t, s, k);
      if (is_size) {
        auto v = parseSize(text);
        if (!v) {
          bad(s, k, fmt::format("expected a size such as 10MiB, 16KiB or 4096, got '{}'", text));
        }
        get(c) = static_cast<T>(*v);
      } else {
        get(c) = parseInt<T>(text, s, k, 0);
      }
    };
    e.show = [get](const Config& c) {
      return fmt::format("{}", get(const_cast<Config&>(c)));
    };  // NOLINT
  } else {
    static_assert(sizeof(T) == 0, "unsupported config field type");
  }
  return e;
}

#define LIVERY_CFG(key, field, ...) \
  entry(                            \
      key, [](Config & c) -> auto& { return c.field; } __VA_OPT__(, ) __VA_ARGS__)

Entry pricesEntry() {
  Entry e;
  e.key = "metering.prices";
  e.type = "map model -> {input, output, cached_input} USD per million tokens";
  e.set = [](Config& c, const YAML::Node* n, std::string_view, const Source& s) {
    if (n == nullptr || !n->IsMap()) {
      bad(s, "metering.prices", "expected a map of model names (only settable in the file)");
    }
    for (const auto& kv : *n) {
      auto model = kv.first.Scalar();
      Price p;
      if (!kv.second.IsMap()) {
        bad(s, "metering.prices." + model, "expected {input: .., output: .., cached_input: ..}");
      }
      for (const auto& f : kv.second) {
        auto name = f.first.Scalar();
        Source fs{s.name, f.first.Mark().line + 1};
        double v = 0;
        try {
          v = f.second.as<double>();
        } catch (const std::exception&) {
          bad(fs, "metering.prices." + model + "." + name, "expected a number");
        }
        if (v < 0) {
          bad(fs, "metering.prices." + model + "." + name, "must not be negative");
        }
        if (name == "input") {
          p.input_per_mtok = v;
        } else if (name == "output") {
          p.output_per_mtok = v;
        } else if (name == "cached_input") {
          p.cached_input_per_mtok = v;
        } else {
          bad(fs, "metering.prices." + model + "." + name, "unknown key");
        }
      }
      c.metering.prices[model] = p;
    }
  };
  e.show = [](const Config&) {
    return std::string("{}");
  };
  return e;
}

const std::vector<Entry>& schema() {
  static const std::vector<Entry> kSchema = [] {
    std::vector<Entry> s;
    s.push_back(LIVERY_CFG("listen", listen));
    s.push_back(LIVERY_CFG("data_dir", data_dir));
    s.push_back(LIVERY_CFG("threads", threads));
    s.push_back(LIVERY_CFG("http.max_body_bytes", http.max_body_bytes, "size"));
    s.push_back(LIVERY_CFG("http.max_header_bytes", http.max_header_bytes, "size"));
    s.push_back(LIVERY_CFG("http.read_timeout", http.read_timeout));
    s.push_back(LIVERY_CFG("http.idle_timeout", http.idle_timeout));
    s.push_back(LIVERY_CFG("http.write_timeout", http.write_timeout));
    s.push_back(LIVERY_CFG("http.drain_timeout", http.drain_timeout));
    s.push_back(LIVERY_CFG("http.max_connections", http.max_connections));
    s.push_back(LIVERY_CFG("http.trusted_proxies", http.trusted_proxies));
    s.push_back(LIVERY_CFG("http.base_domain", http.base_domain));
    s.push_back(LIVERY_CFG("http.operator_host", http.operator_host));
    s.push_back(LIVERY_CFG("http.access_log", http.access_log));
    s.push_back(LIVERY_CFG("storage.backend", storage.backend));
    s.push_back(LIVERY_CFG("storage.postgres_url", storage.postgres_url));
    s.back().secret = true;
    s.push_back(LIVERY_CFG("storage.postgres_schema", storage.postgres_schema));
    s.push_back(LIVERY_CFG("storage.pool_size", storage.pool_size));
    s.push_back(LIVERY_CFG("storage.busy_timeout", storage.busy_timeout));
    s.push_back(LIVERY_CFG("storage.sqlite_synchronous", storage.sqlite_synchronous));
    s.push_back(LIVERY_CFG("storage.sqlite_mmap_bytes", storage.sqlite_mmap_bytes, "size"));
    s.push_back(LIVERY_CFG("storage.statement_timeout", storage.statement_timeout));
    s.push_back(LIVERY_CFG("storage.connect_timeout", storage.connect_timeout));
    s.push_back(LIVERY_CFG("storage.acquire_timeout", storage.acquire_timeout));
    s.push_back(LIVERY_CFG("sync.poll_interval", sync.poll_interval));
    s.push_back(LIVERY_CFG("sync.full_resync", sync.full_resync));
    s.push_back(LIVERY_CFG("log.level", log.level));
    s.push_back(LIVERY_CFG("log.file", log.file));
    s.push_back(LIVERY_CFG("kms.backend", kms.backend));
    s.push_back(LIVERY_CFG("kms.key_file", kms.key_file));
    s.push_back(LIVERY_CFG("kms.pkcs11_module", kms.pkcs11_module));
    s.push_back(LIVERY_CFG("kms.pkcs11_token_label", kms.pkcs11_token_label));
    s.push_back(LIVERY_CFG("kms.pkcs11_pin_file", kms.pkcs11_pin_file));
    s.push_back(LIVERY_CFG("kms.pkcs11_pin", kms.pkcs11_pin));
    s.back().secret = true;
    s.push_back(LIVERY_CFG("kms.pkcs11_key_label", kms.pkcs11_key_label));
    s.push_back(LIVERY_CFG("kms.pkcs11_max_sessions", kms.pkcs11_max_sessions));
    s.push_back(LIVERY_CFG("kms.dek_cache.max_age", kms.dek_cache.max_age));
    s.push_back(LIVERY_CFG("kms.dek_cache.max_uses", kms.dek_cache.max_uses));
    s.push_back(LIVERY_CFG("kms.dek_cache.max_entries", kms.dek_cache.max_entries));
    s.push_back(LIVERY_CFG("security.pepper_file", security.pepper_file));
    s.push_back(LIVERY_CFG("security.allow_core_dumps", security.allow_core_dumps));
    s.push_back(LIVERY_CFG("security.mock_response_default", security.mock_response_default));
    s.push_back(LIVERY_CFG("security.jwt_leeway", security.jwt_leeway));
    s.push_back(LIVERY_CFG("security.jwt_max_token_bytes", security.jwt_max_token_bytes, "size"));
    s.push_back(LIVERY_CFG("security.session_ttl", security.session_ttl));
    s.push_back(LIVERY_CFG("security.cookie_secure", security.cookie_secure));
    s.push_back(LIVERY_CFG("whitelabel.logo_max_bytes", whitelabel.logo_max_bytes, "size"));
    s.push_back(LIVERY_CFG("whitelabel.favicon_max_bytes", whitelabel.favicon_max_bytes, "size"));
    s.push_back(LIVERY_CFG("whitelabel.max_image_dimension", whitelabel.max_image_dimension));
    s.push_back(LIVERY_CFG("upstream.connect_timeout", upstream.connect_timeout));
    s.push_back(LIVERY_CFG("upstream.first_byte_timeout", upstream.first_byte_timeout));
    s.push_back(LIVERY_CFG("upstream.idle_timeout", upstream.idle_timeout));
    s.push_back(LIVERY_CFG("upstream.total_timeout", upstream.total_timeout));
    s.push_back(LIVERY_CFG("upstream.max_response_bytes", upstream.max_response_bytes, "size"));
    s.push_back(LIVERY_CFG("upstream.max_idle_per_host", upstream.max_idle_per_host));
    s.push_back(LIVERY_CFG("upstream.pool_idle_timeout", upstream.pool_idle_timeout));
    s.push_back(LIVERY_CFG("upstream.ca_file", upstream.ca_file));
    s.push_back(LIVERY_CFG("upstream.allow_http_hosts", upstream.allow_http_hosts));
    s.push_back(LIVERY_CFG("upstream.allow_private_hosts", upstream.allow_private_hosts));
    s.push_back(LIVERY_CFG("routing.max_attempts", routing.max_attempts));
    s.push_back(LIVERY_CFG("routing.total_deadline", routing.total_deadline));
    s.push_back(LIVERY_CFG("routing.backoff_base", routing.backoff_base));
    s.push_back(LIVERY_CFG("routing.backoff_max", routing.backoff_max));
    s.push_back(LIVERY_CFG("routing.retry_after_cap", routing.retry_after_cap));
    s.push_back(LIVERY_CFG("routing.cooldown_failures", routing.cooldown_failures));
    s.push_back(LIVERY_CFG("routing.cooldown", routing.cooldown));
    s.push_back(LIVERY_CFG("limits.backend", limits.backend));
    s.push_back(LIVERY_CFG("limits.burst_seconds", limits.burst_seconds));
    s.push_back(LIVERY_CFG("limits.quota_failure_mode", limits.quota_failure_mode));
    s.push_back(LIVERY_CFG("limits.default_completion_reserve", limits.default_completion_reserve));
    s.push_back(LIVERY_CFG("limits.fallback_share", limits.fallback_share));
    s.push_back(LIVERY_CFG("limits.reservation_ttl", limits.reservation_ttl));
    s.push_back(LIVERY_CFG("redis.url", redis.url));
    s.back().secret = true;
    s.push_back(LIVERY_CFG("redis.pool_size", redis.pool_size));
    s.push_back(LIVERY_CFG("redis.timeout", redis.timeout));
    s.push_back(LIVERY_CFG("redis.usage_stream", redis.usage_stream));
    s.push_back(LIVERY_CFG("redis.usage_stream_max_len", redis.usage_stream_max_len));
    s.push_back(LIVERY_CFG("metering.commit_interval", metering.commit_interval));
    s.push_back(LIVERY_CFG("metering.commit_siblings", metering.commit_siblings));
    s.push_back(LIVERY_CFG("metering.max_batch", metering.max_batch));
    s.push_back(pricesEntry());
    s.push_back(LIVERY_CFG("alerts.spike_factor", alerts.spike_factor));
    s.push_back(LIVERY_CFG("alerts.window", alerts.window));
    s.push_back(LIVERY_CFG("alerts.baseline", alerts.baseline));
    s.push_back(LIVERY_CFG("alerts.min_requests", alerts.min_requests));
    s.push_back(LIVERY_CFG("alerts.auto_suspend", alerts.auto_suspend));
    s.push_back(LIVERY_CFG("alerts.operator_webhook_url", alerts.operator_webhook_url));
    s.push_back(LIVERY_CFG("alerts.operator_webhook_secret", alerts.operator_webhook_secret));
    s.back().secret = true;
    s.push_back(LIVERY_CFG("prompts.operator_policy", prompts.operator_policy));
    s.push_back(LIVERY_CFG("prompts.cache_entries", prompts.cache_entries));
    s.push_back(LIVERY_CFG("prompts.repo_path", prompts.repo_path));
    s.push_back(LIVERY_CFG("prompts.eval_max_concurrency", prompts.eval_max_concurrency));
    s.push_back(LIVERY_CFG("prompts.eval_max_case_timeout", prompts.eval_max_case_timeout));
    return s;
  }();
  return kSchema;
}

#undef LIVERY_CFG

const Entry* findEntry(std::string_view key) {
  for (const auto& e : schema()) {
    if (e.key == key) {
      return &e;
    }
  }
  return nullptr;
}

bool isSection(std::string_view prefix) {
  std::string p = std::string(prefix) + ".";
  return std::any_of(
      schema().begin(), schema().end(), [&](const Entry& e) { return e.key.starts_with(p); });
}

std::string envName(std::string_view key) {
  std::string out = "LIVERY_";
  for (char c : key) {
    out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

void walk(Config& cfg, const YAML::Node& node, const std::string& prefix, const std::string& file) {
  for (const auto& kv : node) {
    const auto& k = kv.first;
    Source src{file, k.Mark().line + 1};
    if (!k.IsScalar()) {
      bad(src, prefix, "keys must be plain strings");
    }
    std::string key = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
    if (const Entry* e = findEntry(key)) {
      e->set(cfg, &kv.second, {}, src);
      continue;
    }
    if (isSection(key)) {
      if (!kv.second.IsMap()) {
        bad(src, key, "expected a section (a map of keys)");
      }
      walk(cfg, kv.second, key, file);
      continue;
    }
    bad(src, key, "unknown key (run `livery config keys` to list the valid ones)");
  }
}

void validate(const Config& c) {
  Source src{"configuration", 0};
  auto colon = c.listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == c.listen.size()) {
    bad(src, "listen", fmt::format("expected HOST:PORT, got '{}'", c.listen));
  }
  auto port_text = std::string_view(c.listen).substr(colon + 1);
  int port = -1;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    bad(src, "listen", fmt::format("invalid port in '{}'", c.listen));
  }
  if (c.threads < 0 || c.threads > 256) {
    bad(src, "threads", "must be between 0 (one per core) and 256");
  }
  if (c.storage.backend != "sqlite" && c.storage.backend != "postgres") {
    bad(src, "storage.backend", "must be sqlite or postgres");
  }
  if (c.storage.backend == "postgres" && c.storage.postgres_url.empty()) {
    bad(src, "storage.postgres_url", "required when storage.backend is postgres");
  }
  if (c.storage.pool_size < 1 || c.storage.pool_size > 256) {
    bad(src, "storage.pool_size", "must be between 1 and 256");
  }
  if (!parseLogLevel(c.log.level)) {
    bad(src, "log.level", "must be one of trace, debug, info, warn, error, off");
  }
  if (c.kms.backend != "local" && c.kms.backend != "pkcs11") {
    bad(src, "kms.backend", "must be local or pkcs11 (aws-kms is designed, not built yet)");
  }
  if (c.kms.backend == "pkcs11" && c.kms.pkcs11_module.empty()) {
    bad(src, "kms.pkcs11_module", "required when kms.backend is pkcs11");
  }
  if (c.limits.backend != "memory" && c.limits.backend != "redis") {
    bad(src, "limits.backend", "must be memory or redis");
  }
  if (c.limits.backend == "redis" && c.redis.url.empty()) {
    bad(src, "redis.url", "required when limits.backend is redis");
  }
  if (c.limits.quota_failure_mode != "closed" && c.limits.quota_failure_mode != "open") {
    bad(src, "limits.quota_failure_mode", "must be closed or open");
  }
  if (c.storage.sqlite_synchronous != "full" && c.storage.sqlite_synchronous != "normal") {
    bad(src, "storage.sqlite_synchronous", "must be full or normal");
  }
  if (c.security.jwt_leeway > std::chrono::seconds(60)) {
    bad(src, "security.jwt_leeway", "must be at most 60s");
  }
  if (c.limits.fallback_share <= 0 || c.limits.fallback_share > 1) {
    bad(src, "limits.fallback_share", "must be in (0, 1]");
  }
  if (c.http.max_header_bytes < 1024) {
    bad(src, "http.max_header_bytes", "must be at least 1KiB");
  }
  if (c.routing.max_attempts < 1 || c.routing.max_attempts > 16) {
    bad(src, "routing.max_attempts", "must be between 1 and 16");
  }
  if (c.prompts.eval_max_concurrency < 1 || c.prompts.eval_max_concurrency > 16) {
    bad(src, "prompts.eval_max_concurrency", "must be between 1 and 16");
  }
  if (c.prompts.eval_max_case_timeout < std::chrono::seconds(1) ||
      c.prompts.eval_max_case_timeout > std::chrono::minutes(10)) {
    bad(src, "prompts.eval_max_case_timeout", "must be between 1s and 10m");
  }
}

}  // namespace

std::string ConfigError::describe() const {
  std::string where = source;
  if (line > 0) {
    where += fmt::format(":{}", line);
  }
  if (key.empty()) {
    return fmt::format("{}: {}", where, message);
  }
  return fmt::format("{}: {}: {}", where, key, message);
}

std::optional<Duration> parseDuration(std::string_view text) {
  auto t = trim(text);
  if (t.empty()) {
    return std::nullopt;
  }
  std::size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) != 0 || t[i] == '.')) {
    ++i;
  }
  if (i == 0) {
    return std::nullopt;
  }
  double v = 0;
  try {
    std::size_t used = 0;
    v = std::stod(t.substr(0, i), &used);
    if (used != i) {
      return std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  auto unit = trim(t.substr(i));
  double ms = 0;
  if (unit.empty() || unit == "s") {
    ms = v * 1000;
  } else if (unit == "ms") {
    ms = v;
  } else if (unit == "m" || unit == "min") {
    ms = v * 60'000;
  } else if (unit == "h") {
    ms = v * 3'600'000;
  } else if (unit == "d") {
    ms = v * 86'400'000;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(ms) || ms > 1e15) {
    return std::nullopt;
  }
  return Duration(static_cast<std::int64_t>(std::llround(ms)));
}

std::optional<std::size_t> parseSize(std::string_view text) {
  auto t = trim(text);
  std::size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])) != 0) {
    ++i;
  }
  if (i == 0) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + i, v);
  if (ec != std::errc()) {
    return std::nullopt;
  }
  auto unit = lower(trim(t.substr(i)));
  std::uint64_t mult = 1;
  if (unit.empty() || unit == "b") {
    mult = 1;
  } else if (unit == "kib" || unit == "k") {
    mult = 1024;
  } else if (unit == "mib" || unit == "m") {
    mult = 1024 * 1024;
  } else if (unit == "gib" || unit == "g") {
    mult = 1024ULL * 1024 * 1024;
  } else if (unit == "kb") {
    mult = 1000;
  } else if (unit == "mb") {
    mult = 1000 * 1000;
  } else if (unit == "gb") {
    mult = 1000ULL * 1000 * 1000;
  } else {
    return std::nullopt;
  }
  if (v > (UINT64_MAX / mult)) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(v * mult);
}

Config load(const LoadOptions& options) {
  Config cfg;
  if (!options.file.empty()) {
    std::ifstream in(options.file);
    if (!in) {
      throw ConfigError{options.file, "", 0, "cannot read the configuration file"};
    }
    YAML::Node root;
    try {
      root = YAML::Load(in);
    } catch (const YAML::Exception& e) {
      throw ConfigError{options.file, "", e.mark.line + 1, "YAML syntax error: " + e.msg};
    }
    if (root.IsDefined() && !root.IsNull()) {
      if (!root.IsMap()) {
        throw ConfigError{options.file, "", 1, "the top level must be a map of keys"};
      }
      walk(cfg, root, "", options.file);
    }
  }
  for (const auto& [name, value] : options.environment) {
    if (name.starts_with("LIVERY_TEST_") || name == "LIVERY_REQUIRE_SERVICES") {
      continue;  // test-harness variables (service URLs, make test's strictness), not config
    }
    const Entry* match = nullptr;
    for (const auto& e : schema()) {
      if (envName(e.key) == name) {
        match = &e;
        break;
      }
    }
    if (match == nullptr) {
      throw ConfigError{"environment",
                        name,
                        0,
                        "unknown LIVERY_ variable (run `livery config keys` to list the valid "
                        "ones)"};
    }
    if (match->type.starts_with("map")) {
      throw ConfigError{"environment", name, 0, "this key can only be set in the file"};
    }
    match->set(cfg, nullptr, value, Source{"environment " + name, 0});
  }
  for (const auto& [key, value] : options.flags) {
    const Entry* e = findEntry(key);
    if (e == nullptr) {
      throw ConfigError{"flag", key, 0, "unknown key (run `livery config keys`)"};
    }
    if (e->type.starts_with("map")) {
      throw ConfigError{"flag", key, 0, "this key can only be set in the file"};
    }
    e->set(cfg, nullptr, value, Source{"flag", 0});
  }
  validate(cfg);
  return cfg;
}

std::map<std::string, std::string> liveryEnvironment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {  // NOLINT
    std::string_view kv(*e);
    if (!kv.starts_with("LIVERY_")) {
      continue;
    }
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    out.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> describeKeys() {
  Config defaults;
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : schema()) {
    std::string d = e.secret ? "(secret)" : e.show(defaults);
    out.emplace_back(
        e.key,
        fmt::format("{} (default: {}; env {})", e.type, d.empty() ? "\"\"" : d, envName(e.key)));
  }
  return out;
}

std::string Config::resolvedKeyFile() const {
  return kms.key_file.empty() ? data_dir + "/kek.json" : kms.key_file;
}

std::string Config::resolvedPepperFile() const {
  return security.pepper_file.empty() ? data_dir + "/pepper" : security.pepper_file;
}

std::string Config::sqlitePath() const {
  return data_dir + "/livery.db";
}

int Config::resolvedThreads() const {
  if (threads > 0) {
    return threads;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace livery::config
