#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace livery::testing {

// A fake model provider for integration tests: a Beast HTTP/1.1 server (optionally TLS) on
// 127.0.0.1, port 0 by default, run by its own thread. It speaks the providers' wire formats
// (JSON bodies; SSE over chunked transfer encoding) and lets a test script faults per path.
//
// Routes
//   OpenAI     POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models
//              (Authorization: Bearer <key>, keys from openai_keys)
//   Azure      POST /openai/deployments/{deployment}/chat/completions?api-version=...
//              POST /openai/deployments/{deployment}/embeddings?api-version=...
//              GET  /openai/models?api-version=...          (api-key: <key>, azure_keys)
//   Anthropic  POST /v1/messages; GET /v1/models when the request carries x-api-key or
//              anthropic-version                            (x-api-key, anthropic_keys;
//              anthropic-version is required on /v1/messages, max_tokens too)
//   Ollama     POST /v1/chat/completions, GET /api/tags, GET /v1/models (Flavour::kOllama: no
//              authentication, as Ollama)
//   Control    POST /__fake/behaviour, GET /__fake/requests, POST /__fake/reset,
//              POST /__fake/keys (JSON; see tests/tools/fake_upstream_main.cpp for the formats).
//              Not recorded.
// A missing or wrong key gets the provider's real 401 body. Unknown paths get 404.
//
// Deterministic answers
//   The reply text is options.reply_text (or the behaviour's `reply`); streams split it into
//   `stream_chunks` pieces of near-equal length. `words(s)` = runs of non-whitespace characters.
//   prompt_tokens (OpenAI) / input_tokens (Anthropic) = words over every text part of every
//   message (and Anthropic's `system`), at least 1; embeddings: words over the inputs (token
//   arrays count their length). completion/output tokens = words of the emitted text. When
//   max_tokens (or max_completion_tokens) is below that, the reply is cut to max_tokens words
//   and finish_reason is "length" (Anthropic stop_reason "max_tokens").
//   When the request has a non-empty "tools" array (and tool_choice is not "none"), the answer
//   is one call of the chosen (or first) tool with arguments options.tool_arguments
//   (finish_reason "tool_calls", Anthropic stop_reason "tool_use"), streamed in pieces too.
//   OpenAI streams send a role chunk, content chunks, a finish chunk, a usage chunk (choices: [])
//   when stream_options.include_usage is true (every other chunk then has "usage": null), then
//   `data: [DONE]`. Azure streams begin with its prompt_filter_results chunk. Anthropic streams
//   send message_start, content_block_start, ping, content_block_delta..., content_block_stop,
//   message_delta, message_stop. Embeddings are deterministic per input (dimensions from the
//   request, default 8), as float arrays or base64 (encoding_format).
//
// Thread-safety: every public member may be called from any thread while the server runs.

// Which error body a status response carries (the provider's real shape for the route).
enum class FakeError {
  kAuto,  // from the status: 400 invalid request, 401 auth, 403 permission, 404 not found,
          // 429 rate limit, 500 server error, 503/529 overloaded
  kInvalidRequest,
  kContextLength,
  kRateLimit,
  kInsufficientQuota,
  kServer,
  kOverloaded,
  kAuth,
  kNotFound,
  kPermission,
};

// What the fake does with one request. Defaults: the normal answer.
struct FakeBehaviour {
  enum class Kind {
    kRespond,        // answer (normally, or with `status`), subject to the modifiers below
    kReset,          // read the request, then reset the connection (RST) without answering
    kHang,           // read the request and never answer (until the client goes away)
    kFailMidStream,  // stream `fail_after_events` SSE events, then reset the connection
    kErrorEvent,     // stream `fail_after_events` events, then the provider's in-stream error
  };
  Kind kind = Kind::kRespond;
  int status = 0;  // 0: the normal answer; else this status with an error body
  FakeError error = FakeError::kAuto;
  std::optional<std::string> body;  // replaces the body of a status response
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
  std::chrono::milliseconds head_delay{0};                   // before the response head
  std::chrono::milliseconds event_delay{0};                  // between SSE events
  std::size_t close_after_bytes = 0;              // >0: close (FIN) after this many response bytes
  std::size_t fail_after_events = 1;              // for kFailMidStream / kErrorEvent
  std::size_t trickle_bytes = 0;                  // >0: write in pieces of this many bytes...
  std::chrono::milliseconds trickle_interval{0};  // ...with this pause between pieces
  std::optional<std::string> reply;               // replaces options.reply_text
  std::optional<std::size_t> chunks;              // replaces options.stream_chunks
  bool close_connection = false;                  // answer with Connection: close

  static FakeBehaviour withStatus(int status, FakeError error = FakeError::kAuto);
  static FakeBehaviour rateLimited(int retry_after_s = 1);  // 429 + Retry-After
  static FakeBehaviour serverError();                       // 500
  static FakeBehaviour unavailable();                       // 503 (overloaded)
  static FakeBehaviour invalidRequest();                    // 400 invalid_request_error
  static FakeBehaviour contextLengthExceeded();             // 400 context_length_exceeded
  static FakeBehaviour reset();
  static FakeBehaviour hang();
  static FakeBehaviour delayHead(std::chrono::milliseconds delay);
  static FakeBehaviour delayEvents(std::chrono::milliseconds delay);
  static FakeBehaviour closeAfter(std::size_t bytes);
  static FakeBehaviour trickle(std::size_t bytes, std::chrono::milliseconds interval);
  static FakeBehaviour failMidStream(std::size_t events);
  static FakeBehaviour errorEvent(std::size_t events);
  static FakeBehaviour redirect(std::string location, int status = 302);

  // The JSON form used by POST /__fake/behaviour (see fake_upstream_main.cpp).
  std::string toJson() const;
  static std::optional<FakeBehaviour> fromJson(std::string_view json, std::string* error = nullptr);
};

struct RecordedRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::uint64_t connection_id = 0;  // requests on one keep-alive connection share it
  std::size_t sequence = 0;         // 0, 1, 2... in arrival order
  std::string sni;                  // TLS server name the client sent (empty: none, or http)
  // How the answer ended, updated as it happens (requests() returns a snapshot):
  //   completed: the whole response was written;
  //   cancelled: the client closed or reset the connection before the whole response was
  //              written (a gateway aborting an upstream call; kHang ends this way too).
  // Neither is set while the answer is in progress or when a scripted fault (kReset,
  // kFailMidStream, close_after_bytes) ended it.
  bool completed = false;
  bool cancelled = false;

  // First value of `name` (case-insensitive), or empty.
  std::string header(std::string_view name) const;
};

// A certificate chain and key, PEM (see support/test_pki.hpp).
struct TlsIdentity {
  std::string cert_chain_pem;
  std::string key_pem;
};

struct FakeUpstreamOptions {
  enum class Flavour { kOpenAI, kOllama };
  enum class Provider { kOpenAI, kAzure, kAnthropic };  // whose keys (setAcceptedKeys)
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  Flavour flavour = Flavour::kOpenAI;
  std::string reply_text = "Hello from the fake upstream.";
  std::size_t stream_chunks = 4;
  std::string tool_arguments = R"({"query":"fake"})";
  // Accepted keys per provider; an empty list accepts any key. Changeable while serving
  // (FakeUpstream::setAcceptedKeys, POST /__fake/keys).
  std::vector<std::string> openai_keys = {"sk-fake-openai-key"};
  std::vector<std::string> azure_keys = {"fake-azure-key"};
  std::vector<std::string> anthropic_keys = {"sk-ant-fake-anthropic-key"};
  std::vector<std::string> openai_models = {"gpt-4o", "gpt-4o-mini", "text-embedding-3-small"};
  std::vector<std::string> anthropic_models = {"claude-sonnet-4-20250514",
                                               "claude-3-5-haiku-20241022"};
  std::vector<std::string> ollama_models = {"llama3.2:latest"};
  std::string azure_model = "gpt-4o-2024-08-06";  // the model behind every Azure deployment
  std::size_t max_request_bytes = 32 * 1024 * 1024;
  std::optional<TlsIdentity> tls;  // serve https with this identity
  bool control_endpoints = true;
};

class FakeUpstream {
 public:
  // Binds and starts serving; throws std::runtime_error when it cannot.
  explicit FakeUpstream(FakeUpstreamOptions options = {});
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  std::uint16_t port() const;
  // "http://127.0.0.1:<port>" ("https://localhost:<port>" in TLS mode).
  std::string baseUrl() const;

  // A one-shot behaviour for the next request on `path` ("*": any path), queued FIFO.
  void push(const std::string& path, FakeBehaviour behaviour, std::size_t times = 1);
  // The behaviour for `path` ("*": any path) when its queue is empty.
  void setDefault(const std::string& path, FakeBehaviour behaviour);
  void setReply(std::string text, std::size_t chunks);
  // Replaces the keys accepted from now on, per provider (the lists of FakeUpstreamOptions); an
  // empty list accepts any key, as --no-auth. reset() keeps them.
  void setAcceptedKeys(FakeUpstreamOptions::Provider provider, std::vector<std::string> keys);

  std::vector<RecordedRequest> requests() const;
  std::size_t requestCount() const;
  std::size_t requestCount(std::string_view path) const;
  std::size_t connectionsAccepted() const;
  std::size_t openConnections() const;
  // Waits until at least `n` requests were received.
  bool waitForRequests(std::size_t n, std::chrono::milliseconds timeout) const;
  // Waits until connection `id` (RecordedRequest::connection_id) has been closed, by either side.
  bool waitConnectionClosed(std::uint64_t id, std::chrono::milliseconds timeout) const;
  bool connectionClosed(std::uint64_t id) const;
  // Forgets behaviours, recorded requests and counters (options and keys stay).
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace livery::testing
