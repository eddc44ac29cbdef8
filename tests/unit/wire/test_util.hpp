/** @file Helpers shared by the wire unit tests. */
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "tern/base/result.hpp"

/** Expect @p expr (a Result) to fail with @p errc and a non-empty reason. */
#define EXPECT_WIRE_ERROR(expr, errc)                                                \
  do {                                                                               \
    const auto wire_result_ = (expr);                                                \
    ASSERT_FALSE(wire_result_.ok()) << #expr << " unexpectedly parsed";              \
    EXPECT_EQ(::tern::to_string(wire_result_.error().code), ::tern::to_string(errc)) \
        << "reason: " << wire_result_.error().reason;                                \
    EXPECT_FALSE(wire_result_.error().reason.empty());                               \
  } while (0)

namespace tern::wire::test {

/** A copy of @p s, for comparisons with readable failure output. */
inline std::vector<uint8_t> vec(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

/** Emit @p h into a fresh buffer (poisoned past the end) and return the bytes written. */
template <typename H>
std::vector<uint8_t> emitted(const H& h) {
  std::vector<uint8_t> out(128, 0xee);
  const size_t n = h.emit(out);
  out.resize(n);
  return out;
}

}  // namespace tern::wire::test
