/**
 * @file
 * Byte-order types the compiler checks: a be16/be32 holds network-order bytes
 * and never converts to or from a host integer silently. Plus unaligned
 * big-endian loads and stores for wire parsing.
 */
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace tern {

/** Swap bytes of an unsigned integer (16, 32 or 64 bits). */
template <typename T>
constexpr T byteswap(T v) noexcept {
  if constexpr (sizeof(T) == 1) {
    return v;
  } else if constexpr (sizeof(T) == 2) {
    return static_cast<T>(__builtin_bswap16(v));
  } else if constexpr (sizeof(T) == 4) {
    return static_cast<T>(__builtin_bswap32(v));
  } else {
    return static_cast<T>(__builtin_bswap64(v));
  }
}

/** Host order to network (big-endian) order. */
template <typename T>
constexpr T to_be(T v) noexcept {
  if constexpr (std::endian::native == std::endian::big) {
    return v;
  } else {
    return byteswap(v);
  }
}

/**
 * A big-endian value. Construct with from_host() or from_raw(); read with
 * host() or raw(). There is deliberately no implicit conversion.
 */
template <typename T>
class BigEndian {
 public:
  constexpr BigEndian() noexcept = default;
  /** Build from a host-order value. */
  static constexpr BigEndian from_host(T host) noexcept { return BigEndian(to_be(host)); }
  /** Build from bytes already in network order (as loaded from memory). */
  static constexpr BigEndian from_raw(T raw) noexcept { return BigEndian(raw); }
  /** The value in host order. */
  constexpr T host() const noexcept { return to_be(raw_); }
  /** The value as stored (network order). */
  constexpr T raw() const noexcept { return raw_; }
  friend constexpr bool operator==(BigEndian a, BigEndian b) noexcept { return a.raw_ == b.raw_; }

 private:
  constexpr explicit BigEndian(T raw) noexcept : raw_(raw) {}
  T raw_ = 0;
};

using be16 = BigEndian<uint16_t>;
using be32 = BigEndian<uint32_t>;

/** Read a big-endian 16-bit value from possibly unaligned memory. */
inline uint16_t load_be16(const uint8_t* p) noexcept { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
/** Read a big-endian 32-bit value from possibly unaligned memory. */
inline uint32_t load_be32(const uint8_t* p) noexcept {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
/** Write a 16-bit host value as big-endian to possibly unaligned memory. */
inline void store_be16(uint8_t* p, uint16_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
/** Write a 32-bit host value as big-endian to possibly unaligned memory. */
inline void store_be32(uint8_t* p, uint32_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace tern
