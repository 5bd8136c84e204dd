#include "whitelabel/asset.hpp"

#include <algorithm>
#include <array>

#include <openssl/evp.h>

namespace livery::whitelabel {

namespace {

constexpr std::string_view kPngSignature = "\x89PNG\r\n\x1a\n";

struct Dimensions {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};

std::uint32_t be32(std::string_view b, std::size_t at) {
  auto u = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + k]));
  };
  return (u(0) << 24) | (u(1) << 16) | (u(2) << 8) | u(3);
}
std::uint32_t be16(std::string_view b, std::size_t at) {
  auto u = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + k]));
  };
  return (u(0) << 8) | u(1);
}
std::uint32_t le32(std::string_view b, std::size_t at) {
  auto u = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + k]));
  };
  return u(0) | (u(1) << 8) | (u(2) << 16) | (u(3) << 24);
}
std::uint32_t le24(std::string_view b, std::size_t at) {
  auto u = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + k]));
  };
  return u(0) | (u(1) << 8) | (u(2) << 16);
}
unsigned char byteAt(std::string_view b, std::size_t at) {
  return static_cast<unsigned char>(b[at]);
}

Error malformed() {
  return fail(ErrorCode::kUnprocessable, "the image file is damaged or not a supported format");
}

// Signature, IHDR first, a sequence of well-formed chunks, IEND last and nothing after it.
Result<Dimensions> checkPng(std::string_view b) {
  std::size_t pos = kPngSignature.size();
  bool first = true;
  Dimensions dims;
  while (pos + 12 <= b.size()) {
    std::uint32_t length = be32(b, pos);
    std::string_view type = b.substr(pos + 4, 4);
    if (length > b.size() - pos - 12) {
      return malformed();
    }
    if (!std::all_of(type.begin(), type.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        })) {
      return malformed();
    }
    if (first) {
      if (type != "IHDR" || length != 13) {
        return malformed();
      }
      dims.width = be32(b, pos + 8);
      dims.height = be32(b, pos + 12);
      first = false;
    }
    pos += 12 + length;
    if (type == "IEND") {
      if (pos != b.size()) {
        return malformed();  // trailing bytes: an appended payload
      }
      return dims;
    }
  }
  return malformed();
}

bool isSofMarker(unsigned char m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

// SOI, length-prefixed segments, entropy-coded data after each SOS, EOI as the last two bytes.
Result<Dimensions> checkJpeg(std::string_view b) {
  std::size_t pos = 2;  // after SOI
  Dimensions dims;
  bool have_sof = false;
  while (pos + 1 < b.size()) {
    if (byteAt(b, pos) != 0xFF) {
      return malformed();
    }
    while (pos < b.size() && byteAt(b, pos) == 0xFF) {
      ++pos;  // fill bytes
    }
    if (pos >= b.size()) {
      return malformed();
    }
    unsigned char marker = byteAt(b, pos++);
    if (marker == 0xD9) {  // EOI
      if (!have_sof || pos != b.size()) {
        return malformed();
      }
      return dims;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      continue;  // stand-alone markers
    }
    if (marker == 0x00 || marker == 0xD8 || pos + 2 > b.size()) {
      return malformed();
    }
    std::uint32_t length = be16(b, pos);
    if (length < 2 || pos + length > b.size()) {
      return malformed();
    }
    if (isSofMarker(marker)) {
      if (length < 7) {
        return malformed();
      }
      dims.height = be16(b, pos + 3);
      dims.width = be16(b, pos + 5);
      have_sof = true;
    }
    pos += length;
    if (marker == 0xDA) {  // SOS: skip entropy-coded data up to the next real marker
      if (!have_sof) {
        return malformed();
      }
      while (pos + 1 < b.size()) {
        if (byteAt(b, pos) == 0xFF) {
          unsigned char next = byteAt(b, pos + 1);
          if (next != 0x00 && !(next >= 0xD0 && next <= 0xD7) && next != 0xFF) {
            break;
          }
        }
        ++pos;
      }
    }
  }
  return malformed();
}

// RIFF length equal to the file, chunks that tile it exactly, and a VP8/VP8L/VP8X header with
// the canvas size.
Result<Dimensions> checkWebp(std::string_view b) {
  if (b.size() < 20 || std::size_t{le32(b, 4)} + 8 != b.size()) {
    return malformed();
  }
  Dimensions dims;
  bool have_header = false;
  std::size_t pos = 12;
  while (pos < b.size()) {
    if (pos + 8 > b.size()) {
      return malformed();
    }
    std::string_view fourcc = b.substr(pos, 4);
    std::uint32_t size = le32(b, pos + 4);
    std::size_t payload = pos + 8;
    if (size > b.size() - payload) {
      return malformed();
    }
    if (!have_header) {
      if (fourcc == "VP8X" && size >= 10) {
        dims.width = le24(b, payload + 4) + 1;
        dims.height = le24(b, payload + 7) + 1;
      } else if (fourcc == "VP8L" && size >= 5 && byteAt(b, payload) == 0x2F) {
        std::uint32_t bits = le32(b, payload + 1);
        dims.width = (bits & 0x3FFF) + 1;
        dims.height = ((bits >> 14) & 0x3FFF) + 1;
      } else if (fourcc == "VP8 " && size >= 10 && byteAt(b, payload + 3) == 0x9D &&
                 byteAt(b, payload + 4) == 0x01 && byteAt(b, payload + 5) == 0x2A) {
        dims.width = le32(b, payload + 6) & 0x3FFF;
        dims.height = (le32(b, payload + 6) >> 16) & 0x3FFF;
      } else {
        return malformed();  // the first chunk must describe the image
      }
      have_header = true;
    }
    pos = payload + size + (size & 1);  // chunks are padded to even length
  }
  if (pos != b.size() || !have_header) {
    return malformed();
  }
  return dims;
}

bool isTenantIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}
bool isValidTenantId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), isTenantIdChar);
}
bool isLowerHex64(std::string_view h) {
  return h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

SvgLimits svgLimitsFor(const AssetLimits& limits, std::size_t max_bytes) {
  SvgLimits s = limits.svg;
  s.max_bytes = std::min(s.max_bytes, max_bytes);
  return s;
}

}  // namespace

std::string_view contentType(ImageType type) {
  switch (type) {
    case ImageType::kPng:
      return "image/png";
    case ImageType::kJpeg:
      return "image/jpeg";
    case ImageType::kWebp:
      return "image/webp";
    case ImageType::kSvg:
      return "image/svg+xml";
  }
  return "application/octet-stream";
}

std::string_view toString(AssetKind kind) {
  return kind == AssetKind::kLogo ? "logo" : "favicon";
}

std::optional<ImageType> imageTypeFromContentType(std::string_view content_type) {
  for (ImageType t : {ImageType::kPng, ImageType::kJpeg, ImageType::kWebp, ImageType::kSvg}) {
    if (contentType(t) == content_type) {
      return t;
    }
  }
  return std::nullopt;
}

std::optional<ImageType> sniffImageType(std::string_view bytes) {
  if (bytes.starts_with(kPngSignature)) {
    return ImageType::kPng;
  }
  if (bytes.size() >= 3 && byteAt(bytes, 0) == 0xFF && byteAt(bytes, 1) == 0xD8 &&
      byteAt(bytes, 2) == 0xFF) {
    return ImageType::kJpeg;
  }
  if (bytes.size() >= 12 && bytes.starts_with("RIFF") && bytes.substr(8, 4) == "WEBP") {
    return ImageType::kWebp;
  }
  std::string_view text = bytes;
  if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);
  }
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '<') {
    return ImageType::kSvg;
  }
  return std::nullopt;
}

AssetValidator::AssetValidator(AssetLimits limits)
    : limits_(limits),
      logo_svg_(svgLimitsFor(limits, limits.logo_max_bytes)),
      favicon_svg_(svgLimitsFor(limits, limits.favicon_max_bytes)) {}

Result<ValidatedAsset> AssetValidator::validate(AssetKind kind, std::string_view bytes) const {
  std::size_t max_bytes =
      kind == AssetKind::kLogo ? limits_.logo_max_bytes : limits_.favicon_max_bytes;
  if (bytes.size() > max_bytes) {
    return fail(ErrorCode::kPayloadTooLarge,
                std::string(toString(kind)) + " must be at most " +
                    std::to_string(max_bytes / 1024) + " KiB");
  }
  if (bytes.empty()) {
    return fail(ErrorCode::kUnprocessable, "the uploaded file is empty");
  }
  auto type = sniffImageType(bytes);
  if (!type) {
    return fail(ErrorCode::kUnprocessable, "only PNG, JPEG, WebP and SVG images are accepted");
  }
  ValidatedAsset out;
  out.type = *type;
  out.content_type = std::string(contentType(*type));
  if (*type == ImageType::kSvg) {
    const SvgSanitizer& sanitizer = kind == AssetKind::kLogo ? logo_svg_ : favicon_svg_;
    auto svg = sanitizer.sanitize(bytes);
    if (!svg) {
      return svg.error();
    }
    out.svg_modified = svg->changed();
    out.bytes = std::move(svg->svg);
  } else {
    Result<Dimensions> dims = *type == ImageType::kPng    ? checkPng(bytes)
                              : *type == ImageType::kJpeg ? checkJpeg(bytes)
                                                          : checkWebp(bytes);
    if (!dims) {
      return dims.error();
    }
    if (dims->width == 0 || dims->height == 0 || dims->width > limits_.max_dimension ||
        dims->height > limits_.max_dimension) {
      return fail(ErrorCode::kUnprocessable,
                  "image dimensions must be between 1 and " +
                      std::to_string(limits_.max_dimension) + " pixels");
    }
    out.width = dims->width;
    out.height = dims->height;
    out.bytes = std::string(bytes);
  }
  out.sha256_hex = sha256Hex(out.bytes);
  return out;
}

std::string sha256Hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
    return {};  // only on allocation failure inside OpenSSL; callers treat "" as invalid
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * static_cast<std::size_t>(len));
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kDigits[md[i] >> 4]);
    out.push_back(kDigits[md[i] & 0xF]);
  }
  return out;
}

HeaderList assetResponseHeaders(ImageType type) {
  return {
      {"Content-Type", std::string(contentType(type))},
      {"X-Content-Type-Options", "nosniff"},
      {"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox"},
      {"Cache-Control", "public, max-age=31536000, immutable"},
      {"Cross-Origin-Resource-Policy", "same-site"},
  };
}

Result<std::string> assetPath(std::string_view tenant_id, std::string_view sha256_hex) {
  if (!isValidTenantId(tenant_id) || !isLowerHex64(sha256_hex)) {
    return fail(ErrorCode::kBadRequest, "invalid asset reference");
  }
  std::string out = "/t/";
  out += tenant_id;
  out += "/assets/";
  out += sha256_hex;
  return out;
}

std::optional<AssetRef> parseAssetPath(std::string_view path) {
  constexpr std::string_view kPrefix = "/t/";
  constexpr std::string_view kMiddle = "/assets/";
  if (!path.starts_with(kPrefix)) {
    return std::nullopt;
  }
  path.remove_prefix(kPrefix.size());
  std::size_t slash = path.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view tenant = path.substr(0, slash);
  std::string_view rest = path.substr(slash);
  if (!rest.starts_with(kMiddle)) {
    return std::nullopt;
  }
  std::string_view hash = rest.substr(kMiddle.size());
  if (!isValidTenantId(tenant) || !isLowerHex64(hash)) {
    return std::nullopt;
  }
  return AssetRef{std::string(tenant), std::string(hash)};
}

}  // namespace livery::whitelabel
