#pragma once

// The storage contract suite: value-parameterised over the backend. The TEST_Ps live in
// contract_*_test.cpp (an OBJECT library linked into two binaries); sqlite_contract.cpp and
// pg_contract.cpp instantiate them for one backend each, so the PostgreSQL cases carry the
// needs-postgres label. Each test gets a fresh database: a new SQLite file in a temp dir, or
// a new PostgreSQL schema (dropped afterwards), so tests are independent.

#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "storage/database.hpp"
#include "storage/stores.hpp"
#include "support/fake_clock.hpp"

namespace livery {
// Readable gtest output for error codes.
inline void PrintTo(ErrorCode code, std::ostream* os) {
  *os << toString(code);
}
}  // namespace livery

namespace livery::storage::contract {

enum class BackendKind { kSqlite, kPostgres };

std::string backendName(const ::testing::TestParamInfo<BackendKind>& info);
inline void PrintTo(BackendKind kind, std::ostream* os) {
  *os << (kind == BackendKind::kSqlite ? "sqlite" : "postgres");
}

// One isolated database of one backend.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Database& db() = 0;
  // Opens another Database over the same storage (same file, same schema), as a second node
  // would.
  virtual Result<std::unique_ptr<Database>> openAnother(bool run_migrations, std::size_t pool) = 0;
};

// Unwraps a Result in test helpers; records the error and throws (failing the test) if none.
template <class T>
T must(Result<T> r, std::string_view what = "") {
  if (!r) {
    ADD_FAILURE() << what << ": " << toString(r.error().code) << " '" << r.error().client_message
                  << "' (" << r.error().log_detail << ")";
    throw std::runtime_error("unexpected storage error");
  }
  return std::move(*r);
}
inline void must(Result<void> r, std::string_view what = "") {
  if (!r) {
    ADD_FAILURE() << what << ": " << toString(r.error().code) << " '" << r.error().client_message
                  << "' (" << r.error().log_detail << ")";
    throw std::runtime_error("unexpected storage error");
  }
}

// The error code of a failed Result, or nullopt if it succeeded.
template <class T>
std::optional<ErrorCode> codeOf(const Result<T>& r) {
  if (r) {
    return std::nullopt;
  }
  return r.error().code;
}

// Everything an error could show: what a leak test must search.
template <class T>
std::string errorText(const Result<T>& r) {
  if (r) {
    return {};
  }
  return r.error().client_message + "\n" + r.error().log_detail + "\n" + r.error().param;
}

class StorageContractTest : public ::testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A new, separate database of the same backend (for migration tests). nullptr + failure on
  // error.
  std::unique_ptr<Backend> newBackend(bool run_migrations);

  Database& db() { return backend_->db(); }
  Stores& stores() { return *stores_; }
  Dialect dialect() { return db().dialect(); }
  // Runs raw SQL (tamper tests, checks); fails the test on error.
  void raw(std::string_view sql);
  std::int64_t scalar(std::string_view sql);

  // Fixtures.
  Tenant tenant(const std::string& slug);
  ApiKey apiKey(const Tenant& t, int n, Millis expires_at = 0);
  Credential credential(const Tenant& t, const std::string& label, std::uint32_t kek_version = 1);
  User user(const Tenant& t, const std::string& email);

  testing::FakeClock clock_;
  std::string pg_url_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Stores> stores_;
};

// Bytes that must never appear in an error, a log line or a listing of another tenant.
inline constexpr std::string_view kCanary = "CANARY-7f3c9a51-do-not-leak";

}  // namespace livery::storage::contract
