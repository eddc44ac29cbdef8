#include "tern/wire/toeplitz.hpp"

#include "tern/base/byteorder.hpp"

namespace tern::wire {

const std::array<uint8_t, 40> kMicrosoftRssKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

const std::array<uint8_t, 40> kSymmetricRssKey = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

uint32_t toeplitz_hash(std::span<const uint8_t> key, std::span<const uint8_t> input) noexcept {
  auto key_byte = [&key](size_t i) -> uint32_t { return i < key.size() ? key[i] : 0; };
  // window: the 32 key bits aligned with the current input bit.
  uint32_t window = (key_byte(0) << 24) | (key_byte(1) << 16) | (key_byte(2) << 8) | key_byte(3);
  uint32_t hash = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    const uint32_t next = key_byte(i + 4);
    for (int bit = 7; bit >= 0; --bit) {
      if ((input[i] >> bit) & 1u) hash ^= window;
      window = (window << 1) | ((next >> bit) & 1u);
    }
  }
  return hash;
}

uint32_t toeplitz_ipv4(std::span<const uint8_t> key, Ipv4Addr src, Ipv4Addr dst) noexcept {
  uint8_t in[8];
  src.store(in);
  dst.store(in + 4);
  return toeplitz_hash(key, in);
}

uint32_t toeplitz_ipv4_l4(std::span<const uint8_t> key, Ipv4Addr src, Ipv4Addr dst, uint16_t sport,
                          uint16_t dport) noexcept {
  uint8_t in[12];
  src.store(in);
  dst.store(in + 4);
  store_be16(in + 8, sport);
  store_be16(in + 10, dport);
  return toeplitz_hash(key, in);
}

ToeplitzTable::ToeplitzTable(std::span<const uint8_t> key) noexcept {
  for (size_t pos = 0; pos < t_.size(); ++pos) {
    for (uint32_t v = 0; v < 256; ++v) {
      // The hash is linear in its input: byte v at position pos contributes what the input with only
      // that byte set hashes to.
      uint8_t in[12] = {};
      in[pos] = static_cast<uint8_t>(v);
      t_[pos][v] = toeplitz_hash(key, in);
    }
  }
}

}  // namespace tern::wire
