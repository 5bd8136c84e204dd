#pragma once

#include <atomic>
#include <vector>

#include "pipeline/ports.hpp"
#include "pipeline/stage.hpp"
#include "routing/planner.hpp"

namespace livery {
class Clock;
class Counter;
class Logger;
class MetricsRegistry;
}  // namespace livery
namespace livery::providers {
class ProviderRegistry;
class ProviderAdapter;
}  // namespace livery::providers
namespace livery::upstream {
class Client;
}
namespace livery::routing {
class CooldownTracker;
}

namespace livery::pipeline {

class MeterStage;

struct DispatchOptions {
  routing::RetryPolicy retry;
  std::chrono::milliseconds total_deadline{600'000};
};

// Runs the attempts of a request and writes its response.
//
// Route: the model alias → ordered deployments (routing/planner.cpp), deployments in cool-down
// skipped. Per attempt: the tenant's credential is decrypted for this call only (KeyOpener; the
// SecretBytes dies with the attempt), the adapter builds the upstream request, the per-thread
// upstream client sends it with the key injected into the serialized head only, and the reply
// is translated back (JSON, or SSE event by event: read one, translate, write one).
// Fallback (routing/planner.cpp decideNext) happens only before the first byte reached the
// client; after that an upstream failure ends the stream with an error event and the partial
// usage is still metered. The end of every successful response (the JSON body, or the final
// usage chunk and `data: [DONE]`) is written only after the meter committed the usage record.
// Transparency: x-livery-deployment, x-livery-attempts, x-livery-fallback-reason.
// A client disconnect cancels the handler coroutine (http/server.cpp), which closes the
// upstream connection; the request is metered as aborted (status 499).
class DispatchStage final : public Stage {
 public:
  DispatchStage(const providers::ProviderRegistry& providers,
                std::vector<upstream::Client*> clients_per_worker,
                KeyOpener& keys,
                routing::CooldownTracker& cooldowns,
                ControlPlaneEvents& events,
                MeterStage& meter,
                const Clock& clock,
                DispatchOptions options,
                MetricsRegistry& metrics,
                Logger& log);

  std::string_view name() const override { return "dispatch"; }
  net::awaitable<Result<void>> onRequest(RequestContext& ctx) override;

 private:
  struct Attempt;
  net::awaitable<Result<void>> serveMock(RequestContext& ctx);
  net::awaitable<Result<void>> runAttempts(RequestContext& ctx);
  net::awaitable<void> attemptOnce(RequestContext& ctx,
                                   const storage::Deployment& deployment,
                                   Attempt& attempt);
  net::awaitable<void> relayStream(RequestContext& ctx,
                                   const providers::ProviderAdapter& adapter,
                                   void* response,
                                   Attempt& attempt);
  http::Headers responseHeaders(const RequestContext& ctx, bool stream) const;
  std::uint64_t randomWord() noexcept;

  const providers::ProviderRegistry& providers_;
  std::vector<upstream::Client*> clients_;
  KeyOpener& keys_;
  routing::CooldownTracker& cooldowns_;
  ControlPlaneEvents& events_;
  MeterStage& meter_;
  const Clock& clock_;
  DispatchOptions options_;
  Logger& log_;
  Counter& attempts_total_;
  Counter& fallbacks_total_;
  Counter& aborted_total_;
  std::atomic<std::uint64_t> random_state_;
};

}  // namespace livery::pipeline
