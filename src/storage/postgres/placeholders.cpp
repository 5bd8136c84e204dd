#include "storage/postgres/placeholders.hpp"

#include <cctype>

namespace livery::storage {

namespace {

bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// At sql[i] == '$': the length of a dollar-quote tag ("$$" or "$tag$"), or 0 if this `$` does
// not open one (e.g. a `$1` parameter).
std::size_t dollarTagLength(std::string_view sql, std::size_t i) {
  std::size_t j = i + 1;
  if (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])) != 0) {
    return 0;
  }
  while (j < sql.size() && isIdentChar(sql[j])) {
    ++j;
  }
  if (j < sql.size() && sql[j] == '$') {
    return j - i + 1;
  }
  return 0;
}

}  // namespace

RewrittenSql rewritePlaceholders(std::string_view sql) {
  RewrittenSql out;
  out.sql.reserve(sql.size() + 16);
  std::size_t i = 0;
  const std::size_t n = sql.size();
  auto copyUntil = [&](std::size_t end) {
    out.sql.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < n) {
    const char c = sql[i];
    if (c == '?') {
      out.sql += '$';
      out.sql += std::to_string(++out.parameters);
      ++i;
    } else if (c == '\'') {
      // 'literal' with '' escapes; E'literal' also honours backslash escapes.
      const bool escapes =
          i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !isIdentChar(sql[i - 2]));
      std::size_t j = i + 1;
      while (j < n) {
        if (escapes && sql[j] == '\\' && j + 1 < n) {
          j += 2;
        } else if (sql[j] == '\'') {
          if (j + 1 < n && sql[j + 1] == '\'') {
            j += 2;
          } else {
            ++j;
            break;
          }
        } else {
          ++j;
        }
      }
      copyUntil(j);
    } else if (c == '"') {
      std::size_t j = i + 1;
      while (j < n) {
        if (sql[j] == '"') {
          if (j + 1 < n && sql[j + 1] == '"') {
            j += 2;
            continue;
          }
          ++j;
          break;
        }
        ++j;
      }
      copyUntil(j);
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      const std::size_t eol = sql.find('\n', i);
      copyUntil(eol == std::string_view::npos ? n : eol);
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      // PostgreSQL block comments nest.
      std::size_t j = i + 2;
      int depth = 1;
      while (j < n && depth > 0) {
        if (sql[j] == '/' && j + 1 < n && sql[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (sql[j] == '*' && j + 1 < n && sql[j + 1] == '/') {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      copyUntil(j);
    } else if (c == '$' && (i == 0 || !isIdentChar(sql[i - 1]))) {
      const std::size_t tag_len = dollarTagLength(sql, i);
      if (tag_len == 0) {
        copyUntil(i + 1);
        continue;
      }
      const std::string_view tag = sql.substr(i, tag_len);
      const std::size_t close = sql.find(tag, i + tag_len);
      copyUntil(close == std::string_view::npos ? n : close + tag_len);
    } else {
      copyUntil(i + 1);
    }
  }
  return out;
}

}  // namespace livery::storage
