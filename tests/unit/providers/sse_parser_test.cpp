#include "providers/sse/sse_parser.hpp"

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace livery::providers::sse {
namespace {

// Collects events; `max` bounds the event size.
struct ParseRun {
  std::vector<SseEvent> events;
  bool failed = false;
  bool partial = false;
};

ParseRun feedChunks(const std::vector<std::string_view>& chunks,
                    std::size_t max = SseParser::kDefaultMaxEventBytes) {
  ParseRun run;
  SseParser parser(max);
  for (auto chunk : chunks) {
    auto r = parser.feed(chunk, [&](const SseEvent& e) { run.events.push_back(e); });
    if (!r) {
      run.failed = true;
      return run;
    }
  }
  run.partial = parser.finish();
  return run;
}

ParseRun feedWhole(std::string_view input, std::size_t max = SseParser::kDefaultMaxEventBytes) {
  return feedChunks({input}, max);
}

// An independent, whole-input reading of the WHATWG event-stream rules, used as the oracle.
std::vector<SseEvent> reference(std::string input) {
  if (input.rfind("\xEF\xBB\xBF", 0) == 0) {
    input.erase(0, 3);
  }
  std::vector<std::string> lines;
  std::string line;
  for (std::size_t i = 0; i < input.size(); ++i) {
    char c = input[i];
    if (c == '\r' || c == '\n') {
      lines.push_back(line);
      line.clear();
      if (c == '\r' && i + 1 < input.size() && input[i + 1] == '\n') {
        ++i;
      }
    } else {
      line.push_back(c);
    }
  }
  // A trailing line without its terminator is never processed.
  std::vector<SseEvent> events;
  std::string data;
  std::string type;
  std::string last_id;
  std::optional<std::uint64_t> retry;
  for (const auto& l : lines) {
    if (l.empty()) {
      if (!data.empty()) {
        data.pop_back();
        events.push_back({type, data, last_id, retry});
        retry.reset();
      }
      data.clear();
      type.clear();
      continue;
    }
    if (l[0] == ':') {
      continue;
    }
    std::string name = l;
    std::string value;
    if (auto colon = l.find(':'); colon != std::string::npos) {
      name = l.substr(0, colon);
      value = l.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') {
        value.erase(0, 1);
      }
    }
    if (name == "data") {
      data += value + "\n";
    } else if (name == "event") {
      type = value;
    } else if (name == "id") {
      if (value.find('\0') == std::string::npos) {
        last_id = value;
      }
    } else if (name == "retry") {
      if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos) {
        try {
          retry = std::stoull(value);
        } catch (const std::out_of_range&) {  // larger than 64 bits: ignored, like any bad value
        }
      }
    }
  }
  return events;
}

TEST(SseParserTest, ParsesEventTypeDataAndId) {
  auto run = feedWhole("event: message_start\ndata: {\"a\":1}\nid: 7\n\n");
  ASSERT_EQ(run.events.size(), 1U);
  EXPECT_EQ(run.events[0].event, "message_start");
  EXPECT_EQ(run.events[0].data, "{\"a\":1}");
  EXPECT_EQ(run.events[0].id, "7");
  EXPECT_FALSE(run.partial);
}

TEST(SseParserTest, JoinsDataLinesWithNewlines) {
  auto run = feedWhole("data: first\ndata:second\ndata\n\n");
  ASSERT_EQ(run.events.size(), 1U);
  EXPECT_EQ(run.events[0].data, "first\nsecond\n");
}

TEST(SseParserTest, StripsExactlyOneLeadingSpace) {
  auto run = feedWhole("data:  two spaces\n\n");
  ASSERT_EQ(run.events.size(), 1U);
  EXPECT_EQ(run.events[0].data, " two spaces");
}

TEST(SseParserTest, IgnoresCommentsAndUnknownFields) {
  auto run = feedWhole(": keep-alive\nfoo: bar\ndata: x\n: another\n\n");
  ASSERT_EQ(run.events.size(), 1U);
  EXPECT_EQ(run.events[0].data, "x");
  EXPECT_EQ(run.events[0].event, "");
}

TEST(SseParserTest, AcceptsCrLfCrAndLfLineEnds) {
  auto run = feedWhole("data: a\r\n\r\ndata: b\r\rdata: c\n\n");
  ASSERT_EQ(run.events.size(), 3U);
  EXPECT_EQ(run.events[0].data, "a");
  EXPECT_EQ(run.events[1].data, "b");
  EXPECT_EQ(run.events[2].data, "c");
}

TEST(SseParserTest, TreatsCrLfSplitAcrossChunksAsOneLineEnd) {
  auto run = feedChunks({"data: a\r", "\n", "\r", "\ndata: b\r", "\r"});
  ASSERT_EQ(run.events.size(), 2U);
  EXPECT_EQ(run.events[0].data, "a");
  EXPECT_EQ(run.events[1].data, "b");
}

TEST(SseParserTest, DoesNotDispatchAnEventWithoutData) {
  auto run = feedWhole("event: ping\n\ndata: x\n\n");
  ASSERT_EQ(run.events.size(), 1U);
  EXPECT_EQ(run.events[0].event, "") << "the type is reset by the blank line";
}

TEST(SseParserTest, DispatchesAnEmptyDataField) {
  auto run = feedWhole("data:\n\n");
  ASSERT_EQ(run.events.size(), 1U);
  EXPECT_EQ(run.events[0].data, "");
}

TEST(SseParserTest, KeepsTheLastEventIdAcrossEvents) {
  auto run = feedWhole("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n");
  ASSERT_EQ(run.events.size(), 3U);
  EXPECT_EQ(run.events[0].id, "1");
  EXPECT_EQ(run.events[1].id, "1");
  EXPECT_EQ(run.events[2].id, "") << "an empty id resets it";
}

TEST(SseParserTest, IgnoresAnIdContainingNul) {
  using namespace std::string_literals;
  auto run = feedWhole("id: 5\ndata: a\n\nid: x\0y\ndata: b\n\n"s);
  ASSERT_EQ(run.events.size(), 2U);
  EXPECT_EQ(run.events[1].id, "5");
}

TEST(SseParserTest, AcceptsOnlyDigitsForRetry) {
  SseParser parser;
  std::vector<SseEvent> events;
  auto on = [&](const SseEvent& e) {
    events.push_back(e);
  };
  ASSERT_TRUE(parser.feed("retry: 1500\ndata: a\n\nretry: 2x\ndata: b\n\n", on));
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].retry, 1500U);
  EXPECT_FALSE(events[1].retry.has_value());
  EXPECT_EQ(parser.retryMs(), 1500U);
}

TEST(SseParserTest, StripsOnlyTheFirstByteOrderMark) {
  auto run = feedChunks({"\xEF",
                         "\xBB",
                         "\xBF"
                         "data: a\n\n\xEF\xBB\xBF"
                         "data: b\n\n"});
  ASSERT_EQ(run.events.size(), 1U) << "the second BOM starts an unknown field name";
  EXPECT_EQ(run.events[0].data, "a");
}

TEST(SseParserTest, KeepsBytesThatOnlyLookedLikeABomStart) {
  auto run = feedChunks({"\xEF", "data: a\n\n"});
  EXPECT_TRUE(run.events.empty()) << "\\xEF + data is an unknown field name";
  auto run2 = feedChunks({"\xEF\xBB", "x\ndata: a\n\n"});
  ASSERT_EQ(run2.events.size(), 1U);
}

TEST(SseParserTest, DiscardsAnIncompleteEventAtTheEnd) {
  auto run = feedWhole("data: a\n\ndata: b\n");
  ASSERT_EQ(run.events.size(), 1U);
  EXPECT_TRUE(run.partial);
  auto run2 = feedWhole("data: a\n\ndata: b");
  EXPECT_TRUE(run2.partial);
}

TEST(SseParserTest, FailsWhenOneLineExceedsTheBound) {
  std::string big = "data: " + std::string(200, 'x') + "\n\n";
  auto run = feedWhole("data: ok\n\n" + big, 100);
  EXPECT_TRUE(run.failed);
  ASSERT_EQ(run.events.size(), 1U) << "events before the oversized one are delivered";
}

TEST(SseParserTest, FailsWhenManyLinesOfOneEventExceedTheBound) {
  std::string input;
  for (int i = 0; i < 20; ++i) {
    input += "data: 0123456789\n";
  }
  input += "\n";
  EXPECT_TRUE(feedWhole(input, 100).failed);
  EXPECT_FALSE(feedWhole(input, 1000).failed);
}

TEST(SseParserTest, FailsOnAnUnterminatedLineLargerThanTheBoundAcrossChunks) {
  SseParser parser(64);
  auto on = [](const SseEvent&) {
  };
  std::string chunk(40, 'x');
  ASSERT_TRUE(parser.feed("data: " + chunk, on));
  auto r = parser.feed(chunk, on);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamUnavailable);
  EXPECT_FALSE(parser.feed("\n\n", on)) << "a failed parser stays failed";
}

TEST(SseParserTest, MatchesTheReferenceOnFixedInputs) {
  for (std::string input : {"data: a\n\n",
                            "data: a\r\ndata: b\r\n\r\n",
                            ":c\nid: 3\nevent: e\ndata\n\n",
                            "\xEF\xBB\xBF"
                            "data: x\r\r",
                            "retry: 10\ndata: y\n\ndata: z\n\n"}) {
    EXPECT_EQ(feedWhole(input).events, reference(input)) << input;
  }
}

// ---- the property: events do not depend on how the bytes are split ----

std::string randomInput(std::mt19937& rng) {
  static const std::vector<std::string> kTokens = {"data:",
                                                   "data: ",
                                                   "event:",
                                                   "event: x",
                                                   "id:",
                                                   "id: 7",
                                                   "retry:",
                                                   "retry: 250",
                                                   ":",
                                                   ": c",
                                                   "x",
                                                   "yz",
                                                   " ",
                                                   "\r",
                                                   "\n",
                                                   "\r\n",
                                                   "\r\n",
                                                   "\n\n",
                                                   "é",
                                                   "\xEF\xBB\xBF",
                                                   "data",
                                                   "12",
                                                   "data: {\"a\":[1]}",
                                                   std::string(1, '\0')};
  std::uniform_int_distribution<std::size_t> len(0, 24);
  std::uniform_int_distribution<std::size_t> pick(0, kTokens.size() - 1);
  std::string s;
  if (rng() % 4 == 0) {
    s = "\xEF\xBB\xBF";
  }
  for (std::size_t i = 0, n = len(rng); i < n; ++i) {
    s += kTokens[pick(rng)];
  }
  return s;
}

std::vector<std::string_view> splitAt(std::string_view s, const std::vector<std::size_t>& cuts) {
  std::vector<std::string_view> out;
  std::size_t prev = 0;
  for (std::size_t cut : cuts) {
    out.push_back(s.substr(prev, cut - prev));
    prev = cut;
  }
  out.push_back(s.substr(prev));
  return out;
}

TEST(SseParserPropertyTest, EventsAreTheSameForEverySplitOfRandomInputs) {
  std::mt19937 rng(20240601);  // fixed seed: deterministic, and a failure is reproducible
  std::size_t checked_splits = 0;
  for (int round = 0; round < 250; ++round) {
    const std::string input = randomInput(rng);
    const auto expected = reference(input);
    ASSERT_EQ(feedWhole(input).events, expected) << "input #" << round;
    const std::size_t n = input.size();
    if (n <= 11) {
      // Exhaustive: every subset of the n-1 cut points.
      for (std::uint32_t mask = 0; mask < (1U << (n > 0 ? n - 1 : 0)); ++mask) {
        std::vector<std::size_t> cuts;
        for (std::size_t i = 0; i + 1 < n; ++i) {
          if ((mask >> i) & 1U) {
            cuts.push_back(i + 1);
          }
        }
        ASSERT_EQ(feedChunks(splitAt(input, cuts)).events, expected) << "input #" << round;
        ++checked_splits;
      }
      continue;
    }
    // Every one- and two-cut split, byte by byte, and random partitions.
    for (std::size_t a = 0; a <= n; ++a) {
      ASSERT_EQ(feedChunks(splitAt(input, {a})).events, expected) << "input #" << round;
      for (std::size_t b = a; b <= n; b += 3) {
        ASSERT_EQ(feedChunks(splitAt(input, {a, b})).events, expected) << "input #" << round;
        ++checked_splits;
      }
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < n; ++i) {
      every.push_back(i);
    }
    ASSERT_EQ(feedChunks(splitAt(input, every)).events, expected);
    for (int r = 0; r < 20; ++r) {
      std::vector<std::size_t> cuts;
      for (std::size_t i = 1; i < n; ++i) {
        if (rng() % 3 == 0) {
          cuts.push_back(i);
        }
      }
      ASSERT_EQ(feedChunks(splitAt(input, cuts)).events, expected);
      ++checked_splits;
    }
  }
  EXPECT_GT(checked_splits, 10000U);
}

TEST(SseParserPropertyTest, TheSizeBoundFailsTheSameWayForEverySplit) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    const std::string input = randomInput(rng) + randomInput(rng);
    const std::size_t max = 8 + rng() % 24;
    const ParseRun whole = feedWhole(input, max);
    for (std::size_t a = 0; a <= input.size(); ++a) {
      const ParseRun split = feedChunks(splitAt(input, {a}), max);
      ASSERT_EQ(split.failed, whole.failed) << "input #" << round << " cut " << a;
      ASSERT_EQ(split.events, whole.events) << "input #" << round << " cut " << a;
    }
  }
}

}  // namespace
}  // namespace livery::providers::sse
