#pragma once
// The web portal (web/dist: the tenant console, workspace and operator bundles) compiled into the
// binary, so `livery` serves the portal with no files on disk. The table is generated at build
// time by portal/embed_assets.cmake from web/dist (content-hashed names under /static/ and
// manifest.json). When web/dist was missing at configure time the table is empty (a CMake warning
// says so) and every lookup returns "not found".
//
// Thread-safety: everything here is immutable static data; safe from any thread.
// Ownership: returned pointers and views refer to static storage and never dangle.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace livery::portal {

// One embedded file.
struct EmbeddedAsset {
  std::string_view path;          // request path, e.g. "/static/console.FVBKS3FH.js"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view etag;          // strong ETag: the quoted hex SHA-256 of the bytes
  const unsigned char* data = nullptr;
  std::size_t size = 0;

  std::string_view bytes() const noexcept;
};

// A logical entry name and its content-hashed URL ("console.js" → "/static/console.3f9c1a.js").
struct EntryUrl {
  std::string_view name;
  std::string_view url;
};

// A sorted, immutable set of assets plus the entry map. `assets` must be sorted by path.
class AssetTable {
 public:
  constexpr AssetTable(std::span<const EmbeddedAsset> assets, std::span<const EntryUrl> entries)
      : assets_(assets), entries_(entries) {}

  // The asset served at `path` (exact match, e.g. "/static/app.X.css"), or nullptr.
  const EmbeddedAsset* find(std::string_view path) const noexcept;
  // The hashed URL of a logical entry ("console.js", "workspace.js", "operator.js", "app.css").
  std::optional<std::string_view> entryUrl(std::string_view name) const noexcept;

  std::span<const EmbeddedAsset> assets() const noexcept { return assets_; }
  std::span<const EntryUrl> entries() const noexcept { return entries_; }
  bool empty() const noexcept { return assets_.empty(); }

 private:
  std::span<const EmbeddedAsset> assets_;
  std::span<const EntryUrl> entries_;
};

// The table compiled into this binary.
const AssetTable& embeddedAssets() noexcept;

// Shorthands on embeddedAssets().
const EmbeddedAsset* findAsset(std::string_view path) noexcept;
std::optional<std::string_view> entryUrl(std::string_view name) noexcept;

// Every embedded path starts with this prefix; the server routes it here.
inline constexpr std::string_view kStaticPrefix = "/static/";
// Cache-Control for embedded assets: their names carry a content hash, so they never change.
inline constexpr std::string_view kImmutableCacheControl = "public, max-age=31536000, immutable";

// True when an If-None-Match header value matches the asset's ETag (a list, weak validators and
// "*" accepted, RFC 9110 §13.1.2), so the server can answer 304.
bool etagMatches(std::string_view if_none_match, const EmbeddedAsset& asset) noexcept;
// The same comparison against any ETag value (quoted, e.g. a per-host document's ETag).
bool etagMatches(std::string_view if_none_match, std::string_view etag) noexcept;

}  // namespace livery::portal
