#pragma once

#include "pipeline/ports.hpp"
#include "pipeline/stage.hpp"
#include "storage/model.hpp"

namespace livery {
class Clock;
class Logger;
}  // namespace livery
namespace livery::metering {
class Ledger;
class PriceTable;
}  // namespace livery::metering
namespace livery::limits {
class SpikeDetector;
}

namespace livery::pipeline {

// Usage metering. commit() is called by dispatch.cpp before the last bytes of a successful
// response are written and resolves only when the record is durable, so a response the client
// received completely is always in the ledger. onComplete() records everything else (errors,
// rate-limited and aborted requests) without waiting, settles the limiter reservation with the
// actual tokens (on the blocking pool when the limiter blocks), and feeds the spike detector.
class MeterStage final : public Stage {
 public:
  MeterStage(metering::Ledger& ledger,
             const metering::PriceTable& prices,
             limits::SpikeDetector& spikes,
             ControlPlaneEvents& events,
             net::thread_pool& blocking,
             bool limiter_blocks,
             const Clock& clock,
             Logger& log);

  std::string_view name() const override { return "meter"; }
  net::awaitable<Result<void>> onRequest(RequestContext& /*ctx*/) override {
    co_return Result<void>{};
  }
  void onComplete(RequestContext& ctx) noexcept override;

  // Durable commit of a successful request's usage (the caller withholds the end of the
  // response until it resolves).
  net::awaitable<Result<void>> commit(RequestContext& ctx);

  storage::UsageRecord recordOf(const RequestContext& ctx) const;

 private:
  metering::Ledger& ledger_;
  const metering::PriceTable& prices_;
  limits::SpikeDetector& spikes_;
  ControlPlaneEvents& events_;
  net::thread_pool& blocking_;
  bool limiter_blocks_;
  const Clock& clock_;
  Logger& log_;
};

}  // namespace livery::pipeline
