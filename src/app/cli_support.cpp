#include "app/cli_support.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <mutex>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "app/core_services.hpp"
#include "config/config.hpp"
#include "core/log.hpp"

namespace livery::app::cli {

namespace {

// Log lines of the CLI (warnings and errors of the storage and KMS layers) go to stderr as they
// happen; the CLI has no background thread to hand them to.
class StderrLogSink final : public LogSink {
 public:
  void write(std::string_view line) override {
    std::lock_guard lock(mu_);
    std::cerr << line << '\n';
  }
  void flush() override {
    std::lock_guard lock(mu_);
    std::cerr.flush();
  }

 private:
  std::mutex mu_;  // guards std::cerr against interleaved lines
};

bool fileExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Parses exactly `n` decimal digits at `s[pos]`.
bool digitsAt(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) {
    return false;
  }
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

// ---- Invocation ------------------------------------------------------------------------------

Invocation::Invocation(CLI::App& leaf, const config::Config& cfg, Streams streams)
    : leaf_(leaf),
      cfg_(cfg),
      streams_(streams),
      log_(std::make_unique<Logger>(std::make_shared<StderrLogSink>(), LogLevel::kWarn, clock_)) {}

Invocation::~Invocation() = default;

bool Invocation::has(std::string_view name) const {
  const auto* opt = leaf_.get_option_no_throw(std::string(name));
  return opt != nullptr && opt->count() > 0;
}

std::string Invocation::text(std::string_view name) const {
  const auto* opt = leaf_.get_option_no_throw(std::string(name));
  if (opt == nullptr || opt->count() == 0) {
    return {};
  }
  return opt->results().back();
}

std::vector<std::string> Invocation::texts(std::string_view name) const {
  const auto* opt = leaf_.get_option_no_throw(std::string(name));
  if (opt == nullptr) {
    return {};
  }
  return opt->results();
}

std::optional<std::uint64_t> Invocation::optionalNumber(std::string_view name) const {
  if (!has(name)) {
    return std::nullopt;
  }
  auto t = text(name);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) {
    return std::nullopt;  // the CLI11 validator of the option refused it already
  }
  return v;
}

std::uint64_t Invocation::number(std::string_view name, std::uint64_t fallback) const {
  return optionalNumber(name).value_or(fallback);
}

bool Invocation::flag(std::string_view name) const {
  return has(name);
}

CoreServices& Invocation::core() {
  if (!core_) {
    const bool new_kek = cfg_.kms.backend != "pkcs11" && !fileExists(cfg_.resolvedKeyFile());
    const bool new_pepper = !fileExists(cfg_.resolvedPepperFile());
    core_ = CoreServices::open(cfg_, clock_, *log_, /*create_missing=*/true);
    if (new_kek) {
      streams_.err << "livery: note: created a new KEK file " << cfg_.resolvedKeyFile()
                   << " (first use of this data directory; back it up)\n";
    }
    if (new_pepper) {
      streams_.err << "livery: note: created a new pepper file " << cfg_.resolvedPepperFile()
                   << " (API-key hashes depend on it; back it up)\n";
    }
  }
  return *core_;
}

control::ControlPlane& Invocation::control() {
  return *core().control;
}

storage::Stores& Invocation::stores() {
  return *core().stores;
}

int Invocation::failed(const Error& e) {
  streams_.err << "livery: " << printable(e.client_message);
  if (!e.log_detail.empty() && e.log_detail != e.client_message) {
    // log_detail never carries a secret (core/error.hpp); it often says which row or file.
    streams_.err << " (" << printable(e.log_detail) << ")";
  }
  streams_.err << "\n";
  return 1;
}

int Invocation::failed(std::string_view message) {
  streams_.err << "livery: " << message << "\n";
  return 1;
}

int Invocation::usageError(std::string_view message) {
  streams_.err << "livery: " << message << "\nRun with --help for more information.\n";
  return 2;
}

Result<storage::Tenant> Invocation::tenant(std::string_view id_or_slug) {
  if (id_or_slug.empty()) {
    return fail(ErrorCode::kBadRequest, "--tenant is required");
  }
  auto t = control().findTenant(id_or_slug);
  if (!t && t.error().code == ErrorCode::kNotFound) {
    return fail(ErrorCode::kNotFound, "no tenant '" + printable(id_or_slug) + "'");
  }
  return t;
}

void Invocation::printJson(const boost::json::value& v) {
  streams_.out << boost::json::serialize(v) << "\n";
}

CLI::Option* addNumberOption(CLI::App& cmd,
                             const std::string& name,
                             const std::string& help,
                             std::uint64_t lo,
                             std::uint64_t hi) {
  auto range = CLI::Range(lo, hi);
  range.description("");  // the help text says the range; CLI11's "UINT in [..]" is noise
  return cmd.add_option(name)->description(help)->type_name("N")->check(range);
}

// ---- output ----------------------------------------------------------------------------------

std::string printable(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      c = '?';
    }
  }
  return out;
}

std::string csvField(std::string_view s) {
  std::string v = printable(s);
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) {
    v.insert(v.begin(), '\'');
  }
  if (v.find_first_of(",\"") == std::string::npos) {
    return v;
  }
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
  return out;
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::add(std::vector<std::string> row) {
  row.resize(headers_.size());
  for (auto& cell : row) {
    cell = printable(cell);
  }
  rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t i = 0; i < headers_.size(); ++i) {
    width[i] = headers_[i].size();
    for (const auto& r : rows_) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out << cells[i];
      if (i + 1 < cells.size()) {
        out << std::string(width[i] - cells[i].size() + 2, ' ');
      }
    }
    out << "\n";
  };
  line(headers_);
  for (const auto& r : rows_) {
    line(r);
  }
}

// ---- times -----------------------------------------------------------------------------------

std::string formatTime(storage::Millis ms) {
  if (ms == 0) {
    return "-";
  }
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::optional<storage::Millis> parseTimestamp(std::string_view t) {
  using namespace std::chrono;
  int y = 0;
  int mo = 0;
  int d = 0;
  if (t.size() < 10 || !digitsAt(t, 0, 4, y) || t[4] != '-' || !digitsAt(t, 5, 2, mo) ||
      t[7] != '-' || !digitsAt(t, 8, 2, d)) {
    return std::nullopt;
  }
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  auto base = duration_cast<milliseconds>(sys_days{ymd}.time_since_epoch()).count();
  if (t.size() == 10) {
    return base;
  }
  int hh = 0;
  int mm = 0;
  int ss = 0;
  if ((t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digitsAt(t, 11, 2, hh) || t.size() < 16 ||
      t[13] != ':' || !digitsAt(t, 14, 2, mm)) {
    return std::nullopt;
  }
  std::size_t pos = 16;
  if (pos < t.size() && t[pos] == ':') {
    if (!digitsAt(t, pos + 1, 2, ss)) {
      return std::nullopt;
    }
    pos += 3;
  }
  std::int64_t frac_ms = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (digits < 3) {
        frac_ms = frac_ms * 10 + (t[pos] - '0');
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    for (; digits < 3; ++digits) {
      frac_ms *= 10;
    }
  }
  if (hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  std::int64_t offset_min = 0;
  if (pos >= t.size()) {
    return std::nullopt;  // RFC 3339 requires the offset
  }
  if (t[pos] == 'Z' || t[pos] == 'z') {
    ++pos;
  } else if (t[pos] == '+' || t[pos] == '-') {
    int oh = 0;
    int om = 0;
    if (!digitsAt(t, pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
        !digitsAt(t, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_min = (t[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) {
    return std::nullopt;
  }
  return base + ((hh * 60 + mm) * 60 + ss) * 1000LL + frac_ms - offset_min * 60'000;
}

std::optional<storage::Millis> parseExpiry(std::string_view text, storage::Millis now) {
  if (text.size() >= 2) {
    char unit = text.back();
    std::int64_t per = unit == 'd'   ? 86'400'000
                       : unit == 'h' ? 3'600'000
                       : unit == 'm' ? 60'000
                                     : 0;
    std::int64_t n = 0;
    auto digits = text.substr(0, text.size() - 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (per != 0 && ec == std::errc() && end == digits.data() + digits.size() && n > 0 &&
        n <= 36'500 * 86'400'000LL / per) {
      return now + n * per;
    }
  }
  return parseTimestamp(text);
}

// ---- secrets ---------------------------------------------------------------------------------

namespace {

// Turns the terminal's echo off for its lifetime.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      active_ = tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    }
  }
  ~EchoOff() {
    if (active_) {
      tcsetattr(fd_, TCSANOW, &saved_);
    }
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

// Reads from `fd` into a secret buffer: up to the first newline when `one_line`, else to the end
// of input. Fails when more than kMaxSecretBytes arrive. Trailing CR/LF are dropped.
Result<SecretBytes> readSecretFd(int fd, bool one_line) {
  SecretBytes buf(kMaxSecretBytes + 1);
  std::size_t n = 0;
  while (n < buf.size()) {
    std::size_t want = one_line ? 1 : buf.size() - n;
    auto got = ::read(fd, buf.data() + n, want);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(ErrorCode::kBadRequest, "cannot read the secret");
    }
    if (got == 0) {
      break;
    }
    n += static_cast<std::size_t>(got);
    if (one_line && buf.data()[n - 1] == '\n') {
      break;
    }
  }
  if (n > kMaxSecretBytes) {
    return fail(ErrorCode::kBadRequest,
                "the secret is longer than " + std::to_string(kMaxSecretBytes) + " bytes");
  }
  while (n > 0 && (buf.data()[n - 1] == '\n' || buf.data()[n - 1] == '\r')) {
    --n;
  }
  auto out = SecretBytes::copyOf(std::span<const unsigned char>(buf.data(), n));
  return out;  // `buf` is wiped by its destructor
}

}  // namespace

Result<SecretBytes> readSecret(Invocation& inv,
                               std::string_view prompt,
                               const std::string& file,
                               bool confirm) {
  if (!file.empty()) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return fail(ErrorCode::kBadRequest, "cannot open " + printable(file));
    }
    auto s = readSecretFd(fd, /*one_line=*/false);
    ::close(fd);
    return s;
  }
  if (!inv.stdinIsTerminal()) {
    return readSecretFd(STDIN_FILENO, /*one_line=*/false);
  }
  SecretBytes first;
  for (int round = 0; round < (confirm ? 2 : 1); ++round) {
    Result<SecretBytes> s = SecretBytes();
    {
      // Echo off before the prompt appears: text typed (or pasted) right after it is not shown.
      EchoOff quiet(STDIN_FILENO);
      inv.err() << (round == 0 ? std::string(prompt) : std::string("Again: ")) << std::flush;
      s = readSecretFd(STDIN_FILENO, /*one_line=*/true);
    }
    inv.err() << "\n";
    if (!s) {
      return s;
    }
    if (round == 0) {
      first = std::move(*s);
    } else if (s->reveal() != first.reveal()) {
      return fail(ErrorCode::kBadRequest, "the two entries differ");
    }
  }
  return first;
}

std::optional<std::string> askLine(Invocation& inv, std::string_view prompt) {
  inv.err() << prompt << std::flush;
  std::string line;
  if (!std::getline(inv.in(), line)) {
    inv.err() << "\n";
    return std::nullopt;
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
    line.pop_back();
  }
  return line;
}

}  // namespace livery::app::cli
