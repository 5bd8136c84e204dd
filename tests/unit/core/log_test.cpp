#include "core/log.hpp"

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"

namespace livery {
namespace {

TEST(LoggerTest, WritesOneJsonLinePerRecord) {
  auto sink = std::make_shared<MemoryLogSink>();
  testing::FakeClock clock;
  Logger log(sink, LogLevel::kInfo, clock);
  LIVERY_LOG(log, Info, "request", {"request_id", "req_1"}, {"status", 200}, {"ok", true});
  auto lines = sink->lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("event":"request","request_id":"req_1","status":200,"ok":true})"),
            std::string::npos);
  EXPECT_EQ(lines[0].front(), '{');
}

TEST(LoggerTest, SkipsRecordsBelowTheLevel) {
  auto sink = std::make_shared<MemoryLogSink>();
  testing::FakeClock clock;
  Logger log(sink, LogLevel::kWarn, clock);
  int evaluated = 0;
  auto field = [&] {
    ++evaluated;
    return 1;
  };
  LIVERY_LOG(log, Info, "ignored", {"n", field()});
  EXPECT_EQ(evaluated, 0);  // fields are not even built
  EXPECT_TRUE(sink->lines().empty());
}

TEST(LoggerTest, EscapesControlCharactersAndQuotes) {
  auto sink = std::make_shared<MemoryLogSink>();
  testing::FakeClock clock;
  Logger log(sink, LogLevel::kInfo, clock);
  LIVERY_LOG(log, Info, "x", {"v", "a\"b\nc\x01"});
  EXPECT_NE(sink->joined().find(R"("v":"a\"b\nc\u0001")"), std::string::npos);
}

// appendJsonString scans eight bytes at a time; every escapable byte at every offset of a word,
// among plain ASCII and UTF-8 bytes, must come out exactly as a byte-by-byte escaper writes it.
TEST(LoggerTest, JsonEscapingMatchesAByteByByteReferenceAtEveryOffset) {
  auto reference = [](std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"') {
        out += "\\\"";
      } else if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  };
  const std::string specials = std::string("\"\\\n\r\t\x01\x1f\x00", 8) + "\x7f\x80\xff ";
  std::size_t checked = 0;
  for (std::size_t len = 0; len <= 19; ++len) {
    for (std::size_t pos = 0; pos < std::max<std::size_t>(len, 1); ++pos) {
      for (char special : specials) {
        std::string s(len, 'a');
        for (std::size_t k = 0; k < len; ++k) {
          s[k] = static_cast<char>(k % 3 == 0 ? 0xc3 : 'a' + k % 26);  // some UTF-8 lead bytes
        }
        if (len > 0) {
          s[pos] = special;
        }
        std::string got;
        appendJsonString(got, s);
        ASSERT_EQ(got, reference(s)) << "len " << len << " pos " << pos << " byte "
                                     << static_cast<int>(static_cast<unsigned char>(special));
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 1000u);
}

TEST(LoggerTest, MasksValuesThatLookLikeKeys) {
  auto sink = std::make_shared<MemoryLogSink>();
  testing::FakeClock clock;
  Logger log(sink, LogLevel::kInfo, clock);
  LIVERY_LOG(log,
             Info,
             "oops",
             {"detail", "upstream said: invalid key sk-proj-AAAABBBBCCCCDDDD"},
             {"auth", "Bearer lvr_live_abcdefghijklmnopqrstuvwxyz"});
  auto text = sink->joined();
  EXPECT_EQ(text.find("AAAABBBBCCCCDDDD"), std::string::npos);
  EXPECT_EQ(text.find("abcdefghijklmnopqrstuvwxyz"), std::string::npos);
  EXPECT_NE(text.find("[REDACTED]"), std::string::npos);
}

TEST(LoggerTest, TimestampsAreUtcWithMilliseconds) {
  auto sink = std::make_shared<MemoryLogSink>();
  // 2024-02-29T23:59:58.007Z: a leap day, the end of a day, a zero-padded millisecond.
  testing::FakeClock clock(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1709251198007)));
  Logger log(sink, LogLevel::kInfo, clock);
  LIVERY_LOG(
      log, Info, "tick", {"n", -5}, {"big", std::uint64_t{18446744073709551615u}}, {"ratio", 0.5});
  clock.advance(std::chrono::milliseconds(2000));
  LIVERY_LOG(log, Info, "tock");
  auto lines = sink->lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind(R"({"ts":"2024-02-29T23:59:58.007Z","level":"info","event":"tick")", 0),
            0u)
      << lines[0];
  EXPECT_NE(lines[0].find(R"("n":-5,"big":18446744073709551615,"ratio":0.5})"), std::string::npos)
      << lines[0];
  EXPECT_EQ(lines[1].rfind(R"({"ts":"2024-03-01T00:00:00.007Z")", 0), 0u) << lines[1];
}

}  // namespace
}  // namespace livery
