#pragma once

#include <memory>
#include <vector>

#include "pipeline/stage.hpp"

namespace livery::providers {
class RequestParser;
}

namespace livery::pipeline {

// Parses the body once into the canonical request (providers/chat_request.hpp), keeping the raw
// bytes for splicing, and applies the per-key rules that need the model: scopes (a key limited
// to some models gets 403 model_not_allowed for others) and the effective end user (bound by the
// key, JWT or session; otherwise the request's `user`). One parser per I/O thread.
class ParseRequestStage final : public Stage {
 public:
  explicit ParseRequestStage(std::vector<std::unique_ptr<providers::RequestParser>> per_worker);
  ~ParseRequestStage() override;
  std::string_view name() const override { return "parse_request"; }
  net::awaitable<Result<void>> onRequest(RequestContext& ctx) override;

 private:
  std::vector<std::unique_ptr<providers::RequestParser>> parsers_;
};

}  // namespace livery::pipeline
