/**
 * @file
 * The Toeplitz hash used by NIC receive-side scaling (Microsoft "RSS hashing
 * functions", as implemented by DPDK PMDs), so software can predict which
 * queue a flow lands on. Data-path: no allocation.
 */
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "tern/wire/addr.hpp"

namespace tern::wire {

/**
 * The Microsoft verification key (40 bytes 6d 5a 56 da 25 5b 0e c2 ...),
 * the default of many NICs and the one the published test vectors use.
 */
extern const std::array<uint8_t, 40> kMicrosoftRssKey;

/**
 * A key of 0x6d, 0x5a repeated: its 16-bit period makes the hash of
 * (src, dst, sport, dport) equal that of (dst, src, dport, sport), so both
 * directions of a flow reach the same queue (Woo & Park, "Scalable TCP
 * Session Monitoring with Symmetric Receive-side Scaling").
 */
extern const std::array<uint8_t, 40> kSymmetricRssKey;

/**
 * Toeplitz hash of @p input under @p key: for each input bit set, from the
 * most significant bit of input[0] on, XOR in the 32 key bits starting at
 * that bit position. Key bits past the end of @p key count as zero, so
 * key.size() >= input.size() + 4 is needed for a meaningful hash.
 */
uint32_t toeplitz_hash(std::span<const uint8_t> key, std::span<const uint8_t> input) noexcept;

/** The RSS IPv4 2-tuple hash: input is src then dst, network order (8 bytes). */
uint32_t toeplitz_ipv4(std::span<const uint8_t> key, Ipv4Addr src, Ipv4Addr dst) noexcept;

/**
 * The RSS IPv4 TCP/UDP 4-tuple hash: input is src ip, dst ip, src port,
 * dst port, network order (12 bytes).
 */
uint32_t toeplitz_ipv4_l4(std::span<const uint8_t> key, Ipv4Addr src, Ipv4Addr dst, uint16_t sport,
                          uint16_t dport) noexcept;

/**
 * The Toeplitz hash of 12-byte (4-tuple) or 8-byte (address pair) inputs
 * under one key, by table: for each input byte position and value, the XOR
 * of the 32-bit key windows its set bits select (12 x 256 words, 12 KiB),
 * so a hash is 12 loads and XORs instead of 96 bit steps. Same results as
 * toeplitz_hash().
 */
class ToeplitzTable {
 public:
  ToeplitzTable() = default;
  explicit ToeplitzTable(std::span<const uint8_t> key) noexcept;
  /** Hash of (src, dst, sport, dport), all in host order. */
  uint32_t l4(Ipv4Addr src, Ipv4Addr dst, uint16_t sport, uint16_t dport) const noexcept {
    return pair(src, dst) ^ t_[8][sport >> 8] ^ t_[9][sport & 0xff] ^ t_[10][dport >> 8] ^
           t_[11][dport & 0xff];
  }
  /** Hash of (src, dst), host order. */
  uint32_t pair(Ipv4Addr src, Ipv4Addr dst) const noexcept {
    return t_[0][src.v >> 24] ^ t_[1][(src.v >> 16) & 0xff] ^ t_[2][(src.v >> 8) & 0xff] ^
           t_[3][src.v & 0xff] ^ t_[4][dst.v >> 24] ^ t_[5][(dst.v >> 16) & 0xff] ^
           t_[6][(dst.v >> 8) & 0xff] ^ t_[7][dst.v & 0xff];
  }

 private:
  std::array<std::array<uint32_t, 256>, 12> t_{};
};

/**
 * What decides the RX queue of a TCP/UDP flow on a port with RSS: the key and
 * redirection table the port accepted (read back, not what was asked for).
 * Used to pick local ports whose frames reach the core that opens the
 * connection (issue 10). Empty reta: every flow on queue 0.
 */
struct RssSteering {
  std::array<uint8_t, 40> key{};
  std::vector<uint16_t> reta;  ///< RX queue of each entry; a frame goes to reta[hash % reta.size()]

  /** The RX queue of frames from @p remote_ip:@p remote_port to @p local_ip:@p local_port. */
  uint16_t queue_of(Ipv4Addr remote_ip, uint16_t remote_port, Ipv4Addr local_ip,
                    uint16_t local_port) const noexcept {
    if (reta.empty()) return 0;
    // The NIC hashes the received frame: its source is the remote end.
    return reta[toeplitz_ipv4_l4(key, remote_ip, local_ip, remote_port, local_port) % reta.size()];
  }
};

}  // namespace tern::wire
