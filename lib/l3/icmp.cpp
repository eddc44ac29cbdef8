/**
 * @file
 * ICMP input (from Ipv4::deliver) and output (through Ipv4::output).
 */
#include "tern/l3/icmp.hpp"

#include <algorithm>
#include <cstring>

#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/wire/icmp.hpp"
#include "tern/wire/ipv4.hpp"

namespace tern::l3 {

namespace {
constexpr uint32_t kMaxQuote = 576 - 20 - 8;  // RFC 1812 §4.3.2.3: the error fits in 576 bytes

bool is_error_type(uint8_t t) {
  return t == wire::icmp_type::dest_unreachable || t == wire::icmp_type::source_quench ||
         t == wire::icmp_type::redirect || t == wire::icmp_type::time_exceeded ||
         t == wire::icmp_type::parameter_problem;
}

bool checksum_ok(const Packet& p) {
  ChecksumAccumulator acc;
  p.for_each_segment([&](std::span<const uint8_t> s) { acc.add(s); });
  return acc.sum16() == 0xffff;
}
}  // namespace

Icmp::Icmp(const IcmpParams& params, Ipv4& ip)
    : p_(params),
      ip_(ip),
      rng_(random_key("ICMP random")),
      errors_(params.error_rate, rng_),
      dest_(params.dest_slots, params.dest_error_rate, params.dest_error_burst,
            random_key("ICMP destination")),
      echo_limit_(params.echo_rate, params.echo_rate) {
  ip_.set_handler(wire::ip_proto::icmp, this);
  ip_.set_icmp(this);
}

Icmp::~Icmp() {
  ip_.set_handler(wire::ip_proto::icmp, nullptr);
  ip_.set_icmp(nullptr);
}

L4Verdict Icmp::input(Packet& payload, const Ipv4Meta& meta, uint64_t now) {
  L3Stats& st = ip_.stats();
  ++st.icmp_in;
  Packet msg = std::move(payload);
  if (msg.length() < wire::kIcmpHeaderLen ||
      (msg.head_length() < wire::kIcmpHeaderLen && msg.pull_up(wire::kIcmpHeaderLen) == nullptr)) {
    st.drop(L3Drop::icmp_malformed);
    return L4Verdict::consumed;
  }
  if (!meta.l4_csum_good && !checksum_ok(msg)) {
    st.drop(L3Drop::icmp_malformed);
    return L4Verdict::consumed;
  }
  const uint8_t* h = msg.data();
  uint8_t type = h[0];
  uint8_t code = h[1];
  if (type == wire::icmp_type::echo_request) {
    ++st.icmp_echo_requests;
    // RFC 1122 §3.2.2.6: an echo to a broadcast address MAY be silently discarded.
    if (p_.echo && !meta.broadcast) {
      if (echo_limit_.take(now)) {
        echo_reply(msg, meta, now);
      } else {
        st.drop(L3Drop::icmp_echo_limited);
      }
    }
  } else if (type == wire::icmp_type::echo_reply) {
    ++st.icmp_echo_replies;
  } else if (is_error_type(type)) {
    ++st.icmp_errors_in;
    error_input(msg, meta, type, code, load_be32(h + 4), now);
  }
  return L4Verdict::consumed;
}

// RFC 792 "Echo or Echo Reply": same data back, type 0; the request mbuf is
// reused, the checksum updated incrementally (RFC 1624).
void Icmp::echo_reply(Packet& msg, const Ipv4Meta& meta, uint64_t now) {
  uint8_t* h = msg.data();
  uint16_t old_word = load_be16(h);
  h[0] = wire::icmp_type::echo_reply;
  store_be16(h + 2, checksum_update16(load_be16(h + 2), old_word, load_be16(h)));
  msg.clear_offloads();
  OutputParams out;
  out.src = meta.dst;
  out.dst = meta.src;
  out.proto = wire::ip_proto::icmp;
  out.tos = meta.tos;
  if (ip_.output(std::move(msg), out, now)) ++ip_.stats().icmp_out;
}

void Icmp::error_input(const Packet& msg, const Ipv4Meta& meta, uint8_t type, uint8_t code, uint32_t rest,
                       uint64_t now) {
  uint8_t scratch[wire::kIcmpHeaderLen + 60 + 8];
  uint32_t avail = std::min<uint32_t>(msg.length(), sizeof(scratch));
  const uint8_t* p = msg.read(0, avail, scratch);
  auto quoted = wire::Ipv4View::parse_quoted({p + wire::kIcmpHeaderLen, avail - wire::kIcmpHeaderLen});
  if (!quoted || quoted->payload().size() < 8) {
    ip_.stats().drop(L3Drop::icmp_malformed);
    return;
  }
  // Redirect and source quench do not mean a send failed: not reported to
  // sockets. Redirects are ignored because routes are static (see the RFC gaps
  // in docs/architecture.md); source quench is deprecated (RFC 6633 §1).
  if (type == wire::icmp_type::redirect || type == wire::icmp_type::source_quench) {
    ip_.stats().drop(L3Drop::icmp_type_ignored);
    return;
  }
  // RFC 5927 §4.1 (first check): only about a datagram we sent.
  if (!ip_.is_local(quoted->src())) {
    ip_.stats().drop(L3Drop::icmp_not_ours);
    return;
  }
  const bool frag_needed = type == wire::icmp_type::dest_unreachable && code == wire::icmp_code::frag_needed;
  // RFC 1191 §4: a router sends fragmentation needed only for a datagram with DF set.
  if (frag_needed && !quoted->dont_fragment()) {
    ip_.stats().drop(L3Drop::icmp_frag_no_df);
    return;
  }
  L4Handler* h = ip_.handler(quoted->protocol());
  if (h == nullptr || h == this) {
    ip_.stats().drop(L3Drop::icmp_no_transport);
    return;
  }
  IcmpError err;
  err.type = type;
  err.code = code;
  err.reporter = meta.src;
  err.src = quoted->src();
  err.dst = quoted->dst();
  err.proto = quoted->protocol();
  err.quoted_l4 = quoted->payload();
  // RFC 1191 §4: the next-hop MTU (0 from pre-RFC 1191 routers). The path MTU is
  // not touched here: only the transport can tell whether the quoted datagram is
  // one it has in flight (RFC 5927 §4.1, §7.2), and it calls Ipv4::update_pmtu().
  if (frag_needed) err.next_hop_mtu = static_cast<uint16_t>(rest & 0xffff);
  h->icmp_error(err, now);
}

// RFC 1812 §4.3.2.8 / RFC 1122 §3.2.2: errors are rate limited. The destination's own
// allowance first, so a peer that floods spends only that; then the core's budget, drawn at
// random per window, so that a host counting the errors it gets cannot tell whether others got
// some (CVE-2020-25705 used Linux's fixed global bucket to find open UDP ports).
bool Icmp::may_send_error(wire::Ipv4Addr to, uint64_t now) {
  if (!dest_.take(to.v, now)) {
    ip_.stats().drop(L3Drop::icmp_dest_limited);
    return false;
  }
  if (!errors_.take(now)) {
    ip_.stats().drop(L3Drop::icmp_rate_limited);
    return false;
  }
  return true;
}

bool Icmp::send_error(const Packet& original, uint8_t type, uint8_t code, uint32_t rest, uint64_t now) {
  L3Stats& st = ip_.stats();
  uint8_t scratch[60 + 8];
  uint32_t avail = std::min<uint32_t>(original.length(), sizeof(scratch));
  const uint8_t* p = original.read(0, avail, scratch);
  auto v = wire::Ipv4View::parse_quoted({p, avail});
  if (!v) return false;
  // RFC 1122 §3.2.2: never about an ICMP error, a broadcast/multicast,
  // a non-first fragment, or a source that is not a unicast host.
  wire::Ipv4Addr src = v->src();
  if (v->protocol() == wire::ip_proto::icmp && (v->payload().empty() || is_error_type(v->payload()[0])))
    return false;
  if (!ip_.is_local(v->dst()) &&
      (v->dst().is_broadcast() || v->dst().is_multicast() || ip_.is_our_broadcast(v->dst())))
    return false;
  if (v->fragment_offset() != 0 || src.is_special()) return false;
  if (!may_send_error(src, now)) return false;
  uint32_t quote = std::min<uint32_t>(original.length(), kMaxQuote);
  Packet e = Packet::alloc(ip_.pool());
  uint8_t* h = e ? e.append(static_cast<uint16_t>(wire::kIcmpHeaderLen + quote)) : nullptr;
  if (h == nullptr) {
    st.drop(L3Drop::no_mbuf);
    return false;
  }
  h[0] = type;
  h[1] = code;
  store_be16(h + 2, 0);
  store_be32(h + 4, rest);  // RFC 792: unused (0), next-hop MTU (RFC 1191 §4) or pointer << 24
  original.copy_out(0, {h + wire::kIcmpHeaderLen, quote});
  store_be16(h + 2, internet_checksum({h, wire::kIcmpHeaderLen + quote}));
  OutputParams out;
  out.src = ip_.is_local(v->dst()) ? v->dst() : wire::Ipv4Addr{};
  out.dst = src;
  out.proto = wire::ip_proto::icmp;
  if (!ip_.output(std::move(e), out, now)) return false;
  ++st.icmp_out;
  ++st.icmp_errors_out;
  return true;
}

}  // namespace tern::l3
