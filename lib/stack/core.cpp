/**
 * @file
 * The per-core poll loop. Frames come from each port's RX queue of this
 * core; they go up through l2::Interface::input() and l3::Ipv4::input() to
 * the transports; replies and application sends come back down into the
 * interfaces' TxQueues, flushed once per turn.
 */
#include "tern/stack/core.hpp"

#include <rte_prefetch.h>

#include <algorithm>

#include "tern/base/clock.hpp"

namespace tern {

Core::Core(CoreParams params) : p_(std::move(params)), wheel_(kNsPerMs, 1024, 0) {
  std::vector<l2::Interface*> raw;
  for (size_t i = 0; i < p_.interfaces.size(); ++i) {
    CoreInterface& ci = p_.interfaces[i];
    ci.params.index = static_cast<uint16_t>(i);
    tx_.push_back(std::make_unique<TxQueue>(*ci.port, ci.queue));
    ifaces_.push_back(std::make_unique<l2::Interface>(ci.params, *tx_.back(), p_.pool));
    raw.push_back(ifaces_.back().get());
    // The connected route of each interface (RFC 1122 §3.3.1.1: on-link prefix).
    (void)p_.routes.add(l3::Route{ci.params.address, wire::Ipv4Addr{}, static_cast<uint16_t>(i)});
  }
  ipv4_ = std::make_unique<l3::Ipv4>(p_.ipv4, std::move(raw), std::move(p_.routes),
                                     p_.pool);  // Ipv4 owns them now
  icmp_ = std::make_unique<l3::Icmp>(p_.icmp, *ipv4_);
  udp_ = std::make_unique<udp::Udp>(p_.udp, *ipv4_);
  tcp_ = std::make_unique<tcp::Tcp>(p_.tcp, *ipv4_, wheel_, 0);
  low_water_ = p_.pool_low_water != 0 ? p_.pool_low_water
                                      : std::max<uint32_t>(tcp_->rx_reserve() / 8, 2u * p_.rx_burst);
  housekeeping_timer_.fn = &Core::housekeeping;
  housekeeping_timer_.ctx = this;
}

Core::~Core() {
  wheel_.cancel(housekeeping_timer_);
  // Transports and IPv4 free what they hold before the TX queues flush and go.
  tcp_.reset();
  udp_.reset();
  icmp_.reset();
  ipv4_.reset();
  ifaces_.clear();
  tx_.clear();
}

void Core::start(uint64_t now) {
  wheel_.advance(now);
  udp_->set_now(now);  // sends made before the first poll() carry the right time
  tcp_->set_now(now);
  for (auto& i : ifaces_) {
    if (p_.interfaces[i->index()].params.gratuitous_arp) i->announce(now);
  }
  wheel_.arm(housekeeping_timer_, now + p_.housekeeping_ns);
  for (auto& t : tx_) t->flush();
}

void Core::connect_siblings(rte_ring* inbox, std::vector<rte_ring*> sibling_inboxes) {
  inbox_ = inbox;
  siblings_ = std::move(sibling_inboxes);
  for (auto& i : ifaces_) i->set_learn_hook(&Core::on_learn, this);
}

void Core::on_learn(void* ctx, uint16_t iface, wire::Ipv4Addr ip, const wire::MacAddr& mac) {
  auto* self = static_cast<Core*>(ctx);
  NeighUpdate u{ip.v, {}, iface, 0};
  std::copy(mac.b.begin(), mac.b.end(), u.mac);
  for (rte_ring* r : self->siblings_) {
    if (rte_ring_mp_enqueue_elem(r, &u, sizeof(u)) == 0) {
      ++self->stats_.neigh_shared;
    } else {
      ++self->stats_.neigh_share_lost;  // the sibling resolves by itself (ARP retry)
    }
  }
}

void Core::drain_inbox(uint64_t now) {
  NeighUpdate u[16];
  unsigned n = rte_ring_sc_dequeue_burst_elem(inbox_, u, sizeof(NeighUpdate), 16, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    if (u[i].iface >= ifaces_.size()) continue;
    wire::MacAddr mac;
    std::copy(u[i].mac, u[i].mac + 6, mac.b.begin());
    // Update only what this core already tracks: never create entries here.
    ifaces_[u[i].iface]->neighbours().learn(wire::Ipv4Addr{u[i].ip}, mac, false, now,
                                            l2::LearnSource::sibling);
  }
  stats_.neigh_received += n;
}

// The RX path never starves (docs/robustness.md): TCP's own limit keeps its queues out of
// the pool's reserve; when other holders (the application, UDP, IP) push the free count
// below it anyway, TCP gives back out-of-order data, the only memory it may renege on.
// TCP's memory limit keeps its queues out of the RX reserve; what can still drain the pool is
// everything else (UDP, reassembly and neighbour queues, packets the application holds, TX in
// flight). When the free mbufs fall below the low-water mark, TCP gives back out-of-order data
// (the only memory it may drop, RFC 2018 section 8) until twice the mark is free.
void Core::check_pool() {
  const uint32_t avail = rte_mempool_avail_count(p_.pool);
  if (avail >= low_water_) return;
  ++stats_.pool_low;
  stats_.pool_reclaimed += tcp_->reclaim(uint64_t{2 * low_water_ - avail} * tcp_->mbuf_cost());
}

void Core::housekeeping(Timer& t, uint64_t now) {
  auto* self = static_cast<Core*>(t.ctx);
  for (auto& i : self->ifaces_) i->tick(now);
  self->ipv4_->tick(now);
  self->wheel_.arm(t, now + self->p_.housekeeping_ns);
}

uint32_t Core::poll(uint64_t now) {
  ++stats_.polls;
  udp_->set_now(now);
  tcp_->set_now(now);
  uint32_t total = 0;
  rte_mbuf* pkts[64];
  const uint16_t burst = std::min<uint16_t>(p_.rx_burst, 64);
  for (size_t i = 0; i < ifaces_.size(); ++i) {
    CoreInterface& ci = p_.interfaces[i];
    uint16_t n = ci.port->rx_burst(ci.queue, pkts, burst);
    const bool fwd = ipv4_->forwarding();
    for (uint16_t j = 0; j < n; ++j) {
      if (j + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[j + 1], void*));
      Packet frame(pkts[j]);
      // A router's plain transit traffic never climbs the stack (l3/forward_fast.cpp).
      if (fwd && ipv4_->forward_fast(frame, *ifaces_[i], now)) continue;
      bool link_bcast = false;
      Packet dgram = ifaces_[i]->input(std::move(frame), now, &link_bcast);
      if (dgram) ipv4_->input(std::move(dgram), *ifaces_[i], now, link_bcast);
    }
    total += n;
  }
  if (total > 0) {
    ++stats_.busy_polls;
    stats_.rx_packets += total;
    stats_.last_rx_ns = now;
  }
  if (inbox_ != nullptr) drain_inbox(now);
  if ((stats_.polls & 63) == 0) check_pool();
  wheel_.advance(now);
  udp_->dispatch_events();
  tcp_->dispatch_events();
  if (on_poll_) on_poll_(*this, now);
  tcp_->flush();  // segments for data, ACKs and FINs the loop produced, after the application ran
  for (size_t i = 0; i < ifaces_.size(); ++i) {
    p_.interfaces[i].port->poll(p_.interfaces[i].queue, now);
    tx_[i]->flush();
  }
  return total;
}

namespace {
template <typename Stats, typename Enum>
void write_drops(JsonWriter& w, const Stats& s) {
  w.key("drops").begin_object();
  for (size_t d = 0; d < static_cast<size_t>(Enum::count_); ++d) {
    w.kv(to_string(static_cast<Enum>(d)), s.drops[d]);
  }
  w.end_object();
}
}  // namespace

void Core::write_json(JsonWriter& w) const {
  w.begin_object();
  w.kv("core", p_.index)
      .kv("polls", stats_.polls)
      .kv("busy_polls", stats_.busy_polls)
      .kv("rx", stats_.rx_packets);
  w.kv("neigh_shared", stats_.neigh_shared).kv("neigh_share_lost", stats_.neigh_share_lost);
  w.kv("neigh_received", stats_.neigh_received);
  w.kv("pool_free", uint64_t{rte_mempool_avail_count(p_.pool)}).kv("pool_low", stats_.pool_low);
  w.kv("pool_reclaimed", stats_.pool_reclaimed).kv("pool_low_water", uint64_t{low_water_});
  w.key("buf").begin_object();
  w.kv("copies", stats_.buf.copies).kv("copied_bytes", stats_.buf.copied_bytes);
  w.kv("linearizations", stats_.buf.linearizations).kv("alloc_failures", stats_.buf.alloc_failures);
  w.end_object();
  w.key("interfaces").begin_array();
  for (size_t i = 0; i < ifaces_.size(); ++i) {
    const l2::L2Stats& s = ifaces_[i]->stats();
    const TxQueueStats& t = tx_[i]->stats();
    w.begin_object();
    w.kv("name", ifaces_[i]->name()).kv("rx", s.rx_frames).kv("tx", t.packets).kv("tx_bytes", t.bytes);
    w.kv("tx_dropped", t.dropped).kv("rx_ipv4", s.rx_ipv4).kv("rx_arp", s.rx_arp);
    w.key("arp").begin_object();
    w.kv("requests_in", s.arp_requests_in).kv("replies_in", s.arp_replies_in);
    w.kv("requests_out", s.arp_requests_out).kv("replies_out", s.arp_replies_out);
    w.kv("gratuitous_out", s.arp_gratuitous_out).kv("conflicts", s.arp_conflicts);
    w.kv("neighbours", static_cast<uint64_t>(ifaces_[i]->neighbours().size()));
    w.kv("resolved", s.neigh_resolved).kv("failed", s.neigh_failed).kv("queued", s.neigh_queued);
    w.kv("evicted", s.neigh_evicted).kv("evicted_unsolicited", s.neigh_evicted_unsolicited);
    w.kv("evicted_stale", s.neigh_evicted_stale).kv("evicted_active", s.neigh_evicted_active);
    w.kv("mac_changes", s.neigh_mac_changes).kv("updates_locked", s.neigh_updates_locked);
    w.end_object();
    write_drops<l2::L2Stats, l2::L2Drop>(w, s);
    w.end_object();
  }
  w.end_array();
  const l3::L3Stats& l3s = ipv4_->stats();
  w.key("ipv4").begin_object();
  w.kv("rx", l3s.rx_datagrams).kv("delivered", l3s.rx_delivered).kv("tx", l3s.tx_datagrams);
  w.kv("forwarded", l3s.forwarded);
  w.kv("rx_fragments", l3s.rx_fragments).kv("reassembled", l3s.reassembled);
  w.kv("fragmented", l3s.fragmented).kv("fragments_created", l3s.fragments_created);
  w.kv("reassembly_evicted", l3s.reassembly_evicted).kv("pmtu_updates", l3s.pmtu_updates);
  w.kv("pmtu_clamped", l3s.pmtu_clamped);
  write_drops<l3::L3Stats, l3::L3Drop>(w, l3s);
  w.end_object();
  w.key("icmp").begin_object();
  w.kv("in", l3s.icmp_in).kv("out", l3s.icmp_out).kv("echo_requests", l3s.icmp_echo_requests);
  w.kv("echo_replies", l3s.icmp_echo_replies).kv("errors_in", l3s.icmp_errors_in);
  w.kv("errors_out", l3s.icmp_errors_out).kv("unreachable_out", l3s.icmp_unreach_out);
  w.kv("param_problem_out", l3s.icmp_param_problem_out);
  w.end_object();
  const udp::UdpStats& us = udp_->stats();
  w.key("udp").begin_object();
  w.kv("rx", us.rx_datagrams)
      .kv("rx_bytes", us.rx_bytes)
      .kv("tx", us.tx_datagrams)
      .kv("tx_bytes", us.tx_bytes);
  w.kv("tx_errors", us.tx_errors).kv("icmp_errors", us.icmp_errors);
  write_drops<udp::UdpStats, udp::UdpDrop>(w, us);
  w.end_object();
  const tcp::TcpStats& ts = tcp_->stats();
  w.key("tcp").begin_object();
  w.kv("active_opens", ts.active_opens).kv("passive_opens", ts.passive_opens);
  w.kv("attempt_fails", ts.attempt_fails).kv("estab_resets", ts.estab_resets);
  w.kv("connections", uint64_t{tcp_->connections()}).kv("time_wait", uint64_t{tcp_->time_wait()});
  w.kv("in_segs", ts.in_segs).kv("out_segs", ts.out_segs).kv("retrans_segs", ts.retrans_segs);
  w.kv("rx_bytes", ts.rx_bytes).kv("tx_bytes", ts.tx_bytes);
  w.kv("in_rsts", ts.in_rsts)
      .kv("out_rsts", ts.out_rsts)
      .kv("ooo_segs", ts.ooo_segs)
      .kv("dup_segs", ts.dup_segs);
  w.kv("syncookies_sent", ts.syncookies_sent).kv("syncookies_validated", ts.syncookies_validated);
  w.kv("syncookies_failed", ts.syncookies_failed);
  w.kv("challenge_acks", ts.challenge_acks).kv("challenge_acks_limited", ts.challenge_acks_limited);
  w.kv("challenge_acks_conn_limited", ts.challenge_acks_conn_limited);
  w.kv("keepalive_probes", ts.keepalive_probes).kv("keepalive_drops", ts.keepalive_drops);
  w.kv("rto_timeouts", ts.rto_timeouts).kv("fast_retransmits", ts.fast_retransmits);
  w.kv("sack_recoveries", ts.sack_recoveries).kv("sack_retransmits", ts.sack_retransmits);
  w.kv("persist_probes", ts.persist_probes).kv("delayed_acks", ts.delayed_acks);
  w.kv("window_updates", ts.window_updates).kv("time_wait_entered", ts.time_wait_entered);
  w.kv("time_wait_recycled", ts.time_wait_recycled).kv("time_wait_reused", ts.time_wait_reused);
  w.kv("pmtu_updates", ts.pmtu_updates).kv("icmp_hard_errors", ts.icmp_hard_errors);
  w.kv("icmp_soft_errors", ts.icmp_soft_errors);
  w.kv("memory_used", tcp_->memory_used()).kv("memory_limit", tcp_->memory_limit());
  w.kv("mem_pressure", ts.mem_pressure).kv("compacted_bytes", ts.compacted_bytes);
  w.kv("ooo_pruned_segs", ts.ooo_pruned_segs).kv("ooo_pruned_bytes", ts.ooo_pruned_bytes);
  w.kv("ooo_pruned_others", ts.ooo_pruned_others).kv("send_mem_blocked", ts.send_mem_blocked);
  write_drops<tcp::TcpStats, tcp::TcpDrop>(w, ts);
  w.end_object();
  w.end_object();
}

}  // namespace tern
