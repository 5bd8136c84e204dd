#include "prompts/eval_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include <boost/json.hpp>

namespace livery::prompts {

namespace json = boost::json;

namespace {

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100.0);
  std::string s(buf);
  if (s.size() > 3 && s.compare(s.size() - 3, 3, ".0%") == 0) {
    s.erase(s.size() - 3, 2);
  }
  return s;
}

std::string padRight(std::string s, std::size_t width) {
  if (s.size() < width) {
    s.append(width - s.size(), ' ');
  }
  return s;
}

std::string padLeft(std::string s, std::size_t width) {
  if (s.size() < width) {
    s.insert(0, width - s.size(), ' ');
  }
  return s;
}

template <class T>
std::optional<T> number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  std::error_code ec;
  T out = v->to_number<T>(ec);
  if (ec) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

double EvalReport::passRate() const {
  return cases_total == 0 ? 0.0
                          : static_cast<double>(cases_passed) / static_cast<double>(cases_total);
}

std::size_t requiredPasses(double threshold, std::size_t total) {
  if (total == 0) {
    return 1;  // nothing to pass: never a pass
  }
  double need = std::ceil(threshold * static_cast<double>(total) - 1e-9);
  need = std::clamp(need, 1.0, static_cast<double>(total));
  return static_cast<std::size_t>(need);
}

std::string renderText(const EvalReport& r) {
  std::string out;
  out += "Prompt evaluation for tenant " + r.tenant_slug + ": ";
  if (r.version_id.empty()) {
    out += "prompt.md at " + r.ref + " (not a stored version)";
  } else {
    out += "v" + std::to_string(r.version) + " (" + r.version_id + ")";
  }
  out += ", prompt sha256 " + r.content_sha256.substr(0, 12) + "\n";
  out += "Dataset and settings from " + r.ref + " (commit " + r.commit_id.substr(0, 7) +
         "), model " + r.model + ", " + std::to_string(r.cases_total) + " cases\n\n";
  std::size_t width = 12;
  for (const auto& c : r.cases) {
    width = std::max(width, std::min<std::size_t>(c.id.size(), 40));
  }
  for (const auto& c : r.cases) {
    out += c.passed ? "  PASS  " : "  FAIL  ";
    out += padRight(c.id, width);
    out += "  line " + padRight(std::to_string(c.line), 4);
    out += padLeft(std::to_string(c.latency_ms), 7) + " ms\n";
    if (!c.error.empty()) {
      out += "          error: " + c.error + "\n";
    }
    for (const auto& f : c.failures) {
      out +=
          "          assert[" + std::to_string(f.index) + "] " + f.type + ": " + f.message + "\n";
    }
    if (c.judges_skipped > 0) {
      out += "          (" + std::to_string(c.judges_skipped) +
             " judge assertion(s) not run: the case had already failed)\n";
    }
  }
  out += "\nPass rate: " + std::to_string(r.cases_passed) + "/" + std::to_string(r.cases_total) +
         " (" + percent(r.passRate()) + "), needs " +
         std::to_string(requiredPasses(r.threshold, r.cases_total)) + "/" +
         std::to_string(r.cases_total) + " (threshold " + percent(r.threshold) +
         "): " + (r.passed ? "PASSED" : "FAILED") + "\n";
  return out;
}

std::string toJson(const EvalReport& r) {
  json::array cases;
  for (const auto& c : r.cases) {
    json::array failures;
    for (const auto& f : c.failures) {
      failures.push_back(
          json::object{{"assert", f.index}, {"type", f.type}, {"message", f.message}});
    }
    json::object co{{"id", c.id},
                    {"line", c.line},
                    {"passed", c.passed},
                    {"latency_ms", c.latency_ms},
                    {"reply_chars", c.reply_chars},
                    {"failures", std::move(failures)}};
    if (!c.error.empty()) {
      co["error"] = c.error;
    }
    if (c.judges_skipped > 0) {
      co["judges_skipped"] = c.judges_skipped;
    }
    cases.push_back(std::move(co));
  }
  json::object o{{"format", kEvalReportFormat},
                 {"tenant_id", r.tenant_id},
                 {"tenant_slug", r.tenant_slug},
                 {"version_id", r.version_id},
                 {"version", r.version},
                 {"content_sha256", r.content_sha256},
                 {"dataset_sha256", r.dataset_sha256},
                 {"ref", r.ref},
                 {"commit_id", r.commit_id},
                 {"model", r.model},
                 {"threshold", r.threshold},
                 {"cases_total", r.cases_total},
                 {"cases_passed", r.cases_passed},
                 {"pass_rate", r.passRate()},
                 {"passed", r.passed},
                 {"started_at", r.started_at_ms},
                 {"duration_ms", r.duration_ms},
                 {"cases", std::move(cases)}};
  return json::serialize(o);
}

Result<EvalSummary> parseEvalSummary(std::string_view text) {
  auto bad = [] {
    return fail(ErrorCode::kUnprocessable, "the recorded evaluation cannot be read");
  };
  std::error_code ec;
  json::value doc = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !doc.is_object()) {
    return bad();
  }
  const json::object& o = doc.get_object();
  auto format = number<std::int64_t>(o, "format");
  if (!format || *format != kEvalReportFormat) {
    return bad();
  }
  EvalSummary s;
  const json::value* version_id = o.if_contains("version_id");
  const json::value* sha = o.if_contains("content_sha256");
  const json::value* commit = o.if_contains("commit_id");
  const json::value* passed = o.if_contains("passed");
  auto total = number<std::uint64_t>(o, "cases_total");
  auto ok = number<std::uint64_t>(o, "cases_passed");
  auto threshold = number<double>(o, "threshold");
  if (version_id == nullptr || !version_id->is_string() || sha == nullptr || !sha->is_string() ||
      commit == nullptr || !commit->is_string() || passed == nullptr || !passed->is_bool() ||
      !total || !ok || !threshold) {
    return bad();
  }
  s.version_id = std::string(version_id->get_string());
  s.content_sha256 = std::string(sha->get_string());
  s.commit_id = std::string(commit->get_string());
  s.passed = passed->get_bool();
  s.cases_total = static_cast<std::size_t>(*total);
  s.cases_passed = static_cast<std::size_t>(*ok);
  s.threshold = *threshold;
  return s;
}

}  // namespace livery::prompts
