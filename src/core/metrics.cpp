#include "core/metrics.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace livery {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    buckets_[i].store(0, std::memory_order_relaxed);
  }
}

void Histogram::observe(double value) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) {
    ++i;
  }
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (value > 0) {
    sum_micros_.fetch_add(static_cast<std::uint64_t>(std::llround(value * 1e6)),
                          std::memory_order_relaxed);
  }
}

double Histogram::sum() const noexcept {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

const std::vector<double>& MetricsRegistry::latencyBuckets() {
  static const std::vector<double> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return kBuckets;
}

namespace {

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string labelKey(const Labels& labels) {
  std::string key;
  for (const auto& [k, v] : labels) {
    if (!key.empty()) {
      key.push_back(',');
    }
    key += k;
    key += "=\"";
    key += escapeLabelValue(v);
    key += '"';
  }
  return key;
}

std::string withLabels(std::string_view name, std::string_view key, std::string_view extra = {}) {
  std::string out(name);
  if (key.empty() && extra.empty()) {
    return out;
  }
  out.push_back('{');
  out += key;
  if (!extra.empty()) {
    if (!key.empty()) {
      out.push_back(',');
    }
    out += extra;
  }
  out.push_back('}');
  return out;
}

std::string formatDouble(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  return fmt::format("{}", v);
}

}  // namespace

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name,
                                                 std::string_view help,
                                                 Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it =
        families_.emplace(std::string(name), Family{type, std::string(help), {}, {}, {}, {}}).first;
  } else if (it->second.type != type) {
    throw std::logic_error(fmt::format("metric {} registered with two types", name));
  }
  return it->second;
}

Counter& MetricsRegistry::counter(std::string_view name,
                                  std::string_view help,
                                  const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& fam = family(name, help, Type::kCounter);
  auto& slot = fam.counters[labelKey(labels)];
  if (!slot) {
    slot = std::make_unique<Counter>();
  }
  return *slot;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& fam = family(name, help, Type::kGauge);
  auto& slot = fam.gauges[labelKey(labels)];
  if (!slot) {
    slot = std::make_unique<Gauge>();
  }
  return *slot;
}

Histogram& MetricsRegistry::histogram(std::string_view name,
                                      std::string_view help,
                                      const Labels& labels,
                                      const std::vector<double>& bounds) {
  std::lock_guard lock(mu_);
  auto& fam = family(name, help, Type::kHistogram);
  auto& slot = fam.histograms[labelKey(labels)];
  if (!slot) {
    slot = std::make_unique<Histogram>(bounds);
  }
  return *slot;
}

void MetricsRegistry::gaugeCallback(std::string_view name,
                                    std::string_view help,
                                    std::function<double()> fn) {
  std::lock_guard lock(mu_);
  family(name, help, Type::kGauge).callback = std::move(fn);
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(4096);
  for (const auto& [name, fam] : families_) {
    std::string_view type = fam.type == Type::kCounter ? "counter"
                            : fam.type == Type::kGauge ? "gauge"
                                                       : "histogram";
    fmt::format_to(
        std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, fam.help, name, type);
    for (const auto& [key, c] : fam.counters) {
      fmt::format_to(std::back_inserter(out), "{} {}\n", withLabels(name, key), c->value());
    }
    for (const auto& [key, g] : fam.gauges) {
      fmt::format_to(std::back_inserter(out), "{} {}\n", withLabels(name, key), g->value());
    }
    if (fam.callback) {
      fmt::format_to(std::back_inserter(out), "{} {}\n", name, formatDouble(fam.callback()));
    }
    for (const auto& [key, h] : fam.histograms) {
      std::uint64_t cumulative = 0;
      const auto& bounds = h->bounds();
      for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += h->bucket(i);
        std::string le = i < bounds.size() ? formatDouble(bounds[i]) : "+Inf";
        fmt::format_to(std::back_inserter(out),
                       "{} {}\n",
                       withLabels(name + "_bucket", key, "le=\"" + le + "\""),
                       cumulative);
      }
      fmt::format_to(std::back_inserter(out),
                     "{} {}\n{} {}\n",
                     withLabels(name + "_sum", key),
                     formatDouble(h->sum()),
                     withLabels(name + "_count", key),
                     h->count());
    }
  }
  return out;
}

}  // namespace livery
