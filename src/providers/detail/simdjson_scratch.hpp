#pragma once

// Private to providers/*.cpp: the simdjson side of JsonScratch.

#include <string>
#include <string_view>

#include <simdjson.h>

#include "providers/json_scratch.hpp"

namespace livery::providers::detail {

struct JsonScratchImpl {
  simdjson::ondemand::parser parser;
  std::string buffer;

  // Copies `json` into the padded buffer and starts a document over it.
  simdjson::simdjson_result<simdjson::ondemand::document> iterate(std::string_view json) {
    buffer.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    buffer.assign(json);
    return parser.iterate(
        simdjson::padded_string_view(buffer.data(), buffer.size(), buffer.capacity()));
  }
};

// Reads an unsigned count that a provider may send as an integer or (rarely) a float.
inline bool readCount(simdjson::ondemand::value& v, std::uint64_t& out) {
  std::uint64_t u = 0;
  if (!v.get_uint64().get(u)) {
    out = u;
    return true;
  }
  double d = 0;
  if (!v.get_double().get(d) && d >= 0 && d < 1e18) {
    out = static_cast<std::uint64_t>(d);
    return true;
  }
  return false;
}

}  // namespace livery::providers::detail
