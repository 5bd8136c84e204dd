#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace livery::config {

using Duration = std::chrono::milliseconds;

// Typed configuration. Built once by load() (defaults < YAML file < LIVERY_* environment <
// command-line flags) and immutable afterwards; stages receive the parts they need, never YAML.
// Every field is listed in config/schema.cpp with its YAML key, so the same table drives the
// file parser, the environment overrides, `--set key=value` and `livery config keys`.

struct HttpConfig {
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  Duration read_timeout = std::chrono::seconds(30);   // to receive one complete request
  Duration idle_timeout = std::chrono::seconds(75);   // keep-alive wait for the next request
  Duration write_timeout = std::chrono::seconds(30);  // to send one response (or one SSE chunk)
  Duration drain_timeout = std::chrono::seconds(30);  // graceful shutdown: in-flight requests
  std::size_t max_connections = 10'000;
  std::vector<std::string> trusted_proxies;  // CIDRs whose X-Forwarded-* headers are believed
  std::string base_domain = "localhost";     // <slug>.<base_domain> maps to a tenant
  std::string operator_host;  // host of /operator and /admin UI (empty: the listen address)
  bool access_log = true;
};

struct StorageConfig {
  std::string backend = "sqlite";  // sqlite | postgres
  std::string postgres_url;        // for postgres (a secret: never logged)
  std::string postgres_schema;     // optional schema (search_path)
  int pool_size = 4;               // blocking-call threads / connections
  Duration busy_timeout = std::chrono::seconds(5);
  std::string sqlite_synchronous = "full";  // full | normal (see storage/sqlite)
  // SQLite maps up to this much of the database (PRAGMA mmap_size): start-up scans and reads skip
  // a copy per page; a disk I/O error on a mapped page then raises SIGBUS instead of an error
  // code. 0 turns mapping off.
  std::uint64_t sqlite_mmap_bytes = std::uint64_t{1} << 30;
  Duration statement_timeout = std::chrono::seconds(30);
  Duration connect_timeout = std::chrono::seconds(5);
  Duration acquire_timeout = std::chrono::seconds(5);
};

struct SyncConfig {
  Duration poll_interval = std::chrono::milliseconds(250);  // change feed → in-memory indexes
  Duration full_resync = std::chrono::minutes(10);          // safety net (0: never)
};

struct LogConfig {
  std::string level = "info";
  std::string file;  // empty: stderr
};

struct DekCacheConfig {
  Duration max_age = std::chrono::minutes(5);
  std::uint64_t max_uses = 100'000;
  std::size_t max_entries = 10'000;
};

struct KmsConfig {
  std::string backend = "local";  // local | pkcs11
  std::string key_file;           // local: default <data_dir>/kek.json
  std::string pkcs11_module;      // pkcs11: path to the module .so
  std::string pkcs11_token_label;
  std::string pkcs11_pin_file;  // pkcs11: file holding the user PIN (or LIVERY_KMS_PKCS11_PIN)
  std::string pkcs11_pin;       // secret: only from the environment or pin file
  std::string pkcs11_key_label = "livery-kek";  // key objects "<label>-v<N>"
  int pkcs11_max_sessions = 8;
  DekCacheConfig dek_cache;
};

struct SecurityConfig {
  std::string pepper_file;  // default <data_dir>/pepper (HMAC key for API-key hashes)
  bool allow_core_dumps = false;
  bool mock_response_default = true;  // tenants may use `mock_response` unless they turn it off
  Duration jwt_leeway = std::chrono::seconds(30);  // clock skew allowance (capped at 60 s)
  std::size_t jwt_max_token_bytes = 8192;
  Duration session_ttl = std::chrono::hours(12);  // console and workspace sessions
  bool cookie_secure = false;  // mark cookies Secure (set when TLS is terminated in front)
};

struct WhitelabelConfig {
  std::size_t logo_max_bytes = 512 * 1024;
  std::size_t favicon_max_bytes = 64 * 1024;
  int max_image_dimension = 4096;
};

struct UpstreamConfig {
  Duration connect_timeout = std::chrono::seconds(5);
  Duration first_byte_timeout = std::chrono::seconds(120);
  Duration idle_timeout = std::chrono::seconds(60);   // between bytes of a streamed response
  Duration total_timeout = std::chrono::minutes(10);  // whole upstream exchange
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  // Per I/O thread. A request finding no idle connection opens one (a TLS handshake to a real
  // provider), so this should cover the concurrent requests one thread sends to one host: at 256
  // concurrent requests a cap of 64 churned connections and cost 57 vs 39 µs of CPU per request.
  std::size_t max_idle_per_host = 256;
  Duration pool_idle_timeout = std::chrono::seconds(30);
  std::string ca_file;  // default: the system CA store
  // Outbound guard exceptions, "host" or "host:port" entries.
  std::vector<std::string> allow_http_hosts;     // plain http allowed for these
  std::vector<std::string> allow_private_hosts;  // loopback/private/link-local allowed for these
};

struct RoutingConfig {
  int max_attempts = 4;
  Duration total_deadline = std::chrono::minutes(10);
  Duration backoff_base = std::chrono::milliseconds(100);
  Duration backoff_max = std::chrono::seconds(5);
  Duration retry_after_cap = std::chrono::seconds(10);
  int cooldown_failures = 3;
  Duration cooldown = std::chrono::seconds(30);
};

struct LimitsConfig {
  std::string backend = "memory";                   // memory | redis
  double burst_seconds = 1.0;                       // GCRA burst tolerance, in seconds of the rate
  std::string quota_failure_mode = "closed";        // when the shared store is down: closed | open
  std::uint32_t default_completion_reserve = 1024;  // reserved when max_tokens is absent
  double fallback_share = 1.0;  // share of each rate limit a node allows alone when Redis is down
  Duration reservation_ttl = std::chrono::minutes(15);  // Redis: reservations of dead nodes expire
};

struct RedisConfig {
  std::string url;  // redis://host:port[/db] (a secret if it carries a password)
  int pool_size = 4;
  Duration timeout = std::chrono::milliseconds(200);
  bool usage_stream = true;  // XADD every usage event to lv:{tenant}:usage
  std::size_t usage_stream_max_len = 10'000;
};

struct Price {
  double input_per_mtok = 0;
  double output_per_mtok = 0;
  double cached_input_per_mtok = 0;
};

struct MeteringConfig {
  // Extra group-commit wait, taken only under load (commit_siblings records already queued).
  Duration commit_interval = std::chrono::milliseconds(2);
  std::size_t commit_siblings = 2;
  std::size_t max_batch = 2000;
  std::map<std::string, Price> prices;  // overrides/additions to the built-in table
};

struct AlertsConfig {
  double spike_factor = 10.0;
  Duration window = std::chrono::hours(1);
  Duration baseline = std::chrono::hours(24);
  std::uint64_t min_requests = 100;  // below this hourly volume no spike is raised
  bool auto_suspend = false;
  std::string operator_webhook_url;
  std::string operator_webhook_secret;  // secret
};

struct PromptsConfig {
  std::string operator_policy;  // optional policy prompt layered before every tenant prompt
  std::size_t cache_entries = 10'000;
  // The prompt repository (`livery prompts`, docs/design/prompt-repository.md):
  std::string repo_path;          // local clone used when --repo is not given (empty: required)
  int eval_max_concurrency = 16;  // cap over prompt.yaml eval.concurrency (1..16)
  Duration eval_max_case_timeout = std::chrono::minutes(10);  // cap over eval.case_timeout_s
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = ".livery";
  int threads = 0;  // 0: one I/O thread per core
  HttpConfig http;
  StorageConfig storage;
  SyncConfig sync;
  LogConfig log;
  KmsConfig kms;
  SecurityConfig security;
  UpstreamConfig upstream;
  RoutingConfig routing;
  LimitsConfig limits;
  RedisConfig redis;
  MeteringConfig metering;
  AlertsConfig alerts;
  PromptsConfig prompts;
  WhitelabelConfig whitelabel;

  // Derived after load.
  std::string resolvedKeyFile() const;
  std::string resolvedPepperFile() const;
  std::string sqlitePath() const;
  int resolvedThreads() const;
};

// A configuration problem: names the source (file, "environment", "flag"), the key and the line
// (0 when not from a file). `livery` exits with status 2 on it.
struct ConfigError {
  std::string source;
  std::string key;
  int line = 0;
  std::string message;
  std::string describe() const;
};

struct LoadOptions {
  std::string file;                                        // --config (empty: none)
  std::map<std::string, std::string> environment;          // LIVERY_* variables
  std::vector<std::pair<std::string, std::string>> flags;  // key=value from flags, in order
};

// Loads and validates; throws ConfigError.
Config load(const LoadOptions& options);

// Collects LIVERY_* variables from the process environment (the one place that reads it).
std::map<std::string, std::string> liveryEnvironment();

// Every known key with its type and default, for `livery config keys` and the docs.
std::vector<std::pair<std::string, std::string>> describeKeys();

// Parses "30s", "250ms", "5m", "1h", "2d" or a plain number of seconds.
std::optional<Duration> parseDuration(std::string_view text);
// Parses "10MiB", "16KiB", "1GiB", "512" (bytes), "10MB".
std::optional<std::size_t> parseSize(std::string_view text);

}  // namespace livery::config
