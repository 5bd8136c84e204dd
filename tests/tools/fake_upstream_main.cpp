// livery-fake-upstream: the fake model provider of tests/support/fake_upstream.hpp as a process,
// for process-level tests and the Node/browser tests.
//
//   livery-fake-upstream [--host 127.0.0.1] [--port 0] [--reply TEXT] [--chunks N]
//                        [--openai-key K]... [--azure-key K]... [--anthropic-key K]...
//                        [--no-auth] [--ollama] [--tls-dir DIR]
//
// On start it prints one JSON line on stdout and flushes it:
//   {"port":41234,"base_url":"http://127.0.0.1:41234"}
// With --tls-dir it serves https with a certificate for localhost/127.0.0.1 signed by a CA it
// generates, writes DIR/ca.pem, and adds "ca_file":"DIR/ca.pem" to that line.
// It runs until SIGTERM or SIGINT.
//
// Control endpoints (JSON):
//   POST /__fake/behaviour  {"path":"/v1/chat/completions","once":true,"times":1,
//                            "behaviour":{"kind":"respond|reset|hang|fail_mid_stream|error_event",
//                                         "status":429,"error":"auto|invalid_request|
//                                         context_length|rate_limit|insufficient_quota|server|
//                                         overloaded|auth|not_found|permission",
//                                         "body":"...","headers":{"Retry-After":"1"},
//                                         "head_delay_ms":0,"event_delay_ms":0,
//                                         "close_after_bytes":0,"fail_after_events":1,
//                                         "trickle_bytes":0,"trickle_interval_ms":0,
//                                         "reply":"text","chunks":4,"close_connection":false}}
//                           "path" defaults to "*" (any path); "once":false sets the default.
//   GET  /__fake/requests   {"requests":[{"method","target","path","headers":[[name,value]...],
//                            "body","connection_id","sequence","completed","cancelled"}...],
//                            "connections_accepted":N,"open_connections":N}
//                           completed: the whole answer was written; cancelled: the client
//                           closed the connection before that (see RecordedRequest).
//   POST /__fake/reset      forgets behaviours, recorded requests and counters (not the keys).
//   POST /__fake/keys       {"openai":["sk-..."],"azure":[...],"anthropic":[...]}: each list
//                           given replaces the keys that provider accepts from now on; []
//                           accepts any key (as --no-auth).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include <pthread.h>

#include "support/fake_upstream.hpp"
#include "support/test_pki.hpp"

namespace {

int usage(const char* message) {
  std::cerr << "livery-fake-upstream: " << message << "\n"
            << "usage: livery-fake-upstream [--host H] [--port P] [--reply TEXT] [--chunks N]\n"
            << "       [--openai-key K]... [--azure-key K]... [--anthropic-key K]... [--no-auth]\n"
            << "       [--ollama] [--tls-dir DIR]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using livery::testing::FakeUpstream;
  using livery::testing::FakeUpstreamOptions;
  FakeUpstreamOptions options;
  std::string tls_dir;
  bool openai_keys_given = false;
  bool azure_keys_given = false;
  bool anthropic_keys_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    if (arg == "--help" || arg == "-h") {
      usage("a fake OpenAI/Azure/Anthropic/Ollama server for tests");
      return 0;
    }
    if (arg == "--no-auth") {
      options.openai_keys.clear();
      options.azure_keys.clear();
      options.anthropic_keys.clear();
      continue;
    }
    if (arg == "--ollama") {
      options.flavour = FakeUpstreamOptions::Flavour::kOllama;
      continue;
    }
    const char* v = value();
    if (v == nullptr) {
      return usage("missing value");
    }
    if (arg == "--host") {
      options.host = v;
    } else if (arg == "--port") {
      options.port = static_cast<std::uint16_t>(std::strtoul(v, nullptr, 10));
    } else if (arg == "--reply") {
      options.reply_text = v;
    } else if (arg == "--chunks") {
      options.stream_chunks = std::strtoul(v, nullptr, 10);
    } else if (arg == "--openai-key") {
      if (!openai_keys_given) {
        options.openai_keys.clear();
        openai_keys_given = true;
      }
      options.openai_keys.emplace_back(v);
    } else if (arg == "--azure-key") {
      if (!azure_keys_given) {
        options.azure_keys.clear();
        azure_keys_given = true;
      }
      options.azure_keys.emplace_back(v);
    } else if (arg == "--anthropic-key") {
      if (!anthropic_keys_given) {
        options.anthropic_keys.clear();
        anthropic_keys_given = true;
      }
      options.anthropic_keys.emplace_back(v);
    } else if (arg == "--tls-dir") {
      tls_dir = v;
    } else {
      return usage("unknown option");
    }
  }

  // Block the stop signals before any thread starts, then wait for them synchronously.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  std::string ca_file;
  try {
    if (!tls_dir.empty()) {
      auto pki = livery::testing::makeTestPki({"localhost"}, {"127.0.0.1"});
      ca_file = tls_dir + "/ca.pem";
      std::ofstream(ca_file) << pki.ca_cert_pem;
      options.tls = livery::testing::TlsIdentity{pki.serverChainPem(), pki.server_key_pem};
    }
    FakeUpstream server(options);
    std::string line =
        "{\"port\":" + std::to_string(server.port()) + ",\"base_url\":\"" + server.baseUrl() + "\"";
    if (!ca_file.empty()) {
      line += ",\"ca_file\":\"" + ca_file + "\"";
    }
    line += "}\n";
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
  } catch (const std::exception& e) {
    std::cerr << "livery-fake-upstream: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
