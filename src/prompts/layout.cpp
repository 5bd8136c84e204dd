#include "prompts/layout.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>

#include <yaml-cpp/yaml.h>

#include "whitelabel/host.hpp"

namespace livery::prompts {

namespace {

constexpr std::size_t kMaxDescriptionBytes = 2048;

Error metaError(const YAML::Node& node, const std::string& message) {
  std::string where = "prompt.yaml";
  if (node.IsDefined() && node.Mark().line >= 0) {
    where += " line " + std::to_string(node.Mark().line + 1);
  }
  return fail(ErrorCode::kUnprocessable, where + ": " + message);
}

Result<void> onlyKeys(const YAML::Node& map,
                      std::string_view section,
                      std::initializer_list<std::string_view> allowed) {
  if (!map.IsMap()) {
    return metaError(map, std::string(section) + " must be a mapping");
  }
  for (auto it = map.begin(); it != map.end(); ++it) {
    // A copy: yaml-cpp's iterator hands out a temporary pair, so a reference to `->first` would
    // dangle past this statement (ASan: stack-use-after-scope).
    const YAML::Node key = it->first;
    std::string name = key.IsScalar() ? key.Scalar() : std::string("?");
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string list;
      for (auto a : allowed) {
        list += list.empty() ? "" : ", ";
        list += a;
      }
      return metaError(key,
                       "unknown key '" + name.substr(0, 40) + "' in " + std::string(section) +
                           " (allowed: " + list + ")");
    }
  }
  return {};
}

Result<std::string> scalarString(const YAML::Node& node, std::string_view name) {
  if (!node.IsScalar()) {
    return metaError(node, std::string(name) + " must be a string");
  }
  return node.Scalar();
}

Result<double> number(const YAML::Node& node, std::string_view name, double lo, double hi) {
  double v = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, v) || !std::isfinite(v) || v < lo ||
      v > hi) {
    return metaError(node,
                     std::string(name) + " must be a number from " + YAML::Node(lo).Scalar() +
                         " to " + YAML::Node(hi).Scalar());
  }
  return v;
}

Result<std::int64_t> integer(const YAML::Node& node,
                             std::string_view name,
                             std::int64_t lo,
                             std::int64_t hi) {
  std::int64_t v = 0;
  if (!node.IsScalar() || !YAML::convert<std::int64_t>::decode(node, v) || v < lo || v > hi) {
    return metaError(node,
                     std::string(name) + " must be an integer from " + std::to_string(lo) + " to " +
                         std::to_string(hi));
  }
  return v;
}

Result<std::string> modelName(const YAML::Node& node, std::string_view name) {
  auto s = scalarString(node, name);
  if (!s) {
    return s.error();
  }
  if (!isValidModelName(*s)) {
    return metaError(node,
                     std::string(name) + " must be a model name ([A-Za-z0-9._:/@-], 1 to 128)");
  }
  return s;
}

Result<PromptMeta> parseTree(const YAML::Node& root) {
  PromptMeta meta;
  if (!root.IsMap()) {
    return metaError(root, "must be a mapping with an 'eval' section");
  }
  if (auto keys = onlyKeys(root, "prompt.yaml", {"description", "eval", "judge"}); !keys) {
    return keys.error();
  }
  if (YAML::Node d = root["description"]) {
    auto s = scalarString(d, "description");
    if (!s) {
      return s.error();
    }
    if (s->size() > kMaxDescriptionBytes) {
      return metaError(
          d, "description is longer than " + std::to_string(kMaxDescriptionBytes) + " bytes");
    }
    meta.description = std::move(*s);
  }
  YAML::Node eval = root["eval"];
  if (!eval) {
    return metaError(root, "the 'eval' section (with eval.model) is required");
  }
  if (auto keys = onlyKeys(
          eval,
          "eval",
          {"model", "threshold", "concurrency", "case_timeout_s", "temperature", "max_tokens"});
      !keys) {
    return keys.error();
  }
  YAML::Node model = eval["model"];
  if (!model) {
    return metaError(eval, "eval.model is required");
  }
  auto m = modelName(model, "eval.model");
  if (!m) {
    return m.error();
  }
  meta.model = std::move(*m);
  if (YAML::Node t = eval["threshold"]) {
    auto v = number(t, "eval.threshold", 0.0, 1.0);
    if (!v) {
      return v.error();
    }
    if (*v <= 0.0) {
      return metaError(t, "eval.threshold must be greater than 0");
    }
    meta.threshold = *v;
  }
  if (YAML::Node c = eval["concurrency"]) {
    auto v = integer(c, "eval.concurrency", 1, 16);
    if (!v) {
      return v.error();
    }
    meta.concurrency = static_cast<std::size_t>(*v);
  }
  if (YAML::Node c = eval["case_timeout_s"]) {
    auto v = integer(c, "eval.case_timeout_s", 1, 600);
    if (!v) {
      return v.error();
    }
    meta.case_timeout = std::chrono::seconds(*v);
  }
  if (YAML::Node c = eval["temperature"]) {
    auto v = number(c, "eval.temperature", 0.0, 2.0);
    if (!v) {
      return v.error();
    }
    meta.temperature = *v;
  }
  if (YAML::Node c = eval["max_tokens"]) {
    auto v = integer(c, "eval.max_tokens", 1, 32768);
    if (!v) {
      return v.error();
    }
    meta.max_tokens = static_cast<std::uint32_t>(*v);
  }
  if (YAML::Node judge = root["judge"]) {
    if (auto keys = onlyKeys(judge, "judge", {"model", "temperature", "max_tokens"}); !keys) {
      return keys.error();
    }
    JudgeSettings js;
    YAML::Node jm = judge["model"];
    if (!jm) {
      return metaError(judge, "judge.model is required in the judge section");
    }
    auto name = modelName(jm, "judge.model");
    if (!name) {
      return name.error();
    }
    js.model = std::move(*name);
    if (YAML::Node c = judge["temperature"]) {
      auto v = number(c, "judge.temperature", 0.0, 2.0);
      if (!v) {
        return v.error();
      }
      js.temperature = *v;
    }
    if (YAML::Node c = judge["max_tokens"]) {
      auto v = integer(c, "judge.max_tokens", 16, 4096);
      if (!v) {
        return v.error();
      }
      js.max_tokens = static_cast<std::uint32_t>(*v);
    }
    meta.judge = std::move(js);
  }
  return meta;
}

}  // namespace

Result<TenantPaths> tenantPaths(std::string_view slug) {
  if (!whitelabel::isValidSlug(slug)) {
    return fail(ErrorCode::kBadRequest,
                "'" + std::string(slug.substr(0, 40)) + "' is not a valid tenant slug");
  }
  TenantPaths p;
  p.dir = std::string(kTenantsDir) + "/" + std::string(slug);
  p.prompt = p.dir + "/" + std::string(kPromptFile);
  p.meta = p.dir + "/" + std::string(kMetaFile);
  p.dataset = p.dir + "/" + std::string(kDatasetFile);
  return p;
}

bool isValidModelName(std::string_view model) {
  if (model.empty() || model.size() > 128) {
    return false;
  }
  return std::all_of(model.begin(), model.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '/' || c == '@' || c == '-';
  });
}

Result<PromptMeta> parsePromptMeta(std::string_view yaml) {
  // yaml-cpp reports through exceptions; this is the boundary that turns them into values. Its
  // parser guards recursion depth itself (DeepRecursion), and the reader bounds the file size.
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    return parseTree(root);
  } catch (const YAML::Exception& e) {
    std::string where = "prompt.yaml";
    if (e.mark.line >= 0) {
      where += " line " + std::to_string(e.mark.line + 1);
    }
    return fail(ErrorCode::kUnprocessable, where + ": " + e.msg);
  }
}

}  // namespace livery::prompts
