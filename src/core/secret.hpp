#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace livery {

// Owns secret bytes (a provider key, a data key, a pepper). Wiped with OPENSSL_cleanse on
// destruction and on move-from; cannot be copied implicitly (use clone()), and has no stream or
// fmt formatter, so it cannot reach a log line by accident. reveal() is the one, grep-able way to
// read the bytes. Not thread-safe: one owner at a time.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);  // zero-filled
  static SecretBytes copyOf(std::string_view bytes);
  static SecretBytes copyOf(std::span<const unsigned char> bytes);
  // Takes the contents of `bytes` and wipes the source string.
  static SecretBytes takeFrom(std::string& bytes);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  SecretBytes clone() const;
  void wipe() noexcept;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  unsigned char* data() noexcept { return data_; }
  const unsigned char* data() const noexcept { return data_; }
  std::span<const unsigned char> bytes() const noexcept { return {data_, size_}; }
  std::string_view reveal() const noexcept {
    return {reinterpret_cast<const char*>(data_), size_};  // NOLINT(*-reinterpret-cast)
  }

 private:
  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

// Wipes a std::string's bytes (for buffers that briefly held a secret, e.g. a serialized
// upstream request head carrying an Authorization header).
void wipeString(std::string& s) noexcept;

// "sk-…abcd": a display fingerprint that never reveals more than the prefix and last 4 chars.
std::string fingerprintOf(std::string_view secret);

}  // namespace livery
