#pragma once

// Rewrites `?` placeholders (the one SQL dialect the stores are written in) into PostgreSQL's
// `$1, $2, …`. A `?` inside a quoted literal ('it''s ?'), E'…' string (backslash escapes), a
// quoted identifier ("a?"), a dollar-quoted string ($$?$$, $tag$?$tag$) or a comment (-- ?, /* ?
// */) is left alone. PostgreSQL's own `?`-operators (jsonb ?, ?|, ?&) cannot be used in store SQL.
// Pure function, thread-safe.

#include <string>
#include <string_view>

namespace livery::storage {

struct RewrittenSql {
  std::string sql;
  int parameters = 0;  // number of placeholders rewritten
};

RewrittenSql rewritePlaceholders(std::string_view sql);

}  // namespace livery::storage
