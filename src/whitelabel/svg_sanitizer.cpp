#include "whitelabel/svg_sanitizer.hpp"

#include <algorithm>
#include <array>
#include <memory>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "whitelabel/text.hpp"

namespace livery::whitelabel {

namespace {

constexpr std::string_view kSvgNs = "http://www.w3.org/2000/svg";
constexpr std::string_view kXlinkNs = "http://www.w3.org/1999/xlink";
constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";

// Shapes, structure, text, paint servers, clipping/masking and filter primitives that cannot
// fetch anything (no feImage). Case-sensitive, as in SVG.
constexpr std::array kElements = std::to_array<std::string_view>({
    "svg",
    "g",
    "defs",
    "title",
    "desc",
    "symbol",
    "use",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "marker",
    "style",
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feFuncR",
    "feFuncG",
    "feFuncB",
    "feFuncA",
    "feComposite",
    "feFlood",
    "feGaussianBlur",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
    "feDropShadow",
});

// Elements whose text content is kept.
constexpr std::array kTextElements =
    std::to_array<std::string_view>({"text", "tspan", "textPath", "title", "desc", "style"});

// Presentation properties: allowed as attributes and as declarations in style="".
constexpr std::array kPresentation = std::to_array<std::string_view>({
    "alignment-baseline",
    "baseline-shift",
    "clip-path",
    "clip-rule",
    "color",
    "color-interpolation",
    "color-interpolation-filters",
    "direction",
    "display",
    "dominant-baseline",
    "fill",
    "fill-opacity",
    "fill-rule",
    "filter",
    "flood-color",
    "flood-opacity",
    "font-family",
    "font-size",
    "font-stretch",
    "font-style",
    "font-variant",
    "font-weight",
    "image-rendering",
    "isolation",
    "letter-spacing",
    "lighting-color",
    "marker-end",
    "marker-mid",
    "marker-start",
    "mask",
    "mix-blend-mode",
    "opacity",
    "overflow",
    "paint-order",
    "shape-rendering",
    "stop-color",
    "stop-opacity",
    "stroke",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-opacity",
    "stroke-width",
    "text-anchor",
    "text-decoration",
    "text-rendering",
    "transform",
    "transform-origin",
    "unicode-bidi",
    "vector-effect",
    "visibility",
    "word-spacing",
    "writing-mode",
});

// Geometry and structural attributes (no namespace).
constexpr std::array kAttributes = std::to_array<std::string_view>({
    "amplitude",
    "baseProfile",
    "class",
    "clipPathUnits",
    "cx",
    "cy",
    "d",
    "dx",
    "dy",
    "edgeMode",
    "exponent",
    "filterUnits",
    "fr",
    "fx",
    "fy",
    "gradientTransform",
    "gradientUnits",
    "height",
    "id",
    "in",
    "in2",
    "intercept",
    "k1",
    "k2",
    "k3",
    "k4",
    "lengthAdjust",
    "markerHeight",
    "markerUnits",
    "markerWidth",
    "maskContentUnits",
    "maskUnits",
    "method",
    "mode",
    "offset",
    "operator",
    "orient",
    "pathLength",
    "patternContentUnits",
    "patternTransform",
    "patternUnits",
    "points",
    "preserveAspectRatio",
    "primitiveUnits",
    "r",
    "radius",
    "refX",
    "refY",
    "result",
    "rotate",
    "rx",
    "ry",
    "side",
    "slope",
    "spacing",
    "spreadMethod",
    "startOffset",
    "stdDeviation",
    "tableValues",
    "textLength",
    "type",
    "values",
    "version",
    "viewBox",
    "width",
    "x",
    "x1",
    "x2",
    "y",
    "y1",
    "y2",
});

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view name) {
  return std::find(set.begin(), set.end(), name) != set.end();
}

std::string_view view(const xmlChar* s) {
  return s == nullptr
             ? std::string_view()
             : std::string_view(reinterpret_cast<const char*>(s));  // NOLINT(*-reinterpret-cast)
}

std::string_view nsOf(const xmlNode* n) {
  return n->ns == nullptr ? std::string_view() : view(n->ns->href);
}

bool isSvgElement(const xmlNode* n) {
  std::string_view ns = nsOf(n);
  return ns.empty() || ns == kSvgNs;  // files without xmlns are treated as SVG; we add it back
}

struct XmlFree {
  void operator()(xmlChar* p) const { xmlFree(p); }
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

std::string attributeValue(const xmlAttr* a) {
  std::unique_ptr<xmlChar, XmlFree> v(xmlNodeListGetString(a->doc, a->children, 1));
  return std::string(view(v.get()));
}

// Lower-cased, with every character <= U+0020 removed: "java\tscript :" -> "javascript:".
std::string compact(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (static_cast<unsigned char>(c) > 0x20) {
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
  }
  return out;
}

bool hasActiveScheme(std::string_view value) {
  std::string c = compact(value);
  for (std::string_view bad : {"javascript:", "vbscript:", "livescript:", "data:"}) {
    if (c.find(bad) != std::string::npos) {
      return true;
    }
  }
  return false;
}

bool isFragmentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

// "#id" and nothing else.
bool isLocalFragment(std::string_view v) {
  if (v.size() < 2 || v.size() > 256 || v[0] != '#') {
    return false;
  }
  return std::all_of(v.begin() + 1, v.end(), isFragmentChar);
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && static_cast<unsigned char>(v.front()) <= 0x20) {
    v.remove_prefix(1);
  }
  while (!v.empty() && static_cast<unsigned char>(v.back()) <= 0x20) {
    v.remove_suffix(1);
  }
  return v;
}

// CSS text (a property value, or a whole <style> sheet when `stylesheet`) that can neither run
// code nor reference anything outside the document.
bool cssIsSafe(std::string_view css, bool stylesheet) {
  std::string lower = asciiLower(css);
  for (std::string_view bad : {"\\",
                               "/*",
                               "<",
                               "expression",
                               "javascript:",
                               "vbscript:",
                               "data:",
                               "behavior",
                               "binding",
                               "image-set",
                               "image(",
                               "element(",
                               "cross-fade",
                               "src(",
                               "@import"}) {
    if (lower.find(bad) != std::string::npos) {
      return false;
    }
  }
  if (stylesheet && lower.find('@') != std::string::npos) {
    return false;  // no at-rules at all: @font-face, @namespace, @import
  }
  // Every url( must be url(#id), url('#id') or url("#id").
  for (std::size_t pos = lower.find("url("); pos != std::string::npos;
       pos = lower.find("url(", pos + 4)) {
    std::string_view rest = std::string_view(css).substr(pos + 4);
    std::size_t close = rest.find(')');
    if (close == std::string_view::npos) {
      return false;
    }
    std::string_view arg = trim(rest.substr(0, close));
    if (arg.size() >= 2 && (arg.front() == '\'' || arg.front() == '"') &&
        arg.back() == arg.front()) {
      arg = arg.substr(1, arg.size() - 2);
    }
    if (!isLocalFragment(arg)) {
      return false;
    }
  }
  return true;
}

// Keeps only allow-listed, safe declarations of a style="" attribute. Counts drops in `removed`.
std::string filterStyle(std::string_view style, std::size_t& removed) {
  std::string out;
  std::size_t start = 0;
  while (start <= style.size()) {
    std::size_t end = style.find(';', start);
    if (end == std::string_view::npos) {
      end = style.size();
    }
    std::string_view decl = trim(style.substr(start, end - start));
    start = end + 1;
    if (decl.empty()) {
      continue;
    }
    std::size_t colon = decl.find(':');
    if (colon == std::string_view::npos) {
      ++removed;
      continue;
    }
    std::string prop = asciiLower(trim(decl.substr(0, colon)));
    std::string_view value = trim(decl.substr(colon + 1));
    if (!contains(kPresentation, prop) || value.empty() ||
        value.find_first_of("{}") != std::string_view::npos || !cssIsSafe(value, false)) {
      ++removed;
      continue;
    }
    if (!out.empty()) {
      out.push_back(';');
    }
    out += prop;
    out.push_back(':');
    out += value;
  }
  return out;
}

void appendXmlEscaped(std::string& out, std::string_view text, bool attribute) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        out.push_back(c);
    }
  }
}

class Walker {
 public:
  Walker(const SvgLimits& limits, SanitizedSvg& result) : limits_(limits), result_(result) {}

  // False when a limit was hit (the output is then incomplete and must be discarded).
  bool element(const xmlNode* n, std::size_t depth, bool root) {
    if (++elements_ > limits_.max_elements || depth > limits_.max_depth) {
      return false;
    }
    std::string_view name = view(n->name);
    if (!isSvgElement(n) || !contains(kElements, name)) {
      ++result_.removed_elements;
      return true;
    }
    if (name == "style") {
      return styleElement(n);
    }
    std::string& out = result_.svg;
    out.push_back('<');
    out += name;
    if (root) {
      out += " xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\"";
    }
    attributes(n);
    bool keep_text = contains(kTextElements, name);
    std::size_t open_end = out.size();
    out.push_back('>');
    for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
      if (c->type == XML_ELEMENT_NODE) {
        if (!element(c, depth + 1, false)) {
          return false;
        }
      } else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && keep_text) {
        appendXmlEscaped(out, view(c->content), false);
      }
      // Comments, processing instructions and entity references are dropped.
    }
    if (out.size() == open_end + 1) {
      out.back() = '/';
      out.push_back('>');
    } else {
      out += "</";
      out += name;
      out.push_back('>');
    }
    return true;
  }

 private:
  bool styleElement(const xmlNode* n) {
    std::string css;
    for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
      if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
        css += view(c->content);
      } else if (c->type == XML_ELEMENT_NODE) {
        ++result_.removed_elements;  // markup inside <style> is not CSS
        return true;
      }
    }
    for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
      if (view(a->name) == "type" && a->ns == nullptr && trim(attributeValue(a)) != "text/css") {
        ++result_.removed_elements;
        return true;
      }
    }
    if (!cssIsSafe(css, true)) {
      ++result_.removed_elements;
      return true;
    }
    result_.svg += "<style>";
    appendXmlEscaped(result_.svg, css, false);
    result_.svg += "</style>";
    return true;
  }

  void attributes(const xmlNode* n) {
    for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
      std::string_view name = view(a->name);
      std::string_view ns = a->ns == nullptr ? std::string_view() : view(a->ns->href);
      std::string value = attributeValue(a);
      std::string_view out_name;
      if ((ns.empty() || ns == kXlinkNs) && name == "href") {  // SVG 2 href or xlink:href
        out_name = "xlink:href";
      } else if (ns == kXmlNs && name == "space") {
        out_name = "xml:space";
      } else if (ns.empty() && (contains(kAttributes, name) || contains(kPresentation, name) ||
                                name == "style")) {
        out_name = name;
      } else {
        ++result_.removed_attributes;  // on*, unknown, foreign-namespace attributes
        continue;
      }
      if (hasActiveScheme(value)) {
        ++result_.removed_attributes;
        continue;
      }
      if (out_name == "xlink:href") {
        if (!isLocalFragment(trim(value))) {
          ++result_.removed_attributes;  // external reference
          continue;
        }
        value = std::string(trim(value));
      } else if (out_name == "xml:space") {
        if (value != "preserve" && value != "default") {
          ++result_.removed_attributes;
          continue;
        }
      } else if (out_name == "style") {
        value = filterStyle(value, result_.removed_attributes);
        if (value.empty()) {
          continue;
        }
      } else if (!cssIsSafe(value, false)) {
        ++result_.removed_attributes;
        continue;
      }
      std::string& out = result_.svg;
      out.push_back(' ');
      out += out_name;
      out += "=\"";
      appendXmlEscaped(out, value, true);
      out.push_back('"');
    }
  }

  const SvgLimits& limits_;
  SanitizedSvg& result_;
  std::size_t elements_ = 0;
};

}  // namespace

SvgSanitizer::SvgSanitizer(SvgLimits limits) : limits_(limits) {
  xmlInitParser();
}

Result<SanitizedSvg> SvgSanitizer::sanitize(std::string_view input) const {
  if (input.size() > limits_.max_bytes) {
    return fail(ErrorCode::kPayloadTooLarge, "SVG file is too large");
  }
  // Forced to UTF-8 below, so a byte scan sees every DTD construct. Rejecting them up front means
  // the parser never builds an internal subset: no entity can be declared, let alone expanded.
  if (input.find("<!DOCTYPE") != std::string_view::npos ||
      input.find("<!ENTITY") != std::string_view::npos) {
    return fail(ErrorCode::kBadRequest, "SVG files with a DOCTYPE are not accepted");
  }
  std::unique_ptr<xmlParserCtxt, XmlFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) {
    return fail(ErrorCode::kInternal, "could not process the SVG file", "xmlNewParserCtxt failed");
  }
  // No XML_PARSE_NOENT (entity substitution), DTDLOAD, DTDATTR, XINCLUDE or HUGE.
  constexpr int kOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                           XML_PARSE_NOCDATA | XML_PARSE_NOBLANKS;
  std::unique_ptr<xmlDoc, XmlFree> doc(xmlCtxtReadMemory(
      ctxt.get(), input.data(), static_cast<int>(input.size()), nullptr, "UTF-8", kOptions));
  if (!doc) {
    return fail(ErrorCode::kBadRequest, "the SVG file is not well-formed XML");
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return fail(ErrorCode::kBadRequest, "SVG files with a DOCTYPE are not accepted");
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || view(root->name) != "svg" || !isSvgElement(root)) {
    return fail(ErrorCode::kBadRequest, "the file is not an SVG image");
  }
  SanitizedSvg result;
  result.svg.reserve(input.size());
  Walker walker(limits_, result);
  if (!walker.element(root, 1, true)) {
    return fail(ErrorCode::kPayloadTooLarge, "the SVG image is too complex");
  }
  return result;
}

}  // namespace livery::whitelabel
