// The `livery` binary as a user runs it: configuration errors, start, health, graceful stop.
#include "support/process.hpp"

#include <thread>

#include <gtest/gtest.h>
#include <signal.h>

#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace livery {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::liveryBinary;
using testing::TempDir;

TEST(ProcessTest, HelpDocumentsTheCommands) {
  ChildProcess p({liveryBinary(), "--help"});
  EXPECT_EQ(p.waitExit(10s), 0);
  EXPECT_NE(p.out().find("serve"), std::string::npos);
  ChildProcess s({liveryBinary(), "serve", "--help"});
  EXPECT_EQ(s.waitExit(10s), 0);
  EXPECT_NE(s.out().find("--listen"), std::string::npos);
  EXPECT_NE(s.out().find("--data-dir"), std::string::npos);
  EXPECT_NE(s.out().find("--threads"), std::string::npos);
}

TEST(ProcessTest, UnknownConfigKeyExitsWithStatus2NamingFileKeyAndLine) {
  TempDir dir;
  testing::writeFile(dir.file("livery.yaml"), "listen: 127.0.0.1:0\nhttp:\n  max_body: 5\n");
  ChildProcess p({liveryBinary(),
                  "serve",
                  "--config",
                  dir.file("livery.yaml"),
                  "--data-dir",
                  dir.file("data")});
  EXPECT_EQ(p.waitExit(10s), 2);
  auto err = p.err();
  EXPECT_NE(err.find("livery.yaml:3"), std::string::npos) << err;
  EXPECT_NE(err.find("http.max_body"), std::string::npos) << err;
}

TEST(ProcessTest, WrongTypeAndUnknownEnvironmentVariableExitWithStatus2) {
  TempDir dir;
  ChildProcess p({liveryBinary(), "serve", "--data-dir", dir.file("data")},
                 {{"LIVERY_THREADS", "lots"}});
  EXPECT_EQ(p.waitExit(10s), 2);
  EXPECT_NE(p.err().find("LIVERY_THREADS"), std::string::npos) << p.err();
  ChildProcess q({liveryBinary(), "serve", "--data-dir", dir.file("data")},
                 {{"LIVERY_NO_SUCH_KEY", "1"}});
  EXPECT_EQ(q.waitExit(10s), 2);
  EXPECT_NE(q.err().find("LIVERY_NO_SUCH_KEY"), std::string::npos) << q.err();
}

TEST(ProcessTest, ServesHealthAndStopsWithExitCode0OnSigterm) {
  TempDir dir;
  ChildProcess p({liveryBinary(),
                  "serve",
                  "--listen",
                  "127.0.0.1:0",
                  "--data-dir",
                  dir.file("data"),
                  "--threads",
                  "2"});
  auto port = testing::waitForListeningPort(p, 20s);
  ASSERT_NE(port, 0) << p.err();
  testing::TestHttpClient client("127.0.0.1", port);
  auto r = client.get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(client.get("/readyz").status, 200);
  EXPECT_NE(client.get("/metrics").body.find("livery_http_requests_total"), std::string::npos);
  p.signal(SIGTERM);
  EXPECT_EQ(p.waitExit(15s), 0) << p.err();
}

TEST(ProcessTest, SigtermDuringASlowRequestLetsItFinish) {
  TempDir dir;
  ChildProcess p({liveryBinary(),
                  "serve",
                  "--listen",
                  "127.0.0.1:0",
                  "--data-dir",
                  dir.file("data"),
                  "--threads",
                  "1"});
  auto port = testing::waitForListeningPort(p, 20s);
  ASSERT_NE(port, 0) << p.err();
  // A request whose body arrives slowly is in flight when SIGTERM lands.
  testing::RawConnection c("127.0.0.1", port);
  ASSERT_TRUE(c.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello"));
  std::this_thread::sleep_for(200ms);
  p.signal(SIGTERM);
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(p.running());  // still draining: the request is not finished
  ASSERT_TRUE(c.send("world"));
  auto got = c.readUntilClose(10s);
  EXPECT_EQ(testing::statusOf(got), 405) << got;  // the request completed with its answer
  EXPECT_EQ(p.waitExit(15s), 0) << p.err();
}

}  // namespace
}  // namespace livery
