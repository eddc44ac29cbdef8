/**
 * @file
 * The per-core poll loop. Frames come from each port's RX queue of this
 * core; they go up through l2::Interface::input() and l3::Ipv4::input() to
 * the transports; replies and application sends come back down into the
 * interfaces' TxQueues, flushed once per turn.
 */
#include "tern/stack/core.hpp"

#include <rte_errno.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>

#include "tern/base/clock.hpp"
#include "tern/base/log.hpp"

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
  udp_->set_wheel(&wheel_);
  if (p_.steering != nullptr) {
    p_.tcp.pin_flow = &Core::on_pin;
    p_.tcp.pin_ctx = this;
  }
  tcp_ = std::make_unique<tcp::Tcp>(p_.tcp, *ipv4_, wheel_, 0);
  low_water_ = p_.pool_low_water != 0 ? p_.pool_low_water
                                      : std::max<uint32_t>(tcp_->rx_reserve() / 8, 2u * p_.rx_burst);
  housekeeping_timer_.fn = &Core::housekeeping;
  housekeeping_timer_.ctx = this;
  selftest_left_.assign(ifaces_.size(), 0);
  if (p_.steering != nullptr) {
    for (size_t i = 0; i < ifaces_.size(); ++i) {
      if (p_.steering->mode(i) == SteerMode::hardware) selftest_left_[i] = p_.selftest_frames;
    }
  }
}

Core::~Core() {
  for (Envelope* e : deferred_) delete e;  // completions whose sender is gone
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
  now_ = now;
  wheel_.advance(now);
  udp_->set_now(now);  // sends made before the first poll() carry the right time
  tcp_->set_now(now);
  for (auto& i : ifaces_) {
    if (p_.interfaces[i->index()].params.gratuitous_arp) i->announce(now);
  }
  wheel_.arm(housekeeping_timer_, now + p_.housekeeping_ns);
  for (auto& t : tx_) t->flush();
}

bool CoreLinks::create(uint16_t cores, const std::string& prefix, uint32_t steer_size, uint32_t mail_size,
                       int socket, std::string& error) {
  for (uint16_t c = 0; c < cores; ++c) {
    const std::string sn = prefix + "steer_" + std::to_string(c), mn = prefix + "mail_" + std::to_string(c);
    rte_ring* sr = rte_ring_create_elem(sn.c_str(), sizeof(SteeredPacket), steer_size, socket, RING_F_SC_DEQ);
    rte_ring* mr = sr != nullptr
                       ? rte_ring_create_elem(mn.c_str(), sizeof(Envelope*), mail_size, socket, RING_F_SC_DEQ)
                       : nullptr;
    if (mr == nullptr) {
      error = "cannot create the core ring " + (sr == nullptr ? sn : mn) + " (" + rte_strerror(rte_errno) +
              "): raise EAL memory (-m) or lower the ring sizes";
      rte_ring_free(sr);
      destroy();
      return false;
    }
    steer.push_back(sr);
    mail.push_back(mr);
  }
  return true;
}

void CoreLinks::destroy() noexcept {
  for (rte_ring* r : steer) {
    SteeredPacket e;
    while (rte_ring_sc_dequeue_elem(r, &e, sizeof(e)) == 0) rte_pktmbuf_free(e.m);
    rte_ring_free(r);
  }
  for (rte_ring* r : mail) {
    Envelope* e = nullptr;
    while (rte_ring_sc_dequeue_elem(r, &e, sizeof(e)) == 0) delete e;
    rte_ring_free(r);
  }
  steer.clear();
  mail.clear();
}

void Core::connect(const CoreLinks& links) {
  links_ = &links;
  handoff_.assign(links.steer.size(), {});
  for (auto& h : handoff_) h.reserve(64);
  for (auto& i : ifaces_) i->set_learn_hook(&Core::on_learn, this);
  if (p_.steering != nullptr) ipv4_->set_reassembled_hook(&Core::on_reassembled, this);
}

bool Core::post(uint16_t target, Envelope* e) noexcept {
  return rte_ring_mp_enqueue_elem(links_->mail[target], &e, sizeof(e)) == 0;
}

Status Core::submit_to(uint16_t target, std::function<void(Core&)> fn, std::function<void(Core&)> done) {
  if (links_ == nullptr || target >= links_->mail.size()) {
    return make_error(Errc::invalid_argument, "no such core (or the core is not joined to its siblings)");
  }
  auto* e = new Envelope{std::move(fn), std::move(done), p_.index, false};
  if (!post(target, e)) {
    delete e;
    ++stats_.mail_refused;
    return make_error(Errc::would_block, "the target core's mailbox is full");
  }
  ++stats_.mail_sent;
  return {};
}

// The mailbox, once per poll: completions that waited for room first, then up to 32 envelopes.
void Core::drain_mail() {
  if (!deferred_.empty()) {
    size_t kept = 0;
    for (Envelope* e : deferred_) {
      if (!post(e->from, e)) deferred_[kept++] = e;
    }
    deferred_.resize(kept);
  }
  Envelope* es[32];
  const unsigned n =
      rte_ring_sc_dequeue_burst_elem(links_->mail[p_.index], es, sizeof(Envelope*), 32, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    Envelope* e = es[i];
    if (e->completion) {
      ++stats_.mail_completions;
      e->done(*this);
      delete e;
      continue;
    }
    ++stats_.mail_run;
    if (e->fn) e->fn(*this);
    if (!e->done || e->from >= links_->mail.size()) {
      delete e;
      continue;
    }
    e->completion = true;
    if (!post(e->from, e)) {
      ++stats_.mail_deferred;
      deferred_.push_back(e);
    }
  }
}

void Core::on_learn(void* ctx, uint16_t iface, wire::Ipv4Addr ip, const wire::MacAddr& mac) {
  auto* self = static_cast<Core*>(ctx);
  for (uint16_t c = 0; c < self->core_count(); ++c) {
    if (c == self->index()) continue;
    auto r = self->submit_to(c, [iface, ip, mac](Core& k) { k.learn_from_sibling(iface, ip, mac); });
    if (r) {
      ++self->stats_.neigh_shared;
    } else {
      ++self->stats_.neigh_share_lost;  // the sibling resolves by itself (ARP retry)
    }
  }
}

// A connect() on this core with an explicit local port that hashes elsewhere: its received
// frames (remote -> local) are steered here instead.
bool Core::on_pin(void* ctx, const tcp::FourTuple& t, bool on) {
  auto* self = static_cast<Core*>(ctx);
  PinnedFlows& pins = self->p_.steering->pins();
  const wire::Ipv4Addr remote{t.remote_ip}, local{t.local_ip};
  if (!on) {
    pins.unpin(remote, local, t.remote_port, t.local_port);
    return true;
  }
  return pins.pin(remote, local, t.remote_port, t.local_port, self->index());
}

void Core::learn_from_sibling(uint16_t iface, wire::Ipv4Addr ip, const wire::MacAddr& mac) {
  if (iface >= ifaces_.size()) return;
  ++stats_.neigh_received;
  // Update only what this core already tracks: never create entries here.
  ifaces_[iface]->neighbours().learn(ip, mac, false, now_, l2::LearnSource::sibling);
}

// A datagram reassembly completed on this core (its fragments are steered by address pair):
// its flow may belong to another core.
bool Core::on_reassembled(void* ctx, Packet& dgram, uint16_t iface, bool broadcast) {
  auto* self = static_cast<Core*>(ctx);
  const uint16_t owner = self->p_.steering->datagram_owner(dgram.data(), dgram.head_length());
  if (owner == FlowSteering::kAnyCore || owner == self->index()) return false;
  SteeredPacket e{dgram.release(), iface, 1, static_cast<uint8_t>(broadcast ? 1 : 0), 0};
  self->hand_over(owner, e);
  self->flush_hand_overs();
  return true;
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

// Inlined into receive() and drain_steered(): one frame up l2, then IPv4.
[[gnu::always_inline]] inline void Core::input_frame(size_t i, rte_mbuf* m, uint64_t now) {
  Packet frame(m);
  bool link_bcast = false;
  Packet dgram = ifaces_[i]->input(std::move(frame), now, &link_bcast);
  if (dgram) ipv4_->input(std::move(dgram), *ifaces_[i], now, link_bcast);
}

// Which core handles a frame received on interface i. Hardware mode trusts the NIC's hash once
// the self-test has compared enough of them with ours; until then, and in software mode, the
// hash is computed here.
uint16_t Core::owner_of(size_t i, const rte_mbuf* m) {
  const FlowSteering& st = *p_.steering;
  const SteerMode mode = st.mode(i);
  const bool nic_hash = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) != 0;
  if (mode == SteerMode::hardware && nic_hash && selftest_left_[i] == 0) {
    const uint32_t h = m->hash.rss;
    const auto fc = st.classify(m, &h);
    if (fc.owner != FlowSteering::kAnyCore && fc.owner != index()) ++stats_.missteered;
    return fc.owner;
  }
  const auto fc = st.classify(m, nullptr);
  if (mode != SteerMode::hardware || fc.owner == FlowSteering::kAnyCore) return fc.owner;
  if (fc.owner != index()) ++stats_.missteered;
  if (!fc.l4 || selftest_left_[i] == 0) return fc.owner;
  // The start-up self-test (issue 10): does the NIC hash as we do, and does the frame land where
  // the table says? One mismatch and this port is steered in software from now on.
  ++stats_.selftest_checked;
  const bool hash_ok = !nic_hash || m->hash.rss == fc.sw_hash;
  if (!hash_ok || fc.owner != index()) {
    ++stats_.selftest_failed;
    p_.steering->downgrade(i);
    selftest_left_[i] = 0;
    TERN_LOG_WARN("%s: RSS self-test on core %u: %s; switching the port to software steering",
                  ifaces_[i]->name().c_str(), index(),
                  hash_ok ? "a flow landed on another core's queue than the RETA read back names"
                          : "the NIC's hash differs from the Toeplitz hash of the key it reported");
    return fc.owner;
  }
  if (--selftest_left_[i] == 0) {
    TERN_LOG_INFO("%s: RSS self-test on core %u: %u frames landed where the hash says%s",
                  ifaces_[i]->name().c_str(), index(), p_.selftest_frames,
                  nic_hash ? " and the NIC's hash equals ours" : " (the NIC gives no hash: computed here)");
  }
  return fc.owner;
}

void Core::hand_over(uint16_t owner, SteeredPacket e) {
  auto& h = handoff_[owner];
  h.push_back(e);
  if (h.size() >= 64) flush_hand_overs();
}

void Core::flush_hand_overs() {
  for (size_t c = 0; c < handoff_.size(); ++c) {
    auto& h = handoff_[c];
    if (h.empty()) continue;
    const unsigned n = static_cast<unsigned>(h.size());
    const unsigned sent =
        rte_ring_mp_enqueue_burst_elem(links_->steer[c], h.data(), sizeof(SteeredPacket), n, nullptr);
    stats_.steered_out += sent;
    for (unsigned k = sent; k < n; ++k) rte_pktmbuf_free(h[k].m);  // the owner is behind: a counted drop
    stats_.steer_dropped += n - sent;
    h.clear();
  }
}

void Core::receive(size_t i, rte_mbuf** pkts, uint16_t n, uint64_t now) {
  const bool fwd = ipv4_->forwarding();
  const bool steer = p_.steering != nullptr;
  // A host merges each flow's in-order TCP segments of the burst (l3/gro.cpp); a router never
  // does (it forwards frames as they came).
  if (!fwd && n > 1 && ifaces_[i]->gro())
    n = l3::gro_burst(pkts, n, ifaces_[i]->checksum_mode(), stats_.gro, stats_.gro_csum);
  if (!fwd && !steer) {  // a host on one core: straight up the stack
    for (uint16_t j = 0; j < n; ++j) {
      if (j + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[j + 1], void*));
      input_frame(i, pkts[j], now);
    }
    return;
  }
  for (uint16_t j = 0; j < n; ++j) {
    if (j + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[j + 1], void*));
    if (fwd) {
      // A router's plain transit traffic never climbs the stack (l3/forward_fast.cpp), and holds no
      // state: it is forwarded by whichever core received it.
      Packet frame(pkts[j]);
      if (ipv4_->forward_fast(frame, *ifaces_[i], now)) continue;
      pkts[j] = frame.release();
    }
    if (steer) {
      const uint16_t owner = owner_of(i, pkts[j]);
      if (owner != FlowSteering::kAnyCore && owner != index()) {
        hand_over(owner, SteeredPacket{pkts[j], static_cast<uint16_t>(i), 0, 0, 0});
        continue;
      }
    }
    input_frame(i, pkts[j], now);
  }
  if (steer) flush_hand_overs();
}

uint32_t Core::drain_steered(uint64_t now) {
  SteeredPacket es[64];
  const unsigned n = rte_ring_sc_dequeue_burst_elem(links_->steer[p_.index], es, sizeof(SteeredPacket),
                                                    std::min<uint16_t>(p_.rx_burst, 64), nullptr);
  for (unsigned k = 0; k < n; ++k) {
    if (k + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(es[k + 1].m, void*));
    const SteeredPacket& e = es[k];
    if (e.iface >= ifaces_.size()) {
      rte_pktmbuf_free(e.m);
      continue;
    }
    if (e.kind == 0) {
      input_frame(e.iface, e.m, now);
    } else {
      ipv4_->input_reassembled(Packet(e.m), *ifaces_[e.iface], now, (e.flags & 1) != 0);
    }
  }
  stats_.steered_in += n;
  return n;
}

uint32_t Core::poll(uint64_t now) {
  ++stats_.polls;
  now_ = now;
  udp_->set_now(now);
  tcp_->set_now(now);
  uint32_t total = 0;
  rte_mbuf* pkts[64];
  const uint16_t burst = std::min<uint16_t>(p_.rx_burst, 64);
  for (size_t i = 0; i < ifaces_.size(); ++i) {
    CoreInterface& ci = p_.interfaces[i];
    const uint16_t n = ci.port->rx_burst(ci.queue, pkts, burst);
    if (n != 0) receive(i, pkts, n, now);
    total += n;
  }
  if (links_ != nullptr) {
    total += drain_steered(now);
    drain_mail();
  }
  if (total > 0) {
    ++stats_.busy_polls;
    stats_.rx_packets += total;
    stats_.last_rx_ns = now;
  }
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

ChecksumStats Core::checksum_stats() const noexcept {
  ChecksumStats s = stats_.gro_csum;
  s += ipv4_->checksum_stats();
  for (const auto& i : ifaces_) s += i->checksum_stats();
  return s;
}

void Core::write_json(JsonWriter& w) const {
  w.begin_object();
  w.kv("core", p_.index)
      .kv("polls", stats_.polls)
      .kv("busy_polls", stats_.busy_polls)
      .kv("rx", stats_.rx_packets);
  w.kv("neigh_shared", stats_.neigh_shared).kv("neigh_share_lost", stats_.neigh_share_lost);
  w.kv("neigh_received", stats_.neigh_received);
  w.key("steering").begin_object();
  w.kv("out", stats_.steered_out).kv("in", stats_.steered_in).kv("dropped", stats_.steer_dropped);
  w.kv("missteered", stats_.missteered).kv("selftest_checked", stats_.selftest_checked);
  w.kv("selftest_failed", stats_.selftest_failed);
  w.end_object();
  w.key("mailbox").begin_object();
  w.kv("sent", stats_.mail_sent).kv("refused", stats_.mail_refused).kv("run", stats_.mail_run);
  w.kv("completions", stats_.mail_completions).kv("deferred", stats_.mail_deferred);
  w.end_object();
  w.kv("pool_free", uint64_t{rte_mempool_avail_count(p_.pool)}).kv("pool_low", stats_.pool_low);
  w.kv("pool_reclaimed", stats_.pool_reclaimed).kv("pool_low_water", uint64_t{low_water_});
  w.key("buf").begin_object();
  w.kv("copies", stats_.buf.copies).kv("copied_bytes", stats_.buf.copied_bytes);
  w.kv("linearizations", stats_.buf.linearizations).kv("alloc_failures", stats_.buf.alloc_failures);
  w.end_object();
  const ChecksumStats cs = checksum_stats();
  w.key("checksum").begin_object();
  w.kv("sw_computed", cs.sw_computed).kv("sw_verified", cs.sw_verified);
  w.kv("offloaded", cs.offloaded).kv("hw_verified", cs.hw_verified);
  w.kv("trusted_tx", cs.trusted_tx).kv("trusted_rx", cs.trusted_rx);
  w.end_object();
  w.key("gro").begin_object();
  w.kv("chains", stats_.gro.chains).kv("merged", stats_.gro.merged);
  w.end_object();
  w.key("interfaces").begin_array();
  for (size_t i = 0; i < ifaces_.size(); ++i) {
    const l2::L2Stats& s = ifaces_[i]->stats();
    const TxQueueStats& t = tx_[i]->stats();
    w.begin_object();
    w.kv("name", ifaces_[i]->name()).kv("rx", s.rx_frames).kv("tx", t.packets).kv("tx_bytes", t.bytes);
    w.kv("tx_dropped", t.dropped).kv("rx_ipv4", s.rx_ipv4).kv("rx_arp", s.rx_arp);
    w.kv("checksum", to_string(ifaces_[i]->checksum_mode())).kv("tso_frames", s.tso_frames);
    w.kv("gso_frames", s.gso_frames).kv("gso_segments", s.gso_segments).kv("gso_failed", s.gso_failed);
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
  w.kv("out_passes", ts.out_passes).kv("gso_segs", ts.gso_segs);
  w.kv("lro_segs", ts.lro_segs).kv("lro_chains", ts.lro_chains);
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
  // Issue 12: loss recovery, ECN, Fast Open (docs/tcp.md).
  w.kv("retrans_bytes", ts.retrans_bytes)
      .kv("limited_transmits", ts.limited_transmits)
      .kv("rack_marked_lost", ts.rack_marked_lost);
  w.kv("rack_reo_timeouts", ts.rack_reo_timeouts).kv("rack_log_full", ts.rack_log_full);
  w.kv("tlp_probes", ts.tlp_probes)
      .kv("tlp_new_data", ts.tlp_new_data)
      .kv("tlp_recoveries", ts.tlp_recoveries);
  w.kv("dsacks_sent", ts.dsacks_sent).kv("dsacks_received", ts.dsacks_received);
  w.kv("spurious_undos", ts.spurious_undos).kv("spurious_rtos", ts.spurious_rtos);
  w.kv("ecn_negotiated", ts.ecn_negotiated).kv("ecn_ce_received", ts.ecn_ce_received);
  w.kv("ecn_reductions", ts.ecn_reductions).kv("ecn_cwr_sent", ts.ecn_cwr_sent);
  w.kv("tfo_cookies_sent", ts.tfo_cookies_sent).kv("tfo_accepted", ts.tfo_accepted);
  w.kv("tfo_bad_cookie", ts.tfo_bad_cookie).kv("tfo_overflow", ts.tfo_overflow);
  w.kv("tfo_cookie_requests", ts.tfo_cookie_requests).kv("tfo_syn_data", ts.tfo_syn_data);
  w.kv("tfo_data_acked", ts.tfo_data_acked).kv("tfo_fallbacks", ts.tfo_fallbacks);
  write_drops<tcp::TcpStats, tcp::TcpDrop>(w, ts);
  w.end_object();
  w.end_object();
}

}  // namespace tern
