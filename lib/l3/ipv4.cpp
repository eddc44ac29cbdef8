/**
 * @file
 * IPv4 input and output. Datagrams arrive from l2::Interface::input() via
 * Core::poll() and leave to transports through the handler table; outgoing
 * transport segments get their header here and leave through
 * l2::Interface::send_ipv4().
 */
#include "tern/l3/ipv4.hpp"

#include <algorithm>
#include <cstring>

#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/l3/icmp.hpp"
#include "tern/wire/icmp.hpp"
#include "tern/wire/ipv4.hpp"

namespace tern::l3 {

using wire::Ipv4Addr;

std::string_view to_string(L3Drop d) noexcept {
  switch (d) {
    case L3Drop::truncated:
      return "truncated";
    case L3Drop::bad_version:
      return "bad_version";
    case L3Drop::bad_header:
      return "bad_header";
    case L3Drop::bad_length:
      return "bad_length";
    case L3Drop::bad_option:
      return "bad_option";
    case L3Drop::bad_checksum:
      return "bad_checksum";
    case L3Drop::bad_source:
      return "bad_source";
    case L3Drop::not_for_us:
      return "not_for_us";
    case L3Drop::unknown_protocol:
      return "unknown_protocol";
    case L3Drop::bad_fragment:
      return "bad_fragment";
    case L3Drop::duplicate_fragment:
      return "duplicate_fragment";
    case L3Drop::fragment_conflict:
      return "fragment_conflict";
    case L3Drop::reassembly_timeout:
      return "reassembly_timeout";
    case L3Drop::reassembly_memory:
      return "reassembly_memory";
    case L3Drop::no_route:
      return "no_route";
    case L3Drop::ttl_exceeded:
      return "ttl_exceeded";
    case L3Drop::not_forwardable:
      return "not_forwardable";
    case L3Drop::too_big_df:
      return "too_big_df";
    case L3Drop::no_mbuf:
      return "no_mbuf";
    case L3Drop::icmp_malformed:
      return "icmp_malformed";
    case L3Drop::icmp_rate_limited:
      return "icmp_rate_limited";
    case L3Drop::icmp_dest_limited:
      return "icmp_dest_limited";
    case L3Drop::icmp_echo_limited:
      return "icmp_echo_limited";
    case L3Drop::icmp_not_ours:
      return "icmp_not_ours";
    case L3Drop::icmp_no_transport:
      return "icmp_no_transport";
    case L3Drop::icmp_type_ignored:
      return "icmp_type_ignored";
    case L3Drop::icmp_frag_no_df:
      return "icmp_frag_no_df";
    case L3Drop::pmtu_not_lower:
      return "pmtu_not_lower";
    case L3Drop::count_:
      break;
  }
  return "unknown";
}

Ipv4::Ipv4(const Ipv4Params& params, std::vector<l2::Interface*> ifaces, RouteTable routes, rte_mempool* pool)
    : p_(params),
      ifaces_(std::move(ifaces)),
      routes_(std::move(routes)),
      pool_(pool),
      reasm_(params.reassembly, stats_),
      ids_(random_key("IPv4 ID"), random_key("IPv4 ID increment")) {
  if (p_.default_ttl == 0) p_.default_ttl = 64;  // RFC 1122 §3.2.1.7: never send TTL 0
  for (const auto* i : ifaces_) {
    locals_.push_back(i->address().v);
    if (i->has_subnet_broadcast()) broadcasts_.push_back(i->prefix().broadcast().v);
  }
}

namespace {
L3Drop drop_for(Errc e) {
  switch (e) {
    case Errc::truncated:
      return L3Drop::truncated;
    case Errc::bad_version:
      return L3Drop::bad_version;
    case Errc::bad_header:
      return L3Drop::bad_header;
    case Errc::bad_option:
      return L3Drop::bad_option;
    default:
      return L3Drop::bad_length;
  }
}
}  // namespace

// RFC 1122 §3.2.1.3: a datagram's source must name one host. Silently
// discard: 0.0.0.0 ("this host", only for initialisation, which we do not
// serve) (a), limited and subnet-directed broadcasts (c)/(d), multicast,
// loopback 127/8 (g), and our own addresses (a martian: someone spoofs us).
bool Ipv4::source_valid(Ipv4Addr src) const noexcept {
  return !src.is_special() && !is_local(src) && !is_our_broadcast(src);
}

// RFC 1122 §3.2.2.5: a host SHOULD send Parameter Problem (RFC 792: type 12,
// code 0, pointer at the octet found wrong) about a datagram it discards for a
// bad parameter; here, malformed options. Only when the header checksum holds
// (a damaged header proves nothing), the datagram is for one of our addresses
// in a unicast frame (never about broadcast or multicast, §3.2.2) and its
// source is one host (§3.2.1.3). send_error() adds the rest of §3.2.2 (never
// about an ICMP error or a non-first fragment) and the error rate limit.
void Ipv4::report_bad_options(Packet& dgram, bool link_broadcast, uint64_t now) {
  if (icmp_ == nullptr || link_broadcast) return;
  const uint8_t* h = dgram.data();
  const size_t hlen = (h[0] & 0x0fu) * 4u;  // parse() checked IHL and total length before the options
  const std::span<const uint8_t> header(h, hlen);
  const RxCsum hw = dgram.rx_ip_csum();
  if (hw == RxCsum::bad || (hw == RxCsum::unknown && !checksum_valid(header))) return;
  const std::optional<uint8_t> pointer = wire::ipv4_option_problem(header);
  if (!pointer || !is_local(Ipv4Addr::load(h + 16)) || !source_valid(Ipv4Addr::load(h + 12))) return;
  dgram.truncate(load_be16(h + 2));  // Ethernet padding is not part of the quote
  if (icmp_->send_error(dgram, wire::icmp_type::parameter_problem, wire::icmp_code::pointer_indicates_error,
                        uint32_t{*pointer} << 24, now)) {
    ++stats_.icmp_param_problem_out;
  }
}

// RFC 1122 §3.2.1 and RFC 791 §3.1: validate once; later stages trust the header.
std::optional<wire::Ipv4View> Ipv4::validate(Packet& dgram, bool link_broadcast, uint64_t now) {
  // A chain (a GRO merge, a frame longer than one RX buffer) keeps its payload where it is; the
  // header must be in the head segment (pulled up if not, counted). Fragments still go flat for
  // reassembly.
  if (dgram.segments() > 1 && dgram.head_length() < 60 &&
      dgram.pull_up(std::min<uint32_t>(dgram.length(), 60)) == nullptr) {
    stats_.drop(L3Drop::truncated);
    return std::nullopt;
  }
  auto v = wire::Ipv4View::parse_head(dgram.head(), dgram.length());
  if (v && v->is_fragment() && dgram.segments() > 1) {
    if (!dgram.linearize()) {
      stats_.drop(L3Drop::bad_length);
      return std::nullopt;
    }
    v = wire::Ipv4View::parse(dgram.head());
  }
  if (!v) {
    stats_.drop(drop_for(v.error().code));
    if (v.error().code == Errc::bad_option) report_bad_options(dgram, link_broadcast, now);
    return std::nullopt;
  }
  RxCsum hw = dgram.rx_ip_csum();
  // RFC 1122 §3.2.1.2: a host MUST verify the header checksum (here or in the NIC).
  if (hw == RxCsum::bad || (hw == RxCsum::unknown && !v->checksum_ok())) {
    stats_.drop(L3Drop::bad_checksum);
    return std::nullopt;
  }
  // RFC 1122 §3.2.1.7: a host MUST NOT discard a datagram just because it was
  // received with TTL less than 2, so TTL 0 and 1 are delivered when they are
  // for us. Forwarding still refuses them (forward_checks, forward_fast: RFC
  // 1812 §5.3.1, time exceeded).
  if (!source_valid(v->src())) {
    stats_.drop(L3Drop::bad_source);
    return std::nullopt;
  }
  dgram.truncate(v->total_length());  // drop Ethernet padding
  return *v;
}

void Ipv4::input(Packet dgram, l2::Interface& iface, uint64_t now, bool link_broadcast) {
  now_ = now;
  ++stats_.rx_datagrams;
  auto v = validate(dgram, link_broadcast, now);  // the one parse of this header
  if (!v) return;
  Ipv4Addr dst = v->dst();
  bool bcast = false;
  if (!is_local(dst)) {
    bcast = iface.is_broadcast(dst);
    if (!bcast) {
      if (p_.forwarding) {
        forward(std::move(dgram), link_broadcast, now);
      } else {
        stats_.drop(L3Drop::not_for_us);  // RFC 1122 §3.3.4.2: hosts do not forward
      }
      return;
    }
  }
  // RFC 1122 §3.2.2: a link-layer broadcast counts as a broadcast even to our address.
  bool broadcast = link_broadcast || bcast;
  if (!v->is_fragment()) {
    deliver(std::move(dgram), *v, broadcast, iface, now, true);
    return;
  }
  dgram = reasm_.add(std::move(dgram), *v, now);
  if (!dgram) return;
  if (reasm_hook_ != nullptr && reasm_hook_(reasm_ctx_, dgram, iface.index(), broadcast)) return;
  input_reassembled(std::move(dgram), iface, now, broadcast);
}

void Ipv4::input_reassembled(Packet dgram, l2::Interface& iface, uint64_t now, bool broadcast) {
  now_ = now;
  // The whole datagram behind the header reassembly rebuilt in its head segment.
  auto whole = wire::Ipv4View::parse_quoted(dgram.head());
  if (!whole) {
    stats_.drop(L3Drop::bad_header);
    return;
  }
  deliver(std::move(dgram), *whole, broadcast, iface, now, false);
}

void Ipv4::deliver(Packet dgram, const wire::Ipv4View& v, bool broadcast, l2::Interface& iface, uint64_t now,
                   bool whole_frame) {
  Ipv4Meta m;
  m.src = v.src();
  m.dst = v.dst();
  m.proto = v.protocol();
  m.ttl = v.ttl();
  m.tos = v.tos();
  m.header_len = static_cast<uint8_t>(v.header_length());
  m.iface = iface.index();
  m.broadcast = broadcast;
  // A device's (or trusted mode's, or GRO's) verdict is about the frame as received: it holds
  // for a whole datagram in one frame, never for one reassembled from fragments.
  // A trusted link's sender computed no checksum, fragmented or not (docs/offloads.md).
  m.l4_csum_good =
      (whole_frame && dgram.rx_l4_csum() == RxCsum::good) || iface.checksum_mode() == ChecksumMode::trusted;
  if (m.l4_csum_good && iface.checksum_mode() == ChecksumMode::automatic) ++csum_.hw_verified;
  L4Handler* h = handlers_[m.proto];
  if (h == nullptr) {
    stats_.drop(L3Drop::unknown_protocol);
    // RFC 1122 §3.2.2.1: SHOULD send protocol unreachable.
    if (icmp_ != nullptr && !m.broadcast &&
        icmp_->send_error(dgram, wire::icmp_type::dest_unreachable, wire::icmp_code::protocol_unreachable, 0,
                          now)) {
      ++stats_.icmp_unreach_out;
    }
    return;
  }
  ++stats_.rx_delivered;
  dgram.trim_front(m.header_len);
  if (h->input(dgram, m, now) == L4Verdict::port_unreachable && dgram && !m.broadcast) {
    dgram.prepend(m.header_len);  // the header bytes are still in the headroom
    if (icmp_ != nullptr && icmp_->send_error(dgram, wire::icmp_type::dest_unreachable,
                                              wire::icmp_code::port_unreachable, 0, now)) {
      ++stats_.icmp_unreach_out;
    }
  }
}

Result<PathInfo> Ipv4::path(Ipv4Addr dst) const noexcept {
  PathInfo p;
  if (dst.is_broadcast()) {
    if (ifaces_.empty()) return make_error(Errc::no_route, "no interface for a limited broadcast");
    p.iface = ifaces_[0];
    p.next_hop = dst;
  } else {
    const Route* r = routes_.lookup(dst);
    if (r == nullptr || r->iface >= ifaces_.size())
      return make_error(Errc::no_route, "no route to destination");
    p.iface = ifaces_[r->iface];
    p.next_hop = r->connected() ? dst : r->gateway;
    p.mac = r->mac;
  }
  p.src = p.iface->address();
  bool locked = false;
  const uint16_t learned = pmtu_lookup(dst, &locked);
  p.mtu = std::min(p.iface->mtu(), learned);
  p.pmtu_locked = locked && learned < p.iface->mtu();
  return p;
}

uint16_t Ipv4::pmtu_lookup(Ipv4Addr dst, bool* locked) const noexcept {
  const PmtuEntry& e = pmtu_[(dst.v * 0x9e3779b1u) >> 26];
  if (e.dst == dst.v && e.mtu != 0 && now_ < e.expires_ns) {
    if (locked != nullptr) *locked = e.locked;
    return e.mtu;
  }
  return UINT16_MAX;
}

bool Ipv4::update_pmtu(Ipv4Addr dst, uint16_t mtu, uint64_t now) noexcept {
  // RFC 5927 §7.2: a floor (Linux's min_pmtu, 552 by default; never below RFC 791's 68).
  // Below it the floor is recorded and locked: sent without DF (PathInfo::pmtu_locked),
  // so a real hop under the floor fragments rather than black-holes. An attacker
  // can cost a connection some throughput this way, never stall it.
  const uint16_t floor = std::max<uint16_t>(p_.pmtu_min, 68);
  const bool locked = mtu < floor;
  mtu = std::max(mtu, floor);
  PmtuEntry& e = pmtu_[(dst.v * 0x9e3779b1u) >> 26];
  uint16_t cur = (e.dst == dst.v && now < e.expires_ns) ? e.mtu : UINT16_MAX;
  // Nor a report at or above the interface's MTU: it would lower nothing, and writing it could
  // push another destination's real entry out of its slot.
  if (const Route* r = routes_.lookup(dst); r != nullptr && r->iface < ifaces_.size())
    cur = std::min(cur, ifaces_[r->iface]->mtu());
  if (mtu >= cur) {  // RFC 1191 §6.3: an ICMP message never raises it
    stats_.drop(L3Drop::pmtu_not_lower);
    return false;
  }
  e = PmtuEntry{dst.v, mtu, locked, now + p_.pmtu_expiry_ns};
  ++stats_.pmtu_updates;
  if (locked) ++stats_.pmtu_clamped;
  return true;
}

void Ipv4::finish_header(Packet& dgram, const PortCaps& caps) {
  uint8_t* h = dgram.data();
  dgram.mbuf()->l3_len = static_cast<uint16_t>((h[0] & 0x0f) * 4);
  uint64_t l4_flags = dgram.ol_flags() & RTE_MBUF_F_TX_L4_MASK;
  if (caps.tx_ipv4_csum) {
    store_be16(h + 10, 0);
    dgram.add_tx_flags(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
  } else {
    store_be16(h + 10, 0);
    store_be16(h + 10, internet_checksum({h, dgram.mbuf()->l3_len}));
    if (l4_flags != 0) dgram.add_tx_flags(RTE_MBUF_F_TX_IPV4);
  }
}

bool l4_checksum_ok(const Packet& l4, const Ipv4Meta& meta, ChecksumStats& st) noexcept {
  ++st.sw_verified;
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, meta.src.v, meta.dst.v, meta.proto, static_cast<uint16_t>(l4.length()));
  l4.for_each_segment([&](std::span<const uint8_t> seg) { acc.add(seg); });
  return acc.sum16() == 0xffff;
}

void fill_l4_checksum(Packet& l4, uint16_t field_off, Ipv4Addr src, Ipv4Addr dst, uint8_t proto, L4Csum how,
                      uint8_t l4_header_len, ChecksumStats& st) noexcept {
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, src.v, dst.v, proto, static_cast<uint16_t>(l4.length()));
  uint8_t* field = l4.data() + field_off;  // the header is in the first segment
  if (how != L4Csum::software) {
    store_be16(field, acc.sum16());  // the NIC adds the rest, or (trusted) nobody does
    if (how == L4Csum::none) ++st.trusted_tx;
    if (how != L4Csum::offload) return;
    ++st.offloaded;
    l4.set_tx_lengths(0, 0, l4_header_len);
    l4.add_tx_flags(proto == wire::ip_proto::udp ? RTE_MBUF_F_TX_UDP_CKSUM : RTE_MBUF_F_TX_TCP_CKSUM);
    return;
  }
  ++st.sw_computed;
  store_be16(field, 0);
  l4.for_each_segment([&](std::span<const uint8_t> seg) { acc.add(seg); });
  uint16_t c = acc.finish();
  if (c == 0 && proto == wire::ip_proto::udp) c = 0xffff;  // RFC 768: 0 means "no checksum"
  store_be16(field, c);
}

// Complete a transport checksum that was left to the NIC (pseudo-header sum in
// the field): fragments cannot carry the offload, so fragment() finishes it here.
// Transports always ask for the offload when the port has it; this is the one
// place that falls back.
void Ipv4::software_l4_checksum(Packet& dgram) {
  uint64_t l4 = dgram.ol_flags() & RTE_MBUF_F_TX_L4_MASK;
  if (l4 == 0) return;
  ++csum_.sw_computed;
  const uint8_t* h = dgram.data();
  uint32_t hlen = (h[0] & 0x0f) * 4u;
  uint8_t proto = h[9];
  uint32_t field = hlen + (proto == wire::ip_proto::udp ? 6 : 16);
  uint32_t l4_len = dgram.length() - hlen;
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, load_be32(h + 12), load_be32(h + 16), proto, static_cast<uint16_t>(l4_len));
  const uint8_t zero[2] = {0, 0};
  dgram.copy_in(field, zero);
  uint32_t pos = 0;
  dgram.for_each_segment([&](std::span<const uint8_t> seg) {
    uint32_t start = pos >= hlen ? 0 : std::min<uint32_t>(hlen - pos, static_cast<uint32_t>(seg.size()));
    acc.add(seg.subspan(start));
    pos += static_cast<uint32_t>(seg.size());
  });
  uint16_t c = acc.finish();
  if (c == 0 && proto == wire::ip_proto::udp) c = 0xffff;  // RFC 768: 0 means "no checksum"
  uint8_t cb[2];
  store_be16(cb, c);
  dgram.copy_in(field, cb);
  dgram.mbuf()->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
}

Status Ipv4::fragment(Packet dgram, const PathInfo& path, uint64_t now) {
  software_l4_checksum(dgram);
  uint8_t hdr[60];
  const uint32_t hlen = (dgram.data()[0] & 0x0f) * 4u;  // we just wrote it into the head segment
  std::memcpy(hdr, dgram.data(), hlen);
  const uint32_t payload = dgram.length() - hlen;
  const uint32_t chunk = (path.mtu - hlen) & ~7u;  // RFC 791 §3.2: 8-byte units
  const uint16_t data_room = rte_pktmbuf_data_room_size(pool_);
  uint32_t count = 0;
  for (uint32_t off = 0; off < payload; off += chunk) {
    uint32_t n = std::min(chunk, payload - off);
    Packet f = Packet::alloc(pool_);
    uint8_t* h = f ? f.append(static_cast<uint16_t>(hlen)) : nullptr;
    if (h == nullptr) {
      stats_.drop(L3Drop::no_mbuf);
      return make_error(Errc::no_memory, "mbuf pool exhausted while fragmenting");
    }
    std::memcpy(h, hdr, hlen);
    store_be16(h + 2, static_cast<uint16_t>(hlen + n));
    bool more = off + n < payload;
    store_be16(h + 6, static_cast<uint16_t>((more ? 0x2000 : 0) | (off / 8)));
    // Copy the piece (fragmentation is a slow path; counted in buf_stats).
    for (uint32_t done = 0; done < n;) {
      uint16_t room = rte_pktmbuf_tailroom(rte_pktmbuf_lastseg(f.mbuf()));
      if (room == 0) room = data_room;
      uint16_t step = static_cast<uint16_t>(std::min<uint32_t>(room, n - done));
      uint8_t* d = f.append(step, pool_);
      if (d == nullptr) {
        stats_.drop(L3Drop::no_mbuf);
        return make_error(Errc::no_memory, "mbuf pool exhausted while fragmenting");
      }
      dgram.copy_out(hlen + off + done, {d, step});
      done += step;
    }
    finish_header(f, path.iface->caps());
    ++count;
    transmit(std::move(f), path, now);
  }
  ++stats_.fragmented;
  stats_.fragments_created += count;
  stats_.tx_datagrams += count;
  return {};
}

Status Ipv4::output(Packet l4, const OutputParams& params, uint64_t now) {
  auto path_r = path(params.dst);
  if (!path_r) {
    stats_.drop(L3Drop::no_route);
    return path_r.error();
  }
  return output(std::move(l4), params, *path_r, now);
}

Status Ipv4::output(Packet l4, const OutputParams& params, const PathInfo& pi, uint64_t now) {
  now_ = now;
  if (is_local(params.dst)) {
    stats_.drop(L3Drop::no_route);
    return make_error(Errc::unsupported, "sending to our own address (no loopback interface)");
  }
  const uint32_t total = l4.length() + wire::kIpv4MinHeaderLen;
  if (total > 65535) {
    stats_.drop(L3Drop::bad_length);
    return make_error(Errc::bad_length, "datagram longer than 65535 bytes");
  }
  // No RX flags leak into TX; the buffer's attach markers stay.
  l4.mbuf()->ol_flags &= RTE_MBUF_F_TX_OFFLOAD_MASK | Packet::kAttachFlags;
  uint8_t* h = l4.push_header(wire::kIpv4MinHeaderLen, pool_);
  if (h == nullptr) {
    stats_.drop(L3Drop::no_mbuf);
    return make_error(Errc::no_memory, "no mbuf for the IPv4 header");
  }
  wire::Ipv4Header ih{};
  ih.tos = params.tos;
  ih.total_length = static_cast<uint16_t>(total);
  ih.df = params.dont_fragment;
  ih.ttl = params.ttl != 0 ? params.ttl : p_.default_ttl;
  ih.protocol = params.proto;
  ih.src = params.src.v != 0 ? params.src : pi.src;
  ih.dst = params.dst;
  // RFC 6864 §4.2: an atomic datagram may carry its sender's per-flow number; any other gets
  // the per-destination value (RFC 7739 §5.3, ip_id.hpp).
  ih.id = params.dont_fragment && params.id ? *params.id : ids_.next(ih.src, params.dst, params.proto, now);
  ih.emit({h, wire::kIpv4MinHeaderLen}, false);
  const rte_mbuf* m = l4.mbuf();
  // A TCP super-segment (issue 11) is cut by TSO or the software GSO into frames that each fit.
  const bool super = (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0 &&
                     wire::kIpv4MinHeaderLen + static_cast<uint32_t>(m->l4_len + m->tso_segsz) <= pi.mtu;
  if (total > pi.mtu && !super) {
    if (params.dont_fragment) {
      stats_.drop(L3Drop::too_big_df);
      return make_error(Errc::would_block, "datagram exceeds the path MTU and DF is set");
    }
    return fragment(std::move(l4), pi, now);
  }
  finish_header(l4, pi.iface->caps());
  ++stats_.tx_datagrams;
  transmit(std::move(l4), pi, now);
  return {};
}

// RFC 1812 §5.2-5.3 checks before forwarding; sends the ICMP error a router
// owes and returns false when the datagram must not go on.
bool Ipv4::forward_checks(Packet& dgram, bool link_broadcast, uint64_t now, const Route*& route) {
  const uint8_t* h = dgram.data();
  Ipv4Addr dst = Ipv4Addr{load_be32(h + 16)};
  // RFC 1812 §5.3.4: not a datagram that arrived as a link-layer broadcast;
  // §5.3.7: never multicast (no multicast routing), loopback, 0/8 or class E.
  // RFC 2644 (updating RFC 1812 §5.3.5.2): directed broadcasts to an attached
  // subnet are discarded by default; they are the smurf amplifier.
  if (link_broadcast || dst.is_special() || is_our_broadcast(dst)) {
    stats_.drop(L3Drop::not_forwardable);
    return false;
  }
  if (h[8] <= 1) {  // RFC 1812 §5.3.1: TTL would reach zero
    stats_.drop(L3Drop::ttl_exceeded);
    if (icmp_ != nullptr)
      icmp_->send_error(dgram, wire::icmp_type::time_exceeded, wire::icmp_code::ttl_exceeded, 0, now);
    return false;
  }
  route = routes_.lookup(dst);
  if (route == nullptr || route->iface >= ifaces_.size()) {  // RFC 1812 §5.2.7.1
    stats_.drop(L3Drop::no_route);
    if (icmp_ != nullptr)
      icmp_->send_error(dgram, wire::icmp_type::dest_unreachable, wire::icmp_code::net_unreachable, 0, now);
    return false;
  }
  const uint16_t mtu = std::min(ifaces_[route->iface]->mtu(), pmtu_lookup(dst));
  if (dgram.length() > mtu && (load_be16(h + 6) & 0x4000) != 0) {  // DF: RFC 1191 §4, RFC 1812 §5.2.7.1
    stats_.drop(L3Drop::too_big_df);
    if (icmp_ != nullptr)
      icmp_->send_error(dgram, wire::icmp_type::dest_unreachable, wire::icmp_code::frag_needed, mtu, now);
    return false;
  }
  return true;
}

void Ipv4::forward(Packet dgram, bool link_broadcast, uint64_t now) {
  const Route* route = nullptr;
  if (!forward_checks(dgram, link_broadcast, now, route)) return;
  uint8_t* h = dgram.data();
  // RFC 1812 §5.3.1 / RFC 1624: decrement TTL, update the checksum incrementally.
  uint16_t old_word = load_be16(h + 8);
  --h[8];
  store_be16(h + 10, checksum_update16(load_be16(h + 10), old_word, load_be16(h + 8)));
  dgram.clear_offloads();
  l2::Interface& out = *ifaces_[route->iface];
  Ipv4Addr dst = Ipv4Addr{load_be32(h + 16)};
  Ipv4Addr next_hop = route->connected() ? dst : route->gateway;
  ++stats_.forwarded;
  PathInfo pi{&out, out.address(), next_hop, std::min(out.mtu(), pmtu_lookup(dst)), route->mac};
  if (dgram.length() > pi.mtu) {
    (void)fragment(std::move(dgram), pi, now);
    return;
  }
  transmit(std::move(dgram), pi, now);
}

// The last step down: a static next-hop MAC skips ARP, as DPDK's l3fwd does.
void Ipv4::transmit(Packet dgram, const PathInfo& path, uint64_t now) {
  if (!path.mac.is_zero()) {
    path.iface->send_ipv4_to(std::move(dgram), path.mac);
  } else {
    path.iface->send_ipv4(std::move(dgram), path.next_hop, now);
  }
}

void Ipv4::tick(uint64_t now) {
  now_ = now;
  reasm_.expire(now, [&](Packet&& first) {
    // RFC 1122 §3.3.2: time exceeded (code 1) when fragment zero arrived.
    if (icmp_ != nullptr) {
      icmp_->send_error(first, wire::icmp_type::time_exceeded, wire::icmp_code::reassembly_exceeded, 0, now);
    }
  });
}

}  // namespace tern::l3
