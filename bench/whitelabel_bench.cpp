// Hot-path costs of the white-label and metering building blocks: what a request pays for host
// resolution, prompt injection and cost estimation, and what a branding save pays for
// rendering and SVG sanitising.

#include <fstream>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>

#include "metering/price_table.hpp"
#include "whitelabel/host.hpp"
#include "whitelabel/prompt_cache.hpp"
#include "whitelabel/svg_sanitizer.hpp"
#include "whitelabel/theme.hpp"

namespace {

using livery::whitelabel::HostResolver;

void BM_HostResolveDirect(benchmark::State& state) {
  auto resolver = HostResolver::create("livery.example", {"10.0.0.0/8", "fd00::/8"});
  for (auto _ : state) {
    auto o = resolver->resolve({.peer_ip = "203.0.113.7", .host = "acme.livery.example:443"});
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(BM_HostResolveDirect);

void BM_HostResolveViaTrustedProxy(benchmark::State& state) {
  auto resolver = HostResolver::create("livery.example", {"10.0.0.0/8", "fd00::/8"});
  for (auto _ : state) {
    auto o = resolver->resolve({.peer_ip = "10.1.2.3",
                                .host = "lb.internal",
                                .x_forwarded_host = "App.Agency.com",
                                .x_forwarded_for = "198.51.100.9, 10.0.0.7"});
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(BM_HostResolveViaTrustedProxy);

void BM_PromptCacheHitRenderCompose(benchmark::State& state) {
  livery::whitelabel::PromptCache cache(10'000);
  std::string prompt =
      "You are the assistant of {{tenant_name}}. Be concise and friendly. The user is {{user}}; "
      "today is {{date}}; you run on {{model}}. " +
      std::string(1500, 'x');
  (void)cache.insert("tnt_acme", "pv_7", prompt);
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    auto entry = cache.getOrCompile(
        "tnt_acme", "pv_7", [&]() -> livery::Result<std::string> { return prompt; });
    std::string system = livery::whitelabel::composeSystemPrompt(
        "Operator policy.",
        (*entry)->render({.tenant_name = "Acme", .user = "user-42", .model = "gpt-4o", .now = now}),
        "Answer in French.");
    benchmark::DoNotOptimize(system);
  }
}
BENCHMARK(BM_PromptCacheHitRenderCompose);

void BM_PriceLookupDatedModel(benchmark::State& state) {
  auto table = livery::metering::PriceTable::builtin();
  for (auto _ : state) {
    auto cost = table.costMicroUsd(
        "gpt-4o-2024-08-06",
        {.prompt_tokens = 1200, .completion_tokens = 300, .cached_tokens = 1024});
    benchmark::DoNotOptimize(cost);
  }
}
BENCHMARK(BM_PriceLookupDatedModel);

void BM_PriceLookupExactModel(benchmark::State& state) {
  auto table = livery::metering::PriceTable::builtin();
  for (auto _ : state) {
    auto cost =
        table.costMicroUsd("claude-sonnet-4", {.prompt_tokens = 1200, .completion_tokens = 300});
    benchmark::DoNotOptimize(cost);
  }
}
BENCHMARK(BM_PriceLookupExactModel);

livery::storage::Branding branding() {
  livery::storage::Branding b;
  b.tenant_id = "tnt_acme";
  b.display_name = "Acme <Agency>";
  b.primary_color = "#ffd400";
  b.accent_color = "#0f172a";
  b.logo_asset = std::string(64, 'a');
  b.favicon_asset = std::string(64, 'b');
  b.footer_text = "© Acme";
  return b;
}

void BM_ThemeModelAndCss(benchmark::State& state) {
  auto b = branding();
  for (auto _ : state) {
    auto css = livery::whitelabel::renderThemeCss(livery::whitelabel::makeThemeModel(b));
    benchmark::DoNotOptimize(css);
  }
}
BENCHMARK(BM_ThemeModelAndCss);

void BM_HtmlShell(benchmark::State& state) {
  auto m = livery::whitelabel::makeThemeModel(branding());
  livery::whitelabel::ShellOptions o;
  o.scripts = {"/assets/app.js"};
  o.stylesheets = {"/assets/app.css"};
  for (auto _ : state) {
    auto html = livery::whitelabel::renderHtmlShell(m, o);
    benchmark::DoNotOptimize(html);
  }
}
BENCHMARK(BM_HtmlShell);

void BM_SvgSanitizeLogo(benchmark::State& state) {
  std::ifstream in(std::string(LIVERY_SOURCE_DIR) + "/tests/fixtures/whitelabel/logo_ok.svg");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string svg = ss.str();
  livery::whitelabel::SvgSanitizer sanitizer;
  for (auto _ : state) {
    auto out = sanitizer.sanitize(svg);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_SvgSanitizeLogo);

}  // namespace

BENCHMARK_MAIN();
