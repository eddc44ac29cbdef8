#include "tern/base/byteorder.hpp"

#include <gtest/gtest.h>

#include <type_traits>

#include "tern/base/result.hpp"

namespace tern {
namespace {

TEST(ByteOrder, Be16RoundTripsAndStoresNetworkOrder) {
  be16 v = be16::from_host(0x1234);
  EXPECT_EQ(v.host(), 0x1234);
  uint8_t bytes[2];
  std::memcpy(bytes, &v, 2);
  EXPECT_EQ(bytes[0], 0x12);
  EXPECT_EQ(bytes[1], 0x34);
}

TEST(ByteOrder, DoesNotConvertImplicitly) {
  static_assert(!std::is_convertible_v<uint16_t, be16>);
  static_assert(!std::is_convertible_v<be16, uint16_t>);
  static_assert(!std::is_convertible_v<be32, uint32_t>);
}

TEST(ByteOrder, LoadStoreUnaligned) {
  uint8_t buf[7] = {};
  store_be32(buf + 1, 0xdeadbeef);
  store_be16(buf + 5, 0xcafe);
  EXPECT_EQ(load_be32(buf + 1), 0xdeadbeefu);
  EXPECT_EQ(load_be16(buf + 5), 0xcafe);
  EXPECT_EQ(buf[1], 0xde);
}

TEST(Result, CarriesValueOrError) {
  Result<int> a = 5;
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 5);
  Result<int> b = make_error(Errc::truncated, "too short");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, Errc::truncated);
  EXPECT_EQ(b.error().reason, "too short");
  EXPECT_EQ(to_string(Errc::bad_checksum), "bad_checksum");
  Status s;
  EXPECT_TRUE(s.ok());
  Status f = make_error(Errc::no_memory, "pool empty");
  EXPECT_FALSE(f.ok());
}

}  // namespace
}  // namespace tern
