#include "core/metrics.hpp"

#include <gtest/gtest.h>

namespace livery {
namespace {

TEST(MetricsRegistryTest, RendersCountersWithLabels) {
  MetricsRegistry m;
  m.counter("livery_x_total", "X things", {{"route", "/a"}, {"status", "200"}}).inc(3);
  auto& again = m.counter("livery_x_total", "X things", {{"route", "/a"}, {"status", "200"}});
  again.inc();
  auto text = m.render();
  EXPECT_NE(text.find("# TYPE livery_x_total counter"), std::string::npos);
  EXPECT_NE(text.find("livery_x_total{route=\"/a\",status=\"200\"} 4"), std::string::npos);
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulative) {
  MetricsRegistry m;
  auto& h = m.histogram("livery_d_seconds", "D", {}, {0.1, 1.0});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  auto text = m.render();
  EXPECT_NE(text.find("livery_d_seconds_bucket{le=\"0.1\"} 1"), std::string::npos);
  EXPECT_NE(text.find("livery_d_seconds_bucket{le=\"1\"} 2"), std::string::npos);
  EXPECT_NE(text.find("livery_d_seconds_bucket{le=\"+Inf\"} 3"), std::string::npos);
  EXPECT_NE(text.find("livery_d_seconds_count 3"), std::string::npos);
  EXPECT_NEAR(h.sum(), 5.55, 1e-6);
}

TEST(MetricsRegistryTest, EscapesLabelValues) {
  MetricsRegistry m;
  m.gauge("livery_g", "G", {{"k", "a\"b\\c"}}).set(1);
  EXPECT_NE(m.render().find(R"(livery_g{k="a\"b\\c"} 1)"), std::string::npos);
}

TEST(MetricsRegistryTest, RejectsOneNameWithTwoTypes) {
  MetricsRegistry m;
  m.counter("livery_same", "S");
  EXPECT_THROW(m.gauge("livery_same", "S"), std::logic_error);
}

}  // namespace
}  // namespace livery
