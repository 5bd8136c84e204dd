// Benchmarks of the crypto hot paths (run: build/release/bench/crypto_bench).
//   BM_VaultOpenWarm         per-request provider-key decrypt with a warm DEK cache (target < 2 µs)
//   BM_VaultOpenCold*        the same with caching disabled: every open unwraps via the KMS
//                            (SoftHSM2 token, or the local KEK file for comparison)
//   BM_KeyHasherHash         HMAC-SHA-256 of an API key under the pepper (target well < 1 µs)
//   BM_ApiKeyParse           format + checksum check before any lookup
// plus AES-GCM, DEK-cache and JWT verification for context. The ctest entry crypto_bench runs
// each for 10 ms (label bench-smoke) so the file cannot rot.

#include <filesystem>
#include <memory>
#include <random>

#include <benchmark/benchmark.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "crypto/aead.hpp"
#include "crypto/api_key.hpp"
#include "crypto/dek_cache.hpp"
#include "crypto/encoding.hpp"
#include "crypto/jwt.hpp"
#include "crypto/kms/local_file_kms.hpp"
#include "crypto/kms/pkcs11_kms.hpp"
#include "crypto/vault.hpp"
#include "unit/crypto/softhsm_token.hpp"

namespace livery::crypto {
namespace {

constexpr std::string_view kProviderKey =
    "sk-proj-bench0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";

// Everything a vault needs, on a temporary local KEK file.
struct LocalWorld {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("livery-bench-" + std::to_string(std::random_device{}()));
  SystemClock clock;
  Logger logger{std::make_shared<MemoryLogSink>(), LogLevel::kWarn, clock};
  OpenSslRandom random;
  std::unique_ptr<LocalFileKms> kms;

  LocalWorld() {
    std::filesystem::create_directories(dir);
    kms = LocalFileKms::open({.path = (dir / "kek.json").string()}, random, clock, logger).value();
  }
  ~LocalWorld() {
    kms.reset();
    std::filesystem::remove_all(dir);
  }
};

void openLoop(benchmark::State& state, Vault& vault, const storage::Envelope& env) {
  const CredentialBinding who{"tnt_bench", "cred_bench", "openai"};
  for (auto _ : state) {
    auto key = vault.open(who, env);
    if (!key) {
      state.SkipWithError(key.error().log_detail.c_str());
      break;
    }
    benchmark::DoNotOptimize(key->data());
  }
}

void BM_VaultOpenWarm(benchmark::State& state) {
  static LocalWorld world;
  static DekCache cache({}, world.clock);
  static Vault vault(*world.kms, cache, world.random);
  static storage::Envelope env =
      vault.seal({"tnt_bench", "cred_bench", "openai"}, SecretBytes::copyOf(kProviderKey)).value();
  openLoop(state, vault, env);
}
BENCHMARK(BM_VaultOpenWarm)->ThreadRange(1, 2);

void BM_VaultOpenColdLocalFile(benchmark::State& state) {
  static LocalWorld world;
  static DekCache off({.max_age = std::chrono::seconds(0)}, world.clock);
  static Vault vault(*world.kms, off, world.random);
  static storage::Envelope env =
      vault.seal({"tnt_bench", "cred_bench", "openai"}, SecretBytes::copyOf(kProviderKey)).value();
  openLoop(state, vault, env);
}
BENCHMARK(BM_VaultOpenColdLocalFile);

// Every open is a PKCS#11 C_Decrypt round trip into a SoftHSM2 token.
struct HsmWorld {
  testing::SoftHsmToken token;
  std::string error;
  SystemClock clock;
  Logger logger{std::make_shared<MemoryLogSink>(), LogLevel::kWarn, clock};
  OpenSslRandom random;
  std::shared_ptr<Pkcs11Module> module;
  std::unique_ptr<Pkcs11Kms> kms;

  HsmWorld() {
    error = token.create();
    if (!error.empty()) {
      return;
    }
    auto m = Pkcs11Module::load(token.modulePath());
    if (!m) {
      error = m.error().client_message;
      return;
    }
    module = *m;
    Pkcs11KmsOptions o;
    o.token_label = testing::SoftHsmToken::kLabel;
    o.pin = SecretBytes::copyOf(std::string_view(testing::SoftHsmToken::kUserPin));
    auto k = Pkcs11Kms::open(module, std::move(o), random, clock, logger);
    if (!k) {
      error = k.error().client_message;
      return;
    }
    kms = std::move(*k);
  }
};

void BM_VaultOpenColdSoftHsm(benchmark::State& state) {
  static HsmWorld world;
  if (!world.kms) {
    state.SkipWithError(("SoftHSM2 unavailable: " + world.error).c_str());
    return;
  }
  static DekCache off({.max_age = std::chrono::seconds(0)}, world.clock);
  static Vault vault(*world.kms, off, world.random);
  static storage::Envelope env =
      vault.seal({"tnt_bench", "cred_bench", "openai"}, SecretBytes::copyOf(kProviderKey)).value();
  openLoop(state, vault, env);
}
BENCHMARK(BM_VaultOpenColdSoftHsm)->ThreadRange(1, 2)->UseRealTime();

void BM_Aes256GcmOpen(benchmark::State& state) {
  std::vector<unsigned char> key(32, 7);
  std::vector<unsigned char> nonce(12, 1);
  std::vector<unsigned char> aad(48, 2);
  std::vector<unsigned char> pt(kProviderKey.begin(), kProviderKey.end());
  std::vector<unsigned char> ct(pt.size());
  std::vector<unsigned char> tag(16);
  (void)aes256GcmSeal(key, nonce, aad, pt, ct, tag);
  std::vector<unsigned char> out(ct.size());
  for (auto _ : state) {
    auto r = aes256GcmOpen(key, nonce, aad, ct, tag, out);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Aes256GcmOpen);

void BM_DekCacheGet(benchmark::State& state) {
  SystemClock clock;
  DekCache cache({}, clock);
  std::vector<unsigned char> wrapped(60, 9);
  DekCacheKey key{"tnt_bench", "cred_bench", "openai", "local", 1, wrapped};
  cache.put(key, SecretBytes(32));
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.get(key));
  }
}
BENCHMARK(BM_DekCacheGet)->ThreadRange(1, 2);

void BM_KeyHasherHash(benchmark::State& state) {
  OpenSslRandom random;
  auto hasher = KeyHasher::create(randomSecret(random, 32).value()).value();
  const std::string token(api_key::generate(TokenKind::kLive, random)->reveal());
  for (auto _ : state) {
    benchmark::DoNotOptimize(hasher.hash(token));
  }
}
BENCHMARK(BM_KeyHasherHash)->ThreadRange(1, 2);

void BM_ApiKeyParse(benchmark::State& state) {
  OpenSslRandom random;
  const std::string token(api_key::generate(TokenKind::kLive, random)->reveal());
  for (auto _ : state) {
    benchmark::DoNotOptimize(api_key::parse(token));
  }
}
BENCHMARK(BM_ApiKeyParse);

void BM_ApiKeyParseAndHash(benchmark::State& state) {
  OpenSslRandom random;
  auto hasher = KeyHasher::create(randomSecret(random, 32).value()).value();
  const std::string token(api_key::generate(TokenKind::kLive, random)->reveal());
  for (auto _ : state) {
    auto parsed = api_key::parse(token);
    benchmark::DoNotOptimize(hasher.hash(parsed->text));
  }
}
BENCHMARK(BM_ApiKeyParseAndHash);

void BM_JwtVerify(benchmark::State& state, JwsAlgorithm alg) {
  SystemClock clock;
  const std::string header = alg == JwsAlgorithm::kHs256   ? R"({"alg":"HS256","kid":"k"})"
                             : alg == JwsAlgorithm::kEs256 ? R"({"alg":"ES256","kid":"k"})"
                                                           : R"({"alg":"RS256","kid":"k"})";
  const std::string claims =
      R"({"sub":"user-1","aud":"livery","exp":)" + std::to_string(clock.unixSeconds() + 3600) + "}";
  auto b64 = [](std::string_view s) {
    return base64UrlEncode({reinterpret_cast<const unsigned char*>(s.data()), s.size()});
  };
  const std::string input = b64(header) + "." + b64(claims);
  std::string token;
  std::vector<JwtKey> keys;
  if (alg == JwsAlgorithm::kHs256) {
    const std::string secret(32, 's');
    unsigned char mac[32];
    std::size_t len = 0;
    EVP_Q_mac(nullptr,
              "HMAC",
              nullptr,
              "SHA256",
              nullptr,
              secret.data(),
              secret.size(),
              reinterpret_cast<const unsigned char*>(input.data()),
              input.size(),
              mac,
              32,
              &len);
    token = input + "." + base64UrlEncode({mac, 32});
    keys.push_back(JwtKey::hs256("k", SecretBytes::copyOf(secret)).value());
  } else {
    EVP_PKEY* pk = alg == JwsAlgorithm::kEs256
                       ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, pk, nullptr);
    std::size_t len = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(input.data());
    EVP_DigestSign(ctx, nullptr, &len, in, input.size());
    std::vector<unsigned char> sig(len);
    EVP_DigestSign(ctx, sig.data(), &len, in, input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    if (alg == JwsAlgorithm::kEs256) {
      const unsigned char* p = sig.data();
      ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
      std::vector<unsigned char> jose(64);
      BN_bn2binpad(ECDSA_SIG_get0_r(es), jose.data(), 32);
      BN_bn2binpad(ECDSA_SIG_get0_s(es), jose.data() + 32, 32);
      ECDSA_SIG_free(es);
      sig = jose;
    }
    token = input + "." + base64UrlEncode(sig);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pk);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    keys.push_back(
        JwtKey::publicPem("k", alg, std::string_view(data, static_cast<std::size_t>(n))).value());
    BIO_free(bio);
    EVP_PKEY_free(pk);
  }
  auto set = JwtKeySet::create(std::move(keys)).value();
  for (auto _ : state) {
    auto r = verifyJwt(token, set, {}, clock);
    if (!r) {
      state.SkipWithError(r.error().log_detail.c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_JwtVerify, HS256, JwsAlgorithm::kHs256);
BENCHMARK_CAPTURE(BM_JwtVerify, ES256, JwsAlgorithm::kEs256);
BENCHMARK_CAPTURE(BM_JwtVerify, RS256, JwsAlgorithm::kRs256);

void BM_VaultSeal(benchmark::State& state) {
  static LocalWorld world;
  static DekCache cache({}, world.clock);
  static Vault vault(*world.kms, cache, world.random);
  const auto key = SecretBytes::copyOf(kProviderKey);
  for (auto _ : state) {
    benchmark::DoNotOptimize(vault.seal({"tnt_bench", "cred_bench", "openai"}, key));
  }
}
BENCHMARK(BM_VaultSeal);

}  // namespace
}  // namespace livery::crypto

BENCHMARK_MAIN();
