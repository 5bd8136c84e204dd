#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace livery::whitelabel::testing {

inline std::string fixturePath(const std::string& name) {
  return std::string(LIVERY_SOURCE_DIR) + "/tests/fixtures/whitelabel/" + name;
}

// The bytes of tests/fixtures/whitelabel/<name>; fails the test if it is missing.
inline std::string readFixture(const std::string& name) {
  std::ifstream in(fixturePath(name), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One entry per line, exactly as written (no trimming), empty lines skipped.
inline std::vector<std::string> readFixtureLines(const std::string& name) {
  std::istringstream in(readFixture(name));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

// A secret that must never show up in any error message, log detail or rendered output.
inline constexpr const char* kCanary = "sk-canary-7f3c9a1e5b2d4f60";

}  // namespace livery::whitelabel::testing
