#pragma once

// Small helpers for writing store SQL once for both dialects. Internal to storage/.

#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/ids.hpp"
#include "storage/database.hpp"

namespace livery::storage::sql {

// "" binds as NULL (optional references such as tenants.plan_id).
inline Param textOrNull(const std::string& s) {
  return s.empty() ? Param(nullptr) : Param(s);
}

template <class T>
Param optional(const std::optional<T>& v) {
  return v ? Param(*v) : Param(nullptr);
}

// "(?, ?, ?)" for `columns` placeholders.
inline std::string tuple(std::size_t columns) {
  std::string out = "(";
  for (std::size_t i = 0; i < columns; ++i) {
    out += i == 0 ? "?" : ", ?";
  }
  out += ')';
  return out;
}

// "(?, ?), (?, ?), …" for `rows` rows of `columns` placeholders (multi-row INSERT).
inline std::string tuples(std::size_t rows, std::size_t columns) {
  const std::string one = tuple(columns);
  std::string out;
  out.reserve(rows * (one.size() + 2));
  for (std::size_t r = 0; r < rows; ++r) {
    if (r != 0) {
      out += ", ";
    }
    out += one;
  }
  return out;
}

inline std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

inline Error notFound(std::string_view what) {
  return fail(ErrorCode::kNotFound, std::string(what) + " not found");
}

inline Error staleRevision(std::string_view what) {
  return fail(ErrorCode::kConflict,
              std::string(what) + " was changed by someone else; reload and retry",
              "compare-and-set: stale revision");
}

// Runs a query and decodes every row with `decode(const Row&) -> Result<T>`; the first decode
// error stops the read and is returned.
template <class Decode>
auto collect(Connection& conn, std::string_view sql, Params params, Decode&& decode)
    -> Result<std::vector<typename std::invoke_result_t<Decode&, const Row&>::value_type>> {
  using T = typename std::invoke_result_t<Decode&, const Row&>::value_type;
  std::vector<T> out;
  std::optional<Error> decode_error;
  auto r = conn.queryEach(sql, params, [&](const Row& row) {
    auto item = decode(row);
    if (!item) {
      decode_error = item.error();
      return false;
    }
    out.push_back(std::move(*item));
    return true;
  });
  if (!r) {
    return r.error();
  }
  if (decode_error) {
    return *decode_error;
  }
  return out;
}

template <class Decode>
auto collect(Connection& conn,
             std::string_view sql,
             std::initializer_list<Param> params,
             Decode&& decode) {
  return collect(conn, sql, Params(params.begin(), params.size()), std::forward<Decode>(decode));
}

// Runs a single-row query and decodes it; kNotFound ("<what> not found") when there is none.
template <class Decode>
auto one(Connection& conn,
         std::string_view sql,
         std::initializer_list<Param> params,
         std::string_view what,
         Decode&& decode) -> std::invoke_result_t<Decode&, const Row&> {
  auto row = conn.queryOne(sql, params, std::string(what) + " not found");
  if (!row) {
    return row.error();
  }
  return decode(*row);
}

inline std::string idOr(const std::string& id, std::string_view prefix) {
  return id.empty() ? randomId(prefix) : id;
}

}  // namespace livery::storage::sql
