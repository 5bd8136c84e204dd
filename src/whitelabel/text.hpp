#pragma once

// Escaping and cleaning of tenant-supplied text for the white-label renderers. Pure functions,
// safe to call from any thread.

#include <cstddef>
#include <string>
#include <string_view>

namespace livery::whitelabel {

// Appends `text` escaped for HTML text content and for a double- or single-quoted attribute
// value: & < > " ' become character references. Nothing else is needed in those two contexts;
// never use the result inside <script>, <style>, an unquoted attribute or a URL scheme position.
void appendHtmlEscaped(std::string& out, std::string_view text);
std::string htmlEscape(std::string_view text);

// Makes a JSON document safe to embed between <script type="application/json"> and </script>:
// '<', '>' and '&' become \u003c, \u003e, \u0026 and U+2028/U+2029 become \u2028/\u2029. These only
// occur inside JSON strings, where the escapes mean the same characters, so JSON.parse of the
// result gives the original value. `json` must be valid JSON.
std::string escapeJsonForHtmlScript(std::string_view json);

struct TextPolicy {
  std::size_t max_bytes = 200;  // the result is cut at a code point boundary to fit
  bool allow_newlines = false;  // keep '\n' (CR is always dropped; tabs become spaces)
};

// Cleans tenant- or client-supplied text for display and templating: invalid UTF-8 sequences
// become U+FFFD; C0/C1 control characters, DEL, zero-width and bidirectional override/isolate
// characters (U+200B–U+200F, U+202A–U+202E, U+2066–U+2069, U+FEFF) are removed; leading and
// trailing white space is trimmed; the result is at most `policy.max_bytes` bytes of valid UTF-8.
// The output carries no markup meaning by itself: escape it for its output context.
std::string sanitizeText(std::string_view text, const TextPolicy& policy);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool isValidUtf8(std::string_view text);

// ASCII lower-case copy.
std::string asciiLower(std::string_view text);

}  // namespace livery::whitelabel
