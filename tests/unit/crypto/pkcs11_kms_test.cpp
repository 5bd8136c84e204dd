#include "crypto/kms/pkcs11_kms.hpp"

#include <thread>

#include <gtest/gtest.h>
#include <p11-kit/pkcs11.h>

#include "crypto/vault.hpp"
#include "support/services.hpp"
#include "unit/crypto/crypto_test_support.hpp"
#include "unit/crypto/kms_contract.hpp"
#include "unit/crypto/softhsm_token.hpp"

namespace livery::crypto {
namespace {

using testing::CapturingLogger;
using testing::ControllableRandom;
using testing::KmsBackend;
using testing::KmsContractTest;
using testing::KmsHarness;
using testing::SoftHsmToken;

// One SoftHSM2 token and one loaded module per test process; each test uses its own key label
// prefix, so tests never see each other's KEKs.
class SoftHsmEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    token_ = std::make_unique<SoftHsmToken>();
    error_ = token_->create();
    if (!error_.empty()) {
      return;
    }
    auto m = Pkcs11Module::load(token_->modulePath());
    if (!m) {
      error_ = m.error().client_message;
      return;
    }
    module_ = *m;
  }
  void TearDown() override {
    module_.reset();
    token_.reset();
  }
  static std::shared_ptr<Pkcs11Module> module() { return module_; }
  static const std::string& error() { return error_; }

 private:
  static inline std::unique_ptr<SoftHsmToken> token_;
  static inline std::shared_ptr<Pkcs11Module> module_;
  static inline std::string error_;
};

const auto* const kSoftHsmEnv = ::testing::AddGlobalTestEnvironment(new SoftHsmEnvironment);

std::string uniquePrefix() {
  static std::atomic<int> n{0};
  return "kek-t" + std::to_string(::getpid()) + "-" + std::to_string(n.fetch_add(1));
}

class Pkcs11Harness final : public KmsHarness {
 public:
  std::unique_ptr<Kms> open() override { return openWith(prefix, SoftHsmToken::kUserPin); }
  std::unique_ptr<Pkcs11Kms> openWith(const std::string& key_prefix,
                                      std::string_view pin,
                                      std::size_t max_sessions = 8) {
    Pkcs11KmsOptions o;
    o.token_label = SoftHsmToken::kLabel;
    o.pin = SecretBytes::copyOf(pin);
    o.key_label_prefix = key_prefix;
    o.max_sessions = max_sessions;
    auto kms =
        Pkcs11Kms::open(SoftHsmEnvironment::module(), std::move(o), random, log.clock, log.logger);
    EXPECT_TRUE(kms) << (kms ? "" : kms.error().log_detail);
    return kms ? std::move(*kms) : nullptr;
  }
  void advanceClock(std::chrono::milliseconds d) override { log.clock.advance(d); }
  std::string logText() const override { return log.text(); }

  std::string prefix = uniquePrefix();
  CapturingLogger log;
  ControllableRandom random;
};

std::unique_ptr<KmsHarness> makePkcs11Harness() {
  if (!SoftHsmEnvironment::module()) {
    return nullptr;
  }
  return std::make_unique<Pkcs11Harness>();
}

INSTANTIATE_TEST_SUITE_P(Pkcs11Kms,
                         KmsContractTest,
                         ::testing::Values(KmsBackend{"Pkcs11Kms", &makePkcs11Harness}),
                         [](const auto& p) { return std::string(p.param.name); });

class Pkcs11KmsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!SoftHsmEnvironment::module()) {
      if (livery::testing::servicesRequired()) {
        FAIL() << "SoftHSM2 unavailable: " << SoftHsmEnvironment::error();
      }
      GTEST_SKIP() << "SoftHSM2 unavailable: " << SoftHsmEnvironment::error();
    }
  }
  CK_FUNCTION_LIST_PTR fn() const {
    return static_cast<CK_FUNCTION_LIST_PTR>(
        const_cast<void*>(SoftHsmEnvironment::module()->functions()));
  }
  Pkcs11Harness h;
};

TEST_F(Pkcs11KmsTest, CreatesANonExtractableSensitiveKekInTheToken) {
  auto kms = h.openWith(h.prefix, SoftHsmToken::kUserPin);
  ASSERT_NE(kms, nullptr);
  EXPECT_EQ(kms->kekId(), h.prefix);
  EXPECT_NE(h.logText().find("kms.pkcs11_kek_created"), std::string::npos);

  // Look at the object with the raw PKCS#11 API: it exists under "<prefix>-v1" and refuses to
  // reveal its value.
  CK_SLOT_ID slots[16];
  CK_ULONG n = 16;
  ASSERT_EQ(fn()->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  bool found_slot = false;
  for (CK_ULONG i = 0; i < n && !found_slot; ++i) {
    CK_TOKEN_INFO info{};
    fn()->C_GetTokenInfo(slots[i], &info);
    std::string label(reinterpret_cast<const char*>(info.label), 32);
    if (label.rfind(SoftHsmToken::kLabel, 0) == 0) {
      ASSERT_EQ(fn()->C_OpenSession(slots[i], CKF_SERIAL_SESSION, nullptr, nullptr, &s), CKR_OK);
      found_slot = true;
    }
  }
  ASSERT_TRUE(found_slot);
  std::string label = h.prefix + "-v1";
  CK_ATTRIBUTE find{CKA_LABEL, label.data(), label.size()};
  ASSERT_EQ(fn()->C_FindObjectsInit(s, &find, 1), CKR_OK);
  CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
  CK_ULONG count = 0;
  ASSERT_EQ(fn()->C_FindObjects(s, &obj, 1, &count), CKR_OK);
  fn()->C_FindObjectsFinal(s);
  ASSERT_EQ(count, 1u);
  CK_BBOOL sensitive = CK_FALSE;
  CK_BBOOL extractable = CK_TRUE;
  CK_BBOOL token = CK_FALSE;
  CK_ATTRIBUTE attrs[] = {{CKA_SENSITIVE, &sensitive, sizeof sensitive},
                          {CKA_EXTRACTABLE, &extractable, sizeof extractable},
                          {CKA_TOKEN, &token, sizeof token}};
  ASSERT_EQ(fn()->C_GetAttributeValue(s, obj, attrs, 3), CKR_OK);
  EXPECT_EQ(sensitive, CK_TRUE);
  EXPECT_EQ(extractable, CK_FALSE);
  EXPECT_EQ(token, CK_TRUE);
  unsigned char value[64];
  CK_ATTRIBUTE value_attr{CKA_VALUE, value, sizeof value};
  EXPECT_EQ(fn()->C_GetAttributeValue(s, obj, &value_attr, 1), CKR_ATTRIBUTE_SENSITIVE);
  fn()->C_CloseSession(s);
}

TEST_F(Pkcs11KmsTest, AWrongPinIsRefusedAndNeverEchoed) {
  const std::string wrong = "WRONG-PIN-CANARY-4242";
  Pkcs11KmsOptions o;
  o.token_label = SoftHsmToken::kLabel;
  o.pin = SecretBytes::copyOf(wrong);
  o.key_label_prefix = h.prefix;
  auto kms = Pkcs11Kms::open(
      SoftHsmEnvironment::module(), std::move(o), h.random, h.log.clock, h.log.logger);
  ASSERT_FALSE(kms);
  EXPECT_NE(kms.error().client_message.find("PIN is incorrect"), std::string::npos)
      << kms.error().client_message;
  EXPECT_EQ(kms.error().client_message.find(wrong), std::string::npos);
  EXPECT_EQ(kms.error().log_detail.find(wrong), std::string::npos);
  // And the good PIN is not logged on success either.
  ASSERT_NE(h.openWith(h.prefix, SoftHsmToken::kUserPin), nullptr);
  EXPECT_EQ(h.logText().find(SoftHsmToken::kUserPin), std::string::npos);
  EXPECT_EQ(h.logText().find(wrong), std::string::npos);
}

TEST_F(Pkcs11KmsTest, AnUnknownTokenIsNamedInTheError) {
  Pkcs11KmsOptions o;
  o.token_label = "no-such-token";
  o.pin = SecretBytes::copyOf(std::string_view(SoftHsmToken::kUserPin));
  o.key_label_prefix = h.prefix;
  auto kms = Pkcs11Kms::open(
      SoftHsmEnvironment::module(), std::move(o), h.random, h.log.clock, h.log.logger);
  ASSERT_FALSE(kms);
  EXPECT_NE(kms.error().client_message.find("no-such-token"), std::string::npos);
}

TEST_F(Pkcs11KmsTest, DoesNotCreateAKekWhenTold) {
  Pkcs11KmsOptions o;
  o.token_label = SoftHsmToken::kLabel;
  o.pin = SecretBytes::copyOf(std::string_view(SoftHsmToken::kUserPin));
  o.key_label_prefix = h.prefix;
  o.create_if_missing = false;
  auto kms = Pkcs11Kms::open(
      SoftHsmEnvironment::module(), std::move(o), h.random, h.log.clock, h.log.logger);
  ASSERT_FALSE(kms);
  EXPECT_NE(kms.error().client_message.find(h.prefix + "-v1"), std::string::npos);
}

TEST_F(Pkcs11KmsTest, ASmallSessionPoolServesManyThreads) {
  auto kms = h.openWith(h.prefix, SoftHsmToken::kUserPin, /*max_sessions=*/2);
  ASSERT_NE(kms, nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string cred = "cred_" + std::to_string(t);
      const CredentialBinding who{"tnt_pool", cred, "openai"};
      for (int i = 0; i < 25; ++i) {
        SecretBytes dek(kDekBytes);
        dek.data()[0] = static_cast<unsigned char>(i);
        auto w = kms->wrap(dek, who, kEnvelopeFormatV1);
        if (!w) {
          ++failures;
          continue;
        }
        auto u = kms->unwrap(
            {{w->blob.data(), w->blob.size()}, w->kek_id, w->kek_version}, who, kEnvelopeFormatV1);
        if (!u || u->reveal() != dek.reveal()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(Pkcs11KmsTest, ATagMismatchIsAnIntegrityErrorEvenWithOneSession) {
  // SoftHSM2 reports a GCM tag mismatch as CKR_GENERAL_ERROR; the KMS confirms with a probe
  // round trip, which must not deadlock on a pool of one session.
  auto kms = h.openWith(h.prefix, SoftHsmToken::kUserPin, /*max_sessions=*/1);
  ASSERT_NE(kms, nullptr);
  const CredentialBinding who{"tnt_one", "cred_1", "openai"};
  SecretBytes dek(kDekBytes);
  auto w = kms->wrap(dek, who, kEnvelopeFormatV1);
  ASSERT_TRUE(w);
  w->blob.back() ^= 1;
  const auto started = std::chrono::steady_clock::now();
  auto u = kms->unwrap(
      {{w->blob.data(), w->blob.size()}, w->kek_id, w->kek_version}, who, kEnvelopeFormatV1);
  ASSERT_FALSE(u);
  EXPECT_TRUE(hasCode(u.error(), kCodeIntegrity)) << u.error().log_detail;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  w->blob.back() ^= 1;
  EXPECT_TRUE(kms->unwrap(
      {{w->blob.data(), w->blob.size()}, w->kek_id, w->kek_version}, who, kEnvelopeFormatV1));
}

TEST_F(Pkcs11KmsTest, RecoversWhenTheTokenDropsEverySessionAndTheLogin) {
  auto kms = h.openWith(h.prefix, SoftHsmToken::kUserPin);
  ASSERT_NE(kms, nullptr);
  const CredentialBinding who{"tnt_restart", "cred_1", "openai"};
  SecretBytes dek = SecretBytes::copyOf(std::string(32, 'd'));
  auto before = kms->wrap(dek, who, kEnvelopeFormatV1);
  ASSERT_TRUE(before);
  // What an HSM restart looks like to the application: all sessions gone, logged out.
  CK_SLOT_ID slots[16];
  CK_ULONG n = 16;
  ASSERT_EQ(fn()->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
  for (CK_ULONG i = 0; i < n; ++i) {
    CK_TOKEN_INFO info{};
    fn()->C_GetTokenInfo(slots[i], &info);
    if (std::string(reinterpret_cast<const char*>(info.label), 32).rfind(SoftHsmToken::kLabel, 0) ==
        0) {
      ASSERT_EQ(fn()->C_CloseAllSessions(slots[i]), CKR_OK);
    }
  }
  auto unwrapped =
      kms->unwrap({{before->blob.data(), before->blob.size()}, before->kek_id, before->kek_version},
                  who,
                  kEnvelopeFormatV1);
  ASSERT_TRUE(unwrapped) << unwrapped.error().log_detail;
  EXPECT_EQ(unwrapped->reveal(), dek.reveal());
  EXPECT_TRUE(kms->wrap(dek, who, kEnvelopeFormatV1));
  EXPECT_NE(h.logText().find("kms.pkcs11_relogin"), std::string::npos);
}

TEST_F(Pkcs11KmsTest, TheVaultWorksEndToEndOnTheHsm) {
  auto kms = h.openWith(h.prefix, SoftHsmToken::kUserPin);
  ASSERT_NE(kms, nullptr);
  DekCache cache({}, h.log.clock);
  Vault vault(*kms, cache, h.random);
  const CredentialBinding who{"tnt_hsm", "cred_1", "anthropic"};
  auto env = vault.seal(who, SecretBytes::copyOf(std::string_view("sk-ant-api03-hsm-canary")));
  ASSERT_TRUE(env) << env.error().log_detail;
  EXPECT_EQ(env->kek_id, h.prefix);
  cache.clear();
  auto opened = vault.open(who, *env);
  ASSERT_TRUE(opened) << opened.error().log_detail;
  EXPECT_EQ(opened->reveal(), "sk-ant-api03-hsm-canary");
  auto stolen = vault.open({"tnt_other", "cred_1", "anthropic"}, *env);
  ASSERT_FALSE(stolen);
  EXPECT_TRUE(hasCode(stolen.error(), kCodeIntegrity));
  ASSERT_EQ(kms->rotate().value(), 2u);
  auto rewrapped = vault.rewrap(who, *env);
  ASSERT_TRUE(rewrapped);
  EXPECT_EQ(rewrapped->ciphertext, env->ciphertext);
  ASSERT_TRUE(vault.retireKekVersion(1, 0));
  cache.clear();
  EXPECT_TRUE(vault.open(who, *rewrapped));
  EXPECT_FALSE(vault.open(who, *env));
}

}  // namespace
}  // namespace livery::crypto
