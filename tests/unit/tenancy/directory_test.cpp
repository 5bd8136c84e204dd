#include "tenancy/directory.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "tenancy/key_index.hpp"

namespace livery::tenancy {
namespace {

TenantStatePtr makeTenant(std::string id, std::string slug, std::vector<std::string> domains = {}) {
  auto st = std::make_shared<TenantState>();
  st->tenant.id = std::move(id);
  st->tenant.slug = std::move(slug);
  st->domains = std::move(domains);
  return st;
}

TEST(TenantDirectoryTest, FindsTenantsByIdSlugAndHost) {
  TenantDirectory dir("livery.example");
  dir.put(makeTenant("tnt_a", "acme", {"app.acme.com"}));
  dir.put(makeTenant("tnt_b", "beta"));
  EXPECT_EQ(dir.byId("tnt_a")->tenant.slug, "acme");
  EXPECT_EQ(dir.bySlug("beta")->tenant.id, "tnt_b");
  EXPECT_EQ(dir.byHost("app.acme.com")->tenant.id, "tnt_a");
  EXPECT_EQ(dir.byHost("acme.livery.example")->tenant.id, "tnt_a");
  EXPECT_EQ(dir.byHost("beta.livery.example")->tenant.id, "tnt_b");
  EXPECT_EQ(dir.byHost("unknown.livery.example"), nullptr);
  EXPECT_EQ(dir.byHost("x.acme.livery.example"), nullptr);  // one label only
  EXPECT_EQ(dir.byHost("livery.example"), nullptr);
  EXPECT_EQ(dir.byHost("evil-livery.example"), nullptr);
  EXPECT_EQ(dir.size(), 2u);
}

TEST(TenantDirectoryTest, ReplacingATenantUpdatesSlugAndDomainIndexes) {
  TenantDirectory dir("livery.example");
  dir.put(makeTenant("tnt_a", "acme", {"old.acme.com"}));
  dir.put(makeTenant("tnt_a", "acme2", {"new.acme.com"}));
  EXPECT_EQ(dir.bySlug("acme"), nullptr);
  EXPECT_EQ(dir.byHost("old.acme.com"), nullptr);  // removed domain stops serving
  EXPECT_EQ(dir.byHost("new.acme.com")->tenant.slug, "acme2");
  dir.remove("tnt_a");
  EXPECT_EQ(dir.byHost("new.acme.com"), nullptr);
  EXPECT_EQ(dir.byId("tnt_a"), nullptr);
}

TEST(TenantDirectoryTest, ReadersKeepTheirSnapshotWhileItIsReplaced) {
  TenantDirectory dir("x");
  dir.put(makeTenant("tnt_a", "acme"));
  auto snapshot = dir.byId("tnt_a");
  auto next = std::make_shared<TenantState>(*snapshot);
  next->tenant.display_name = "New";
  dir.put(next);
  EXPECT_EQ(snapshot->tenant.display_name, "");
  EXPECT_EQ(dir.byId("tnt_a")->tenant.display_name, "New");
}

TEST(KeyIndexTest, FindsPutsAndRevokes) {
  KeyIndex idx;
  KeyHash h{};
  h[0] = 1;
  h[31] = 7;
  storage::ApiKey k;
  k.id = "key_1";
  k.tenant_id = "tnt_a";
  k.scopes = {"gpt-4o"};
  idx.put(h, keyEntryFrom(k));
  auto e = idx.find(h);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->tenant_id, "tnt_a");
  EXPECT_TRUE(e->allowsModel("gpt-4o"));
  EXPECT_FALSE(e->allowsModel("claude"));
  KeyHash other = h;
  other[5] = 9;
  EXPECT_FALSE(idx.find(other));
  idx.remove(h);
  EXPECT_FALSE(idx.find(h));
}

TEST(KeyIndexTest, ConcurrentReadersAndWritersAgree) {
  KeyIndex idx;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 20000; ++i) {
      KeyHash h{};
      h[0] = static_cast<unsigned char>(i);
      h[1] = static_cast<unsigned char>(i >> 8);
      h[31] = static_cast<unsigned char>(i * 7);
      KeyEntry e;
      e.id = "key_" + std::to_string(i);
      e.tenant_id = "tnt";
      idx.put(h, e);
    }
    stop = true;
  });
  std::size_t found = 0;
  while (!stop) {
    KeyHash h{};
    h[31] = 0;
    found += idx.find(h) ? 1 : 0;
  }
  writer.join();
  EXPECT_EQ(idx.size(), 20000u);
  idx.removeTenant("tnt");
  EXPECT_EQ(idx.size(), 0u);
  (void)found;
}

}  // namespace
}  // namespace livery::tenancy
