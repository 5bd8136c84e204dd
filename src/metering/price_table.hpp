#pragma once

// Cost estimates at provider list prices. A price table maps model names to input, output and
// cached-input prices; costs are integer micro-USD, so ledgers and aggregates add up exactly.
//
// The built-in prices are the public list prices of OpenAI and Anthropic as known when this file
// was written (kBuiltinPricesAsOf); providers change them, so the table is an estimate and every
// entry can be overridden or extended from config (metering.prices). See
// docs/design/price-table.md.
//
// Token convention (OpenAI's, which the gateway speaks): prompt_tokens counts every input token,
// cached ones included; cached_tokens is the part of prompt_tokens served from the provider's
// prompt cache and is billed at the cached rate; completion_tokens includes reasoning tokens.
// Adapters for providers that report cache reads separately (Anthropic's
// cache_read_input_tokens) add them into prompt_tokens.
//
// Thread-safety: a PriceTable is immutable after construction; share it freely.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"

namespace livery::metering {

// When the built-in list prices were last checked against the providers' pricing pages.
inline constexpr std::string_view kBuiltinPricesAsOf = "2025-11";

// Micro-USD per million tokens (USD per MTok x 1,000,000), i.e. pico-USD per token: exact for
// every list price down to a millionth of a dollar per MTok.
struct ModelPrice {
  std::int64_t input = 0;
  std::int64_t output = 0;
  std::int64_t cached_input = 0;
  friend bool operator==(const ModelPrice&, const ModelPrice&) = default;
};

struct TokenUsage {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t cached_tokens = 0;  // clamped to prompt_tokens
};

// (prompt - cached) x input + cached x cached_input + completion x output, in micro-USD,
// rounded half up once at the end, saturating at INT64_MAX.
std::int64_t costMicroUsd(const ModelPrice& price, const TokenUsage& usage);

// USD per MTok -> ModelPrice units; nullopt if negative, not finite or above 1,000,000 USD/MTok.
std::optional<std::int64_t> microUsdPerMTok(double usd_per_mtok);

struct PriceMatch {
  std::string model;  // the table entry that matched
  ModelPrice price;
  bool exact = false;  // false: matched through a provider prefix or version/date suffix
};

class PriceTable {
 public:
  // The built-in list prices only.
  static PriceTable builtin();
  // The built-in list plus `overrides` (config metering.prices): a name already in the table
  // replaces its price, a new name is added. An override whose cached_input is 0 while input is
  // not bills cached tokens at the input rate (a missing cached price never under-estimates).
  // kUnprocessable for an empty name or a price microUsdPerMTok() rejects.
  [[nodiscard]] static Result<PriceTable> withOverrides(
      const std::map<std::string, config::Price>& overrides);

  // Case-insensitive. In order: the exact name; the name without a provider prefix
  // ("openai/gpt-4o", "anthropic.claude-…" as Bedrock writes it) and without an "@date" suffix
  // (Vertex); then the longest table name that the model starts with, followed only by version
  // suffixes: -YYYY-MM-DD, -YYYYMMDD, -MMDD, -latest, -preview, -vN[:N] and -0
  // ("gpt-4o-2024-08-06" -> gpt-4o, "claude-sonnet-4-20250514" -> claude-sonnet-4, but
  // "gpt-4o-audio-preview" matches nothing). nullopt for an unknown model.
  std::optional<PriceMatch> find(std::string_view model) const;

  // Cost of `usage` on `model`, or nullopt when the model has no price.
  std::optional<std::int64_t> costMicroUsd(std::string_view model, const TokenUsage& usage) const;

  std::size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string, ModelPrice>>& entries() const { return entries_; }

 private:
  void set(std::string name, ModelPrice price);
  const ModelPrice* exact(std::string_view name) const;

  std::vector<std::pair<std::string, ModelPrice>> entries_;  // sorted by name, lower-case
};

}  // namespace livery::metering
