#include "crypto/kms/local_file_kms.hpp"

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "crypto/private_file.hpp"
#include "unit/crypto/crypto_test_support.hpp"
#include "unit/crypto/kms_contract.hpp"

namespace livery::crypto {
namespace {

using livery::testing::readFile;
using livery::testing::TempDir;
using livery::testing::writeFile;
using testing::CapturingLogger;
using testing::ControllableRandom;
using testing::KmsBackend;
using testing::KmsContractTest;
using testing::KmsHarness;

class LocalHarness final : public KmsHarness {
 public:
  std::unique_ptr<Kms> open() override {
    auto kms = LocalFileKms::open({.path = path()}, random, log.clock, log.logger);
    EXPECT_TRUE(kms) << (kms ? "" : kms.error().log_detail);
    return kms ? std::unique_ptr<Kms>(std::move(*kms)) : nullptr;
  }
  void advanceClock(std::chrono::milliseconds d) override { log.clock.advance(d); }
  std::string logText() const override { return log.text(); }
  std::string path() const { return dir.file("kek.json"); }

  TempDir dir;
  CapturingLogger log;
  ControllableRandom random;
};

std::unique_ptr<KmsHarness> makeLocalHarness() {
  return std::make_unique<LocalHarness>();
}

INSTANTIATE_TEST_SUITE_P(LocalFileKms,
                         KmsContractTest,
                         ::testing::Values(KmsBackend{"LocalFileKms", &makeLocalHarness}),
                         [](const auto& p) { return std::string(p.param.name); });

unsigned fileMode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0);
  return static_cast<unsigned>(st.st_mode) & 07777U;
}

class LocalFileKmsTest : public ::testing::Test {
 protected:
  LocalHarness h;
};

TEST_F(LocalFileKmsTest, CreatesThePrivateKeyFileOnFirstUseAndSaysSo) {
  ASSERT_FALSE(std::filesystem::exists(h.path()));
  auto kms = h.open();
  ASSERT_NE(kms, nullptr);
  EXPECT_EQ(fileMode(h.path()), 0600u);
  EXPECT_EQ(kms->currentVersion().value(), 1u);
  const std::string log = h.logText();
  EXPECT_NE(log.find("kms.kek_file_created"), std::string::npos) << log;
  EXPECT_NE(log.find(h.path()), std::string::npos) << log;
  EXPECT_NE(log.find("0600"), std::string::npos) << log;
  // The key itself is in the file, and nowhere in the log.
  auto content = readFile(h.path());
  auto pos = content.find("\"key\": \"");
  ASSERT_NE(pos, std::string::npos) << content;
  const std::string key_hex = content.substr(pos + 8, 64);
  EXPECT_EQ(log.find(key_hex), std::string::npos);
  // No temporary files are left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(h.dir.path())) {
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(LocalFileKmsTest, TwoFreshKeyringsNeverShareAKey) {
  LocalHarness other;
  auto a = h.open();
  auto b = other.open();
  ASSERT_TRUE(a && b);
  EXPECT_NE(readFile(h.path()), readFile(other.path()));
}

TEST_F(LocalFileKmsTest, HasNoBuiltInDefaultKey) {
  auto kms = LocalFileKms::open(
      {.path = h.path(), .create_if_missing = false}, h.random, h.log.clock, h.log.logger);
  ASSERT_FALSE(kms);
  EXPECT_EQ(kms.error().code, ErrorCode::kNotFound);
  EXPECT_NE(kms.error().client_message.find(h.path()), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(h.path()));
}

TEST_F(LocalFileKmsTest, RefusesAFileThatGroupOrOthersCanAccess) {
  ASSERT_NE(h.open(), nullptr);
  for (unsigned mode : {0640u, 0604u, 0620u, 0602u, 0644u, 0610u}) {
    ASSERT_EQ(::chmod(h.path().c_str(), mode), 0);
    auto kms = LocalFileKms::open({.path = h.path()}, h.random, h.log.clock, h.log.logger);
    ASSERT_FALSE(kms) << modeString(mode);
    const std::string& msg = kms.error().client_message;
    EXPECT_NE(msg.find(h.path()), std::string::npos) << msg;
    EXPECT_NE(msg.find(modeString(mode)), std::string::npos) << msg;
  }
  ASSERT_EQ(::chmod(h.path().c_str(), 0400), 0);  // owner read-only is fine
  EXPECT_NE(h.open(), nullptr);
}

TEST_F(LocalFileKmsTest, RefusesASymlinkedKeyFile) {
  ASSERT_NE(h.open(), nullptr);
  const std::string link = h.dir.file("link.json");
  std::filesystem::create_symlink(h.path(), link);
  auto kms = LocalFileKms::open({.path = link}, h.random, h.log.clock, h.log.logger);
  ASSERT_FALSE(kms);
  EXPECT_NE(kms.error().client_message.find("symbolic link"), std::string::npos);
}

TEST_F(LocalFileKmsTest, RefusesMalformedKeyrings) {
  const std::string path = h.path();
  auto tryContent = [&](const std::string& content) {
    std::filesystem::remove(path);
    writeFile(path, content);
    ::chmod(path.c_str(), 0600);
    return LocalFileKms::open({.path = path}, h.random, h.log.clock, h.log.logger);
  };
  const std::string key(64, 'a');
  EXPECT_FALSE(tryContent("not json"));
  EXPECT_FALSE(tryContent("{}"));
  EXPECT_FALSE(tryContent(
      R"({"format":"livery-kek-keyring","format_version":2,"kek_id":"local","versions":[{"version":1,"key":")" +
      key + R"("}]})"));
  EXPECT_FALSE(tryContent(
      R"({"format":"livery-kek-keyring","format_version":1,"kek_id":"other","versions":[{"version":1,"key":")" +
      key + R"("}]})"));
  EXPECT_FALSE(tryContent(
      R"({"format":"livery-kek-keyring","format_version":1,"kek_id":"local","versions":[]})"));
  EXPECT_FALSE(tryContent(
      R"({"format":"livery-kek-keyring","format_version":1,"kek_id":"local","versions":[{"version":1,"key":"zz"}]})"));
  EXPECT_FALSE(tryContent(
      R"({"format":"livery-kek-keyring","format_version":1,"kek_id":"local","versions":[{"version":0,"key":")" +
      key + R"("}]})"));
  EXPECT_FALSE(tryContent(
      R"({"format":"livery-kek-keyring","format_version":1,"kek_id":"local","versions":[{"version":1,"key":")" +
      key + R"("},{"version":1,"key":")" + key + R"("}]})"));
  EXPECT_FALSE(tryContent(
      R"({"format":"livery-kek-keyring","format_version":1,"kek_id":"local","versions":[{"version":1,"key":")" +
      std::string(64, 'g') + R"("}]})"));
  auto ok = tryContent(
      R"({"format":"livery-kek-keyring","format_version":1,"kek_id":"local","versions":[{"version":3,"key":")" +
      key + R"("}]})");
  ASSERT_TRUE(ok) << ok.error().log_detail;
  EXPECT_EQ((*ok)->currentVersion().value(), 3u);
  // Messages name the file but never echo key material.
  auto bad = tryContent(
      R"({"format":"livery-kek-keyring","format_version":1,"kek_id":"local","versions":[{"version":1,"key":")" +
      std::string(62, 'b') + "zz" + R"("}]})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().client_message.find("bbbbbbbb"), std::string::npos);
  EXPECT_NE(bad.error().client_message.find(path), std::string::npos);
}

TEST_F(LocalFileKmsTest, RotationAndRetirementAreDurableAndKeepTheFilePrivate) {
  auto kms = h.open();
  ASSERT_NE(kms, nullptr);
  ASSERT_EQ(kms->rotate().value(), 2u);
  ASSERT_EQ(kms->rotate().value(), 3u);
  ASSERT_TRUE(kms->retire(1));
  EXPECT_EQ(fileMode(h.path()), 0600u);
  auto reopened = h.open();
  ASSERT_NE(reopened, nullptr);
  auto versions = reopened->versions().value();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].version, 2u);
  EXPECT_EQ(versions[1].version, 3u);
  EXPECT_NE(h.logText().find("kms.kek_rotated"), std::string::npos);
  EXPECT_NE(h.logText().find("kms.kek_retired"), std::string::npos);
}

TEST_F(LocalFileKmsTest, ConcurrentRotationsFromTwoInstancesNeverLoseAVersion) {
  auto a = h.open();
  auto b = h.open();
  ASSERT_TRUE(a && b);
  std::atomic<int> failures{0};
  std::thread ta([&] {
    for (int i = 0; i < 10; ++i) {
      failures += a->rotate() ? 0 : 1;
    }
  });
  std::thread tb([&] {
    for (int i = 0; i < 10; ++i) {
      failures += b->rotate() ? 0 : 1;
    }
  });
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  auto c = h.open();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->versions().value().size(), 21u);
  EXPECT_EQ(c->currentVersion().value(), 21u);
}

// A server next to a CLI that rotates and rewraps: the server meets the new version in a row
// right after its own (re)load, from many threads at once. None of those unwraps may fail.
TEST_F(LocalFileKmsTest, ANewerVersionRotatedElsewhereIsPickedUpAtOnceByConcurrentUnwraps) {
  auto server = h.open();
  auto cli = h.open();
  ASSERT_TRUE(server && cli);
  SecretBytes dek(32);
  dek.data()[0] = 7;
  const CredentialBinding who{"tnt_alpha", "cred_1", "openai"};
  ASSERT_EQ(cli->rotate().value(), 2u);  // no clock advance: within the refresh interval
  auto wrapped = cli->wrap(dek, who, kEnvelopeFormatV1);
  ASSERT_TRUE(wrapped);
  ASSERT_EQ(wrapped->kek_version, 2u);
  const WrappedDekRef ref{wrapped->blob, wrapped->kek_id, wrapped->kek_version};
  constexpr int kThreads = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto r = server->unwrap(ref, who, kEnvelopeFormatV1);
      failures += (r && r->reveal() == dek.reveal()) ? 0 : 1;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server->currentVersion().value(), 2u);
}

// An older version that is gone (retired by another process) is re-read for at most once per
// refresh interval; it never comes back.
TEST_F(LocalFileKmsTest, ARetiredOlderVersionStaysUnavailable) {
  auto server = h.open();
  auto cli = h.open();
  ASSERT_TRUE(server && cli);
  SecretBytes dek(32);
  const CredentialBinding who{"tnt_alpha", "cred_1", "openai"};
  auto old_wrap = server->wrap(dek, who, kEnvelopeFormatV1);
  ASSERT_TRUE(old_wrap);
  ASSERT_TRUE(cli->rotate());
  ASSERT_TRUE(cli->retire(1));
  const WrappedDekRef ref{old_wrap->blob, old_wrap->kek_id, old_wrap->kek_version};
  // The server still holds version 1 in memory until it re-reads the file.
  EXPECT_TRUE(server->unwrap(ref, who, kEnvelopeFormatV1));
  ASSERT_TRUE(server->refresh());
  auto gone = server->unwrap(ref, who, kEnvelopeFormatV1);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().openai_code, kCodeKekUnavailable);
  h.advanceClock(std::chrono::seconds(5));
  EXPECT_FALSE(server->unwrap(ref, who, kEnvelopeFormatV1));
}

TEST_F(LocalFileKmsTest, AFailingRandomGeneratorCreatesNothing) {
  h.random.failing = true;
  auto kms = LocalFileKms::open({.path = h.path()}, h.random, h.log.clock, h.log.logger);
  ASSERT_FALSE(kms);
  EXPECT_FALSE(std::filesystem::exists(h.path()));
}

TEST_F(LocalFileKmsTest, SerializationRoundTrips) {
  LocalFileKms::Keyring ring;
  ring.emplace(4, LocalFileKms::KeyVersion{SecretBytes(32), 1234});
  ring.emplace(9, LocalFileKms::KeyVersion{SecretBytes::copyOf(std::string(32, '\x7f')), 99});
  SecretBytes text = serializeKekFile("local", ring);
  auto parsed = parseKekFile(text, "local", "mem");
  ASSERT_TRUE(parsed) << parsed.error().log_detail;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ(parsed->at(9).key.reveal(), std::string(32, '\x7f'));
  EXPECT_EQ(parsed->at(4).created_at_ms, 1234);
}

}  // namespace
}  // namespace livery::crypto
