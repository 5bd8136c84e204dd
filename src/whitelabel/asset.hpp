#pragma once

// Brand asset uploads (logo, favicon): type sniffing from the bytes (never the declared type or
// file name), structural checks, size and dimension limits, SVG sanitising, content hashes for
// content-addressed URLs, and the headers assets must be served with.
//
// Thread-safety: AssetValidator::validate() is const and safe to call concurrently; construct the
// validator on the start-up thread (it owns an SvgSanitizer, see svg_sanitizer.hpp).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "whitelabel/svg_sanitizer.hpp"

namespace livery::whitelabel {

// Response headers as (name, value) pairs, for the HTTP layer to copy into its response.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

enum class ImageType { kPng, kJpeg, kWebp, kSvg };
enum class AssetKind { kLogo, kFavicon };

// "image/png", "image/jpeg", "image/webp", "image/svg+xml".
std::string_view contentType(ImageType type);
std::string_view toString(AssetKind kind);  // "logo" | "favicon"
// The inverse of contentType() (exact match), for assets read back from storage.
std::optional<ImageType> imageTypeFromContentType(std::string_view content_type);

// The type the bytes claim by their magic numbers: PNG signature, JPEG SOI, RIFF....WEBP; kSvg
// for anything that starts with '<' after an optional UTF-8 BOM and white space (an SVG
// *candidate*: only SvgSanitizer decides). nullopt for everything else (GIF, BMP, HTML-looking
// binaries, ...). A candidate still has to pass AssetValidator::validate().
std::optional<ImageType> sniffImageType(std::string_view bytes);

struct AssetLimits {
  std::size_t logo_max_bytes = 512 * 1024;
  std::size_t favicon_max_bytes = 64 * 1024;
  std::uint32_t max_dimension = 4096;  // width and height of raster images, in pixels
  SvgLimits svg;                       // svg.max_bytes is capped by the per-kind limit
};

struct ValidatedAsset {
  ImageType type = ImageType::kPng;
  std::string content_type;  // from `type`, never from the upload
  std::string bytes;         // what to store and serve (the sanitised document for SVG)
  std::string sha256_hex;    // of `bytes`: the content address (storage::Asset::hash)
  std::uint32_t width = 0;   // raster images only (0 for SVG)
  std::uint32_t height = 0;
  bool svg_modified = false;  // the sanitiser removed something (for a console notice)
};

class AssetValidator {
 public:
  explicit AssetValidator(AssetLimits limits = {});

  // Accepts PNG, JPEG, WebP or SVG, identified by content alone. Raster images must be
  // structurally complete with nothing after their end marker (PNG IEND, JPEG EOI, the RIFF
  // length), which rejects appended-payload polyglots; dimensions must be within the limit.
  // Errors: kPayloadTooLarge (size), kUnprocessable (type, structure, dimensions), kBadRequest
  // (malformed SVG). Messages are generic and never echo the upload.
  [[nodiscard]] Result<ValidatedAsset> validate(AssetKind kind, std::string_view bytes) const;

  const AssetLimits& limits() const { return limits_; }

 private:
  AssetLimits limits_;
  SvgSanitizer logo_svg_;
  SvgSanitizer favicon_svg_;
};

// Lower-case hex SHA-256 (64 characters).
std::string sha256Hex(std::string_view bytes);

// Headers every stored asset must be served with: the exact Content-Type of the stored type,
// `X-Content-Type-Options: nosniff`, `Content-Security-Policy: default-src 'none'; style-src
// 'unsafe-inline'; sandbox` (an SVG opened directly runs in an opaque origin and loads nothing),
// `Cache-Control: public, max-age=31536000, immutable` (the URL is content-addressed) and
// `Cross-Origin-Resource-Policy: same-site`.
HeaderList assetResponseHeaders(ImageType type);

// "/t/<tenant_id>/assets/<sha256_hex>": tenant-scoped and content-addressed, so a shared cache
// keyed by URL can never mix tenants. kBadRequest if the tenant id is not [A-Za-z0-9_-]{1,64} or
// the hash is not 64 lower-case hex digits.
[[nodiscard]] Result<std::string> assetPath(std::string_view tenant_id,
                                            std::string_view sha256_hex);

struct AssetRef {
  std::string tenant_id;
  std::string sha256_hex;
};
// The inverse of assetPath() (exact syntax, nothing else); the caller must also check that
// `tenant_id` is the tenant resolved from the host before serving.
std::optional<AssetRef> parseAssetPath(std::string_view path);

}  // namespace livery::whitelabel
