#pragma once

// KmsContractTest: the behaviour every crypto::Kms backend must have. A backend's test file
// includes this header and instantiates the suite with a factory for its harness:
//
//   INSTANTIATE_TEST_SUITE_P(LocalFileKms, KmsContractTest,
//                            ::testing::Values(KmsBackend{"LocalFileKms", &makeHarness}),
//                            [](const auto& p) { return std::string(p.param.name); });

#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "crypto/errors.hpp"
#include "crypto/kms/kms.hpp"
#include "support/services.hpp"
#include "unit/crypto/crypto_test_support.hpp"

namespace livery::crypto::testing {

class KmsHarness {
 public:
  virtual ~KmsHarness() = default;
  // Opens the backend (creating its first KEK version on first use). A factory returns nullptr
  // when the backend cannot run on this machine (the suite then skips, or fails under
  // LIVERY_REQUIRE_SERVICES=1).
  virtual std::unique_ptr<Kms> open() = 0;
  // Time passes (for refresh rate limits driven by the injected clock).
  virtual void advanceClock(std::chrono::milliseconds d) = 0;
  // Everything the backend logged so far.
  virtual std::string logText() const = 0;
};

// A backend under test: a name (for test names) and a harness factory.
struct KmsBackend {
  const char* name;
  std::unique_ptr<KmsHarness> (*make)();
};
inline void PrintTo(const KmsBackend& backend, std::ostream* os) {
  *os << backend.name;
}

class KmsContractTest : public ::testing::TestWithParam<KmsBackend> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make();
    if (harness_ == nullptr) {
      // The backend's service is not available here (e.g. no SoftHSM2).
      if (livery::testing::servicesRequired()) {
        FAIL() << "KMS backend unavailable but LIVERY_REQUIRE_SERVICES=1";
      }
      GTEST_SKIP() << "KMS backend unavailable on this machine";
    }
    kms_ = harness_->open();
    ASSERT_NE(kms_, nullptr);
  }

  static SecretBytes makeDek(unsigned char seed) {
    SecretBytes dek(kDekBytes);
    for (std::size_t i = 0; i < dek.size(); ++i) {
      dek.data()[i] = static_cast<unsigned char>(seed + i * 7);
    }
    return dek;
  }

  static WrappedDekRef ref(const WrappedDek& w) {
    return WrappedDekRef{{w.blob.data(), w.blob.size()}, w.kek_id, w.kek_version};
  }

  const CredentialBinding who_{"tnt_alpha", "cred_1", "openai"};
  std::unique_ptr<KmsHarness> harness_;
  std::unique_ptr<Kms> kms_;
};

TEST_P(KmsContractTest, WrapsAndUnwrapsUnderTheCurrentVersion) {
  auto current = kms_->currentVersion();
  ASSERT_TRUE(current) << current.error().log_detail;
  SecretBytes dek = makeDek(1);
  auto wrapped = kms_->wrap(dek, who_, kEnvelopeFormatV1);
  ASSERT_TRUE(wrapped) << wrapped.error().log_detail;
  EXPECT_EQ(wrapped->kek_id, kms_->kekId());
  EXPECT_EQ(wrapped->kek_version, *current);
  EXPECT_FALSE(wrapped->blob.empty());
  EXPECT_LE(wrapped->blob.size(), kMaxWrappedDekBytes);
  auto unwrapped = kms_->unwrap(ref(*wrapped), who_, kEnvelopeFormatV1);
  ASSERT_TRUE(unwrapped) << unwrapped.error().log_detail;
  EXPECT_EQ(unwrapped->reveal(), dek.reveal());
}

TEST_P(KmsContractTest, WrappingIsRandomised) {
  SecretBytes dek = makeDek(2);
  auto a = kms_->wrap(dek, who_, kEnvelopeFormatV1);
  auto b = kms_->wrap(dek, who_, kEnvelopeFormatV1);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->blob, b->blob);
}

TEST_P(KmsContractTest, UnwrapIsBoundToTheCredential) {
  SecretBytes dek = makeDek(3);
  auto wrapped = kms_->wrap(dek, who_, kEnvelopeFormatV1);
  ASSERT_TRUE(wrapped);
  const CredentialBinding others[] = {
      {"tnt_beta", "cred_1", "openai"},
      {"tnt_alpha", "cred_2", "openai"},
      {"tnt_alpha", "cred_1", "anthropic"},
      // Length-prefixing: moving a character between fields is a different binding.
      {"tnt_alph", "acred_1", "openai"},
  };
  for (const auto& other : others) {
    auto r = kms_->unwrap(ref(*wrapped), other, kEnvelopeFormatV1);
    ASSERT_FALSE(r) << other.tenant_id << "/" << other.credential_id << "/" << other.provider;
    EXPECT_TRUE(hasCode(r.error(), kCodeIntegrity)) << r.error().log_detail;
  }
  auto wrong_format = kms_->unwrap(ref(*wrapped), who_, kEnvelopeFormatV1 + 1);
  ASSERT_FALSE(wrong_format);
  EXPECT_TRUE(hasCode(wrong_format.error(), kCodeIntegrity));
}

TEST_P(KmsContractTest, TamperedBlobsAreRejected) {
  SecretBytes dek = makeDek(4);
  auto wrapped = kms_->wrap(dek, who_, kEnvelopeFormatV1);
  ASSERT_TRUE(wrapped);
  for (std::size_t i = 0; i < wrapped->blob.size(); i += 5) {
    WrappedDek bad = *wrapped;
    bad.blob[i] ^= 0x04;
    auto r = kms_->unwrap(ref(bad), who_, kEnvelopeFormatV1);
    ASSERT_FALSE(r) << "byte " << i;
    EXPECT_TRUE(hasCode(r.error(), kCodeIntegrity)) << r.error().log_detail;
  }
  WrappedDek truncated = *wrapped;
  truncated.blob.pop_back();
  EXPECT_FALSE(kms_->unwrap(ref(truncated), who_, kEnvelopeFormatV1));
  WrappedDek empty = *wrapped;
  empty.blob.clear();
  EXPECT_FALSE(kms_->unwrap(ref(empty), who_, kEnvelopeFormatV1));
}

TEST_P(KmsContractTest, UnknownVersionsAndForeignKeksAreUnavailable) {
  SecretBytes dek = makeDek(5);
  auto wrapped = kms_->wrap(dek, who_, kEnvelopeFormatV1);
  ASSERT_TRUE(wrapped);
  WrappedDek future = *wrapped;
  future.kek_version += 1000;
  auto r1 = kms_->unwrap(ref(future), who_, kEnvelopeFormatV1);
  ASSERT_FALSE(r1);
  EXPECT_TRUE(hasCode(r1.error(), kCodeKekUnavailable)) << r1.error().log_detail;
  WrappedDek foreign = *wrapped;
  foreign.kek_id = "some-other-kek";
  auto r2 = kms_->unwrap(ref(foreign), who_, kEnvelopeFormatV1);
  ASSERT_FALSE(r2);
  EXPECT_TRUE(hasCode(r2.error(), kCodeKekUnavailable)) << r2.error().log_detail;
}

TEST_P(KmsContractTest, RotateAddsACurrentVersionAndKeepsOldOnesUsable) {
  auto before = kms_->currentVersion();
  ASSERT_TRUE(before);
  SecretBytes dek = makeDek(6);
  auto old_wrap = kms_->wrap(dek, who_, kEnvelopeFormatV1);
  ASSERT_TRUE(old_wrap);
  auto rotated = kms_->rotate();
  ASSERT_TRUE(rotated) << rotated.error().log_detail;
  EXPECT_EQ(*rotated, *before + 1);
  EXPECT_EQ(kms_->currentVersion().value(), *rotated);
  auto new_wrap = kms_->wrap(dek, who_, kEnvelopeFormatV1);
  ASSERT_TRUE(new_wrap);
  EXPECT_EQ(new_wrap->kek_version, *rotated);
  auto a = kms_->unwrap(ref(*old_wrap), who_, kEnvelopeFormatV1);
  auto b = kms_->unwrap(ref(*new_wrap), who_, kEnvelopeFormatV1);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->reveal(), dek.reveal());
  EXPECT_EQ(b->reveal(), dek.reveal());
  // The version number is authenticated: an old blob relabelled as the new version fails.
  WrappedDek relabelled = *old_wrap;
  relabelled.kek_version = *rotated;
  EXPECT_FALSE(kms_->unwrap(ref(relabelled), who_, kEnvelopeFormatV1));

  auto versions = kms_->versions();
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ(versions->front().version, *before);
  EXPECT_EQ(versions->front().state, KekState::kDecryptOnly);
  EXPECT_EQ(versions->back().version, *rotated);
  EXPECT_EQ(versions->back().state, KekState::kCurrent);
}

TEST_P(KmsContractTest, RetireRemovesOnlyNonCurrentVersions) {
  const std::uint32_t v1 = kms_->currentVersion().value();
  SecretBytes dek = makeDek(7);
  auto old_wrap = kms_->wrap(dek, who_, kEnvelopeFormatV1);
  ASSERT_TRUE(old_wrap);
  auto current_retire = kms_->retire(v1);
  ASSERT_FALSE(current_retire);
  EXPECT_EQ(current_retire.error().code, ErrorCode::kConflict);
  const std::uint32_t v2 = kms_->rotate().value();
  auto unknown = kms_->retire(v2 + 50);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(kms_->retire(v1));
  auto versions = kms_->versions().value();
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].version, v2);
  harness_->advanceClock(std::chrono::seconds(5));  // a refresh cannot bring it back
  auto r = kms_->unwrap(ref(*old_wrap), who_, kEnvelopeFormatV1);
  ASSERT_FALSE(r);
  EXPECT_TRUE(hasCode(r.error(), kCodeKekUnavailable)) << r.error().log_detail;
  auto again = kms_->retire(v1);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

TEST_P(KmsContractTest, VersionsAreDurableAndSharedBetweenInstances) {
  SecretBytes dek = makeDek(8);
  auto w1 = kms_->wrap(dek, who_, kEnvelopeFormatV1);
  ASSERT_TRUE(w1);
  // A second instance over the same keyring, like the CLI next to a running server.
  auto other = harness_->open();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->kekId(), kms_->kekId());
  EXPECT_EQ(other->currentVersion().value(), kms_->currentVersion().value());
  auto u1 = other->unwrap(ref(*w1), who_, kEnvelopeFormatV1);
  ASSERT_TRUE(u1) << u1.error().log_detail;
  EXPECT_EQ(u1->reveal(), dek.reveal());
  // The other instance rotates and wraps under the new version; we have not refreshed yet but
  // meet the unknown version and pick it up (at most once per refresh interval).
  const std::uint32_t v2 = other->rotate().value();
  auto w2 = other->wrap(dek, who_, kEnvelopeFormatV1);
  ASSERT_TRUE(w2);
  EXPECT_EQ(w2->kek_version, v2);
  harness_->advanceClock(std::chrono::seconds(5));
  auto u2 = kms_->unwrap(ref(*w2), who_, kEnvelopeFormatV1);
  ASSERT_TRUE(u2) << u2.error().log_detail;
  EXPECT_EQ(u2->reveal(), dek.reveal());
  EXPECT_EQ(kms_->currentVersion().value(), v2);
  ASSERT_TRUE(kms_->refresh());
  EXPECT_EQ(kms_->versions().value().size(), 2u);
}

TEST_P(KmsContractTest, RejectsDataKeysOfTheWrongSize) {
  SecretBytes short_dek(16);
  EXPECT_FALSE(kms_->wrap(short_dek, who_, kEnvelopeFormatV1));
}

TEST_P(KmsContractTest, IsSafeUnderConcurrentUseAndRotation) {
  constexpr int kThreads = 4;
  constexpr int kOps = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        SecretBytes dek = makeDek(static_cast<unsigned char>(t * 50 + i));
        const std::string cred = "cred_" + std::to_string(t);
        const CredentialBinding who{"tnt_concurrent", cred, "openai"};
        auto w = kms_->wrap(dek, who, kEnvelopeFormatV1);
        if (!w) {
          ++failures;
          continue;
        }
        auto u = kms_->unwrap(ref(*w), who, kEnvelopeFormatV1);
        if (!u || u->reveal() != dek.reveal()) {
          ++failures;
        }
      }
    });
  }
  for (int i = 0; i < 2; ++i) {
    if (!kms_->rotate()) {
      ++failures;
    }
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace livery::crypto::testing
