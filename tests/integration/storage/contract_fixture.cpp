#include "integration/storage/contract_fixture.hpp"

#include <fmt/format.h>

#include "core/ids.hpp"
#include "storage/postgres/pg_database.hpp"
#include "storage/sqlite/sqlite_database.hpp"
#include "support/services.hpp"
#include "support/temp_dir.hpp"

namespace livery::storage::contract {

std::string backendName(const ::testing::TestParamInfo<BackendKind>& info) {
  return info.param == BackendKind::kSqlite ? "Sqlite" : "Postgres";
}

namespace {

constexpr std::size_t kPool = 6;

class SqliteBackend final : public Backend {
 public:
  SqliteBackend(const Clock& clock, bool run_migrations) : clock_(clock) {
    db_ = must(SqliteDatabase::open(options(run_migrations, kPool), clock_), "open sqlite");
  }
  Database& db() override { return *db_; }
  Result<std::unique_ptr<Database>> openAnother(bool run_migrations, std::size_t pool) override {
    auto db = SqliteDatabase::open(options(run_migrations, pool), clock_);
    if (!db) {
      return db.error();
    }
    return std::unique_ptr<Database>(std::move(*db));
  }

 private:
  SqliteOptions options(bool run_migrations, std::size_t pool) const {
    return SqliteOptions{.path = dir_.file("livery.db"),
                         .pool = {.max_connections = pool},
                         .run_migrations = run_migrations};
  }

  const Clock& clock_;
  testing::TempDir dir_;
  std::unique_ptr<SqliteDatabase> db_;
};

class PgBackend final : public Backend {
 public:
  PgBackend(std::string url, const Clock& clock, bool run_migrations)
      : url_(std::move(url)), clock_(clock) {
    schema_ = "lvt_" + randomId("s").substr(2);
    PgOptions admin;
    admin.url = SecretBytes::copyOf(url_);
    admin.run_migrations = false;
    admin.pool = {.max_connections = 1};
    admin_ = must(PgDatabase::open(std::move(admin), clock_), "open postgres (admin)");
    must(admin_->withConnection([&](Connection& c) {
      return c.execScript(fmt::format("CREATE SCHEMA \"{}\"", schema_));
    }),
         "create schema");
    db_ = must(openPg(run_migrations, kPool), "open postgres");
  }
  ~PgBackend() override {
    db_.reset();
    if (admin_) {
      (void)admin_->withConnection([&](Connection& c) {
        return c.execScript(fmt::format("DROP SCHEMA IF EXISTS \"{}\" CASCADE", schema_));
      });
    }
  }
  Database& db() override { return *db_; }
  Result<std::unique_ptr<Database>> openAnother(bool run_migrations, std::size_t pool) override {
    auto db = openPg(run_migrations, pool);
    if (!db) {
      return db.error();
    }
    return std::unique_ptr<Database>(std::move(*db));
  }

 private:
  Result<std::unique_ptr<PgDatabase>> openPg(bool run_migrations, std::size_t pool) {
    PgOptions o;
    o.url = SecretBytes::copyOf(url_);
    o.schema = schema_;
    o.run_migrations = run_migrations;
    o.pool = {.max_connections = pool};
    o.application_name = "livery-test-" + schema_;
    return PgDatabase::open(std::move(o), clock_);
  }

  std::string url_;
  const Clock& clock_;
  std::string schema_;
  std::unique_ptr<PgDatabase> admin_;
  std::unique_ptr<PgDatabase> db_;
};

}  // namespace

void StorageContractTest::SetUp() {
  if (GetParam() == BackendKind::kPostgres) {
    LIVERY_REQUIRE_SERVICE(url, "LIVERY_TEST_PG_URL");
    pg_url_ = url;
  }
  backend_ = newBackend(true);
  ASSERT_NE(backend_, nullptr);
  stores_ = std::make_unique<Stores>(backend_->db(), clock_);
}

void StorageContractTest::TearDown() {
  stores_.reset();
  backend_.reset();
}

std::unique_ptr<Backend> StorageContractTest::newBackend(bool run_migrations) {
  try {
    if (GetParam() == BackendKind::kPostgres) {
      return std::make_unique<PgBackend>(pg_url_, clock_, run_migrations);
    }
    return std::make_unique<SqliteBackend>(clock_, run_migrations);
  } catch (const std::exception&) {
    return nullptr;  // must() already recorded the failure
  }
}

void StorageContractTest::raw(std::string_view sql) {
  must(db().withConnection([&](Connection& c) { return c.execScript(sql); }), sql);
}

std::int64_t StorageContractTest::scalar(std::string_view sql) {
  auto row =
      must(db().withConnection([&](Connection& c) { return c.queryOne(sql, {}, "row"); }), sql);
  return row.int64(0);
}

Tenant StorageContractTest::tenant(const std::string& slug) {
  return must(stores().tenants.create(Tenant{.slug = slug, .display_name = "Tenant " + slug}),
              "create tenant");
}

ApiKey StorageContractTest::apiKey(const Tenant& t, int n, Millis expires_at) {
  const std::string material = fmt::format("{}-key-{}", t.id, n);
  ApiKey k{.tenant_id = t.id,
           .name = fmt::format("key {}", n),
           .hash = std::vector<unsigned char>(material.begin(), material.end()),
           .last4 = "abcd",
           .environment = "live",
           .scopes = {"gpt-4o"},
           .expires_at = expires_at,
           .limits = {.rpm = 60, .tpm = 1000, .monthly_token_quota = 5000},
           .end_user = n % 2 == 0 ? "" : "user-1"};
  return must(stores().api_keys.insert(std::move(k)), "insert api key");
}

Credential StorageContractTest::credential(const Tenant& t,
                                           const std::string& label,
                                           std::uint32_t kek_version) {
  Credential c{.tenant_id = t.id,
               .provider = "openai",
               .label = label,
               .fingerprint = "sk-…abcd",
               .envelope = {.ciphertext = {0x00, 0x01, 0xfe, 0xff, 0x00},
                            .nonce = std::vector<unsigned char>(12, 0x11),
                            .tag = std::vector<unsigned char>(16, 0x22),
                            .wrapped_dek = std::vector<unsigned char>(40, 0x33),
                            .kek_id = "local",
                            .kek_version = kek_version}};
  return must(stores().credentials.insert(std::move(c)), "insert credential");
}

User StorageContractTest::user(const Tenant& t, const std::string& email) {
  return must(stores().users.insert(User{.tenant_id = t.id,
                                         .kind = "end_user",
                                         .email = email,
                                         .display_name = email,
                                         .password_hash = "$argon2id$v=19$stub",
                                         .role = UserRole::kMember}),
              "insert user");
}

}  // namespace livery::storage::contract
