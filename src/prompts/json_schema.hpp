#pragma once

// A bounded JSON Schema validator for golden-dataset assertions ("the reply is JSON of this
// shape"), over Boost.JSON, for a documented subset of draft 2020-12:
//
//   type, enum, const,
//   properties, required, additionalProperties, minProperties, maxProperties,
//   items, prefixItems (and draft-07 array-form items + additionalItems), minItems, maxItems,
//   minLength, maxLength (Unicode code points), pattern (RE2 syntax, unanchored search),
//   minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers),
//   allOf, anyOf, oneOf, not,
//   $ref to this document only ("#", "#/$defs/name", "#/definitions/name", any JSON pointer to a
//   subschema), $defs, definitions.
//   Annotations that are accepted and ignored: $schema, $id, $comment, title, description,
//   default, examples, readOnly, writeOnly, deprecated.
//
// Anything else (format, uniqueItems, multipleOf, if/then/else, dependentSchemas, remote refs,
// ...) is rejected when the schema is compiled, with the keyword and its location: a tenant must
// never believe something is checked when it is not. Why not valijson (Debian libvalijson-dev
// 1.0): see docs/design/prompt-repository.md (it overflows the stack on {"$ref":"#"} and runs
// tenant patterns through std::regex, which backtracks exponentially).
//
// Bounds: schema nesting depth, number of subschemas, pattern size and RE2 memory are capped at
// compile time; a $ref cycle that does not descend into the instance ({"$ref":"#"},
// {"not":{"$ref":"#"}}) is a compile error; each validation has a step budget, so no schema and
// no instance can make validation run long or recurse deeply.
//
// Thread-safety: a compiled JsonSchema is immutable; copies share it; validate() may run
// concurrently from any number of threads.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace boost::json {
class value;
}  // namespace boost::json

namespace livery::prompts {

struct SchemaLimits {
  std::size_t max_depth = 32;     // nesting of schema objects
  std::size_t max_nodes = 2'000;  // subschemas in one schema
  std::size_t max_pattern_bytes = 1024;
  std::size_t max_enum_values = 256;
  std::size_t max_steps = 200'000;  // subschema applications per validate()
  std::size_t max_errors = 8;       // messages returned by validate()
};

class JsonSchema {
 public:
  // kUnprocessable with the location and the reason ("/properties/name: unsupported keyword
  // 'format'") for anything outside the subset or the limits.
  [[nodiscard]] static Result<JsonSchema> compile(const boost::json::value& schema,
                                                  const SchemaLimits& limits = {});

  // Empty when `instance` is valid. Otherwise up to max_errors messages of the form
  // "<instance JSON pointer or '(root)'>: <problem>".
  std::vector<std::string> validate(const boost::json::value& instance) const;

  struct Impl;

 private:
  explicit JsonSchema(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace livery::prompts
