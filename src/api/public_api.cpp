// The public pages and documents of the white-label layer (docs/design/white-label.md, "Pages
// and documents"): the portal shells, the embedded bundle under /static/, the per-host theme and
// branding documents, the tenants' brand assets, and the custom-domain challenge path.
//
// Host → role, once per request: the Host (X-Forwarded-Host only from a trusted proxy, see
// HostResolver) is the operator host (whitelabel::isOperatorHost), a tenant host (an active custom
// domain or <slug>.<base_domain>, through the tenant directory), or nothing. Nothing later reads
// a tenant from the path, query or body: an asset path names a tenant only to be compared with
// the host's. An unknown host gets the same neutral 404 whatever it is; there is no default
// tenant.
//
// Caching: per-host documents (shells, /theme.css, /branding.json) carry `Vary: Host`,
// `Cache-Control: no-cache` and a strong ETag (304 on If-None-Match); everything served here is
// rendered from the request's own tenant snapshot, and nothing rendered is kept between requests
// (rendering costs microseconds, so there is no cache to key wrongly). Embedded bundle files and
// brand assets are content-addressed and immutable.
//
// Thread-safety: PublicPages is immutable after construction; handlers run on any I/O thread.
// Brand assets are read from the store through offload() (the store blocks).

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "api/control_api.hpp"
#include "config/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/offload.hpp"
#include "http/router.hpp"
#include "portal/assets.hpp"
#include "storage/stores.hpp"
#include "tenancy/directory.hpp"
#include "whitelabel/asset.hpp"
#include "whitelabel/domain_verification.hpp"
#include "whitelabel/host.hpp"
#include "whitelabel/theme.hpp"

namespace livery::api {

namespace {

using http::Exchange;
using http::Response;
using whitelabel::ThemeDocument;

// The name on the operator host's pages and documents (the platform's own neutral theme).
constexpr std::string_view kPlatformName = "Livery";

// The same bytes for every unknown host and every page path: it names nothing.
constexpr std::string_view kNotFoundPage =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Not found</title>\n</head>\n<body>\n<h1>Not found</h1>\n"
    "<p>There is nothing at this address.</p>\n</body>\n</html>\n";
constexpr std::string_view kNotFoundPageCsp =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

enum class Surface { kWorkspace, kConsole, kOperator };

struct SurfaceInfo {
  std::string_view name;        // data-surface and route detail
  std::string_view entry;       // the bundle's entry script (portal manifest name)
  std::string_view page_title;  // "<page> · <name>" in <title>; empty: the name alone
};

SurfaceInfo surfaceInfo(Surface s) {
  switch (s) {
    case Surface::kWorkspace:
      return {"workspace", "workspace.js", ""};
    case Surface::kConsole:
      return {"console", "console.js", "Console"};
    case Surface::kOperator:
      return {"operator", "operator.js", "Operator"};
  }
  return {"workspace", "workspace.js", ""};
}

// Whose pages a request's host serves.
struct HostRole {
  enum class Kind { kNone, kTenant, kOperator };
  Kind kind = Kind::kNone;
  tenancy::TenantStatePtr tenant;  // kTenant only
  bool via_trusted_proxy = false;  // the host came from X-Forwarded-Host
};

// A response varies on the effective host: Host, or X-Forwarded-Host when a trusted proxy set it.
std::string varyValue(const HostRole& role) {
  return role.via_trusted_proxy ? "Host, X-Forwarded-Host" : "Host";
}

void addHeaders(Response& r, whitelabel::HeaderList headers, bool skip_content_type) {
  for (auto& [name, value] : headers) {
    if (skip_content_type && http::iequals(name, "Content-Type")) {
      continue;
    }
    r.headers.add(std::move(name), std::move(value));
  }
}

Response notFoundPage(const HostRole& role) {
  Response r = Response::text(404, std::string(kNotFoundPage), "text/html; charset=utf-8");
  r.headers.add("Cache-Control", "no-store");
  r.headers.add("Vary", varyValue(role));
  r.headers.add("X-Content-Type-Options", "nosniff");
  r.headers.add("Content-Security-Policy", std::string(kNotFoundPageCsp));
  r.headers.add("Referrer-Policy", "no-referrer");
  return r;
}

Response notFoundDocument(const HostRole& role) {
  Response r = Response::error(Error{ErrorCode::kNotFound, "not found"});
  r.headers.add("Cache-Control", "no-store");
  r.headers.add("Vary", varyValue(role));
  r.headers.add("X-Content-Type-Options", "nosniff");
  return r;
}

Response badHost(const Error& e) {
  Response r = Response::error(e);
  r.headers.add("Cache-Control", "no-store");
  return r;
}

// A per-host document with its headers, or 304 when the client's copy is current.
Response perHostDocument(const http::Request& req,
                         ThemeDocument document,
                         std::string body,
                         const HostRole& role) {
  Response r;
  whitelabel::HeaderList headers = whitelabel::themeResponseHeaders(document, body);
  for (auto& [name, value] : headers) {
    if (http::iequals(name, "Vary")) {
      value = varyValue(role);
    }
  }
  auto etag = std::find_if(
      headers.begin(), headers.end(), [](const auto& h) { return http::iequals(h.first, "ETag"); });
  bool current =
      etag != headers.end() && portal::etagMatches(req.headers.get("if-none-match"), etag->second);
  addHeaders(r, std::move(headers), current);
  if (current) {
    r.status = 304;
  } else {
    r.status = 200;
    r.body = std::move(body);
  }
  return r;
}

std::optional<whitelabel::ImageType> imageTypeFromExtension(std::string_view ext) {
  using whitelabel::ImageType;
  if (ext == "png") {
    return ImageType::kPng;
  }
  if (ext == "jpg" || ext == "jpeg") {
    return ImageType::kJpeg;
  }
  if (ext == "webp") {
    return ImageType::kWebp;
  }
  if (ext == "svg") {
    return ImageType::kSvg;
  }
  return std::nullopt;
}

// The served pages, documents and assets. Immutable after construction.
class PublicPages {
 public:
  explicit PublicPages(ApiContext& ctx) : ctx_(ctx) {
    const std::string& configured = ctx.cfg.http.operator_host;
    if (!configured.empty()) {
      auto host = whitelabel::normalizeHost(configured);
      if (host) {
        operator_host_ = std::move(*host);
      } else {
        // Fail closed: no host serves /operator until the setting is fixed.
        operator_host_disabled_ = true;
        LIVERY_LOG(ctx.log,
                   Error,
                   "operator_host_invalid",
                   {"detail", "http.operator_host is not a valid host; /operator is not served"});
      }
    }
    if (portal::embeddedAssets().empty()) {
      LIVERY_LOG(ctx.log,
                 Warn,
                 "portal_not_embedded",
                 {"detail", "web/dist was not built: pages are served without the portal bundle"});
    }
  }

  // "/": the workspace on a tenant host; the operator host sends its visitors to /operator.
  net::awaitable<Response> root(Exchange& ex) const {
    auto role = roleOf(ex.request);
    if (!role) {
      co_return badHost(role.error());
    }
    if (role->kind == HostRole::Kind::kOperator) {
      Response r = Response::text(302, "", "text/plain; charset=utf-8");
      r.headers.add("Location", "/operator");  // a path: never built from the Host
      r.headers.add("Cache-Control", "no-cache");
      r.headers.add("Vary", varyValue(*role));
      co_return r;
    }
    co_return page(ex, *role, Surface::kWorkspace);
  }

  // /console, /operator and their client routes.
  net::awaitable<Response> surface(Exchange& ex, Surface s) const {
    auto role = roleOf(ex.request);
    if (!role) {
      co_return badHost(role.error());
    }
    co_return page(ex, *role, s);
  }

  // /theme.css and /branding.json.
  net::awaitable<Response> document(Exchange& ex, ThemeDocument document) const {
    auto role = roleOf(ex.request);
    if (!role) {
      co_return badHost(role.error());
    }
    if (role->kind == HostRole::Kind::kNone) {
      co_return notFoundDocument(*role);
    }
    noteTenant(ex, *role, document == ThemeDocument::kThemeCss ? "theme.css" : "branding.json");
    whitelabel::ThemeModel model = modelFor(*role);
    std::string body = document == ThemeDocument::kThemeCss ? whitelabel::renderThemeCss(model)
                                                            : whitelabel::renderBrandingJson(model);
    co_return perHostDocument(ex.request, document, std::move(body), *role);
  }

  // /static/*: the embedded portal bundle. Tenant-agnostic bytes (the same on every host), so no
  // host lookup and no Vary.
  static net::awaitable<Response> staticFile(Exchange& ex) {
    const portal::EmbeddedAsset* asset = portal::findAsset(ex.request.path());
    if (asset == nullptr) {
      Response r = Response::error(Error{ErrorCode::kNotFound, "not found"});
      r.headers.add("Cache-Control", "no-store");
      co_return r;
    }
    Response r;
    bool current = portal::etagMatches(ex.request.headers.get("if-none-match"), *asset);
    if (!current) {
      r.headers.add("Content-Type", std::string(asset->content_type));
    }
    r.headers.add("Cache-Control", std::string(portal::kImmutableCacheControl));
    r.headers.add("ETag", std::string(asset->etag));
    r.headers.add("X-Content-Type-Options", "nosniff");
    r.headers.add("Cross-Origin-Resource-Policy", "same-origin");
    if (current) {
      r.status = 304;
    } else {
      r.status = 200;
      r.body = std::string(asset->bytes());
    }
    co_return r;
  }

  // A brand asset, in either URL form: whitelabel::assetPath's "/t/<tenant>/assets/<sha256>"
  // (what the branding documents link) or docs/API.md's "/assets/<tenant>/<sha256>[.<ext>]".
  // Served only on the host of the tenant the path names.
  net::awaitable<Response> brandAsset(Exchange& ex, bool api_form) const {
    auto role = roleOf(ex.request);
    if (!role) {
      co_return badHost(role.error());
    }
    if (role->kind != HostRole::Kind::kTenant) {
      co_return notFoundDocument(*role);
    }
    std::string tenant_id;
    std::string hash;
    std::optional<whitelabel::ImageType> wanted;
    if (api_form) {
      tenant_id = std::string(ex.param("tenant_id"));
      std::string_view file = ex.param("file");
      auto dot = file.find('.');
      hash = std::string(file.substr(0, dot));
      if (dot != std::string_view::npos) {
        wanted = imageTypeFromExtension(file.substr(dot + 1));
        if (!wanted) {
          co_return notFoundDocument(*role);
        }
      }
      if (!whitelabel::assetPath(tenant_id, hash)) {
        co_return notFoundDocument(*role);
      }
    } else {
      auto ref = whitelabel::parseAssetPath(ex.request.path());
      if (!ref) {
        co_return notFoundDocument(*role);
      }
      tenant_id = std::move(ref->tenant_id);
      hash = std::move(ref->sha256_hex);
    }
    // The path's tenant must be the host's: one tenant's assets are never served on another's
    // host, whatever the URL says.
    if (tenant_id != role->tenant->tenant.id) {
      co_return notFoundDocument(*role);
    }
    noteTenant(ex, *role, "asset");
    // Capture by reference only: the locals live in this coroutine's frame across the await, and
    // GCC 12 destroys a by-value capture of a temporary lambda in a co_await expression twice.
    auto asset = co_await offload(ctx_.blocking, [&stores = ctx_.stores, &tenant_id, &hash] {
      return stores.assets.get(tenant_id, hash);
    });
    if (!asset) {
      if (asset.error().code == ErrorCode::kNotFound) {
        co_return notFoundDocument(*role);
      }
      LIVERY_LOG(ctx_.log,
                 Error,
                 "asset_read_failed",
                 {"tenant_id", tenant_id},
                 {"detail", asset.error().log_detail});
      co_return Response::error(Error{ErrorCode::kInternal, "could not read the asset"});
    }
    // Only the image types an upload can have are ever served, with their exact type.
    auto type = whitelabel::imageTypeFromContentType(asset->content_type);
    if (!type || (wanted && *wanted != *type)) {
      co_return notFoundDocument(*role);
    }
    // Content-addressed: the hash is the strong validator. It is compared only once the asset is
    // known to exist for this tenant (a 304 for someone else's hash would be a false claim).
    std::string etag = "\"" + hash + "\"";
    bool current = portal::etagMatches(ex.request.headers.get("if-none-match"), etag);
    Response r;
    addHeaders(r, whitelabel::assetResponseHeaders(*type), current);
    r.headers.add("ETag", std::move(etag));
    if (current) {
      r.status = 304;
    } else {
      r.status = 200;
      r.body = std::move(asset->bytes);
    }
    co_return r;
  }

  // /.well-known/livery-challenge/*: never answered, for any host (custom-domains.md, "HTTP
  // challenge"): the same 404 as a path Livery does not serve, without a store read.
  static net::awaitable<Response> challenge(Exchange& /*ex*/) {
    Response r = Response::error(Error{ErrorCode::kNotFound, "no such route"});
    r.headers.add("Cache-Control", "no-store");
    co_return r;
  }

 private:
  [[nodiscard]] Result<HostRole> roleOf(const http::Request& req) const {
    whitelabel::ForwardedInput input;
    input.peer_ip = req.remote_ip;
    input.host = req.headers.get("host");
    input.x_forwarded_host = req.headers.get("x-forwarded-host");
    input.x_forwarded_for = req.headers.get("x-forwarded-for");
    auto origin = ctx_.hosts.resolve(input);
    if (!origin) {
      return origin.error();
    }
    HostRole role;
    role.via_trusted_proxy = origin->via_trusted_proxy;
    // The operator host first: it is configured by the operator, so no tenant can claim it.
    if (!operator_host_disabled_ && whitelabel::isOperatorHost(*origin, operator_host_)) {
      role.kind = HostRole::Kind::kOperator;
      return role;
    }
    if (origin->match.kind == whitelabel::HostKind::kTenantSlug ||
        origin->match.kind == whitelabel::HostKind::kCustomDomain) {
      // Slugs and active custom domains only (the directory indexes no other domain state).
      if (auto tenant = ctx_.tenants.byHost(origin->host)) {
        role.kind = HostRole::Kind::kTenant;
        role.tenant = std::move(tenant);
      }
    }
    return role;
  }

  static void noteTenant(Exchange& ex, const HostRole& role, std::string_view detail) {
    if (role.kind == HostRole::Kind::kTenant) {
      ex.tenant_id = role.tenant->tenant.id;
    }
    ex.route_detail = std::string(detail);
  }

  // The render model of the host's brand: the tenant's snapshot, or Livery's neutral theme.
  static whitelabel::ThemeModel modelFor(const HostRole& role) {
    if (role.kind != HostRole::Kind::kTenant) {
      storage::Branding platform;
      platform.display_name = std::string(kPlatformName);
      return whitelabel::makeThemeModel(platform);
    }
    storage::Branding branding = role.tenant->branding;
    // Asset URLs are built from this id: always the host's tenant, whatever the row says.
    branding.tenant_id = role.tenant->tenant.id;
    if (branding.display_name.empty()) {
      branding.display_name = role.tenant->tenant.display_name;
    }
    whitelabel::ThemeModel model = whitelabel::makeThemeModel(branding);
    model.slug = role.tenant->tenant.slug;
    return model;
  }

  Response page(Exchange& ex, const HostRole& role, Surface s) const {
    bool served = s == Surface::kOperator ? role.kind == HostRole::Kind::kOperator
                                          : role.kind == HostRole::Kind::kTenant;
    if (!served) {
      return notFoundPage(role);
    }
    SurfaceInfo info = surfaceInfo(s);
    noteTenant(ex, role, info.name);
    whitelabel::ShellOptions options;
    options.page_title = std::string(info.page_title);
    options.surface = std::string(info.name);
    if (auto css = portal::entryUrl("app.css")) {
      options.stylesheets.emplace_back(*css);
    }
    if (auto script = portal::entryUrl(info.entry)) {
      options.scripts.emplace_back(*script);
    }
    std::string body = whitelabel::renderHtmlShell(modelFor(role), options);
    return perHostDocument(ex.request, ThemeDocument::kHtmlShell, std::move(body), role);
  }

  ApiContext& ctx_;
  std::string operator_host_;  // normalised http.operator_host; empty: the default rule
  bool operator_host_disabled_ = false;
};

}  // namespace

void addPublicRoutes(http::Router& router, ApiContext& ctx) {
  auto pages = std::make_shared<const PublicPages>(ctx);
  using http::Method;

  router.add(Method::kGet, "/", [pages](Exchange& ex) { return pages->root(ex); });
  router.add(Method::kGet, "/console", [pages](Exchange& ex) {
    return pages->surface(ex, Surface::kConsole);
  });
  // The portal routes by URL fragment; any deeper path still gets the shell (bookmarks, a
  // trailing slash).
  router.add(Method::kGet,
             "/console/*",
             [pages](Exchange& ex) { return pages->surface(ex, Surface::kConsole); },
             {.name = "/console"});
  router.add(Method::kGet, "/operator", [pages](Exchange& ex) {
    return pages->surface(ex, Surface::kOperator);
  });
  router.add(Method::kGet,
             "/operator/*",
             [pages](Exchange& ex) { return pages->surface(ex, Surface::kOperator); },
             {.name = "/operator"});

  router.add(Method::kGet, "/theme.css", [pages](Exchange& ex) {
    return pages->document(ex, ThemeDocument::kThemeCss);
  });
  router.add(Method::kGet, "/branding.json", [pages](Exchange& ex) {
    return pages->document(ex, ThemeDocument::kBrandingJson);
  });

  router.add(Method::kGet, "/static/*", &PublicPages::staticFile, {.name = "/static"});

  router.add(Method::kGet,
             "/t/{tenant_id}/assets/{hash}",
             [pages](Exchange& ex) { return pages->brandAsset(ex, false); },
             {.name = "/t/assets"});
  router.add(Method::kGet,
             "/assets/{tenant_id}/{file}",
             [pages](Exchange& ex) { return pages->brandAsset(ex, true); },
             {.name = "/assets"});

  router.add(Method::kGet,
             std::string(whitelabel::kChallengePathPrefix) + "*",
             &PublicPages::challenge,
             {.name = "/.well-known/livery-challenge"});
}

}  // namespace livery::api
