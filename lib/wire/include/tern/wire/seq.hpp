/**
 * @file
 * TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 §3.4).
 * a < b means b lies in the half of the number space after a; the order is
 * only meaningful for values less than 2^31 apart, which TCP windows ensure.
 */
#pragma once

#include <cstdint>

namespace tern::wire {

/** A wrap-safe TCP sequence (or acknowledgment) number. */
struct SeqNum {
  uint32_t v = 0;

  /** Advance by @p n, wrapping modulo 2^32. */
  constexpr SeqNum operator+(uint32_t n) const noexcept { return SeqNum{v + n}; }
  /** Go back by @p n, wrapping modulo 2^32. */
  constexpr SeqNum operator-(uint32_t n) const noexcept { return SeqNum{v - n}; }
  /** Advance in place by @p n, wrapping. */
  constexpr SeqNum& operator+=(uint32_t n) noexcept {
    v += n;
    return *this;
  }
  /** Go back in place by @p n, wrapping. */
  constexpr SeqNum& operator-=(uint32_t n) noexcept {
    v -= n;
    return *this;
  }

  /** Signed distance a - b (RFC 9293 §3.4: arithmetic modulo 2^32), in [-2^31, 2^31). */
  friend constexpr int32_t operator-(SeqNum a, SeqNum b) noexcept { return static_cast<int32_t>(a.v - b.v); }

  /** Equal values. The relational operators compare by the sign of a - b (RFC 9293 §3.4). */
  friend constexpr bool operator==(SeqNum a, SeqNum b) noexcept = default;
  friend constexpr bool operator<(SeqNum a, SeqNum b) noexcept { return (a - b) < 0; }
  friend constexpr bool operator<=(SeqNum a, SeqNum b) noexcept { return (a - b) <= 0; }
  friend constexpr bool operator>(SeqNum a, SeqNum b) noexcept { return (a - b) > 0; }
  friend constexpr bool operator>=(SeqNum a, SeqNum b) noexcept { return (a - b) >= 0; }
};

/**
 * a <= b < c modulo 2^32 (RFC 9293 §3.4 acceptability tests), i.e. b lies in
 * the half-open window [a, c). Exact for any window shorter than 2^32.
 */
constexpr bool seq_between(SeqNum a, SeqNum b, SeqNum c) noexcept { return (b.v - a.v) < (c.v - a.v); }

/** The later of @p a and @p b in sequence space. */
constexpr SeqNum seq_max(SeqNum a, SeqNum b) noexcept { return a < b ? b : a; }
/** The earlier of @p a and @p b in sequence space. */
constexpr SeqNum seq_min(SeqNum a, SeqNum b) noexcept { return a < b ? a : b; }

}  // namespace tern::wire
