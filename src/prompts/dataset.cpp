#include "prompts/dataset.hpp"

#include <algorithm>
#include <unordered_set>

#include <boost/json.hpp>
#include <openssl/evp.h>

#include "core/ids.hpp"

namespace livery::prompts {

namespace json = boost::json;

namespace {

constexpr std::string_view kCaseKeys[] = {"id", "description", "user", "messages", "assert"};
constexpr std::size_t kMaxDescriptionBytes = 1024;
constexpr std::size_t kMaxUserBytes = 128;

// Parses one line into a case; the error's message has no line prefix.
Result<GoldenCase> parseCase(const json::value& doc, const DatasetLimits& limits) {
  auto bad = [](std::string message) {
    return fail(ErrorCode::kUnprocessable, std::move(message));
  };
  if (!doc.is_object()) {
    return bad("a case must be a JSON object");
  }
  const json::object& obj = doc.get_object();
  for (const auto& member : obj) {
    if (std::find(std::begin(kCaseKeys), std::end(kCaseKeys), member.key()) ==
        std::end(kCaseKeys)) {
      return bad("unknown key '" + std::string(member.key()).substr(0, 40) +
                 "' (allowed: id, description, user, messages, assert)");
    }
  }
  GoldenCase c;
  const json::value* id = obj.if_contains("id");
  if (id == nullptr || !id->is_string() || !isSafeClientId(id->get_string())) {
    return bad("\"id\" must be a string of 1 to 128 characters from [A-Za-z0-9._:-]");
  }
  c.id = std::string(id->get_string());
  if (const json::value* d = obj.if_contains("description")) {
    if (!d->is_string() || d->get_string().size() > kMaxDescriptionBytes) {
      return bad("\"description\" must be a string of at most " +
                 std::to_string(kMaxDescriptionBytes) + " bytes");
    }
    c.description = std::string(d->get_string());
  }
  if (const json::value* u = obj.if_contains("user")) {
    if (!u->is_string() || u->get_string().empty() || u->get_string().size() > kMaxUserBytes ||
        !isSafeClientId(u->get_string())) {
      return bad("\"user\" must be a string of 1 to 128 characters from [A-Za-z0-9._:-]");
    }
    c.user = std::string(u->get_string());
  }

  const json::value* messages = obj.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return bad("\"messages\" must be a non-empty array of chat messages");
  }
  if (messages->get_array().size() > limits.max_messages) {
    return bad("more than " + std::to_string(limits.max_messages) + " messages");
  }
  bool has_user = false;
  std::size_t index = 0;
  for (const auto& m : messages->get_array()) {
    std::string at = "messages[" + std::to_string(index++) + "]: ";
    if (!m.is_object()) {
      return bad(at + "must be an object {\"role\", \"content\"}");
    }
    const json::object& mo = m.get_object();
    for (const auto& member : mo) {
      if (member.key() != "role" && member.key() != "content") {
        return bad(at + "unknown key '" + std::string(member.key()).substr(0, 40) +
                   "' (allowed: role, content)");
      }
    }
    const json::value* role = mo.if_contains("role");
    if (role == nullptr || !role->is_string() ||
        (role->get_string() != "system" && role->get_string() != "user" &&
         role->get_string() != "assistant")) {
      return bad(at + "\"role\" must be \"system\", \"user\" or \"assistant\"");
    }
    const json::value* content = mo.if_contains("content");
    if (content == nullptr || !content->is_string()) {
      return bad(at + "\"content\" must be a string");
    }
    if (content->get_string().size() > limits.max_message_bytes) {
      return bad(at + "\"content\" is longer than " + std::to_string(limits.max_message_bytes) +
                 " bytes");
    }
    has_user = has_user || role->get_string() == "user";
    c.messages.push_back({std::string(role->get_string()), std::string(content->get_string())});
  }
  if (!has_user) {
    return bad("\"messages\" needs at least one user message");
  }

  const json::value* asserts = obj.if_contains("assert");
  if (asserts == nullptr || !asserts->is_array() || asserts->get_array().empty()) {
    return bad("\"assert\" must be a non-empty array of assertions");
  }
  if (asserts->get_array().size() > limits.max_assertions) {
    return bad("more than " + std::to_string(limits.max_assertions) + " assertions");
  }
  index = 0;
  for (const auto& a : asserts->get_array()) {
    auto parsed = parseAssertion(a, limits.assertion);
    if (!parsed) {
      return bad("assert[" + std::to_string(index) + "]: " + parsed.error().client_message);
    }
    c.assertions.push_back(std::move(*parsed));
    ++index;
  }
  return c;
}

}  // namespace

bool GoldenDataset::usesJudge() const {
  return std::any_of(cases.begin(), cases.end(), [](const GoldenCase& c) {
    return std::any_of(c.assertions.begin(), c.assertions.end(), [](const Assertion& a) {
      return a.kind == AssertionKind::kJudge;
    });
  });
}

std::string sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

Result<GoldenDataset> parseGoldenDataset(std::string_view text,
                                         std::string_view file_name,
                                         const DatasetLimits& limits) {
  GoldenDataset dataset;
  dataset.sha256 = sha256Hex(text);
  std::vector<std::string> problems;
  std::size_t problem_count = 0;
  auto problem = [&](std::size_t line, const std::string& message) {
    ++problem_count;
    if (problems.size() < limits.max_problems) {
      problems.push_back("line " + std::to_string(line) + ": " + message);
    }
  };
  std::unordered_set<std::string> ids;
  json::parse_options opts;
  opts.max_depth = limits.assertion.schema.max_depth + 8;  // case, assert[], schema wrapper

  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_no;
    std::size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      continue;
    }
    if (line.size() > limits.max_line_bytes) {
      problem(line_no, "longer than " + std::to_string(limits.max_line_bytes) + " bytes");
      continue;
    }
    if (dataset.cases.size() >= limits.max_cases) {
      problem(line_no, "more than " + std::to_string(limits.max_cases) + " cases");
      break;
    }
    std::error_code ec;
    json::value doc = json::parse(json::string_view(line.data(), line.size()), ec, {}, opts);
    if (ec) {
      problem(line_no, "not valid JSON (" + ec.message() + ")");
      continue;
    }
    auto c = parseCase(doc, limits);
    if (!c) {
      problem(line_no, c.error().client_message);
      continue;
    }
    if (!ids.insert(c->id).second) {
      problem(line_no, "duplicate id '" + c->id + "'");
      continue;
    }
    c->line = line_no;
    dataset.cases.push_back(std::move(*c));
  }
  if (problem_count == 0 && dataset.cases.empty()) {
    problem(line_no == 0 ? 1 : line_no, "no cases: the dataset needs at least one");
  }
  if (problem_count > 0) {
    std::string message = std::string(file_name) + ": " + std::to_string(problem_count) +
                          (problem_count == 1 ? " problem" : " problems") + ":";
    for (const auto& p : problems) {
      message += "\n  " + p;
    }
    if (problem_count > problems.size()) {
      message += "\n  (" + std::to_string(problem_count - problems.size()) + " more not shown)";
    }
    return fail(ErrorCode::kUnprocessable, std::move(message));
  }
  return dataset;
}

}  // namespace livery::prompts
