#include "crypto/vault.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "crypto/errors.hpp"
#include "crypto/kms/local_file_kms.hpp"
#include "unit/crypto/crypto_test_support.hpp"

namespace livery::crypto {
namespace {

using livery::testing::TempDir;
using testing::CapturingLogger;
using testing::ControllableRandom;
using namespace std::chrono_literals;

// Forwards to a real KMS and counts the calls that would be HSM round trips.
class CountingKms final : public Kms {
 public:
  explicit CountingKms(Kms& inner) : inner_(inner) {}
  std::string_view kekId() const noexcept override { return inner_.kekId(); }
  std::string_view backendName() const noexcept override { return inner_.backendName(); }
  Result<std::uint32_t> currentVersion() override { return inner_.currentVersion(); }
  Result<WrappedDek> wrap(const SecretBytes& dek,
                          const CredentialBinding& b,
                          std::uint32_t f) override {
    ++wraps;
    return inner_.wrap(dek, b, f);
  }
  Result<SecretBytes> unwrap(const WrappedDekRef& w,
                             const CredentialBinding& b,
                             std::uint32_t f) override {
    ++unwraps;
    std::this_thread::sleep_for(unwrap_delay);  // an HSM or KMS round trip
    return inner_.unwrap(w, b, f);
  }
  Result<std::uint32_t> rotate() override { return inner_.rotate(); }
  Result<void> retire(std::uint32_t v) override { return inner_.retire(v); }
  Result<std::vector<KekVersionInfo>> versions() override { return inner_.versions(); }
  Result<void> refresh() override { return inner_.refresh(); }
  std::atomic<int> wraps{0};
  std::atomic<int> unwraps{0};
  std::chrono::milliseconds unwrap_delay{0};

 private:
  Kms& inner_;
};

constexpr std::string_view kCanary = "sk-proj-CANARY-9f8e7d6c5b4a39281706f5e4d3c2b1a0-DO-NOT-LEAK";

class VaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kms = LocalFileKms::open({.path = dir.file("kek.json")}, random, log.clock, log.logger);
    ASSERT_TRUE(kms) << kms.error().log_detail;
    local = std::move(*kms);
    counting = std::make_unique<CountingKms>(*local);
    cache = std::make_unique<DekCache>(DekCacheLimits{}, log.clock);
    vault = std::make_unique<Vault>(*counting, *cache, random);
  }

  Result<storage::Envelope> sealCanary(const CredentialBinding& who) {
    return vault->seal(who, SecretBytes::copyOf(kCanary));
  }

  static void expectNoCanary(const Error& e) {
    EXPECT_EQ(e.client_message.find(kCanary), std::string::npos);
    EXPECT_EQ(e.log_detail.find(kCanary), std::string::npos);
    EXPECT_EQ(openAiErrorJson(e).find(kCanary), std::string::npos);
  }

  TempDir dir;
  CapturingLogger log;
  ControllableRandom random;
  std::unique_ptr<LocalFileKms> local;
  std::unique_ptr<CountingKms> counting;
  std::unique_ptr<DekCache> cache;
  std::unique_ptr<Vault> vault;
  const CredentialBinding alice_{"tnt_alice", "cred_a1", "openai"};
};

TEST_F(VaultTest, SealsIntoAWellFormedEnvelopeAndOpensIt) {
  auto env = sealCanary(alice_);
  ASSERT_TRUE(env) << env.error().log_detail;
  EXPECT_EQ(env->format_version, kEnvelopeFormatV1);
  EXPECT_EQ(env->nonce.size(), 12u);
  EXPECT_EQ(env->tag.size(), 16u);
  EXPECT_EQ(env->ciphertext.size(), kCanary.size());
  EXPECT_EQ(env->wrapped_dek.size(), kGcmWrappedDekBytes);
  EXPECT_EQ(env->kek_id, "local");
  EXPECT_EQ(env->kek_version, 1u);
  std::string ct(env->ciphertext.begin(), env->ciphertext.end());
  EXPECT_EQ(ct.find("CANARY"), std::string::npos);
  auto opened = vault->open(alice_, *env);
  ASSERT_TRUE(opened) << opened.error().log_detail;
  EXPECT_EQ(opened->reveal(), kCanary);
}

TEST_F(VaultTest, EverySealUsesAFreshDataKeyAndNonce) {
  auto a = sealCanary(alice_);
  auto b = sealCanary(alice_);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->nonce, b->nonce);
  EXPECT_NE(a->ciphertext, b->ciphertext);
  EXPECT_NE(a->wrapped_dek, b->wrapped_dek);
  // Each envelope's DEK opens only its own payload.
  storage::Envelope mixed = *a;
  mixed.wrapped_dek = b->wrapped_dek;
  cache->clear();
  EXPECT_FALSE(vault->open(alice_, mixed));
}

TEST_F(VaultTest, ARowCopiedToAnotherTenantOrCredentialFailsWithASpecificError) {
  auto env = sealCanary(alice_);
  ASSERT_TRUE(env);
  const CredentialBinding elsewhere[] = {
      {"tnt_mallory", "cred_a1", "openai"},
      {"tnt_alice", "cred_a2", "openai"},
      {"tnt_alice", "cred_a1", "azure"},
  };
  for (bool warm : {true, false}) {
    if (!warm) {
      cache->clear();
    }
    for (const auto& who : elsewhere) {
      auto r = vault->open(who, *env);
      ASSERT_FALSE(r) << who.tenant_id << "/" << who.credential_id << "/" << who.provider;
      EXPECT_EQ(r.error().code, ErrorCode::kInternal);
      EXPECT_TRUE(hasCode(r.error(), kCodeIntegrity));
      EXPECT_NE(r.error().client_message.find("does not belong to this tenant/credential"),
                std::string::npos)
          << r.error().client_message;
      EXPECT_NE(r.error().log_detail.find(std::string(who.tenant_id)), std::string::npos);
      expectNoCanary(r.error());
    }
  }
  // The rightful owner still opens it.
  EXPECT_TRUE(vault->open(alice_, *env));
}

TEST_F(VaultTest, TamperedOrMalformedEnvelopesAreRejected) {
  auto env = sealCanary(alice_);
  ASSERT_TRUE(env);
  auto expectIntegrity = [&](storage::Envelope e) {
    auto r = vault->open(alice_, e);
    ASSERT_FALSE(r);
    EXPECT_TRUE(hasCode(r.error(), kCodeIntegrity)) << r.error().log_detail;
    expectNoCanary(r.error());
  };
  for (bool warm : {true, false}) {
    if (!warm) {
      cache->clear();
    }
    auto e1 = *env;
    e1.ciphertext[3] ^= 1;
    expectIntegrity(e1);
    auto e2 = *env;
    e2.tag[0] ^= 1;
    expectIntegrity(e2);
    auto e3 = *env;
    e3.nonce[11] ^= 1;
    expectIntegrity(e3);
  }
  auto e4 = *env;
  e4.wrapped_dek[20] ^= 1;
  expectIntegrity(e4);

  auto expectMalformed = [&](storage::Envelope e) {
    auto r = vault->open(alice_, e);
    ASSERT_FALSE(r);
    EXPECT_TRUE(hasCode(r.error(), kCodeMalformedEnvelope)) << r.error().log_detail;
  };
  auto m1 = *env;
  m1.nonce.pop_back();
  expectMalformed(m1);
  auto m2 = *env;
  m2.format_version = 2;
  expectMalformed(m2);
  auto m3 = *env;
  m3.wrapped_dek.clear();
  expectMalformed(m3);
  auto m4 = *env;
  m4.kek_version = 0;
  expectMalformed(m4);
  auto m5 = *env;
  m5.tag.push_back(0);
  expectMalformed(m5);
}

TEST_F(VaultTest, AWarmCacheServesOpensWithoutTheKms) {
  auto env = sealCanary(alice_);
  ASSERT_TRUE(env);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(vault->open(alice_, *env));
  }
  EXPECT_EQ(counting->unwraps.load(), 0);  // seal cached the fresh DEK
  cache->clear();
  ASSERT_TRUE(vault->open(alice_, *env));
  ASSERT_TRUE(vault->open(alice_, *env));
  EXPECT_EQ(counting->unwraps.load(), 1);
  log.clock.advance(6min);  // past max_age: back to the KMS
  ASSERT_TRUE(vault->open(alice_, *env));
  EXPECT_EQ(counting->unwraps.load(), 2);
}

TEST_F(VaultTest, WithCachingDisabledEveryOpenUnwraps) {
  DekCache off({.max_age = 0s, .max_uses = 0, .max_entries = 0}, log.clock);
  Vault v(*counting, off, random);
  auto env = v.seal(alice_, SecretBytes::copyOf(kCanary));
  ASSERT_TRUE(env);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(v.open(alice_, *env));
  }
  EXPECT_EQ(counting->unwraps.load(), 5);
}

TEST_F(VaultTest, RotateThenRewrapKeepsThePayloadBytesAndStillDecrypts) {
  auto env = sealCanary(alice_);
  ASSERT_TRUE(env);
  EXPECT_FALSE(vault->needsRewrap(*env).value());
  ASSERT_EQ(local->rotate().value(), 2u);
  EXPECT_TRUE(vault->needsRewrap(*env).value());
  auto rewrapped = vault->rewrap(alice_, *env);
  ASSERT_TRUE(rewrapped) << rewrapped.error().log_detail;
  EXPECT_EQ(rewrapped->ciphertext, env->ciphertext);
  EXPECT_EQ(rewrapped->nonce, env->nonce);
  EXPECT_EQ(rewrapped->tag, env->tag);
  EXPECT_EQ(rewrapped->format_version, env->format_version);
  EXPECT_NE(rewrapped->wrapped_dek, env->wrapped_dek);
  EXPECT_EQ(rewrapped->kek_version, 2u);
  EXPECT_FALSE(vault->needsRewrap(*rewrapped).value());
  // Idempotent: a second rewrap changes nothing.
  auto again = vault->rewrap(alice_, *rewrapped);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->wrapped_dek, rewrapped->wrapped_dek);
  cache->clear();
  auto opened = vault->open(alice_, *rewrapped);
  ASSERT_TRUE(opened) << opened.error().log_detail;
  EXPECT_EQ(opened->reveal(), kCanary);
  // A rewrap is bound too: it refuses a row claimed by another tenant.
  auto stolen = vault->rewrap({"tnt_mallory", "cred_a1", "openai"}, *env);
  ASSERT_FALSE(stolen);
  EXPECT_TRUE(hasCode(stolen.error(), kCodeIntegrity));
}

TEST_F(VaultTest, AnOldVersionIsRetiredOnlyOnceNoRowUsesIt) {
  auto env = sealCanary(alice_);
  ASSERT_TRUE(env);
  ASSERT_EQ(local->rotate().value(), 2u);

  auto status = vault->kekStatus({{{"local", 1}, 1}, {{"local", 2}, 0}});
  ASSERT_TRUE(status);
  ASSERT_EQ(status->size(), 2u);
  EXPECT_EQ((*status)[0].version, 1u);
  EXPECT_EQ((*status)[0].rows, 1u);
  EXPECT_FALSE((*status)[0].current);
  EXPECT_FALSE((*status)[0].retirable);
  EXPECT_TRUE((*status)[1].current);
  EXPECT_FALSE((*status)[1].retirable);

  auto refused = vault->retireKekVersion(1, /*rows_still_using=*/1);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_NE(refused.error().client_message.find("rewrap"), std::string::npos);
  auto current = vault->retireKekVersion(2, 0);
  ASSERT_FALSE(current);
  EXPECT_EQ(current.error().code, ErrorCode::kConflict);

  auto rewrapped = vault->rewrap(alice_, *env);
  ASSERT_TRUE(rewrapped);
  status = vault->kekStatus({{{"local", 2}, 1}});
  ASSERT_TRUE(status);
  EXPECT_TRUE((*status)[0].retirable);
  ASSERT_TRUE(vault->retireKekVersion(1, 0));

  cache->clear();
  EXPECT_TRUE(vault->open(alice_, *rewrapped));
  // A stale copy of the row (not rewrapped) is now unreadable, with a clear reason.
  auto stale = vault->open(alice_, *env);
  ASSERT_FALSE(stale);
  EXPECT_TRUE(hasCode(stale.error(), kCodeKekUnavailable));
  // Rows on a version the KMS no longer has show up in the status report.
  status = vault->kekStatus({{{"local", 1}, 3}});
  ASSERT_TRUE(status);
  ASSERT_EQ(status->size(), 2u);
  EXPECT_FALSE((*status)[0].held);
  EXPECT_EQ((*status)[0].rows, 3u);
}

TEST_F(VaultTest, RejectsBadInputsWithoutTouchingTheKms) {
  EXPECT_FALSE(vault->seal(alice_, SecretBytes()));
  EXPECT_FALSE(vault->seal(alice_, SecretBytes(kMaxCredentialPlaintextBytes + 1)));
  EXPECT_FALSE(vault->seal({"", "cred", "openai"}, SecretBytes::copyOf(kCanary)));
  EXPECT_FALSE(vault->seal({"tnt", std::string(300, 'c'), "openai"}, SecretBytes::copyOf(kCanary)));
  EXPECT_EQ(counting->wraps.load(), 0);
}

TEST_F(VaultTest, AFailingRandomGeneratorFailsTheSealCleanly) {
  random.failing = true;
  auto r = sealCanary(alice_);
  ASSERT_FALSE(r);
  expectNoCanary(r.error());
  EXPECT_EQ(counting->wraps.load(), 0);
}

TEST_F(VaultTest, ThePlantedKeyNeverReachesLogsOrErrors) {
  auto env = sealCanary(alice_);
  ASSERT_TRUE(env);
  std::vector<Error> errors;
  auto collect = [&](auto r) {
    if (!r) {
      errors.push_back(r.error());
    }
  };
  collect(vault->open({"tnt_x", "cred_a1", "openai"}, *env));
  auto tampered = *env;
  tampered.ciphertext[0] ^= 1;
  collect(vault->open(alice_, tampered));
  ASSERT_TRUE(local->rotate());
  collect(vault->rewrap(alice_, *env));
  ASSERT_TRUE(local->retire(1));
  collect(vault->open(alice_, *env));
  EXPECT_GE(errors.size(), 2u);
  for (const auto& e : errors) {
    expectNoCanary(e);
  }
  EXPECT_EQ(log.text().find(kCanary), std::string::npos);
}

TEST_F(VaultTest, ConcurrentOpensAndSealsAreSafe) {
  std::vector<storage::Envelope> envs;
  std::vector<std::string> creds;
  for (int i = 0; i < 8; ++i) {
    creds.push_back("cred_" + std::to_string(i));
  }
  for (int i = 0; i < 8; ++i) {
    auto e = vault->seal({"tnt_alice", creds[i], "openai"},
                         SecretBytes::copyOf("sk-key-" + std::to_string(i)));
    ASSERT_TRUE(e);
    envs.push_back(*e);
  }
  cache->clear();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 400; ++i) {
        int k = (i + t) % 8;
        auto r = vault->open({"tnt_alice", creds[k], "openai"}, envs[k]);
        if (!r || r->reveal() != "sk-key-" + std::to_string(k)) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(counting->unwraps.load(), 8 * 4);  // at most one cold miss per credential per thread
}

TEST_F(VaultTest, AColdBurstOnOneCredentialMakesOneKmsCall) {
  auto env = vault->seal({"tnt_alice", "cred_burst", "openai"}, SecretBytes::copyOf(kCanary));
  ASSERT_TRUE(env);
  cache->clear();
  counting->unwrap_delay = 50ms;  // long enough for every thread to miss while it runs
  const int before = counting->unwraps.load();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto r = vault->open({"tnt_alice", "cred_burst", "openai"}, *env);
      if (!r || r->reveal() != kCanary) {
        ++failures;
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
  // Late threads find the flight or the cached DEK; never a second unwrap.
  EXPECT_EQ(counting->unwraps.load() - before, 1);
  counting->unwrap_delay = 0ms;
}

}  // namespace
}  // namespace livery::crypto
