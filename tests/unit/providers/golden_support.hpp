#pragma once

// Helpers for the provider tests: file reading, semantic JSON comparison, SSE event lists.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "providers/sse/sse_parser.hpp"

namespace livery::providers::testing {

inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline boost::json::value parseJsonOrFail(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 256;
  boost::json::value v = boost::json::parse(text, ec, {}, opts);
  EXPECT_FALSE(ec) << what << " is not valid JSON: " << ec.message() << "\n" << text;
  return v;
}

// Semantic equality: object member order is irrelevant, numbers compare by value.
inline bool jsonEqual(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_double() || b.is_double()) {
      return a.to_number<double>() == b.to_number<double>();
    }
    if (a.is_int64() && b.is_int64()) {
      return a.get_int64() == b.get_int64();
    }
    if (a.is_uint64() && b.is_uint64()) {
      return a.get_uint64() == b.get_uint64();
    }
    return a.to_number<double>() == b.to_number<double>();
  }
  if (a.kind() != b.kind()) {
    return false;
  }
  if (a.is_object()) {
    const auto& ao = a.get_object();
    const auto& bo = b.get_object();
    if (ao.size() != bo.size()) {
      return false;
    }
    for (const auto& kv : ao) {
      const auto* other = bo.if_contains(kv.key());
      if (other == nullptr || !jsonEqual(kv.value(), *other)) {
        return false;
      }
    }
    return true;
  }
  if (a.is_array()) {
    const auto& aa = a.get_array();
    const auto& ba = b.get_array();
    if (aa.size() != ba.size()) {
      return false;
    }
    for (std::size_t i = 0; i < aa.size(); ++i) {
      if (!jsonEqual(aa[i], ba[i])) {
        return false;
      }
    }
    return true;
  }
  return a == b;
}

inline ::testing::AssertionResult sameJson(std::string_view actual, std::string_view expected) {
  boost::system::error_code ec1;
  boost::system::error_code ec2;
  boost::json::parse_options opts;
  opts.max_depth = 256;
  auto a = boost::json::parse(actual, ec1, {}, opts);
  auto e = boost::json::parse(expected, ec2, {}, opts);
  if (ec1) {
    return ::testing::AssertionFailure() << "actual is not JSON (" << ec1.message() << "):\n"
                                         << actual;
  }
  if (ec2) {
    return ::testing::AssertionFailure() << "expected is not JSON (" << ec2.message() << ")";
  }
  if (!jsonEqual(a, e)) {
    return ::testing::AssertionFailure()
           << "JSON differs\n  actual:   " << boost::json::serialize(a)
           << "\n  expected: " << boost::json::serialize(e);
  }
  return ::testing::AssertionSuccess();
}

inline std::vector<sse::SseEvent> parseSse(std::string_view text) {
  std::vector<sse::SseEvent> events;
  sse::SseParser parser;
  auto r = parser.feed(text, [&](const sse::SseEvent& e) { events.push_back(e); });
  EXPECT_TRUE(r.has_value());
  EXPECT_FALSE(parser.finish()) << "SSE text ends with an incomplete event";
  return events;
}

// Event by event: same event names, data equal as JSON when both parse, else byte-equal.
inline ::testing::AssertionResult sameSse(std::string_view actual, std::string_view expected) {
  auto a = parseSse(actual);
  auto e = parseSse(expected);
  for (std::size_t i = 0; i < std::max(a.size(), e.size()); ++i) {
    if (i >= a.size()) {
      return ::testing::AssertionFailure()
             << "missing event " << i << ": " << e[i].data << "\nactual stream:\n"
             << actual;
    }
    if (i >= e.size()) {
      return ::testing::AssertionFailure()
             << "extra event " << i << ": " << a[i].data << "\nactual stream:\n"
             << actual;
    }
    if (a[i].event != e[i].event) {
      return ::testing::AssertionFailure()
             << "event " << i << " type '" << a[i].event << "' != '" << e[i].event << "'";
    }
    boost::system::error_code ec1;
    boost::system::error_code ec2;
    auto aj = boost::json::parse(a[i].data, ec1);
    auto ej = boost::json::parse(e[i].data, ec2);
    bool equal = (!ec1 && !ec2) ? jsonEqual(aj, ej) : a[i].data == e[i].data;
    if (!equal) {
      return ::testing::AssertionFailure() << "event " << i << " differs\n  actual:   " << a[i].data
                                           << "\n  expected: " << e[i].data;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace livery::providers::testing
