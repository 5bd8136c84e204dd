#pragma once

// JSON views of the domain model for the admin, tenant-console and workspace APIs
// (docs/API.md "Objects"), and strict readers for request bodies. Serialisers never emit a
// secret or a hash: API keys show last4, credentials their fingerprint, users no password hash.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/error.hpp"
#include "storage/codec.hpp"
#include "storage/model.hpp"

namespace livery::api {

boost::json::object toJson(const storage::Tenant& t);
boost::json::object toJson(const storage::Plan& p);
boost::json::object toJson(const storage::ApiKey& k);
boost::json::object toJson(const storage::Credential& c);
boost::json::object toJson(const storage::Deployment& d);
boost::json::object toJson(const storage::Route& r, bool inherited);
boost::json::object toJson(const storage::PromptVersion& p);
boost::json::object toJson(const storage::UsageTotals& u);
boost::json::object toJson(const storage::Alert& a);
boost::json::object toJson(const storage::AuditEntry& e);
boost::json::object toJson(const storage::User& u);
boost::json::object toJson(const storage::Domain& d);
boost::json::object toJson(const storage::JwtKey& k);
boost::json::object toJson(const storage::OperatorToken& t);

// Enums as their stable wire/storage text ("active", "refused", "owner", ...).
using storage::toString;

// {"data":[...]} envelope.
std::string dataList(boost::json::array items);
std::string serialize(const boost::json::value& v);

// A request body parsed as a JSON object, with typed field readers that produce OpenAI-shaped
// kBadRequest errors naming the field (`param`). Unknown fields are rejected so that typos
// ("diplay_name") do not silently do nothing.
class BodyReader {
 public:
  static Result<BodyReader> parse(std::string_view body, std::size_t max_bytes = 1 << 20);

  // Declares the fields this endpoint accepts; anything else is an error.
  Result<void> allowOnly(std::initializer_list<std::string_view> fields) const;

  Result<std::string> requiredString(std::string_view field, std::size_t max_len = 1024) const;
  Result<std::optional<std::string>> optionalString(std::string_view field,
                                                    std::size_t max_len = 1024) const;
  Result<std::optional<std::int64_t>> optionalInt(std::string_view field,
                                                  std::int64_t min,
                                                  std::int64_t max) const;
  Result<std::optional<bool>> optionalBool(std::string_view field) const;
  Result<std::optional<std::vector<std::string>>> optionalStringList(
      std::string_view field, std::size_t max_items = 256) const;
  const boost::json::value* find(std::string_view field) const;
  const boost::json::object& object() const { return obj_; }

 private:
  boost::json::object obj_;
};

Error badField(std::string_view field, std::string message);

// Parsers for structured request fields.
Result<storage::PlanOverrides> overridesFromJson(const boost::json::value& v);
Result<storage::KeyLimits> keyLimitsFromJson(const boost::json::value& v);
Result<std::vector<storage::Deployment>> deploymentsFromJson(const boost::json::value& v);

// Validation rules shared by the API and the CLI.
Result<void> validateSlug(std::string_view slug);
Result<void> validateEmail(std::string_view email);
Result<void> validateModelName(std::string_view model);
Result<void> validateDisplayName(std::string_view field, std::string_view name);

}  // namespace livery::api
