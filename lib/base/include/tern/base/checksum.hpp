/**
 * @file
 * Internet checksum (RFC 1071) over contiguous and scattered data, and the
 * incremental update of RFC 1624. All values are in host order: a checksum
 * returned here is stored to the wire with store_be16().
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tern {

/**
 * One's complement sum accumulator that may be fed in pieces of any length,
 * including odd lengths (the byte parity carries over to the next piece, as
 * when a payload spans several mbuf segments).
 */
class ChecksumAccumulator {
 public:
  /** Add @p len bytes at @p data. */
  void add(const void* data, size_t len) noexcept;
  void add(std::span<const uint8_t> bytes) noexcept { add(bytes.data(), bytes.size()); }
  /** Add a 16-bit word given in host order (aligned to an even offset). */
  void add_u16(uint16_t v) noexcept { sum_ += odd_ ? swap16(v) : v; }
  /** Add a 32-bit word given in host order (aligned to an even offset). */
  void add_u32(uint32_t v) noexcept {
    add_u16(static_cast<uint16_t>(v >> 16));
    add_u16(static_cast<uint16_t>(v));
  }
  /** The folded 16-bit one's complement sum (not inverted). */
  uint16_t sum16() const noexcept;
  /** The checksum to put on the wire: ~sum16(). */
  uint16_t finish() const noexcept { return static_cast<uint16_t>(~sum16()); }

 private:
  static uint16_t swap16(uint16_t v) noexcept { return static_cast<uint16_t>((v << 8) | (v >> 8)); }
  uint64_t sum_ = 0;  // sum of 16-bit words in host-order big-endian interpretation
  bool odd_ = false;  // an odd number of bytes has been added so far
};

/** The Internet checksum (RFC 1071) of @p bytes, ready to store. */
uint16_t internet_checksum(std::span<const uint8_t> bytes) noexcept;

/** True when @p bytes, which include their checksum field, sum to 0xffff. */
inline bool checksum_valid(std::span<const uint8_t> bytes) noexcept {
  ChecksumAccumulator acc;
  acc.add(bytes);
  return acc.sum16() == 0xffff;
}

/**
 * checksum_valid() for exactly 20 bytes (an IPv4 header without options):
 * five 32-bit loads, no loop. @p p must point at 20 readable bytes.
 */
inline bool checksum_valid20(const uint8_t* p) noexcept {
  uint64_t s = 0;
  for (int i = 0; i < 20; i += 4) {
    uint32_t w;
    __builtin_memcpy(&w, p + i, 4);  // native order: the one's complement sum is byte-order independent
    s += w;
  }
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return s == 0xffff;
}

/**
 * RFC 1624 eqn. 3: the new checksum after one 16-bit field of the covered
 * data changes from @p old_field to @p new_field: HC' = ~(~HC + ~m + m').
 */
inline uint16_t checksum_update16(uint16_t old_checksum, uint16_t old_field, uint16_t new_field) noexcept {
  // Inline: forwarding runs it once per packet (TTL decrement).
  uint32_t sum = static_cast<uint16_t>(~old_checksum);
  sum += static_cast<uint16_t>(~old_field);
  sum += new_field;
  sum = (sum & 0xffff) + (sum >> 16);  // three 16-bit terms: two folds always suffice
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

/** As checksum_update16() for a 32-bit field (e.g. an IPv4 address). */
uint16_t checksum_update32(uint16_t old_checksum, uint32_t old_field, uint32_t new_field) noexcept;

/**
 * Add the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1) to @p acc:
 * source, destination, protocol and the transport length.
 */
inline void add_ipv4_pseudo_header(ChecksumAccumulator& acc, uint32_t src, uint32_t dst, uint8_t proto,
                                   uint16_t l4_len) noexcept {
  acc.add_u32(src);
  acc.add_u32(dst);
  acc.add_u16(proto);
  acc.add_u16(l4_len);
}

/**
 * How a port's transport checksums are handled (issue 11, docs/offloads.md):
 * - automatic: the NIC computes and verifies where it offers to, software elsewhere;
 * - software: always computed and verified in software (offloads ignored);
 * - trusted: neither computed nor verified (TCP/UDP); for a virtual link between
 *   cooperating processes on one host, as Linux veth marks frames CHECKSUM_UNNECESSARY.
 *   Both ends must use it: a peer that verifies drops every frame. The IPv4
 *   header checksum (20 bytes) is still written, so captures and routers see valid
 *   headers, but not verified on receive.
 */
enum class ChecksumMode : uint8_t { automatic, software, trusted };
/** The configuration spelling: "auto", "software", "trusted". */
inline const char* to_string(ChecksumMode m) noexcept {
  return m == ChecksumMode::software ? "software" : m == ChecksumMode::trusted ? "trusted" : "auto";
}

/**
 * Counters of transport checksum work: where each checksum was computed or
 * verified, or skipped. Owned by the per-core objects that do the work
 * (Ipv4, Interface, Core's GRO) and summed by Core::checksum_stats().
 */
struct ChecksumStats {
  uint64_t sw_computed = 0;  ///< transport checksums computed in software (per frame)
  uint64_t sw_verified = 0;  ///< received transport checksums verified in software
  uint64_t offloaded = 0;    ///< frames whose transport checksum the NIC was asked to fill
  uint64_t hw_verified = 0;  ///< received frames the NIC had verified
  uint64_t trusted_tx = 0;   ///< frames sent without a transport checksum (trusted mode)
  uint64_t trusted_rx = 0;   ///< frames accepted without verification (trusted mode)
  ChecksumStats& operator+=(const ChecksumStats& o) noexcept {
    sw_computed += o.sw_computed;
    sw_verified += o.sw_verified;
    offloaded += o.offloaded;
    hw_verified += o.hw_verified;
    trusted_tx += o.trusted_tx;
    trusted_rx += o.trusted_rx;
    return *this;
  }
};

}  // namespace tern
