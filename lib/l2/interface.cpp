/**
 * @file
 * Ethernet demux and ARP (RFC 826). Frames come from Core::poll() (RX
 * burst); IPv4 goes back up to Core for lib/l3, ARP is answered here.
 * Outgoing datagrams come from lib/l3 and leave through the TxQueue.
 */
#include "tern/l2/interface.hpp"

#include <algorithm>

#include "tern/wire/arp.hpp"

namespace tern::l2 {

using wire::Ipv4Addr;
using wire::MacAddr;

std::string_view to_string(L2Drop d) noexcept {
  switch (d) {
    case L2Drop::truncated:
      return "truncated";
    case L2Drop::not_for_us:
      return "not_for_us";
    case L2Drop::multicast:
      return "multicast";
    case L2Drop::vlan:
      return "vlan";
    case L2Drop::unknown_ethertype:
      return "unknown_ethertype";
    case L2Drop::arp_malformed:
      return "arp_malformed";
    case L2Drop::arp_unsupported:
      return "arp_unsupported";
    case L2Drop::arp_bad_sender:
      return "arp_bad_sender";
    case L2Drop::neigh_table_full:
      return "neigh_table_full";
    case L2Drop::neigh_queue_full:
      return "neigh_queue_full";
    case L2Drop::neigh_unresolved:
      return "neigh_unresolved";
    case L2Drop::no_mbuf:
      return "no_mbuf";
    case L2Drop::count_:
      break;
  }
  return "unknown";
}

Interface::Interface(const InterfaceParams& params, TxQueue& tx, rte_mempool* pool)
    : p_(params), tx_(tx), pool_(pool), caps_(tx.port().caps()), neigh_(params.neighbour, *this, stats_) {
  mac_.b = caps_.mac;
  if (p_.checksum != ChecksumMode::automatic) {
    // software: every checksum in software; trusted: none at all. Either way the port is
    // asked for none, and its receive verdicts are not used. TSO needs the checksum offloads.
    caps_.rx_ipv4_csum = caps_.rx_l4_csum = false;
    caps_.tx_ipv4_csum = caps_.tx_udp_csum = caps_.tx_tcp_csum = false;
    caps_.tso = false;
  }
  gso_max_ = p_.gso ? 65535u : 0u;
}

Packet Interface::input(Packet&& frame, uint64_t now, bool* link_broadcast) {
  ++stats_.rx_frames;
  uint64_t& f = frame.mbuf()->ol_flags;
  if (p_.checksum != ChecksumMode::automatic && (f & RTE_MBUF_F_RX_LRO) == 0) {
    // The device's verdicts are not used: software verifies, trusted marks the frame verified
    // (docs/offloads.md). A GRO merge (l3/gro.cpp, which followed the mode) keeps its verdict.
    f &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
    if (p_.checksum == ChecksumMode::trusted) {
      f |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
      ++csum_.trusted_rx;
    }
  }
  // Headers must be contiguous; a split first segment is rare (counted copy).
  if (frame.segments() > 1 && frame.head_length() < 64) frame.pull_up(std::min<uint32_t>(frame.length(), 64));
  auto eth = wire::EthernetView::parse(frame.head());
  if (!eth) {
    stats_.drop(L2Drop::truncated);
    return {};
  }
  const MacAddr dst = eth->dst();
  if (dst != mac_ && !dst.is_broadcast()) {
    stats_.drop(dst.is_multicast() ? L2Drop::multicast : L2Drop::not_for_us);
    return {};
  }
  if (link_broadcast != nullptr) *link_broadcast = dst.is_broadcast();
  if (eth->vlan_tci().has_value()) {
    stats_.drop(L2Drop::vlan);
    return {};
  }
  size_t hlen = eth->header_length();
  switch (eth->ethertype()) {
    case wire::ethertype::ipv4:
      ++stats_.rx_ipv4;
      frame.trim_front(static_cast<uint32_t>(hlen));
      return std::move(frame);
    case wire::ethertype::arp:
      ++stats_.rx_arp;
      arp_input(std::move(frame), hlen, now);
      return {};
    default:
      stats_.drop(L2Drop::unknown_ethertype);
      return {};
  }
}

void Interface::arp_input(Packet&& frame, size_t eth_len, uint64_t now) {
  auto arp = wire::ArpPacket::parse(frame.head().subspan(eth_len));
  if (!arp) {
    stats_.drop(arp.error().code == Errc::unsupported ? L2Drop::arp_unsupported : L2Drop::arp_malformed);
    return;
  }
  const wire::ArpPacket& a = *arp;
  (a.op == wire::arp_op::request ? stats_.arp_requests_in : stats_.arp_replies_in)++;
  if (a.sha.is_multicast() || a.sha.is_zero()) {
    stats_.drop(L2Drop::arp_bad_sender);
    return;
  }
  // A sender address that cannot be one host (RFC 1122 §3.2.1.3: 0/8 but the probe's 0.0.0.0,
  // broadcast, multicast, loopback, class E, our subnet's broadcast) is never learned nor answered.
  if ((a.spa.is_special() && !a.spa.is_unspecified()) || is_broadcast(a.spa)) {
    stats_.drop(L2Drop::arp_bad_sender);
    return;
  }
  if (a.spa == address()) {
    // Someone else uses our address (RFC 5227 §2.4 conflict); never learn it.
    if (a.sha != mac_) ++stats_.arp_conflicts;
    stats_.drop(L2Drop::arp_bad_sender);
    return;
  }
  const bool for_us = a.tpa == address();
  // RFC 826 "Packet Reception": merge into an existing entry; add one only if
  // we are the target. An ARP probe (sender IP 0, RFC 5227 §2.1.1) teaches nothing.
  const LearnSource from = for_us && a.op == wire::arp_op::reply ? LearnSource::answer : LearnSource::packet;
  if (!a.spa.is_unspecified() && neigh_.learn(a.spa, a.sha, for_us, now, from) && learn_hook_ != nullptr) {
    learn_hook_(learn_ctx_, p_.index, a.spa, a.sha);
  }
  if (for_us && a.op == wire::arp_op::request) {
    arp_reply_in_place(std::move(frame), a.sha, a.spa);
  }
}

// The request mbuf becomes the reply: no allocation on the ARP fast path.
void Interface::arp_reply_in_place(Packet&& frame, const MacAddr& to_mac, Ipv4Addr to_ip) {
  wire::ArpPacket reply{wire::arp_op::reply, mac_, address(), to_mac, to_ip};
  frame.truncate(static_cast<uint32_t>(wire::kEthernetHeaderLen + wire::kArpLen));
  wire::EthernetHeader eh{to_mac, mac_, wire::ethertype::arp, std::nullopt};
  // The frame may have been VLAN-free with hlen 14 (checked in input()).
  eh.emit(frame.head());
  reply.emit(frame.head().subspan(wire::kEthernetHeaderLen));
  frame.clear_offloads();
  ++stats_.arp_replies_out;
  transmit_frame(std::move(frame));
}

void Interface::send_arp(uint16_t op, const MacAddr& eth_dst, const MacAddr& tha, Ipv4Addr tpa) {
  Packet p = Packet::alloc(pool_);
  if (!p) {
    stats_.drop(L2Drop::no_mbuf);
    return;
  }
  uint8_t* body = p.append(static_cast<uint16_t>(wire::kArpLen));
  wire::ArpPacket a{op, mac_, address(), tha, tpa};
  a.emit({body, wire::kArpLen});
  emit(std::move(p), eth_dst, wire::ethertype::arp);
}

void Interface::announce(uint64_t) {
  // Gratuitous ARP: a request with sender and target both our address.
  ++stats_.arp_gratuitous_out;
  send_arp(wire::arp_op::request, MacAddr::broadcast(), MacAddr{}, address());
}

void Interface::neigh_request(Ipv4Addr target, const MacAddr* unicast, uint64_t) {
  ++stats_.arp_requests_out;
  send_arp(wire::arp_op::request, unicast != nullptr ? *unicast : MacAddr::broadcast(), MacAddr{}, target);
}

void Interface::neigh_transmit(Packet&& dgram, const MacAddr& dst) {
  emit(std::move(dgram), dst, wire::ethertype::ipv4);
}

void Interface::send_ipv4(Packet dgram, Ipv4Addr next_hop, uint64_t now) {
  if (is_broadcast(next_hop)) {
    emit(std::move(dgram), MacAddr::broadcast(), wire::ethertype::ipv4);
    return;
  }
  neigh_.send(next_hop, std::move(dgram), now);
}

void Interface::emit(Packet payload, const MacAddr& dst, uint16_t ethertype) {
  uint8_t* h = payload.push_header(static_cast<uint16_t>(wire::kEthernetHeaderLen), pool_);
  if (h == nullptr) {
    stats_.drop(L2Drop::no_mbuf);
    return;
  }
  wire::EthernetHeader eh{dst, mac_, ethertype, std::nullopt};
  eh.emit({h, wire::kEthernetHeaderLen});
  payload.mbuf()->l2_len = wire::kEthernetHeaderLen;
  transmit_frame(std::move(payload));
}

bool Interface::linearize_for_tx(Packet& frame) {
  if (frame.linearize()) return true;
  stats_.drop(L2Drop::no_mbuf);
  return false;
}

}  // namespace tern::l2
