#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace livery {

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class Gauge {
 public:
  void add(std::int64_t n) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  void set(std::int64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> v_{0};
};

// Cumulative histogram with fixed upper bounds (Prometheus `le`). observe() is lock-free.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value) noexcept;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  std::uint64_t bucket(std::size_t i) const noexcept {
    return buckets_[i].load(std::memory_order_relaxed);
  }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};  // sum in millionths, for lock-free adds
};

using Labels = std::vector<std::pair<std::string, std::string>>;

// Owns every metric; hands out references that stay valid for the registry's lifetime, so hot
// paths look a metric up once and keep the reference. Thread-safe. Label values must never carry
// a secret or a tenant-supplied free-form string (cardinality and privacy).
class MetricsRegistry {
 public:
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name,
                       std::string_view help,
                       const Labels& labels,
                       const std::vector<double>& bounds);
  // A gauge computed at scrape time (e.g. cache sizes).
  void gaugeCallback(std::string_view name, std::string_view help, std::function<double()> fn);

  // Prometheus text exposition format 0.0.4.
  std::string render() const;

  static const std::vector<double>& latencyBuckets();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
    std::function<double()> callback;
  };
  Family& family(std::string_view name, std::string_view help, Type type);

  mutable std::mutex mu_;  // guards families_ (the metric objects themselves are atomic)
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace livery
