#include "storage/codec.hpp"

#include <gtest/gtest.h>

namespace livery::storage {
namespace {

TEST(CodecTest, StringListsRoundTrip) {
  const std::vector<std::string> items{"gpt-4o", "claude \"sonnet\"", "", "ünï"};
  auto decoded = decodeStringList(encodeStringList(items));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, items);
  EXPECT_EQ(encodeStringList({}), "[]");
  ASSERT_TRUE(decodeStringList("[]"));
  EXPECT_TRUE(decodeStringList("[]")->empty());
}

TEST(CodecTest, MalformedStringListIsAnError) {
  EXPECT_FALSE(decodeStringList("[1,2]"));
  EXPECT_FALSE(decodeStringList("{\"a\":1}"));
  EXPECT_FALSE(decodeStringList("[\"a\""));
}

TEST(CodecTest, DeploymentsRoundTrip) {
  std::vector<Deployment> ds{
      {.name = "openai-gpt-4o",
       .provider = "openai",
       .model = "gpt-4o",
       .credential_id = "cred_1",
       .priority = 0,
       .weight = 3,
       .max_context_tokens = 128000,
       .rpm = 500},
      {.name = "local", .provider = "ollama", .model = "llama3", .priority = 2}};
  auto decoded = decodeDeployments(encodeDeployments(ds));
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].name, "openai-gpt-4o");
  EXPECT_EQ((*decoded)[0].credential_id, "cred_1");
  EXPECT_EQ((*decoded)[0].weight, 3);
  EXPECT_EQ((*decoded)[0].max_context_tokens, 128000u);
  EXPECT_EQ((*decoded)[0].rpm, 500u);
  EXPECT_EQ((*decoded)[1].provider, "ollama");
  EXPECT_EQ((*decoded)[1].priority, 2);
  EXPECT_FALSE(decodeDeployments("not json"));
}

TEST(CodecTest, EnumsRoundTripThroughText) {
  for (auto v : {TenantStatus::kActive, TenantStatus::kSuspended}) {
    EXPECT_EQ(parseTenantStatus(toString(v)), v);
  }
  for (auto v : {CredentialHealth::kUnknown,
                 CredentialHealth::kOk,
                 CredentialHealth::kRefused,
                 CredentialHealth::kUnreachable}) {
    EXPECT_EQ(parseCredentialHealth(toString(v)), v);
  }
  for (auto v : {DomainStatus::kPending, DomainStatus::kVerified, DomainStatus::kActive}) {
    EXPECT_EQ(parseDomainStatus(toString(v)), v);
  }
  for (auto v : {PromptStatus::kDraft, PromptStatus::kActive, PromptStatus::kRetired}) {
    EXPECT_EQ(parsePromptStatus(toString(v)), v);
  }
  for (auto v : {UserRole::kOwner, UserRole::kAdmin, UserRole::kMember}) {
    EXPECT_EQ(parseUserRole(toString(v)), v);
  }
  EXPECT_FALSE(parseTenantStatus("deleted"));
}

TEST(CodecTest, Sha256MatchesTheFips180Vector) {
  // FIPS 180-2, appendix B.1: SHA-256("abc").
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::vector<unsigned char> bytes{0x00, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(toHex(bytes), "000fa0ff");
}

}  // namespace
}  // namespace livery::storage
