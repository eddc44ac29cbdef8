#include "tern/base/port_table.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace tern {
namespace {

TEST(PortTable, EmptyTableFindsNothingAnywhere) {
  PortTable<int> t;
  for (uint32_t p = 0; p <= 65535; p += 257) EXPECT_EQ(t.get(static_cast<uint16_t>(p)), nullptr);
  EXPECT_EQ(t.get(65535), nullptr);
  t.set(80, nullptr);  // clearing an absent entry allocates nothing and is harmless
  EXPECT_EQ(t.get(80), nullptr);
}

TEST(PortTable, SetGetClearAtPageEdges) {
  PortTable<int> t;
  int a = 1, b = 2, c = 3, d = 4;
  t.set(0, &a);
  t.set(255, &b);
  t.set(256, &c);
  t.set(65535, &d);
  EXPECT_EQ(t.get(0), &a);
  EXPECT_EQ(t.get(255), &b);
  EXPECT_EQ(t.get(256), &c);
  EXPECT_EQ(t.get(65535), &d);
  EXPECT_EQ(t.get(1), nullptr);
  EXPECT_EQ(t.get(257), nullptr);
  EXPECT_EQ(t.get(65534), nullptr);
  t.set(255, nullptr);
  EXPECT_EQ(t.get(255), nullptr);
  EXPECT_EQ(t.get(0), &a);
}

TEST(PortTable, ForEachVisitsLiveEntriesInPortOrderAndMayClearThem) {
  PortTable<int> t;
  int v[3] = {7, 8, 9};
  t.set(5000, &v[1]);
  t.set(7, &v[0]);
  t.set(60000, &v[2]);
  std::vector<std::pair<uint16_t, int>> seen;
  t.for_each([&](uint16_t port, int* x) {
    seen.emplace_back(port, *x);
    t.set(port, nullptr);
  });
  EXPECT_EQ(seen, (std::vector<std::pair<uint16_t, int>>{{7, 7}, {5000, 8}, {60000, 9}}));
  EXPECT_EQ(t.get(5000), nullptr);
}

}  // namespace
}  // namespace tern
