/**
 * @file
 * Layer-3 (IPv4, ICMP, reassembly) counters of one core, drops by reason.
 */
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace tern::l3 {

enum class L3Drop : uint8_t {
  truncated,           ///< shorter than an IPv4 header
  bad_version,         ///< version != 4
  bad_header,          ///< IHL < 5 or beyond the data
  bad_length,          ///< total length inconsistent with the frame
  bad_option,          ///< malformed IPv4 option
  bad_checksum,        ///< header checksum wrong
  bad_source,          ///< source not one host: 0, broadcast, multicast, loopback, ours (RFC 1122 §3.2.1.3)
  not_for_us,          ///< destination is not ours (we are a host, no forwarding)
  unknown_protocol,    ///< no transport handler
  bad_fragment,        ///< inconsistent fragment (length, offset, oversize)
  duplicate_fragment,  ///< fragment adding no new data
  fragment_conflict,   ///< fragments of a datagram discarded because two of them overlap with different bytes
  reassembly_timeout,  ///< fragments dropped when their datagram timed out
  reassembly_memory,   ///< fragments dropped to keep the memory bound
  no_route,            ///< no route to destination (output, or forwarding)
  ttl_exceeded,        ///< forwarding: TTL would reach 0 (RFC 1812 §5.3.1)
  not_forwardable,     ///< forwarding: link-layer broadcast, or a destination no router forwards to
  too_big_df,          ///< output: larger than MTU with DF set
  no_mbuf,             ///< pool exhausted
  icmp_malformed,      ///< ICMP truncated or bad checksum
  icmp_rate_limited,   ///< error not sent: the core's random budget was spent
  icmp_dest_limited,   ///< error not sent: its destination used up its own allowance
  icmp_echo_limited,   ///< echo reply not sent: icmp.echo_rate
  icmp_not_ours,       ///< ICMP error quoting a datagram whose source is not one of our addresses
  icmp_no_transport,   ///< ICMP error about a protocol with no transport (or about ICMP itself)
  icmp_type_ignored,   ///< redirect or source quench: nothing to do (static routes; RFC 6633)
  icmp_frag_no_df,     ///< fragmentation needed about a datagram sent without DF (RFC 1191 §4: bogus)
  pmtu_not_lower,      ///< validated fragmentation needed reporting no lower path MTU (RFC 1191 §6.3)
  count_
};

std::string_view to_string(L3Drop d) noexcept;

struct L3Stats {
  uint64_t rx_datagrams = 0;
  uint64_t rx_delivered = 0;
  uint64_t tx_datagrams = 0;
  uint64_t rx_fragments = 0;
  uint64_t reassembled = 0;
  uint64_t fragments_created = 0;
  uint64_t fragmented = 0;  ///< datagrams split on output
  uint64_t reassembly_evicted = 0;
  uint64_t icmp_in = 0;
  uint64_t icmp_out = 0;
  uint64_t icmp_echo_requests = 0;
  uint64_t icmp_echo_replies = 0;
  uint64_t icmp_errors_in = 0;
  uint64_t icmp_errors_out = 0;
  uint64_t icmp_unreach_out = 0;
  /// Parameter Problem sent about malformed IPv4 options (RFC 1122 §3.2.2.5).
  uint64_t icmp_param_problem_out = 0;
  uint64_t pmtu_updates = 0;
  /// Path MTUs reported below Ipv4Params::pmtu_min: the floor was recorded (locked).
  uint64_t pmtu_clamped = 0;
  uint64_t forwarded = 0;  ///< datagrams forwarded (RFC 1812)
  std::array<uint64_t, static_cast<size_t>(L3Drop::count_)> drops{};

  void drop(L3Drop d, uint64_t n = 1) noexcept { drops[static_cast<size_t>(d)] += n; }
  uint64_t dropped(L3Drop d) const noexcept { return drops[static_cast<size_t>(d)]; }
};

}  // namespace tern::l3
