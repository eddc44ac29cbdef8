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

}  // namespace tern::wire
