#include "portal/assets.hpp"

#include <algorithm>

namespace livery::portal {

namespace detail {
// Defined in the generated embedded_assets.cpp (portal/embed_assets.cmake).
const AssetTable& embeddedTable() noexcept;
}  // namespace detail

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::string_view EmbeddedAsset::bytes() const noexcept {
  // The generated arrays are unsigned char; the bytes are served as they are.
  return {reinterpret_cast<const char*>(data), size};
}

const EmbeddedAsset* AssetTable::find(std::string_view path) const noexcept {
  auto it = std::lower_bound(
      assets_.begin(), assets_.end(), path, [](const EmbeddedAsset& a, std::string_view p) {
        return a.path < p;
      });
  if (it == assets_.end() || it->path != path) {
    return nullptr;
  }
  return &*it;
}

std::optional<std::string_view> AssetTable::entryUrl(std::string_view name) const noexcept {
  for (const auto& e : entries_) {
    if (e.name == name) {
      return e.url;
    }
  }
  return std::nullopt;
}

const AssetTable& embeddedAssets() noexcept {
  return detail::embeddedTable();
}

const EmbeddedAsset* findAsset(std::string_view path) noexcept {
  return embeddedAssets().find(path);
}

std::optional<std::string_view> entryUrl(std::string_view name) noexcept {
  return embeddedAssets().entryUrl(name);
}

bool etagMatches(std::string_view if_none_match, const EmbeddedAsset& asset) noexcept {
  return etagMatches(if_none_match, asset.etag);
}

bool etagMatches(std::string_view if_none_match, std::string_view etag) noexcept {
  std::string_view rest = if_none_match;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item == "*") {
      return true;
    }
    if (item.starts_with("W/")) {
      item.remove_prefix(2);  // weak comparison is what If-None-Match uses
    }
    if (!item.empty() && item == etag) {
      return true;
    }
  }
  return false;
}

}  // namespace livery::portal
