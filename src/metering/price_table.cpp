#include "metering/price_table.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace livery::metering {

namespace {

constexpr std::uint64_t kPerMillion = 1'000'000;
constexpr double kMaxUsdPerMTok = 1'000'000.0;

struct BuiltinPrice {
  std::string_view model;
  double input;
  double output;
  double cached_input;
};

// Public list prices in USD per million tokens (standard tier, no batch discount), as published
// on openai.com/api/pricing and anthropic.com/pricing and known at kBuiltinPricesAsOf. Anthropic's
// cached rate is the cache-read price (0.1x input); cache writes (1.25x) are not modelled.
// Where a model has no cached rate, cached tokens cost the input rate. Verify before relying on
// them for anything but estimates; override in config (metering.prices).
constexpr BuiltinPrice kBuiltin[] = {
    // OpenAI chat / reasoning
    {"gpt-4o", 2.50, 10.00, 1.25},
    {"gpt-4o-2024-05-13", 5.00, 15.00, 5.00},  // the first gpt-4o snapshot kept its launch price
    {"gpt-4o-mini", 0.15, 0.60, 0.075},
    {"gpt-4.1", 2.00, 8.00, 0.50},
    {"gpt-4.1-mini", 0.40, 1.60, 0.10},
    {"gpt-4.1-nano", 0.10, 0.40, 0.025},
    {"gpt-5", 1.25, 10.00, 0.125},
    {"gpt-5-mini", 0.25, 2.00, 0.025},
    {"gpt-5-nano", 0.05, 0.40, 0.005},
    {"gpt-4-turbo", 10.00, 30.00, 10.00},
    {"gpt-4", 30.00, 60.00, 30.00},
    {"gpt-3.5-turbo", 0.50, 1.50, 0.50},
    {"o1", 15.00, 60.00, 7.50},
    {"o1-mini", 1.10, 4.40, 0.55},
    {"o3", 2.00, 8.00, 0.50},
    {"o3-mini", 1.10, 4.40, 0.55},
    {"o4-mini", 1.10, 4.40, 0.275},
    // OpenAI embeddings (input only)
    {"text-embedding-3-small", 0.02, 0.0, 0.02},
    {"text-embedding-3-large", 0.13, 0.0, 0.13},
    {"text-embedding-ada-002", 0.10, 0.0, 0.10},
    // Anthropic
    {"claude-3-haiku", 0.25, 1.25, 0.03},
    {"claude-3-sonnet", 3.00, 15.00, 0.30},
    {"claude-3-opus", 15.00, 75.00, 1.50},
    {"claude-3-5-haiku", 0.80, 4.00, 0.08},
    {"claude-3-5-sonnet", 3.00, 15.00, 0.30},
    {"claude-3-7-sonnet", 3.00, 15.00, 0.30},
    {"claude-sonnet-4", 3.00, 15.00, 0.30},
    {"claude-sonnet-4-5", 3.00, 15.00, 0.30},  // prompts up to 200K tokens
    {"claude-haiku-4-5", 1.00, 5.00, 0.10},
    {"claude-opus-4", 15.00, 75.00, 1.50},
    {"claude-opus-4-1", 15.00, 75.00, 1.50},
    {"claude-opus-4-5", 5.00, 25.00, 0.50},
};

// Names that are neither a prefix nor a dated snapshot of their price entry.
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
    {"o1-preview", "o1"},
    {"gpt-4-turbo-preview", "gpt-4-turbo"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
    out.pop_back();
  }
  std::size_t first = out.find_first_not_of(" \t");
  return first == std::string::npos ? std::string() : out.substr(first);
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Length of one version-suffix token at the start of `s` (which begins with '-'), or 0.
std::size_t suffixToken(std::string_view s) {
  if (s.size() < 2 || s[0] != '-') {
    return 0;
  }
  std::string_view t = s.substr(1);
  // -YYYY-MM-DD
  if (t.size() >= 10 && allDigits(t.substr(0, 4)) && t[4] == '-' && allDigits(t.substr(5, 2)) &&
      t[7] == '-' && allDigits(t.substr(8, 2))) {
    return 11;
  }
  std::size_t digits = 0;
  while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') {
    ++digits;
  }
  if (digits == 8 || digits == 4) {  // -YYYYMMDD, -MMDD
    return 1 + digits;
  }
  if (digits == 1 && t[0] == '0') {  // -0 ("claude-sonnet-4-0")
    return 2;
  }
  for (std::string_view word : {"latest", "preview"}) {
    if (t.starts_with(word)) {
      return 1 + word.size();
    }
  }
  if (t.size() >= 2 && t[0] == 'v' && t[1] >= '0' && t[1] <= '9') {  // -v1, -v2, -v1:0
    std::size_t n = 1;
    while (n < t.size() && t[n] >= '0' && t[n] <= '9') {
      ++n;
    }
    if (n < t.size() && t[n] == ':') {
      std::size_t m = n + 1;
      while (m < t.size() && t[m] >= '0' && t[m] <= '9') {
        ++m;
      }
      if (m > n + 1) {
        n = m;
      }
    }
    return 1 + n;
  }
  return 0;
}

bool isVersionSuffix(std::string_view rest) {
  while (!rest.empty()) {
    std::size_t n = suffixToken(rest);
    if (n == 0) {
      return false;
    }
    // A token must end at a '-' boundary: "-0613abc" is not a version.
    if (n < rest.size() && rest[n] != '-') {
      return false;
    }
    rest.remove_prefix(n);
  }
  return true;
}

// "openai/gpt-4o" -> "gpt-4o"; "us.anthropic.claude-3-5-sonnet-…" -> "claude-3-5-sonnet-…";
// "claude-3-5-sonnet-v2@20241022" -> "claude-3-5-sonnet-v2".
std::string stripDecorations(std::string name) {
  std::size_t slash = name.rfind('/');
  if (slash != std::string::npos) {
    name.erase(0, slash + 1);
  }
  constexpr std::string_view kBedrock = "anthropic.";
  std::size_t bedrock = name.find(kBedrock);
  if (bedrock != std::string::npos) {
    name.erase(0, bedrock + kBedrock.size());
  }
  std::size_t at = name.find('@');
  if (at != std::string::npos) {
    name.erase(at);
  }
  return name;
}

bool mulOverflows(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return __builtin_mul_overflow(a, b, &out);
}

}  // namespace

std::optional<std::int64_t> microUsdPerMTok(double usd_per_mtok) {
  if (!std::isfinite(usd_per_mtok) || usd_per_mtok < 0 || usd_per_mtok > kMaxUsdPerMTok) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(std::llround(usd_per_mtok * 1'000'000.0));
}

std::int64_t costMicroUsd(const ModelPrice& price, const TokenUsage& usage) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t cached = std::min(usage.cached_tokens, usage.prompt_tokens);
  std::uint64_t uncached = usage.prompt_tokens - cached;
  const std::pair<std::uint64_t, std::int64_t> parts[] = {
      {uncached, price.input},
      {cached, price.cached_input},
      {usage.completion_tokens, price.output},
  };
  // tokens x price / 1e6 without a 128-bit product: whole millions of tokens give whole
  // micro-dollars; the remainders (< 1e6 tokens x <= 1e12) are summed and rounded once.
  std::uint64_t whole = 0;
  std::uint64_t fraction = 0;
  for (const auto& [tokens, p] : parts) {
    auto unit = static_cast<std::uint64_t>(std::max<std::int64_t>(p, 0));
    std::uint64_t w = 0;
    if (mulOverflows(tokens / kPerMillion, unit, w) || __builtin_add_overflow(whole, w, &whole)) {
      return std::numeric_limits<std::int64_t>::max();
    }
    fraction += (tokens % kPerMillion) * unit;
  }
  std::uint64_t total = 0;
  if (__builtin_add_overflow(whole, (fraction + kPerMillion / 2) / kPerMillion, &total) ||
      total > kMax) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return static_cast<std::int64_t>(total);
}

PriceTable PriceTable::builtin() {
  PriceTable t;
  for (const auto& b : kBuiltin) {
    // The literals above are all valid prices.
    t.set(std::string(b.model),
          ModelPrice{microUsdPerMTok(b.input).value_or(0),
                     microUsdPerMTok(b.output).value_or(0),
                     microUsdPerMTok(b.cached_input).value_or(0)});
  }
  return t;
}

Result<PriceTable> PriceTable::withOverrides(
    const std::map<std::string, config::Price>& overrides) {
  PriceTable t = builtin();
  for (const auto& [name, p] : overrides) {
    std::string key = lower(name);
    if (key.empty()) {
      return fail(ErrorCode::kUnprocessable, "metering.prices: empty model name");
    }
    auto in = microUsdPerMTok(p.input_per_mtok);
    auto out = microUsdPerMTok(p.output_per_mtok);
    auto cached = microUsdPerMTok(p.cached_input_per_mtok);
    if (!in || !out || !cached) {
      return fail(ErrorCode::kUnprocessable,
                  "metering.prices." + key + ": prices must be between 0 and 1000000 USD per MTok");
    }
    if (*cached == 0 && *in != 0) {
      cached = in;
    }
    t.set(std::move(key), ModelPrice{*in, *out, *cached});
  }
  return t;
}

void PriceTable::set(std::string name, ModelPrice price) {
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), name, [](const auto& e, const std::string& n) {
        return e.first < n;
      });
  if (it != entries_.end() && it->first == name) {
    it->second = price;
  } else {
    entries_.emplace(it, std::move(name), price);
  }
}

const ModelPrice* PriceTable::exact(std::string_view name) const {
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), name, [](const auto& e, std::string_view n) {
        return e.first < n;
      });
  return it != entries_.end() && it->first == name ? &it->second : nullptr;
}

std::optional<PriceMatch> PriceTable::find(std::string_view model) const {
  std::string name = lower(model);
  if (name.empty() || name.size() > 256) {
    return std::nullopt;
  }
  if (const ModelPrice* p = exact(name)) {
    return PriceMatch{name, *p, true};
  }
  name = stripDecorations(std::move(name));
  if (const ModelPrice* p = exact(name)) {
    return PriceMatch{name, *p, false};
  }
  for (const auto& [alias, target] : kAliases) {
    if (name == alias) {
      if (const ModelPrice* p = exact(target)) {
        return PriceMatch{std::string(target), *p, false};
      }
    }
  }
  // Longest table name that is a prefix of `name` followed only by version suffixes.
  const std::pair<std::string, ModelPrice>* best = nullptr;
  for (const auto& e : entries_) {
    if (name.size() > e.first.size() && name.starts_with(e.first) && name[e.first.size()] == '-' &&
        isVersionSuffix(std::string_view(name).substr(e.first.size())) &&
        (best == nullptr || e.first.size() > best->first.size())) {
      best = &e;
    }
  }
  if (best != nullptr) {
    return PriceMatch{best->first, best->second, false};
  }
  return std::nullopt;
}

std::optional<std::int64_t> PriceTable::costMicroUsd(std::string_view model,
                                                     const TokenUsage& usage) const {
  auto m = find(model);
  if (!m) {
    return std::nullopt;
  }
  return metering::costMicroUsd(m->price, usage);
}

}  // namespace livery::metering
