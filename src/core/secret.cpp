#include "core/secret.hpp"

#include <cstring>
#include <new>
#include <utility>

#include <openssl/crypto.h>

namespace livery {

SecretBytes::SecretBytes(std::size_t size) : size_(size) {
  if (size_ > 0) {
    data_ = new unsigned char[size_]();
  }
}

SecretBytes SecretBytes::copyOf(std::string_view bytes) {
  SecretBytes s(bytes.size());
  if (!bytes.empty()) {
    std::memcpy(s.data_, bytes.data(), bytes.size());
  }
  return s;
}

SecretBytes SecretBytes::copyOf(std::span<const unsigned char> bytes) {
  SecretBytes s(bytes.size());
  if (!bytes.empty()) {
    std::memcpy(s.data_, bytes.data(), bytes.size());
  }
  return s;
}

SecretBytes SecretBytes::takeFrom(std::string& bytes) {
  SecretBytes s = copyOf(std::string_view(bytes));
  wipeString(bytes);
  bytes.clear();
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  wipe();
}

SecretBytes SecretBytes::clone() const {
  return copyOf(bytes());
}

void SecretBytes::wipe() noexcept {
  if (data_ != nullptr) {
    OPENSSL_cleanse(data_, size_);
    delete[] data_;
    data_ = nullptr;
  }
  size_ = 0;
}

void wipeString(std::string& s) noexcept {
  if (!s.empty()) {
    OPENSSL_cleanse(s.data(), s.size());
  }
}

std::string fingerprintOf(std::string_view secret) {
  // Keep a short, non-secret vendor prefix ("sk-", "sk-ant-") so people recognise the key.
  std::string prefix;
  if (secret.starts_with("sk-ant-")) {
    prefix = "sk-ant-";
  } else if (secret.starts_with("sk-proj-")) {
    prefix = "sk-proj-";
  } else if (secret.starts_with("sk-")) {
    prefix = "sk-";
  }
  std::string out = prefix;
  out += "\u2026";  // …
  if (secret.size() >= 12) {
    out.append(secret.substr(secret.size() - 4));
  } else {
    out += "****";
  }
  return out;
}

}  // namespace livery
