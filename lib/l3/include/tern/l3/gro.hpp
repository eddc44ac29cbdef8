/**
 * @file
 * Software GRO (issue 11, docs/offloads.md): within one RX burst, in-order
 * TCP segments of one flow are merged into one mbuf chain before the stack
 * sees them, so IPv4 and TCP input run once per chain instead of once per
 * segment. Nothing waits: a burst is merged and handed on at once.
 */
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "tern/base/checksum.hpp"

namespace tern::l3 {

/** GRO counters of one core. */
struct GroStats {
  uint64_t chains = 0;  ///< merged chains made (each holds two or more segments)
  uint64_t merged = 0;  ///< segments that went into them
};

/** Bounds of one merged chain. */
inline constexpr uint32_t kGroMaxSegments = 64;  ///< segments per chain (a chain's mbufs stay bounded)
inline constexpr uint32_t kGroMaxBytes = 65535;  ///< IPv4 total length of the merged datagram

/**
 * Merge the TCP segments of @p pkts[0..n) (Ethernet frames as a port
 * received them) in place. A segment joins the chain of an earlier one in
 * the burst when both are IPv4 (no options, not fragments) TCP of one
 * 4-tuple with payload, flags ACK (PSH allowed, which ends the chain), the
 * same acknowledgment number, window and option bytes, and it starts where
 * the chain ends; no larger than the chain's first segment (a shorter one
 * ends the chain); within kGroMaxSegments and kGroMaxBytes. Any other frame
 * of the flow ends its chain, so the order of a flow's frames is kept.
 *
 * Checksums are verified per segment before merging, as @p mode says
 * (automatic: the NIC's verdict, else software; software: always software;
 * trusted: not at all): a segment that fails is left alone for the stack to
 * count and drop. A merged chain's head gets the merged IPv4 length and
 * header checksum, RTE_MBUF_F_RX_LRO with tso_segsz = the first segment's
 * payload (as a NIC's LRO reports it), and checksum-good flags; the later
 * segments lose their headers and join its chain (no copy).
 *
 * The verifications are counted in @p cs.
 * @return the new number of frames in @p pkts (order kept, merged ones removed).
 */
uint16_t gro_burst(rte_mbuf** pkts, uint16_t n, ChecksumMode mode, GroStats& stats,
                   ChecksumStats& cs) noexcept;

}  // namespace tern::l3
