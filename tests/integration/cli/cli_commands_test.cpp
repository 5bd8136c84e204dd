// Every administrative command of `livery` as an operator runs it: the happy path, the main
// errors, exit codes (0 ok, 1 operation failed, 2 usage) and what must never be printed.
#include <algorithm>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/control_plane.hpp"
#include "crypto/password.hpp"
#include "integration/cli/cli_fixture.hpp"
#include "storage/stores.hpp"
#include "support/fake_upstream.hpp"

namespace livery {
namespace {

namespace json = boost::json;
using testing::CliEnv;
using testing::CliRun;
using testing::FakeUpstream;
using testing::FakeUpstreamOptions;

std::string str(const json::value& v, std::string_view key) {
  if (!v.is_object() || !v.as_object().contains(key) || !v.at(key).is_string()) {
    return {};
  }
  return std::string(v.at(key).as_string());
}

const json::array& data(const json::value& v) {
  static const json::array kEmpty;  // NOLINT: a read-only fallback for failed commands
  if (!v.is_object() || !v.as_object().contains("data")) {
    return kEmpty;
  }
  return v.at("data").as_array();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- help and usage errors -------------------------------------------------------------------

TEST(CliCommandsTest, HelpListsEveryCommandGroupAndNoKeyOption) {
  CliEnv env;
  auto r = env.run({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* group : {"tenant",
                            "plan",
                            "token",
                            "operator",
                            "key",
                            "credential",
                            "route",
                            "kms",
                            "audit",
                            "usage",
                            "user"}) {
    EXPECT_TRUE(contains(r.out, std::string("  ") + group + " ")) << group << "\n" << r.out;
  }
  auto add = env.run({"credential", "add", "--help"});
  EXPECT_EQ(add.code, 0);
  EXPECT_TRUE(contains(add.out, "--key-file"));
  EXPECT_TRUE(contains(add.out, "--skip-validation"));
  EXPECT_TRUE(contains(add.out, "--data-dir"));
  EXPECT_TRUE(contains(add.out, "--json"));
  EXPECT_FALSE(contains(add.out, "--key ")) << "a key option must not be advertised";
}

TEST(CliCommandsTest, UsageErrorsExitWith2AndSayWhy) {
  CliEnv env;
  auto missing = env.run({"tenant", "create"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_TRUE(contains(missing.err, "slug is required")) << missing.err;
  EXPECT_EQ(env.run({"tenant", "frobnicate"}).code, 2);
  EXPECT_EQ(env.run({"tenant"}).code, 2);
  EXPECT_EQ(env.run({"plan", "create", "pro", "--rpm", "-1"}).code, 2);
  EXPECT_EQ(env.run({"plan", "create", "pro", "--rpm", "lots"}).code, 2);
  auto scope = env.run({"route", "list"});
  EXPECT_EQ(scope.code, 2);
  EXPECT_TRUE(contains(scope.err, "--tenant")) << scope.err;
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  auto expires = env.run({"key", "create", "--tenant", "acme", "--name", "a", "--expires", "soon"});
  EXPECT_EQ(expires.code, 2);
  EXPECT_TRUE(contains(expires.err, "--expires")) << expires.err;
  auto config = env.run({"tenant", "list", "--set", "no.such.key=1"});
  EXPECT_EQ(config.code, 2);
  EXPECT_TRUE(contains(config.err, "no.such.key")) << config.err;
}

// ---- tenants and plans -----------------------------------------------------------------------

TEST(CliCommandsTest, TenantLifecycleFromCreateToDelete) {
  CliEnv env;
  auto created = env.json({"tenant", "create", "acme", "--name", "Acme Agency"});
  auto id = str(created, "id");
  ASSERT_TRUE(id.starts_with("tnt_")) << created;
  EXPECT_EQ(str(created, "display_name"), "Acme Agency");

  auto dup = env.run({"tenant", "create", "acme"});
  EXPECT_EQ(dup.code, 1);
  EXPECT_TRUE(contains(dup.err, "taken")) << dup.err;
  auto bad = env.run({"tenant", "create", "Not_A_Slug"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_TRUE(contains(bad.err, "slug")) << bad.err;

  auto list = env.run({"tenant", "list"});
  EXPECT_EQ(list.code, 0);
  EXPECT_TRUE(contains(list.out, "acme") && contains(list.out, id)) << list.out;
  EXPECT_EQ(str(env.json({"tenant", "show", id}), "slug"), "acme");  // by id as well as slug

  auto suspended = env.json({"tenant", "suspend", "acme", "--reason", "unpaid invoice"});
  EXPECT_EQ(str(suspended, "status"), "suspended");
  EXPECT_EQ(str(suspended, "suspended_reason"), "unpaid invoice");
  auto show = env.run({"tenant", "show", "acme"});
  EXPECT_TRUE(contains(show.out, "suspended (unpaid invoice)")) << show.out;
  EXPECT_EQ(str(env.json({"tenant", "resume", "acme"}), "status"), "active");

  // Deleting asks for the slug: no answer or a wrong one deletes nothing.
  auto no_answer = env.run({"tenant", "delete", "acme"});
  EXPECT_EQ(no_answer.code, 1);
  EXPECT_TRUE(contains(no_answer.err, "--yes")) << no_answer.err;
  EXPECT_EQ(env.run({"tenant", "delete", "acme"}, "other\n").code, 1);
  EXPECT_EQ(env.run({"tenant", "show", "acme"}).code, 0);
  EXPECT_EQ(env.run({"tenant", "delete", "acme"}, "acme\n").code, 0);
  auto gone = env.run({"tenant", "show", "acme"});
  EXPECT_EQ(gone.code, 1);
  EXPECT_TRUE(contains(gone.err, "no tenant 'acme'")) << gone.err;
  ASSERT_EQ(env.run({"tenant", "create", "beta"}).code, 0);
  EXPECT_EQ(env.run({"tenant", "delete", "beta", "--yes"}).code, 0);
  EXPECT_EQ(data(env.json({"tenant", "list"})).size(), 0u);
}

TEST(CliCommandsTest, PlansCarryLimitsAndCannotBeDeletedWhileInUse) {
  CliEnv env;
  auto plan = env.json({"plan",
                        "create",
                        "pro",
                        "--name",
                        "Pro",
                        "--monthly-tokens",
                        "1000000",
                        "--rpm",
                        "600",
                        "--tpm",
                        "200000",
                        "--max-keys",
                        "2",
                        "--feature",
                        "jwt",
                        "--feature",
                        "custom_domains"});
  EXPECT_EQ(plan.at("monthly_token_quota").as_int64(), 1000000);
  EXPECT_EQ(plan.at("features").as_array().size(), 2u);
  // update changes only what it is given.
  auto updated = env.json({"plan", "update", "pro", "--rpm", "60"});
  EXPECT_EQ(updated.at("rpm").as_int64(), 60);
  EXPECT_EQ(updated.at("tpm").as_int64(), 200000);
  EXPECT_EQ(str(updated, "name"), "Pro");
  EXPECT_EQ(data(env.json({"plan", "list"})).size(), 1u);
  EXPECT_EQ(env.json({"plan", "show", "pro"}).at("max_api_keys").as_int64(), 2);

  EXPECT_EQ(env.run({"tenant", "create", "acme", "--plan", "nope"}).code, 1);
  ASSERT_EQ(env.run({"tenant", "create", "acme", "--plan", "pro"}).code, 0);
  auto in_use = env.run({"plan", "delete", "pro"});
  EXPECT_EQ(in_use.code, 1);
  EXPECT_TRUE(contains(in_use.err, "in use")) << in_use.err;

  // The plan's key allowance holds for keys made by the CLI; a tenant override lifts it.
  EXPECT_EQ(env.run({"key", "create", "--tenant", "acme", "--name", "a"}).code, 0);
  EXPECT_EQ(env.run({"key", "create", "--tenant", "acme", "--name", "b"}).code, 0);
  auto third = env.run({"key", "create", "--tenant", "acme", "--name", "c"});
  EXPECT_EQ(third.code, 1);
  EXPECT_TRUE(contains(third.err, "allows 2")) << third.err;
  auto t = env.json({"tenant", "update", "acme", "--max-keys", "3", "--rpm", "10"});
  EXPECT_EQ(t.at("overrides").at("max_api_keys").as_int64(), 3);
  EXPECT_EQ(env.run({"key", "create", "--tenant", "acme", "--name", "c"}).code, 0);

  auto off = env.json({"tenant", "update", "acme", "--no-plan", "--clear-overrides"});
  EXPECT_EQ(str(off, "plan_id"), "");
  EXPECT_TRUE(off.at("overrides").as_object().empty());
  EXPECT_EQ(env.run({"plan", "delete", "pro"}).code, 0);
  EXPECT_EQ(env.run({"plan", "show", "pro"}).code, 1);
}

// ---- operator tokens and API keys ------------------------------------------------------------

TEST(CliCommandsTest, OperatorTokenIsPrintedOnceAuthenticatesAndCanBeRevoked) {
  CliEnv env;
  // The browser tests' form: the token alone on stdout, the note on stderr.
  auto r = env.run({"operator", "token", "create", "--name", "browser-tests"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string token = r.out.substr(0, r.out.find('\n'));
  ASSERT_TRUE(token.starts_with("lvr_op_")) << r.out;
  EXPECT_FALSE(contains(r.err, token));

  auto listed = env.run({"token", "list", "--json"});
  EXPECT_FALSE(contains(listed.out, token)) << "a listing must never show the token";
  auto tokens = data(json::parse(listed.out));
  ASSERT_EQ(tokens.size(), 1u);
  auto id = str(tokens[0], "id");
  EXPECT_EQ(str(tokens[0], "name"), "browser-tests");
  {
    auto core = env.open();
    EXPECT_TRUE(core->control->authenticateOperator(token));
  }
  EXPECT_EQ(env.run({"token", "revoke", id}).code, 0);
  EXPECT_FALSE(data(env.json({"operator", "token", "list"}))[0].at("revoked_at").is_null());
  {
    auto core = env.open();
    EXPECT_FALSE(core->control->authenticateOperator(token));
  }
  EXPECT_EQ(env.run({"token", "revoke", "opt_nosuchtoken"}).code, 1);
  EXPECT_EQ(env.run({"token", "create"}).code, 2);  // --name is required
}

TEST(CliCommandsTest, ApiKeysAreShownOnceListedByLastFourAndRevoked) {
  CliEnv env;
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  auto live = env.json({"key",        "create", "--tenant", "acme",   "--name",           "app",
                        "--scope",    "gpt-4o", "--scope",  "claude", "--expires",        "30d",
                        "--rpm",      "10",     "--tpm",    "1000",   "--monthly-tokens", "50000",
                        "--end-user", "user-7"});
  auto secret = str(live, "key");
  ASSERT_TRUE(secret.starts_with("lvr_live_")) << live;
  EXPECT_EQ(str(live, "last4"), secret.substr(secret.size() - 4));
  EXPECT_EQ(live.at("scopes").as_array().size(), 2u);
  EXPECT_EQ(live.at("limits").at("rpm").as_int64(), 10);
  EXPECT_EQ(str(live, "end_user"), "user-7");
  EXPECT_FALSE(live.at("expires_at").is_null());

  auto plain = env.run({"key", "create", "--tenant", "acme", "--name", "ci", "--env", "test"});
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_TRUE(plain.out.starts_with("lvr_test_")) << plain.out;

  auto list = env.run({"key", "list", "--tenant", "acme"});
  EXPECT_EQ(list.code, 0);
  EXPECT_FALSE(contains(list.out, secret)) << "a listing must never show a key";
  EXPECT_TRUE(contains(list.out, secret.substr(secret.size() - 4)));
  auto id = str(live, "id");
  EXPECT_EQ(env.run({"key", "revoke", "--tenant", "acme", id}).code, 0);
  auto keys = data(env.json({"key", "list", "--tenant", "acme"}));
  ASSERT_EQ(keys.size(), 2u);
  auto revoked = std::find_if(
      keys.begin(), keys.end(), [&](const json::value& k) { return str(k, "id") == id; });
  ASSERT_NE(revoked, keys.end());
  EXPECT_FALSE(revoked->at("revoked_at").is_null());

  // Another tenant's key id behaves like an unknown one.
  ASSERT_EQ(env.run({"tenant", "create", "beta"}).code, 0);
  auto other = data(env.json({"key", "list", "--tenant", "acme"}));
  auto cross = env.run({"key", "revoke", "--tenant", "beta", str(other[1], "id")});
  EXPECT_EQ(cross.code, 1);
  EXPECT_EQ(env.run({"key", "create", "--tenant", "nope", "--name", "x"}).code, 1);
  auto past = env.run(
      {"key", "create", "--tenant", "acme", "--name", "x", "--expires", "2020-01-01T00:00:00Z"});
  EXPECT_EQ(past.code, 1);
  EXPECT_TRUE(contains(past.err, "future")) << past.err;
}

// ---- credentials -----------------------------------------------------------------------------

class CliCredentialTest : public ::testing::Test {
 protected:
  static constexpr const char* kCanary = "sk-canary-7f3a9c1e5b2d8e4f6a0b";
  static FakeUpstreamOptions options() {
    FakeUpstreamOptions o;
    o.openai_keys = {kCanary, "sk-second-key-0000aaaa"};
    return o;
  }
  std::string baseUrl() const { return upstream.baseUrl() + "/v1"; }

  FakeUpstream upstream{options()};
  CliEnv env{upstream.port()};
};

TEST_F(CliCredentialTest, AddValidatesTheKeyWithTheProviderAndShowsOnlyAFingerprint) {
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  auto added = env.run({"credential",
                        "add",
                        "--tenant",
                        "acme",
                        "--provider",
                        "openai",
                        "--label",
                        "prod",
                        "--base-url",
                        baseUrl(),
                        "--json"},
                       std::string(kCanary) + "\n");
  ASSERT_EQ(added.code, 0) << added.err;
  auto c = json::parse(added.out);
  EXPECT_TRUE(str(c, "id").starts_with("cred_"));
  EXPECT_EQ(str(c, "health"), "ok");
  EXPECT_EQ(str(c, "fingerprint"), "sk-…6a0b");
  // The probe reached the provider with the key, once.
  auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/v1/models");
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kCanary);

  auto list = env.run({"credential", "list", "--tenant", "acme"});
  EXPECT_EQ(list.code, 0);
  EXPECT_TRUE(contains(list.out, "prod") && contains(list.out, "ok")) << list.out;
  for (const auto& r : {added, list}) {
    EXPECT_FALSE(contains(r.out + r.err, kCanary));
  }
  // Nothing in the data directory holds the key in clear (database, WAL, KEK file, pepper).
  for (const auto& entry : std::filesystem::directory_iterator(env.dataDir())) {
    EXPECT_FALSE(testing::fileContains(entry.path().string(), kCanary)) << entry.path();
  }
  // And it decrypts to exactly what was typed (no trailing newline).
  auto core = env.open();
  auto tenant = core->control->findTenant("acme");
  ASSERT_TRUE(tenant);
  auto key = core->control->openCredential(tenant->id, str(c, "id"));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->reveal(), kCanary);
}

TEST_F(CliCredentialTest, AFailedValidationStoresNothingAndSaysWhy) {
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  auto refused = env.run(
      {"credential", "add", "--tenant", "acme", "--provider", "openai", "--base-url", baseUrl()},
      "sk-wrong-key-123456\n");
  EXPECT_EQ(refused.code, 1);
  EXPECT_TRUE(contains(refused.err, "refused the key")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "Nothing was stored")) << refused.err;
  EXPECT_FALSE(contains(refused.err, "sk-wrong-key-123456"));

  // Port 1 on loopback: nothing listens there.
  CliEnv closed(1);
  ASSERT_EQ(closed.run({"tenant", "create", "acme"}).code, 0);
  auto unreachable = closed.run({"credential",
                                 "add",
                                 "--tenant",
                                 "acme",
                                 "--provider",
                                 "openai",
                                 "--base-url",
                                 "http://127.0.0.1:1/v1"},
                                kCanary);
  EXPECT_EQ(unreachable.code, 1);
  EXPECT_TRUE(contains(unreachable.err, "could not reach the provider")) << unreachable.err;

  // The outbound guard applies to validation like to requests: plain http to a host that is not
  // allowed is refused before any connection.
  CliEnv guarded;
  ASSERT_EQ(guarded.run({"tenant", "create", "acme"}).code, 0);
  auto guard = guarded.run(
      {"credential", "add", "--tenant", "acme", "--provider", "openai", "--base-url", baseUrl()},
      kCanary);
  EXPECT_EQ(guard.code, 1);
  EXPECT_TRUE(contains(guard.err, "allow_http_hosts")) << guard.err;
  EXPECT_EQ(upstream.requestCount(), 1u);  // only the refused probe above reached it

  for (const auto* e : {&env, &closed, &guarded}) {
    EXPECT_EQ(data(e->json({"credential", "list", "--tenant", "acme"})).size(), 0u);
  }
  // --skip-validation stores it unchecked (status unknown).
  auto skipped = env.json({"credential",
                           "add",
                           "--tenant",
                           "acme",
                           "--provider",
                           "openai",
                           "--base-url",
                           baseUrl(),
                           "--skip-validation"},
                          "sk-wrong-key-123456");
  EXPECT_EQ(str(skipped, "health"), "unknown");
}

TEST_F(CliCredentialTest, KeysNeverComeFromTheCommandLine) {
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  auto argv_key =
      env.run({"credential", "add", "--tenant", "acme", "--provider", "openai", "--key", kCanary});
  EXPECT_EQ(argv_key.code, 2);
  EXPECT_TRUE(contains(argv_key.err, "--key-file")) << argv_key.err;
  EXPECT_FALSE(contains(argv_key.err + argv_key.out, kCanary));
  auto empty = env.run({"credential", "add", "--tenant", "acme", "--provider", "openai"});
  EXPECT_EQ(empty.code, 1);
  EXPECT_TRUE(contains(empty.err, "no key given")) << empty.err;
  auto unknown = env.run({"credential", "add", "--tenant", "acme", "--provider", "mystery"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_EQ(upstream.requestCount(), 0u);

  // --key-file: the file's content, trailing newline removed.
  testing::TempDir dir;
  testing::writeFile(dir.file("key"), std::string(kCanary) + "\r\n");
  auto from_file = env.json({"credential",
                             "add",
                             "--tenant",
                             "acme",
                             "--provider",
                             "openai",
                             "--base-url",
                             baseUrl(),
                             "--key-file",
                             dir.file("key")});
  EXPECT_EQ(str(from_file, "health"), "ok");
}

// On a terminal the key is typed at a prompt with the echo off: what the terminal shows never
// contains it.
TEST_F(CliCredentialTest, ATerminalPromptReadsTheKeyWithoutEchoingIt) {
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  std::vector<std::string> args{testing::liveryBinary(),
                                "credential",
                                "add",
                                "--tenant",
                                "acme",
                                "--provider",
                                "openai",
                                "--skip-validation",
                                "--config",
                                env.configFile(),
                                "--data-dir",
                                env.dataDir()};
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  int terminal = -1;
  pid_t pid = forkpty(&terminal, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  // Everything the terminal displays, until the child closes it (EIO) or 30 s pass.
  std::string screen;
  bool typed = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{terminal, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[512];
      auto n = ::read(terminal, buf, sizeof buf);
      if (n <= 0) {
        break;
      }
      screen.append(buf, static_cast<std::size_t>(n));
    }
    if (!typed && contains(screen, "(input hidden): ")) {
      std::string line = std::string(kCanary) + "\n";
      ASSERT_EQ(::write(terminal, line.data(), line.size()), static_cast<ssize_t>(line.size()));
      typed = true;
    }
  }
  ::close(terminal);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << screen;
  EXPECT_TRUE(typed) << screen;
  EXPECT_TRUE(contains(screen, "Added credential")) << screen;
  EXPECT_FALSE(contains(screen, kCanary)) << screen;
  auto core = env.open();
  auto tenant = core->control->findTenant("acme");
  auto creds = core->stores->credentials.list(tenant->id);
  ASSERT_TRUE(creds);
  ASSERT_EQ(creds->size(), 1u);
  auto key = core->control->openCredential(tenant->id, (*creds)[0].id);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->reveal(), kCanary);
}

TEST_F(CliCredentialTest, ReplaceChecksTheNewKeyAndDeleteRemovesIt) {
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  auto c = env.json(
      {"credential", "add", "--tenant", "acme", "--provider", "openai", "--base-url", baseUrl()},
      kCanary);
  auto id = str(c, "id");
  ASSERT_FALSE(id.empty());

  auto refused = env.run({"credential", "replace", "--tenant", "acme", id}, "sk-not-accepted");
  EXPECT_EQ(refused.code, 1);
  EXPECT_TRUE(contains(refused.err, "not replaced")) << refused.err;
  auto replaced =
      env.json({"credential", "replace", "--tenant", "acme", id}, "sk-second-key-0000aaaa");
  EXPECT_TRUE(str(replaced, "fingerprint").ends_with("aaaa")) << replaced;
  EXPECT_EQ(str(replaced, "health"), "ok");

  auto check = env.json({"credential", "check", "--tenant", "acme", id});
  EXPECT_TRUE(check.at("ok").as_bool());
  EXPECT_EQ(check.at("models").as_int64(), 3);
  {
    auto core = env.open();
    auto tenant = core->control->findTenant("acme");
    auto key = core->control->openCredential(tenant->id, id);
    ASSERT_TRUE(key);
    EXPECT_EQ(key->reveal(), "sk-second-key-0000aaaa");
  }
  // A key the provider stops accepting fails the check and is recorded as refused.
  upstream.setDefault("/v1/models", testing::FakeBehaviour::withStatus(401));
  auto failing = env.run({"credential", "check", "--tenant", "acme", id});
  EXPECT_EQ(failing.code, 1);
  EXPECT_EQ(str(data(env.json({"credential", "list", "--tenant", "acme"}))[0], "health"),
            "refused");

  ASSERT_EQ(env.run({"tenant", "create", "beta"}).code, 0);
  EXPECT_EQ(env.run({"credential", "delete", "--tenant", "beta", id}).code, 1);
  EXPECT_EQ(env.run({"credential", "delete", "--tenant", "acme", id}).code, 0);
  EXPECT_EQ(data(env.json({"credential", "list", "--tenant", "acme"})).size(), 0u);
}

// ---- routes ----------------------------------------------------------------------------------

TEST_F(CliCredentialTest, RoutesMapModelsToTheTenantsOwnCredentials) {
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  ASSERT_EQ(env.run({"tenant", "create", "beta"}).code, 0);
  auto cred = str(
      env.json(
          {"credential", "add", "--tenant", "acme", "--provider", "openai", "--skip-validation"},
          kCanary),
      "id");
  auto ollama = str(env.json({"credential",
                              "add",
                              "--tenant",
                              "acme",
                              "--provider",
                              "ollama",
                              "--base-url",
                              "http://127.0.0.1:11434",
                              "--skip-validation"},
                             "ollama-has-no-key"),
                    "id");
  auto route = env.json({"route",
                         "set",
                         "--tenant",
                         "acme",
                         "smart",
                         "--deployment",
                         "openai:gpt-4o:" + cred,
                         "--deployment",
                         "ollama:llama3.2:latest:" + ollama + ":1:3"});
  auto ds = route.at("deployments").as_array();
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(str(ds[0], "model"), "gpt-4o");
  EXPECT_EQ(str(ds[1], "model"), "llama3.2:latest");  // a model name with ':' survives
  EXPECT_EQ(str(ds[1], "credential_id"), ollama);
  EXPECT_EQ(ds[1].at("priority").as_int64(), 1);
  EXPECT_EQ(ds[1].at("weight").as_int64(), 3);

  // Several credentials of one provider behind one model: unnamed deployments are numbered,
  // and a deployment can be named.
  auto balanced = env.json({"route",
                            "set",
                            "--tenant",
                            "acme",
                            "balanced",
                            "--deployment",
                            "openai:gpt-4o:" + cred,
                            "--deployment",
                            "openai:gpt-4o:" + cred,
                            "--deployment",
                            "backup=openai:gpt-4o-mini:" + cred + ":9"});
  auto bd = balanced.at("deployments").as_array();
  ASSERT_EQ(bd.size(), 3u);
  EXPECT_EQ(str(bd[0], "name"), "openai:gpt-4o");
  EXPECT_EQ(str(bd[1], "name"), "openai:gpt-4o#2");
  EXPECT_EQ(str(bd[2], "name"), "backup");
  EXPECT_EQ(bd[2].at("priority").as_int64(), 9);
  ASSERT_EQ(env.run({"route", "delete", "--tenant", "acme", "balanced"}).code, 0);

  auto def =
      env.json({"route", "set", "--default", "cheap", "--deployment", "openai:gpt-4o-mini:5"});
  EXPECT_EQ(def.at("deployments").as_array()[0].at("priority").as_int64(), 5);
  auto routes = data(env.json({"route", "list", "--tenant", "acme"}));
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_FALSE(routes[0].at("inherited").as_bool());
  EXPECT_TRUE(routes[1].at("inherited").as_bool());
  EXPECT_EQ(data(env.json({"route", "list", "--default"})).size(), 1u);

  // Another tenant cannot route to acme's credential.
  auto cross = env.run(
      {"route", "set", "--tenant", "beta", "gpt-4o", "--deployment", "openai:gpt-4o:" + cred});
  EXPECT_EQ(cross.code, 1);
  EXPECT_TRUE(contains(cross.err, "no credential")) << cross.err;
  auto malformed =
      env.run({"route", "set", "--tenant", "acme", "gpt-4o", "--deployment", "openai"});
  EXPECT_EQ(malformed.code, 2);

  EXPECT_EQ(env.run({"route", "delete", "--tenant", "acme", "smart"}).code, 0);
  EXPECT_EQ(env.run({"route", "delete", "--tenant", "acme", "smart"}).code, 1);
  EXPECT_EQ(data(env.json({"route", "list", "--tenant", "acme"})).size(), 1u);
}

// ---- usage, audit, users ---------------------------------------------------------------------

TEST(CliCommandsTest, UsageSumsTheLedgerByTheRequestedGroup) {
  CliEnv env;
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  ASSERT_EQ(env.run({"tenant", "create", "beta"}).code, 0);
  {
    auto core = env.open();
    auto acme = core->control->findTenant("acme");
    auto beta = core->control->findTenant("beta");
    ASSERT_TRUE(acme && beta);
    auto rec = [](std::string id,
                  std::string tenant,
                  std::string model,
                  std::string user,
                  std::uint64_t in,
                  std::uint64_t out,
                  storage::Millis at) {
      storage::UsageRecord r;
      r.request_id = std::move(id);
      r.tenant_id = std::move(tenant);
      r.model = std::move(model);
      r.end_user = std::move(user);
      r.prompt_tokens = in;
      r.completion_tokens = out;
      r.status = 200;
      r.outcome = "ok";
      r.cost_micro_usd = static_cast<std::int64_t>(in + out);
      r.created_at = at;
      return r;
    };
    const storage::Millis nov1 = 1793491200000;  // 2026-11-01T00:00:00Z
    const storage::Millis day = 86'400'000;
    std::vector<storage::UsageRecord> records{
        rec("r1", acme->id, "gpt-4o", "u1", 10, 5, nov1 + 1000),
        rec("r2", acme->id, "gpt-4o", "u2", 20, 10, nov1 + day + 1000),
        rec("r3", acme->id, "claude", "=cmd()", 1, 1, nov1 + day + 2000),
        rec("r4", beta->id, "gpt-4o", "u9", 100, 100, nov1 + 2 * day)};
    ASSERT_TRUE(core->stores->usage.insertBatch(records));
  }
  auto by_tenant = data(env.json({"usage"}));
  ASSERT_EQ(by_tenant.size(), 2u);
  std::map<std::string, std::int64_t> totals;
  for (const auto& t : by_tenant) {
    totals[str(t, "label")] = t.at("total_tokens").as_int64();
  }
  EXPECT_EQ(totals["acme"], 47);
  EXPECT_EQ(totals["beta"], 200);

  auto by_model = data(env.json({"usage", "--tenant", "acme", "--group-by", "model"}));
  ASSERT_EQ(by_model.size(), 2u);
  EXPECT_EQ(str(by_model[1], "key"), "gpt-4o");
  EXPECT_EQ(by_model[1].at("requests").as_int64(), 2);

  auto window = data(env.json({"usage",
                               "--tenant",
                               "acme",
                               "--from",
                               "2026-11-02",
                               "--to",
                               "2026-11-03T00:00:00Z",
                               "--group-by",
                               "day"}));
  ASSERT_EQ(window.size(), 1u);
  EXPECT_EQ(str(window[0], "label"), "2026-11-02T00:00:00Z");
  EXPECT_EQ(window[0].at("total_tokens").as_int64(), 32);

  // CSV, with a client-supplied value that a spreadsheet would run as a formula neutralised.
  auto csv = env.run({"usage", "--tenant", "acme", "--group-by", "user", "--csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_TRUE(csv.out.starts_with("user,label,requests,prompt_tokens")) << csv.out;
  EXPECT_TRUE(contains(csv.out, "'=cmd()")) << csv.out;
  EXPECT_FALSE(contains(csv.out, "\n=cmd()")) << csv.out;
  EXPECT_EQ(env.run({"usage", "--group-by", "week"}).code, 2);
  EXPECT_EQ(env.run({"usage", "--from", "yesterday"}).code, 2);
}

TEST(CliCommandsTest, AuditVerifyReportsATamperedRowAndExits1) {
  CliEnv env;
  ASSERT_EQ(env.run({"plan", "create", "pro"}).code, 0);
  ASSERT_EQ(env.run({"tenant", "create", "acme", "--plan", "pro"}).code, 0);
  ASSERT_EQ(env.run({"tenant", "suspend", "acme", "--reason", "abuse"}).code, 0);
  ASSERT_EQ(env.run({"tenant", "resume", "acme"}).code, 0);
  auto ok = env.run({"audit", "verify"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(contains(ok.out, "4 entries")) << ok.out;

  auto entries = data(env.json({"audit", "list", "--tenant", "acme"}));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(str(entries[1], "action"), "tenant.suspended");
  EXPECT_EQ(str(entries[1], "actor"), "cli");
  auto newest = data(env.json({"audit", "list", "--limit", "2"}));
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[1].at("seq").as_int64(), 4);
  auto after = data(env.json({"audit", "list", "--after", "1", "--limit", "1"}));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].at("seq").as_int64(), 2);

  // Someone with write access to the database rewrites history: entry 3 (the suspension)
  // now says something else.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(env.dbPath().c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  auto rc = sqlite3_exec(db,
                         "UPDATE audit_log SET details_json = '{\"reason\":\"routine\"}' "
                         "WHERE seq = 3",
                         nullptr,
                         nullptr,
                         &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);

  auto broken = env.run({"audit", "verify"});
  EXPECT_EQ(broken.code, 1);
  EXPECT_TRUE(contains(broken.err, "seq 3")) << broken.err;
  EXPECT_TRUE(contains(broken.err, "edited")) << broken.err;
  auto as_json = env.run({"audit", "verify", "--json"});
  EXPECT_EQ(as_json.code, 1);
  auto v = json::parse(as_json.out);
  EXPECT_FALSE(v.at("ok").as_bool());
  EXPECT_EQ(v.at("first_broken_seq").as_int64(), 3);
}

TEST(CliCommandsTest, UserCreateStoresOnlyAnArgon2HashOfThePassword) {
  CliEnv env;
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  const std::string password = "correct horse battery staple";
  auto admin = env.json({"user", "create", "--tenant", "acme", "--email", "Ann@Example.com"},
                        password + "\n");
  EXPECT_EQ(str(admin, "email"), "ann@example.com");
  EXPECT_EQ(str(admin, "kind"), "admin");
  EXPECT_EQ(str(admin, "role"), "admin");
  auto member = env.json({"user",
                          "create",
                          "--tenant",
                          "acme",
                          "--email",
                          "bob@example.com",
                          "--end-user",
                          "--name",
                          "Bob"},
                         "another long password");
  EXPECT_EQ(str(member, "kind"), "end_user");
  EXPECT_EQ(str(member, "role"), "member");

  auto dup = env.run({"user", "create", "--tenant", "acme", "--email", "ann@example.com"},
                     "yet another password");
  EXPECT_EQ(dup.code, 1);
  EXPECT_TRUE(contains(dup.err, "already")) << dup.err;
  auto short_pw = env.run({"user", "create", "--tenant", "acme", "--email", "c@example.com"}, "x");
  EXPECT_EQ(short_pw.code, 1);
  auto bad_email = env.run({"user", "create", "--tenant", "acme", "--email", "nobody"},
                           "a long enough password");
  EXPECT_EQ(bad_email.code, 1);
  EXPECT_EQ(data(env.json({"user", "list", "--tenant", "acme"})).size(), 2u);
  EXPECT_EQ(data(env.json({"user", "list", "--tenant", "acme", "--end-user"})).size(), 1u);

  auto core = env.open();
  auto tenant = core->control->findTenant("acme");
  auto stored = core->stores->users.findByEmail(tenant->id, "admin", "ann@example.com");
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->password_hash.starts_with("$argon2id$")) << stored->password_hash;
  auto check = core->passwords->verify(stored->password_hash, SecretBytes::copyOf(password));
  ASSERT_TRUE(check);
  EXPECT_TRUE(check->match);
  EXPECT_FALSE(testing::fileContains(env.dbPath(), password));
  auto audit = data(env.json({"audit", "list", "--tenant", "acme"}));
  EXPECT_EQ(str(audit.back(), "action"), "user.created");
  EXPECT_FALSE(contains(json::serialize(audit), "bob@example.com"));
}

// ---- KMS (offline) ---------------------------------------------------------------------------

TEST(CliCommandsTest, KmsRotateRewrapRetireWithStatusInBetween) {
  CliEnv env;
  ASSERT_EQ(env.run({"tenant", "create", "acme"}).code, 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(env.run({"credential",
                       "add",
                       "--tenant",
                       "acme",
                       "--provider",
                       "openai",
                       "--skip-validation"},
                      "sk-key-number-" + std::to_string(i))
                  .code,
              0);
  }
  auto rows = [&](std::uint32_t version) -> std::int64_t {
    auto status = env.json({"kms", "status"});  // outlives the loop over its rows
    for (const auto& v : data(status)) {
      if (v.at("version").as_int64() == version) {
        return v.at("rows").as_int64();
      }
    }
    return -1;
  };
  EXPECT_EQ(rows(1), 3);
  auto rotated = env.json({"kms", "rotate"});
  EXPECT_EQ(rotated.at("version").as_int64(), 2);
  EXPECT_EQ(rows(1), 3);
  EXPECT_EQ(rows(2), 0);

  auto refused = env.run({"kms", "retire", "1"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_TRUE(contains(refused.err, "still protects 3")) << refused.err;
  EXPECT_EQ(env.run({"kms", "retire", "2"}).code, 1);  // the current version

  auto rewrap = env.run({"kms", "rewrap"});
  ASSERT_EQ(rewrap.code, 0) << rewrap.err;
  EXPECT_TRUE(contains(rewrap.err, "rewrap: 3 rewrapped")) << rewrap.err;
  EXPECT_EQ(rows(1), 0);
  EXPECT_EQ(rows(2), 3);
  auto again = env.json({"kms", "rewrap"});  // idempotent
  EXPECT_EQ(again.at("rewrapped").as_int64(), 0);
  EXPECT_EQ(env.run({"kms", "retire", "1"}).code, 0);
  EXPECT_EQ(rows(1), -1);
  auto verify = env.json({"kms", "verify"});
  EXPECT_TRUE(verify.at("ok").as_bool());
  EXPECT_EQ(verify.at("decrypted").as_int64(), 3);
  auto actions = json::serialize(env.json({"audit", "list"}));
  for (const char* a : {"kek.rotated", "kek.rewrapped", "kek.retired"}) {
    EXPECT_TRUE(contains(actions, a)) << a;
  }
}

}  // namespace
}  // namespace livery
