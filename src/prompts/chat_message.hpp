#pragma once

#include <string>

namespace livery::prompts {

// One OpenAI chat message ({"role", "content"}); roles are "system", "user" or "assistant".
struct ChatMessage {
  std::string role;
  std::string content;

  friend bool operator==(const ChatMessage&, const ChatMessage&) = default;
};

}  // namespace livery::prompts
