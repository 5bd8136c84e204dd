#include "api/json_model.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace livery::api {
namespace {

TEST(JsonModelTest, ApiKeysShowLastFourAndNeverTheHash) {
  storage::ApiKey k;
  k.id = "key_1";
  k.name = "prod";
  k.hash = {0xde, 0xad, 0xbe, 0xef};
  k.last4 = "wxyz";
  auto text = serialize(toJson(k));
  EXPECT_NE(text.find("\"last4\":\"wxyz\""), std::string::npos);
  EXPECT_EQ(text.find("hash"), std::string::npos);
}

TEST(JsonModelTest, CredentialsShowTheFingerprintAndNeverTheEnvelope) {
  storage::Credential c;
  c.id = "cred_1";
  c.fingerprint = "sk-\u2026abcd";
  c.envelope.ciphertext = {1, 2, 3};
  c.envelope.wrapped_dek = {4, 5, 6};
  auto text = serialize(toJson(c));
  EXPECT_NE(text.find("abcd"), std::string::npos);
  EXPECT_EQ(text.find("ciphertext"), std::string::npos);
  EXPECT_EQ(text.find("wrapped"), std::string::npos);
  EXPECT_EQ(text.find("nonce"), std::string::npos);
}

TEST(JsonModelTest, UsersNeverCarryPasswordHashes) {
  storage::User u;
  u.email = "a@b.c";
  u.password_hash = "$argon2id$v=19$secret";
  EXPECT_EQ(serialize(toJson(u)).find("argon2"), std::string::npos);
}

TEST(BodyReaderTest, RejectsUnknownFieldsAndWrongTypes) {
  auto r = BodyReader::parse(R"({"slug":"acme","diplay_name":"x"})");
  ASSERT_TRUE(r);
  auto allowed = r->allowOnly({"slug", "display_name"});
  ASSERT_FALSE(allowed);
  EXPECT_EQ(allowed.error().param, "diplay_name");
  auto bad = BodyReader::parse(R"({"slug":5})");
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->requiredString("slug"));
  EXPECT_FALSE(BodyReader::parse("[1,2]"));
  EXPECT_FALSE(BodyReader::parse("{nope"));
}

TEST(BodyReaderTest, ReadsTypedFieldsWithBounds) {
  auto r = BodyReader::parse(R"({"n":5,"b":true,"l":["a","b"],"s":"hi"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->optionalInt("n", 0, 10).value(), 5);
  EXPECT_FALSE(r->optionalInt("n", 0, 4));
  EXPECT_EQ(r->optionalBool("b").value(), true);
  EXPECT_EQ(r->optionalStringList("l").value()->size(), 2u);
  EXPECT_EQ(*r->optionalString("s").value(), "hi");
  EXPECT_FALSE(r->optionalString("s", 1));
  EXPECT_FALSE(r->optionalString("missing").value());
}

TEST(JsonModelTest, DeploymentsAreValidatedAndNamed) {
  auto ok = deploymentsFromJson(boost::json::parse(
      R"([{"provider":"openai","model":"gpt-4o","credential_id":"cred_1"},
          {"provider":"anthropic","model":"claude","credential_id":"cred_2","priority":5}])"));
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].name, "openai:gpt-4o");
  EXPECT_EQ((*ok)[0].priority, 0);
  EXPECT_EQ((*ok)[1].priority, 5);
  EXPECT_FALSE(deploymentsFromJson(boost::json::parse(R"([{"provider":"openai"}])")));
  EXPECT_FALSE(deploymentsFromJson(boost::json::parse(R"([])")));
  EXPECT_FALSE(deploymentsFromJson(
      boost::json::parse(R"([{"provider":"o","model":"m","credential_id":"c","bogus":1}])")));
}

TEST(ValidationTest, SlugsEmailsAndModels) {
  EXPECT_TRUE(validateSlug("acme-2"));
  EXPECT_FALSE(validateSlug("A"));
  EXPECT_FALSE(validateSlug("-acme"));
  EXPECT_FALSE(validateSlug("acme.com"));
  EXPECT_TRUE(validateEmail("ops@agency.example"));
  EXPECT_FALSE(validateEmail("no-at-sign"));
  EXPECT_FALSE(validateEmail("a@b"));
  EXPECT_TRUE(validateModelName("gpt-4o-2024-08-06"));
  EXPECT_FALSE(validateModelName("gpt 4o"));
  EXPECT_FALSE(validateDisplayName("display_name", ""));
  EXPECT_TRUE(validateDisplayName("display_name", "<script>alert(1)</script>"));  // stored as text
}

}  // namespace
}  // namespace livery::api
