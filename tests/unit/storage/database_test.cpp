#include "storage/database.hpp"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace livery::storage {
namespace {

// A connection that records what the pool does with it.
struct FakeState {
  std::atomic<int> connects{0};
  std::atomic<int> rollbacks{0};
  std::atomic<int> commits{0};
  std::atomic<bool> fail_connect{false};
};

class FakeConnection final : public Connection {
 public:
  explicit FakeConnection(FakeState& state) : state_(state) {}
  Dialect dialect() const noexcept override { return Dialect::kSqlite; }
  Result<std::int64_t> exec(std::string_view, Params) override { return 1; }
  Result<void> queryEach(std::string_view, Params, const RowCallback&) override { return {}; }
  Result<void> execScript(std::string_view) override { return {}; }
  Result<void> begin() override {
    in_tx_ = true;
    return {};
  }
  Result<void> commit() override {
    in_tx_ = false;
    ++state_.commits;
    return {};
  }
  Result<void> rollback() override {
    in_tx_ = false;
    ++state_.rollbacks;
    return {};
  }
  bool inTransaction() const noexcept override { return in_tx_; }
  Result<void> serializeOn(std::int64_t) override { return {}; }
  bool broken() const noexcept override { return broken_; }
  bool checkAlive() noexcept override { return alive_; }

  bool broken_ = false;
  bool alive_ = true;

 private:
  FakeState& state_;
  bool in_tx_ = false;
};

class FakeDatabase final : public Database {
 public:
  FakeDatabase(FakeState& state, std::size_t size)
      : Database(PoolOptions{.max_connections = size, .acquire_timeout = std::chrono::seconds(5)}),
        state_(state) {}
  ~FakeDatabase() override { closeAll(); }
  Dialect dialect() const noexcept override { return Dialect::kSqlite; }

 protected:
  Result<std::unique_ptr<Connection>> connect() override {
    if (state_.fail_connect) {
      return fail(ErrorCode::kUnavailable, "down");
    }
    ++state_.connects;
    return std::unique_ptr<Connection>(std::make_unique<FakeConnection>(state_));
  }

 private:
  FakeState& state_;
};

FakeConnection& fake(ConnectionLease& lease) {
  return dynamic_cast<FakeConnection&>(lease.get());
}

TEST(DatabasePoolTest, ReusesIdleConnections) {
  FakeState state;
  FakeDatabase db(state, 2);
  {
    auto a = db.acquire();
    ASSERT_TRUE(a);
  }
  {
    auto b = db.acquire();
    ASSERT_TRUE(b);
  }
  EXPECT_EQ(state.connects, 1);
  EXPECT_EQ(db.openConnections(), 1u);
}

TEST(DatabasePoolTest, AcquireFailsUnavailableWhenThePoolStaysExhausted) {
  FakeState state;
  FakeDatabase db(state, 2);
  auto a = db.acquire();
  auto b = db.acquire();
  ASSERT_TRUE(a && b);
  auto c = db.acquire(std::chrono::milliseconds(20));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(state.connects, 2);
}

TEST(DatabasePoolTest, AWaitingAcquireGetsTheReturnedConnection) {
  FakeState state;
  FakeDatabase db(state, 1);
  auto held = db.acquire();
  ASSERT_TRUE(held);
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto lease = db.acquire(std::chrono::seconds(10));
    got = static_cast<bool>(lease);
  });
  held = Result<ConnectionLease>(ConnectionLease());  // returns the connection to the pool
  waiter.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(state.connects, 1);
}

TEST(DatabasePoolTest, BrokenConnectionsAreDiscardedAndReplaced) {
  FakeState state;
  FakeDatabase db(state, 1);
  {
    auto lease = db.acquire();
    ASSERT_TRUE(lease);
    fake(*lease).broken_ = true;
  }
  EXPECT_EQ(db.openConnections(), 0u);
  auto again = db.acquire();
  ASSERT_TRUE(again);
  EXPECT_FALSE(fake(*again).broken_);
  EXPECT_EQ(state.connects, 2);
}

TEST(DatabasePoolTest, DeadIdleConnectionsAreReplacedBeforeBeingLent) {
  FakeState state;
  FakeDatabase db(state, 1);
  {
    auto lease = db.acquire();
    ASSERT_TRUE(lease);
    fake(*lease).alive_ = false;  // e.g. the server restarted while it sat idle
  }
  auto again = db.acquire();
  ASSERT_TRUE(again);
  EXPECT_TRUE(fake(*again).alive_);
  EXPECT_EQ(state.connects, 2);
  EXPECT_EQ(db.openConnections(), 1u);
}

TEST(DatabasePoolTest, ALeaseDroppedInsideATransactionRollsItBack) {
  FakeState state;
  FakeDatabase db(state, 1);
  {
    auto lease = db.acquire();
    ASSERT_TRUE(lease);
    ASSERT_TRUE((*lease)->begin());
  }
  EXPECT_EQ(state.rollbacks, 1);
  auto again = db.acquire();
  ASSERT_TRUE(again);
  EXPECT_FALSE((*again)->inTransaction());
}

TEST(DatabasePoolTest, AFailedConnectFreesItsSlot) {
  FakeState state;
  FakeDatabase db(state, 1);
  state.fail_connect = true;
  EXPECT_FALSE(db.acquire(std::chrono::milliseconds(10)));
  state.fail_connect = false;
  EXPECT_TRUE(db.acquire(std::chrono::milliseconds(10)));
}

TEST(DatabasePoolTest, InTransactionCommitsValuesAndRollsBackErrors) {
  FakeState state;
  FakeDatabase db(state, 1);
  auto ok = db.inTransaction([](Connection&) -> Result<int> { return 7; });
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 7);
  EXPECT_EQ(state.commits, 1);
  auto bad =
      db.inTransaction([](Connection&) -> Result<int> { return fail(ErrorCode::kConflict, "no"); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kConflict);
  EXPECT_EQ(state.rollbacks, 1);
  EXPECT_EQ(state.commits, 1);
}

TEST(RowTest, GettersConvertBetweenBackendRepresentations) {
  Row row;
  row.cells() = {Row::Cell{std::string("42")},
                 Row::Cell{std::int64_t{7}},
                 Row::Cell{2.5},
                 Row::Cell{std::vector<unsigned char>{'h', 'i'}},
                 Row::Cell{},
                 Row::Cell{std::string("t")},
                 Row::Cell{std::int64_t{-3}}};
  EXPECT_EQ(row.int64(0), 42);  // PostgreSQL numeric/int as text
  EXPECT_EQ(row.text(1), "7");
  EXPECT_DOUBLE_EQ(row.real(1), 7.0);
  EXPECT_EQ(row.int64(2), 2);
  EXPECT_EQ(row.text(3), "hi");  // blob read as text
  EXPECT_EQ(row.blob(0), (std::vector<unsigned char>{'4', '2'}));
  EXPECT_TRUE(row.isNull(4));
  EXPECT_EQ(row.int64(4), 0);
  EXPECT_EQ(row.text(4), "");
  EXPECT_TRUE(row.boolean(5));   // PostgreSQL boolean text
  EXPECT_EQ(row.uint64(6), 0u);  // negative clamps
  EXPECT_TRUE(row.isNull(99));
}

TEST(ParamTest, KeepsTextAndBlobsApart) {
  const std::string text = "abc";
  const std::vector<unsigned char> bytes{1, 2, 3};
  EXPECT_TRUE(std::holds_alternative<std::string_view>(Param(text).value()));
  EXPECT_TRUE(std::holds_alternative<Blob>(Param(bytes).value()));
  EXPECT_TRUE(std::holds_alternative<std::int64_t>(Param(std::uint32_t{5}).value()));
  EXPECT_TRUE(std::holds_alternative<std::int64_t>(Param(true).value()));
  EXPECT_TRUE(Param(nullptr).isNull());
  // Binding a temporary std::string would dangle; it does not compile.
  static_assert(!std::is_constructible_v<Param, std::string&&>);
  static_assert(!std::is_constructible_v<Param, std::vector<unsigned char>&&>);
}

}  // namespace
}  // namespace livery::storage
