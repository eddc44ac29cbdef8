#include "tern/base/checksum.hpp"

#include <bit>
#include <cstring>

namespace tern {

namespace {

// Sum native-order 32-bit loads into a 64-bit accumulator; the one's
// complement sum is byte-order independent up to a final byte swap (RFC 1071
// §2(B)), which sum16() undoes for little-endian hosts.
uint64_t sum_native(const uint8_t* p, size_t len, uint64_t sum) {
  while (len >= 32) {
    uint32_t w[8];
    std::memcpy(w, p, sizeof(w));
    sum += uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
    p += 32;
    len -= 32;
  }
  while (len >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    sum += w;
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    sum += w;
    p += 2;
    len -= 2;
  }
  if (len == 1) {
    // A trailing odd byte is the high-order byte of a word padded with zero.
    uint16_t w = 0;
    std::memcpy(&w, p, 1);
    sum += w;
  }
  return sum;
}

uint16_t fold(uint64_t sum) {
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

uint16_t native_to_host_be(uint16_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<uint16_t>((v << 8) | (v >> 8));
  } else {
    return v;
  }
}

}  // namespace

void ChecksumAccumulator::add(const void* data, size_t len) noexcept {
  if (len == 0) {
    return;
  }
  const auto* p = static_cast<const uint8_t*>(data);
  uint16_t piece = native_to_host_be(fold(sum_native(p, len, 0)));
  // A piece that starts at an odd offset of the whole has its bytes in the
  // other halves of the 16-bit words: swap it into place (RFC 1071 §2(B)).
  add_u16(piece);
  if (len & 1) {
    odd_ = !odd_;
  }
}

uint16_t ChecksumAccumulator::sum16() const noexcept { return fold(sum_); }

uint16_t internet_checksum(std::span<const uint8_t> bytes) noexcept {
  ChecksumAccumulator acc;
  acc.add(bytes);
  return acc.finish();
}

uint16_t checksum_update32(uint16_t old_checksum, uint32_t old_field, uint32_t new_field) noexcept {
  uint16_t c = checksum_update16(old_checksum, static_cast<uint16_t>(old_field >> 16),
                                 static_cast<uint16_t>(new_field >> 16));
  return checksum_update16(c, static_cast<uint16_t>(old_field), static_cast<uint16_t>(new_field));
}

}  // namespace tern
