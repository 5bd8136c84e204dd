#include "crypto/kms/kms.hpp"

namespace livery::crypto {

std::string_view toString(KekState state) {
  switch (state) {
    case KekState::kCurrent:
      return "current";
    case KekState::kDecryptOnly:
      return "decrypt-only";
  }
  return "unknown";
}

}  // namespace livery::crypto
