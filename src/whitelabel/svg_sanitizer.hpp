#pragma once

// SVG sanitiser for tenant logos and favicons (libxml2). The input is parsed as XML with the
// network off, no DTD loading and no entity substitution; any DOCTYPE is rejected outright, so
// there are no external entities (XXE) and no entity expansion (billion laughs). The document is
// then re-serialised from an allow-list: only SVG-namespace shape, text, gradient, clipping,
// masking and basic filter elements survive, with geometry and presentation attributes.
// Everything else is dropped with its subtree, including <script>, <foreignObject>, <image>,
// <a>, animation elements (<animate>/<set> can rewrite href), <feImage>, elements of any other
// namespace, comments and processing instructions. Attributes are dropped when they are event
// handlers (on*), unknown, carry `javascript:`/`vbscript:`/`data:` anywhere, reference anything
// but a same-document fragment (href/xlink:href must be "#id"; url() must be url(#id)), or (style
// attribute declarations and <style> elements) contain url() to anything else, expression(),
// @-rules, backslash escapes or comments.
//
// The output is built by this code (element and attribute names from the allow-lists, values
// escaped), never by echoing input bytes, so it is well-formed UTF-8 XML whatever came in.
// Defence in depth still applies: serve it only with assetResponseHeaders() (CSP sandbox,
// nosniff) and embed it through <img>.
//
// Thread-safety: sanitize() is const and may run concurrently. The constructor calls
// xmlInitParser(), which libxml2 requires once before multi-threaded use: construct sanitisers
// on the start-up thread (the composition root), not lazily on I/O threads.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace livery::whitelabel {

struct SvgLimits {
  std::size_t max_bytes = 512 * 1024;  // input size
  std::size_t max_elements = 10'000;   // elements kept or dropped
  std::size_t max_depth = 64;          // element nesting
};

struct SanitizedSvg {
  std::string svg;                     // the re-serialised document
  std::size_t removed_elements = 0;    // subtrees dropped (counted at their root)
  std::size_t removed_attributes = 0;  // attributes or style declarations dropped
  bool changed() const { return removed_elements + removed_attributes > 0; }
};

class SvgSanitizer {
 public:
  explicit SvgSanitizer(SvgLimits limits = {});

  // kBadRequest when the input is not a well-formed XML document whose root is an SVG <svg>
  // element, or carries a DOCTYPE; kPayloadTooLarge when it exceeds a limit. Error messages are
  // generic and never echo the input.
  [[nodiscard]] Result<SanitizedSvg> sanitize(std::string_view input) const;

 private:
  SvgLimits limits_;
};

}  // namespace livery::whitelabel
