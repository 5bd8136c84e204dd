#pragma once

// A reusable simdjson on-demand parser plus the padded buffer it reads from, for the small
// upstream documents adapters inspect (responses, stream chunks). Keeps simdjson.h out of the
// headers that everyone includes. Not thread-safe: one per stream translator or per call.

#include <memory>

namespace livery::providers {

namespace detail {
struct JsonScratchImpl;
}

class JsonScratch {
 public:
  JsonScratch();
  ~JsonScratch();
  JsonScratch(JsonScratch&&) noexcept;
  JsonScratch& operator=(JsonScratch&&) noexcept;
  JsonScratch(const JsonScratch&) = delete;
  JsonScratch& operator=(const JsonScratch&) = delete;

  detail::JsonScratchImpl& impl() { return *impl_; }

 private:
  std::unique_ptr<detail::JsonScratchImpl> impl_;
};

}  // namespace livery::providers
