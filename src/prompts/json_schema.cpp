#include "prompts/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/json.hpp>

#include "prompts/regex.hpp"

namespace livery::prompts {

namespace json = boost::json;

namespace {

enum TypeBit : std::uint8_t {
  kNullBit = 1,
  kBooleanBit = 2,
  kObjectBit = 4,
  kArrayBit = 8,
  kNumberBit = 16,
  kIntegerBit = 32,
  kStringBit = 64,
};

constexpr int kNone = -1;
// Total recursion of one validation (instance nesting plus in-place applicators).
constexpr std::size_t kMaxValidationDepth = 256;

}  // namespace

struct JsonSchema::Impl {
  struct Node {
    std::optional<bool> constant;  // a boolean schema
    std::uint8_t types = 0;        // 0: any type
    bool has_enum = false;
    std::vector<json::value> enum_values;
    std::optional<json::value> const_value;
    std::map<std::string, int, std::less<>> properties;
    std::vector<std::string> required;
    int additional_properties = kNone;
    std::optional<std::size_t> min_properties, max_properties;
    std::vector<int> prefix_items;
    int items = kNone;  // applies to the elements after prefix_items
    std::optional<std::size_t> min_items, max_items, min_length, max_length;
    std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum;
    std::optional<Regex> pattern;
    std::vector<int> all_of, any_of, one_of;
    int not_schema = kNone;
    int ref = kNone;
    std::string ref_text;
    std::string path;  // JSON pointer of this subschema in the schema document
  };
  std::vector<Node> nodes;  // nodes[0] is the root
  SchemaLimits limits;
};

namespace {

using Node = JsonSchema::Impl::Node;

std::string escapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string where(const std::string& path) {
  return path.empty() ? std::string("(root)") : path;
}

Error schemaError(const std::string& path, const std::string& what) {
  return fail(ErrorCode::kUnprocessable, "json_schema " + where(path) + ": " + what);
}

bool isAnnotation(std::string_view key) {
  static constexpr std::string_view kAnnotations[] = {
      "$schema",
      "$id",
      "$comment",
      "title",
      "description",
      "default",
      "examples",
      "readOnly",
      "writeOnly",
      "deprecated",
  };
  return std::find(std::begin(kAnnotations), std::end(kAnnotations), key) != std::end(kAnnotations);
}

std::optional<double> asNumber(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return static_cast<double>(v.get_int64());
    case json::kind::uint64:
      return static_cast<double>(v.get_uint64());
    case json::kind::double_:
      return v.get_double();
    default:
      return std::nullopt;
  }
}

bool isIntegral(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) {
    return true;
  }
  if (v.is_double()) {
    double d = v.get_double();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

std::optional<std::size_t> asCount(const json::value& v) {
  if (v.is_int64() && v.get_int64() >= 0) {
    return static_cast<std::size_t>(v.get_int64());
  }
  if (v.is_uint64()) {
    return static_cast<std::size_t>(v.get_uint64());
  }
  if (v.is_double() && isIntegral(v) && v.get_double() >= 0 && v.get_double() < 1e15) {
    return static_cast<std::size_t>(v.get_double());
  }
  return std::nullopt;
}

// JSON Schema equality: numbers compare by value (1 == 1.0), objects ignore member order.
bool jsonEqual(const json::value& a, const json::value& b) {
  auto na = asNumber(a);
  auto nb = asNumber(b);
  if (na && nb) {
    if ((a.is_int64() || a.is_uint64()) && (b.is_int64() || b.is_uint64())) {
      if (a.is_int64() && b.is_int64()) {
        return a.get_int64() == b.get_int64();
      }
      if (a.is_uint64() && b.is_uint64()) {
        return a.get_uint64() == b.get_uint64();
      }
      const json::value& s = a.is_int64() ? a : b;
      const json::value& u = a.is_uint64() ? a : b;
      return s.get_int64() >= 0 && static_cast<std::uint64_t>(s.get_int64()) == u.get_uint64();
    }
    return *na == *nb;
  }
  if (a.kind() != b.kind()) {
    return false;
  }
  switch (a.kind()) {
    case json::kind::null:
      return true;
    case json::kind::bool_:
      return a.get_bool() == b.get_bool();
    case json::kind::string:
      return a.get_string() == b.get_string();
    case json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) {
        return false;
      }
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!jsonEqual(x[i], y[i])) {
          return false;
        }
      }
      return true;
    }
    case json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) {
        return false;
      }
      for (const auto& member : x) {
        const json::value* other = y.if_contains(member.key());
        if (other == nullptr || !jsonEqual(member.value(), *other)) {
          return false;
        }
      }
      return true;
    }
    default:
      return false;
  }
}

std::string_view kindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::object:
      return "object";
    case json::kind::array:
      return "array";
    case json::kind::string:
      return "string";
    default:
      return isIntegral(v) ? "integer" : "number";
  }
}

std::size_t codePoints(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
      ++n;
    }
  }
  return n;
}

std::string typeNames(std::uint8_t bits) {
  static constexpr std::pair<std::uint8_t, std::string_view> kNames[] = {
      {kNullBit, "null"},
      {kBooleanBit, "boolean"},
      {kObjectBit, "object"},
      {kArrayBit, "array"},
      {kNumberBit, "number"},
      {kIntegerBit, "integer"},
      {kStringBit, "string"},
  };
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((bits & bit) != 0) {
      if (!out.empty()) {
        out += " or ";
      }
      out += name;
    }
  }
  return out;
}

// Decodes a "#/a/b~1c" fragment into a JSON pointer ("/a/b~1c" stays escaped: it is compared
// with the escaped paths of compiled nodes). Percent-escapes are decoded.
std::optional<std::string> refPointer(std::string_view ref) {
  if (ref.empty() || ref.front() != '#') {
    return std::nullopt;
  }
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') {
      return h - '0';
    }
    if (h >= 'a' && h <= 'f') {
      return h - 'a' + 10;
    }
    if (h >= 'A' && h <= 'F') {
      return h - 'A' + 10;
    }
    return -1;
  };
  std::string out;
  for (std::size_t i = 1; i < ref.size(); ++i) {
    if (ref[i] != '%') {
      out += ref[i];
      continue;
    }
    if (i + 2 >= ref.size()) {
      return std::nullopt;
    }
    int hi = hex(ref[i + 1]);
    int lo = hex(ref[i + 2]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (!out.empty() && out.front() != '/') {
    return std::nullopt;  // "#foo" anchors are not supported
  }
  return out;
}

class Compiler {
 public:
  explicit Compiler(const SchemaLimits& limits) : limits_(limits) {}

  Result<std::vector<Node>> run(const json::value& root) {
    auto r = compile(root, "", 0);
    if (!r) {
      return r.error();
    }
    if (auto resolved = resolveRefs(); !resolved) {
      return resolved.error();
    }
    if (auto acyclic = checkInPlaceCycles(); !acyclic) {
      return acyclic.error();
    }
    return std::move(nodes_);
  }

 private:
  Result<int> compile(const json::value& v, const std::string& path, std::size_t depth) {
    if (depth > limits_.max_depth) {
      return schemaError(path, "nested deeper than " + std::to_string(limits_.max_depth));
    }
    if (nodes_.size() >= limits_.max_nodes) {
      return schemaError(path, "more than " + std::to_string(limits_.max_nodes) + " subschemas");
    }
    int idx = static_cast<int>(nodes_.size());
    nodes_.emplace_back();
    nodes_.back().path = path;
    by_path_.emplace(path, idx);
    if (v.is_bool()) {
      nodes_[static_cast<std::size_t>(idx)].constant = v.get_bool();
      return idx;
    }
    if (!v.is_object()) {
      return schemaError(path, "a schema must be an object or a boolean");
    }
    const json::object& obj = v.get_object();
    // Built in a local and moved in at the end: compile() appends to nodes_, which would
    // invalidate a reference into it.
    Node n;
    n.path = path;
    for (const auto& member : obj) {
      std::string_view key = member.key();
      const json::value& val = member.value();
      std::string at = path + "/" + escapePointerToken(key);
      if (isAnnotation(key)) {
        continue;
      }
      if (key == "type") {
        auto bits = typeBits(val, at);
        if (!bits) {
          return bits.error();
        }
        n.types = *bits;
      } else if (key == "enum") {
        if (!val.is_array() || val.get_array().empty()) {
          return schemaError(at, "must be a non-empty array");
        }
        if (val.get_array().size() > limits_.max_enum_values) {
          return schemaError(at,
                             "more than " + std::to_string(limits_.max_enum_values) + " values");
        }
        n.has_enum = true;
        n.enum_values.assign(val.get_array().begin(), val.get_array().end());
      } else if (key == "const") {
        n.const_value = val;
      } else if (key == "properties" || key == "$defs" || key == "definitions") {
        if (!val.is_object()) {
          return schemaError(at, "must be an object of schemas");
        }
        for (const auto& prop : val.get_object()) {
          auto child = compile(prop.value(), at + "/" + escapePointerToken(prop.key()), depth + 1);
          if (!child) {
            return child.error();
          }
          if (key == "properties") {
            n.properties.emplace(std::string(prop.key()), *child);
          }
        }
      } else if (key == "required") {
        if (!val.is_array()) {
          return schemaError(at, "must be an array of strings");
        }
        for (const auto& name : val.get_array()) {
          if (!name.is_string()) {
            return schemaError(at, "must be an array of strings");
          }
          n.required.emplace_back(name.get_string());
        }
      } else if (key == "additionalProperties" || key == "not") {
        auto child = compile(val, at, depth + 1);
        if (!child) {
          return child.error();
        }
        (key == "not" ? n.not_schema : n.additional_properties) = *child;
      } else if (key == "items") {
        if (val.is_array()) {  // draft-07 tuple form
          if (obj.contains("prefixItems")) {
            return schemaError(at, "array-form items cannot be combined with prefixItems");
          }
          auto list = compileList(val, at, depth, /*allow_empty=*/true);
          if (!list) {
            return list.error();
          }
          n.prefix_items = std::move(*list);
        } else {
          auto child = compile(val, at, depth + 1);
          if (!child) {
            return child.error();
          }
          n.items = *child;
        }
      } else if (key == "prefixItems") {
        auto list = compileList(val, at, depth, /*allow_empty=*/true);
        if (!list) {
          return list.error();
        }
        n.prefix_items = std::move(*list);
      } else if (key == "additionalItems") {
        const json::value* items = obj.if_contains("items");
        if (items == nullptr || !items->is_array()) {
          return schemaError(at, "is only supported next to array-form items (use prefixItems)");
        }
        auto child = compile(val, at, depth + 1);
        if (!child) {
          return child.error();
        }
        n.items = *child;
      } else if (key == "minProperties" || key == "maxProperties" || key == "minItems" ||
                 key == "maxItems" || key == "minLength" || key == "maxLength") {
        auto count = asCount(val);
        if (!count) {
          return schemaError(at, "must be a non-negative integer");
        }
        if (key == "minProperties") {
          n.min_properties = count;
        } else if (key == "maxProperties") {
          n.max_properties = count;
        } else if (key == "minItems") {
          n.min_items = count;
        } else if (key == "maxItems") {
          n.max_items = count;
        } else if (key == "minLength") {
          n.min_length = count;
        } else {
          n.max_length = count;
        }
      } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
                 key == "exclusiveMaximum") {
        auto number = asNumber(val);
        if (!number) {
          return schemaError(at, "must be a number");
        }
        if (key == "minimum") {
          n.minimum = number;
        } else if (key == "maximum") {
          n.maximum = number;
        } else if (key == "exclusiveMinimum") {
          n.exclusive_minimum = number;
        } else {
          n.exclusive_maximum = number;
        }
      } else if (key == "pattern") {
        if (!val.is_string()) {
          return schemaError(at, "must be a string");
        }
        RegexOptions ro;
        ro.max_pattern_bytes = limits_.max_pattern_bytes;
        auto re = Regex::compile(val.get_string(), ro);
        if (!re) {
          return schemaError(at, re.error().client_message);
        }
        n.pattern = std::move(*re);
      } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
        auto list = compileList(val, at, depth, /*allow_empty=*/false);
        if (!list) {
          return list.error();
        }
        (key == "allOf" ? n.all_of : key == "anyOf" ? n.any_of : n.one_of) = std::move(*list);
      } else if (key == "$ref") {
        if (!val.is_string()) {
          return schemaError(at, "must be a string");
        }
        n.ref_text = std::string(val.get_string());
      } else {
        return schemaError(at,
                           "unsupported keyword '" + std::string(key) +
                               "' (see docs/design/prompt-repository.md for the subset)");
      }
    }
    nodes_[static_cast<std::size_t>(idx)] = std::move(n);
    return idx;
  }

  Result<std::vector<int>> compileList(const json::value& v,
                                       const std::string& at,
                                       std::size_t depth,
                                       bool allow_empty) {
    if (!v.is_array() || (!allow_empty && v.get_array().empty())) {
      return schemaError(
          at, allow_empty ? "must be an array of schemas" : "must be a non-empty array of schemas");
    }
    std::vector<int> out;
    std::size_t i = 0;
    for (const auto& item : v.get_array()) {
      auto child = compile(item, at + "/" + std::to_string(i++), depth + 1);
      if (!child) {
        return child.error();
      }
      out.push_back(*child);
    }
    return out;
  }

  Result<std::uint8_t> typeBits(const json::value& v, const std::string& at) {
    auto one = [&](const json::value& name) -> Result<std::uint8_t> {
      if (!name.is_string()) {
        return schemaError(at, "type names must be strings");
      }
      std::string_view s = name.get_string();
      if (s == "null") {
        return kNullBit;
      }
      if (s == "boolean") {
        return kBooleanBit;
      }
      if (s == "object") {
        return kObjectBit;
      }
      if (s == "array") {
        return kArrayBit;
      }
      if (s == "number") {
        return kNumberBit;
      }
      if (s == "integer") {
        return kIntegerBit;
      }
      if (s == "string") {
        return kStringBit;
      }
      return schemaError(at, "unknown type '" + std::string(s) + "'");
    };
    if (v.is_array()) {
      if (v.get_array().empty()) {
        return schemaError(at, "must name at least one type");
      }
      std::uint8_t bits = 0;
      for (const auto& name : v.get_array()) {
        auto b = one(name);
        if (!b) {
          return b.error();
        }
        bits = static_cast<std::uint8_t>(bits | *b);
      }
      return bits;
    }
    return one(v);
  }

  Result<void> resolveRefs() {
    for (auto& n : nodes_) {
      if (n.ref_text.empty()) {
        continue;
      }
      auto pointer = refPointer(n.ref_text);
      if (!pointer) {
        return schemaError(
            n.path + "/$ref",
            "only references within this schema are supported (\"#\", \"#/$defs/name\"), not '" +
                n.ref_text + "'");
      }
      auto it = by_path_.find(*pointer);
      if (it == by_path_.end()) {
        return schemaError(n.path + "/$ref",
                           "'" + n.ref_text + "' does not point to a subschema of this schema");
      }
      n.ref = it->second;
    }
    return {};
  }

  // A cycle through allOf/anyOf/oneOf/not/$ref alone would recurse without consuming the
  // instance: reject it here rather than rely on the step budget alone.
  Result<void> checkInPlaceCycles() {
    std::vector<std::uint8_t> state(nodes_.size(), 0);  // 0 new, 1 on stack, 2 done
    struct Frame {
      int node;
      std::size_t next_edge;
    };
    for (std::size_t start = 0; start < nodes_.size(); ++start) {
      if (state[start] != 0) {
        continue;
      }
      std::vector<Frame> stack{{static_cast<int>(start), 0}};
      state[start] = 1;
      while (!stack.empty()) {
        Frame& f = stack.back();
        const Node& n = nodes_[static_cast<std::size_t>(f.node)];
        if (f.next_edge >= inPlaceEdgeCount(n)) {
          state[static_cast<std::size_t>(f.node)] = 2;
          stack.pop_back();
          continue;
        }
        int edge = inPlaceEdge(n, f.next_edge++);
        if (edge == kNone) {
          continue;
        }
        auto& s = state[static_cast<std::size_t>(edge)];
        if (s == 1) {
          return schemaError(n.path,
                             "a $ref cycle that never descends into the instance (e.g. "
                             "{\"$ref\":\"#\"}) cannot be evaluated");
        }
        if (s == 0) {
          s = 1;
          stack.push_back({edge, 0});
        }
      }
    }
    return {};
  }

  static std::size_t inPlaceEdgeCount(const Node& n) {
    return n.all_of.size() + n.any_of.size() + n.one_of.size() + 2;
  }
  static int inPlaceEdge(const Node& n, std::size_t i) {
    if (i < n.all_of.size()) {
      return n.all_of[i];
    }
    i -= n.all_of.size();
    if (i < n.any_of.size()) {
      return n.any_of[i];
    }
    i -= n.any_of.size();
    if (i < n.one_of.size()) {
      return n.one_of[i];
    }
    i -= n.one_of.size();
    if (i == 0) {
      return n.not_schema;
    }
    if (i == 1) {
      return n.ref;
    }
    return kNone;
  }

  const SchemaLimits& limits_;
  std::vector<Node> nodes_;
  std::unordered_map<std::string, int> by_path_;
};

class Validator {
 public:
  Validator(const JsonSchema::Impl& impl, std::vector<std::string>& errors)
      : impl_(impl), errors_(&errors) {}

  bool run(const json::value& instance) {
    bool ok = check(0, instance, 0);
    if (exhausted_ && errors_ != nullptr) {
      errors_->push_back("(root): schema evaluation exceeded its budget of " +
                         std::to_string(impl_.limits.max_steps) + " steps");
    }
    return ok && !exhausted_;
  }

 private:
  void report(const std::string& message) {
    if (errors_ != nullptr && errors_->size() < impl_.limits.max_errors) {
      errors_->push_back(where(pointer_) + ": " + message);
    }
  }

  // Evaluates `idx` without collecting messages (inside anyOf/oneOf/not).
  bool quietly(int idx, const json::value& v, std::size_t depth) {
    std::vector<std::string>* saved = errors_;
    errors_ = nullptr;
    bool ok = check(idx, v, depth);
    errors_ = saved;
    return ok;
  }

  bool child(int idx, const json::value& v, std::string_view token, std::size_t depth) {
    std::size_t mark = pointer_.size();
    pointer_ += '/';
    pointer_ += escapePointerToken(token);
    bool ok = check(idx, v, depth + 1);
    pointer_.resize(mark);
    return ok;
  }

  bool check(int idx, const json::value& v, std::size_t depth) {
    if (exhausted_) {
      return false;
    }
    if (++steps_ > impl_.limits.max_steps || depth > kMaxValidationDepth) {
      exhausted_ = true;
      return false;
    }
    const Node& n = impl_.nodes[static_cast<std::size_t>(idx)];
    if (n.constant) {
      if (!*n.constant) {
        report("no value is allowed here");
      }
      return *n.constant;
    }
    bool ok = true;
    // Keep evaluating after a failure only while messages are collected.
    auto failed = [&](const std::string& message) {
      report(message);
      ok = false;
      return errors_ == nullptr;  // true: stop early
    };

    if (n.types != 0) {
      std::uint8_t actual = 0;
      switch (v.kind()) {
        case json::kind::null:
          actual = kNullBit;
          break;
        case json::kind::bool_:
          actual = kBooleanBit;
          break;
        case json::kind::object:
          actual = kObjectBit;
          break;
        case json::kind::array:
          actual = kArrayBit;
          break;
        case json::kind::string:
          actual = kStringBit;
          break;
        default:
          actual = static_cast<std::uint8_t>(kNumberBit | (isIntegral(v) ? kIntegerBit : 0));
      }
      if ((actual & n.types) == 0 &&
          failed("expected " + typeNames(n.types) + ", got " + std::string(kindName(v)))) {
        return false;
      }
    }
    if (n.has_enum) {
      bool any = std::any_of(n.enum_values.begin(), n.enum_values.end(), [&](const json::value& e) {
        return jsonEqual(e, v);
      });
      if (!any && failed("value is not one of the enum values")) {
        return false;
      }
    }
    if (n.const_value && !jsonEqual(*n.const_value, v) &&
        failed("value is not " + json::serialize(*n.const_value).substr(0, 80))) {
      return false;
    }
    if (v.is_object()) {
      const json::object& obj = v.get_object();
      for (const auto& name : n.required) {
        if (!obj.contains(name) && failed("missing required property '" + name + "'")) {
          return false;
        }
      }
      if (n.min_properties && obj.size() < *n.min_properties &&
          failed("fewer than " + std::to_string(*n.min_properties) + " properties")) {
        return false;
      }
      if (n.max_properties && obj.size() > *n.max_properties &&
          failed("more than " + std::to_string(*n.max_properties) + " properties")) {
        return false;
      }
      for (const auto& member : obj) {
        auto prop = n.properties.find(member.key());
        int sub = prop != n.properties.end() ? prop->second : n.additional_properties;
        if (sub == kNone) {
          continue;
        }
        if (prop == n.properties.end() &&
            impl_.nodes[static_cast<std::size_t>(sub)].constant == std::optional<bool>(false)) {
          if (failed("property '" + std::string(member.key()) + "' is not allowed")) {
            return false;
          }
          continue;
        }
        if (!child(sub, member.value(), member.key(), depth)) {
          ok = false;
          if (errors_ == nullptr || exhausted_) {
            return false;
          }
        }
      }
    }
    if (v.is_array()) {
      const json::array& arr = v.get_array();
      if (n.min_items && arr.size() < *n.min_items &&
          failed("fewer than " + std::to_string(*n.min_items) + " items")) {
        return false;
      }
      if (n.max_items && arr.size() > *n.max_items &&
          failed("more than " + std::to_string(*n.max_items) + " items")) {
        return false;
      }
      for (std::size_t i = 0; i < arr.size(); ++i) {
        int sub = i < n.prefix_items.size() ? n.prefix_items[i] : n.items;
        if (sub == kNone) {
          continue;
        }
        if (!child(sub, arr[i], std::to_string(i), depth)) {
          ok = false;
          if (errors_ == nullptr || exhausted_) {
            return false;
          }
        }
      }
    }
    if (v.is_string()) {
      std::string_view s = v.get_string();
      if (n.min_length || n.max_length) {
        std::size_t len = codePoints(s);
        if (n.min_length && len < *n.min_length &&
            failed("shorter than " + std::to_string(*n.min_length) + " characters")) {
          return false;
        }
        if (n.max_length && len > *n.max_length &&
            failed("longer than " + std::to_string(*n.max_length) + " characters")) {
          return false;
        }
      }
      if (n.pattern && !n.pattern->search(s) &&
          failed("does not match pattern '" + n.pattern->pattern().substr(0, 80) + "'")) {
        return false;
      }
    }
    if (auto number = asNumber(v)) {
      double d = *number;
      auto bound = [](double b) {
        return json::serialize(json::value(b));
      };
      if (n.minimum && d < *n.minimum && failed("less than " + bound(*n.minimum))) {
        return false;
      }
      if (n.maximum && d > *n.maximum && failed("greater than " + bound(*n.maximum))) {
        return false;
      }
      if (n.exclusive_minimum && d <= *n.exclusive_minimum &&
          failed("not greater than " + bound(*n.exclusive_minimum))) {
        return false;
      }
      if (n.exclusive_maximum && d >= *n.exclusive_maximum &&
          failed("not less than " + bound(*n.exclusive_maximum))) {
        return false;
      }
    }
    for (int sub : n.all_of) {
      if (!check(sub, v, depth + 1)) {
        ok = false;
        if (errors_ == nullptr || exhausted_) {
          return false;
        }
      }
    }
    if (n.ref != kNone && !check(n.ref, v, depth + 1)) {
      ok = false;
      if (errors_ == nullptr || exhausted_) {
        return false;
      }
    }
    if (!n.any_of.empty()) {
      bool any = false;
      for (int sub : n.any_of) {
        if (quietly(sub, v, depth + 1)) {
          any = true;
          break;
        }
      }
      if (exhausted_) {
        return false;
      }
      if (!any && failed("matches none of the anyOf schemas")) {
        return false;
      }
    }
    if (!n.one_of.empty()) {
      std::size_t matches = 0;
      for (int sub : n.one_of) {
        if (quietly(sub, v, depth + 1)) {
          ++matches;
        }
      }
      if (exhausted_) {
        return false;
      }
      if (matches != 1 && failed("matches " + std::to_string(matches) +
                                 " of the oneOf schemas instead of exactly one")) {
        return false;
      }
    }
    if (n.not_schema != kNone) {
      bool matched = quietly(n.not_schema, v, depth + 1);
      if (exhausted_) {
        return false;
      }
      if (matched && failed("matches the schema in 'not'")) {
        return false;
      }
    }
    return ok;
  }

  const JsonSchema::Impl& impl_;
  std::vector<std::string>* errors_;
  std::string pointer_;
  std::size_t steps_ = 0;
  bool exhausted_ = false;
};

}  // namespace

Result<JsonSchema> JsonSchema::compile(const json::value& schema, const SchemaLimits& limits) {
  Compiler compiler(limits);
  auto nodes = compiler.run(schema);
  if (!nodes) {
    return nodes.error();
  }
  auto impl = std::make_shared<Impl>();
  impl->nodes = std::move(*nodes);
  impl->limits = limits;
  return JsonSchema(std::move(impl));
}

std::vector<std::string> JsonSchema::validate(const json::value& instance) const {
  std::vector<std::string> errors;
  Validator validator(*impl_, errors);
  if (!validator.run(instance) && errors.empty()) {
    errors.emplace_back("(root): does not match the schema");
  }
  return errors;
}

}  // namespace livery::prompts
