#pragma once

// Strict text encodings used by the crypto module: lowercase hex (key files, test vectors) and
// unpadded base64url (JWS, RFC 7515 §2). Decoders reject anything that is not the canonical
// encoding of some byte string: wrong alphabet, padding, whitespace, or non-zero unused bits.
// Pure functions, thread-safe.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace livery::crypto {

std::string hexEncode(std::span<const unsigned char> bytes);
// Accepts upper- and lowercase digits; rejects odd lengths and any other character.
std::optional<std::vector<unsigned char>> hexDecode(std::string_view text);
// Decodes into `out`, which must be exactly text.size() / 2 bytes; false on any error (and
// `out` is zeroed).
bool hexDecodeInto(std::string_view text, std::span<unsigned char> out);

std::string base64UrlEncode(std::span<const unsigned char> bytes);
// RFC 4648 §5 without padding. Rejects '=', '+', '/', whitespace, a length of 1 mod 4, and
// non-zero trailing bits (so every byte string has exactly one accepted encoding).
std::optional<std::vector<unsigned char>> base64UrlDecode(std::string_view text);
// Length of the decoded bytes for a well-formed unpadded input (0 for invalid lengths).
std::size_t base64UrlDecodedSize(std::size_t encoded_size);

}  // namespace livery::crypto
