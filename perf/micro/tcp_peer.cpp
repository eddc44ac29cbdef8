#include "tcp_peer.hpp"

#include "tern/wire/ethernet.hpp"
#include "tern/wire/ipv4.hpp"

namespace tern::perf {

namespace fl = wire::tcp_flag;
using wire::SeqNum;

namespace {
constexpr size_t kL2L3 = wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen;
const wire::MacAddr kMacStack{{2, 0, 0, 0, 0, 0x0a}};
const wire::MacAddr kMacPeer{{2, 0, 0, 0, 0, 0x0b}};
const wire::Ipv4Addr kIpStack = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
const wire::Ipv4Addr kIpPeer = wire::Ipv4Addr::from_octets(198, 18, 0, 2);

}  // namespace

TcpPeer::TcpPeer(bool nodelay) : pool_(micro_pool()) {
  wire_ = std::make_unique<drivers::PairWire>(plain_caps(kMacStack), plain_caps(kMacPeer), 4096);
  core_ = std::make_unique<Core>(host_params(wire_->a(), kIpStack, pool_));
  core_->start(now_);
  core_->interface(0).neighbours().learn(kIpPeer, kMacPeer, true, now_);
  ends_ = FrameEnds{kMacPeer, kMacStack, kIpPeer, kIpStack};
  meta_.src = kIpPeer;
  meta_.dst = kIpStack;
  meta_.proto = wire::ip_proto::tcp;
  meta_.ttl = 64;
  meta_.header_len = 20;
  meta_good_ = meta_;
  meta_good_.l4_csum_good = true;
  (void)poll(1000);

  auto l = tcp().listen(kStackPort);
  require(l.ok(), "listen failed");
  listener_ = *l;
  // Handshake through the whole receive path (Core::poll), as a Linux peer would open it.
  wire::TcpOptions syn;
  syn.mss = 1460;
  syn.wscale = 7;
  syn.sack_permitted = true;
  syn.timestamps = wire::TcpTimestamps{p_tsval_++, 0};
  inject(segment(fl::syn, p_nxt_, SeqNum{}, syn, {}, 65535));
  p_nxt_ += 1;
  (void)poll(1000);
  require(p_rcv_ != SeqNum{} && p_tsecr_ != 0, "no SYN,ACK with timestamps from the stack");
  now_ += 100'000;  // a 100 us round trip
  inject(ack_segment(p_rcv_, p_tsecr_));
  (void)poll(1000);
  conn_ = listener_->accept();
  require(conn_ != nullptr, "the handshake did not complete (nothing to accept)");
  require(conn_->state() == tcp::State::established, "the connection is not ESTABLISHED");
  tcp::TcpInfo info = conn_->info();
  require(info.timestamps && info.sack && info.snd_wscale == 7, "options were not negotiated");
  conn_->set_nodelay(nodelay);
  // The SYN,ACK could offer at most 64 KiB (its window is not scaled): one byte of data
  // and the delayed ACK for it bring the advertised window to the full receive buffer.
  const uint8_t one = 1;
  inject(data_segment({&one, 1}));
  (void)poll(1000);
  Packet p;
  require(conn_->recv(p) && p.length() == 1, "the first data byte did not arrive");
  p.reset();
  (void)poll(tcp().params().delayed_ack_ns + 1'000'000);
  require(stack_window_ >= 128 * 1024, "the stack's receive window did not open");
}

TcpPeer::~TcpPeer() {
  if (conn_ != nullptr) conn_->abort();
  if (listener_ != nullptr) listener_->close();
  core_->poll(now_ += 1000);
  core_.reset();
  wire_.reset();  // frees frames still in flight
}

Packet TcpPeer::segment(uint8_t flags, SeqNum seq, SeqNum ack, const wire::TcpOptions& o,
                        std::span<const uint8_t> payload, uint16_t window) {
  wire::TcpHeader th;
  th.src_port = kPeerPort;
  th.dst_port = kStackPort;
  th.seq = seq;
  th.ack = ack;
  th.flags = flags;
  th.window = window;
  th.options = o;
  std::vector<uint8_t> f = tcp_frame(ends_, th, payload, ++ip_id_);
  f.resize(kL2L3 + th.length() + payload.size());  // no Ethernet padding: IPv4 input would have cut it
  Packet p = Packet::copy_from(pool_, f);
  require(static_cast<bool>(p), "mbuf pool exhausted");
  require(p.trim_front(kL2L3), "trim_front failed");  // as Ethernet and IPv4 input leave it
  return p;
}

Packet TcpPeer::data_segment(std::span<const uint8_t> payload) {
  wire::TcpOptions o;
  o.timestamps = wire::TcpTimestamps{p_tsval_++, p_tsecr_};
  Packet p = segment(fl::ack | fl::psh, p_nxt_, p_rcv_, o, payload, kPeerWindow);
  p_nxt_ += static_cast<uint32_t>(payload.size());
  return p;
}

Packet TcpPeer::ack_segment(SeqNum ack, uint32_t tsecr) {
  wire::TcpOptions o;
  o.timestamps = wire::TcpTimestamps{p_tsval_++, tsecr};
  return segment(fl::ack, p_nxt_, ack, o, {}, kPeerWindow);
}

void TcpPeer::inject(Packet seg) {
  // Back to the whole frame, through the wire and the core's receive path.
  require(seg.prepend(kL2L3) != nullptr, "no headroom to restore the frame");
  rte_mbuf* m = seg.release();
  require(wire_->b().tx_burst(0, &m, 1) == 1, "the wire refused a frame");
}

std::vector<TcpPeer::Sent> TcpPeer::poll(uint64_t ns) {
  now_ += ns;
  // The benchmarks move the clock by seconds: keep the peer's ARP entry fresh (an answered ARP).
  core_->interface(0).neighbours().learn(kIpPeer, kMacPeer, true, now_);
  core_->poll(now_);
  std::vector<Sent> out;
  rte_mbuf* ms[32];
  uint16_t n;
  while ((n = wire_->b().rx_burst(0, ms, 32)) > 0) {
    for (uint16_t i = 0; i < n; ++i) {
      Packet p(ms[i]);
      require(p.segments() == 1 || p.linearize(), "cannot linearize a frame from the stack");
      auto eth = wire::EthernetView::parse(p.head());
      if (!eth || eth->ethertype() != wire::ethertype::ipv4) continue;
      auto ip = wire::Ipv4View::parse(eth->payload());
      if (!ip || ip->protocol() != wire::ip_proto::tcp) continue;
      auto v = wire::TcpView::parse(ip->payload());
      require(v.ok(), "the stack sent a TCP segment that does not parse");
      require(v->checksum_ok(kIpStack, kIpPeer), "the stack sent a bad TCP checksum");
      require((v->flags() & fl::rst) == 0, "the stack sent a RST");
      uint32_t len = static_cast<uint32_t>(v->payload().size());
      SeqNum end = v->seq() + len + ((v->flags() & (fl::syn | fl::fin)) != 0 ? 1 : 0);
      if (p_rcv_ == SeqNum{} || end > p_rcv_) p_rcv_ = end;
      if (v->options().timestamps) p_tsecr_ = v->options().timestamps->tsval;
      if ((v->flags() & fl::syn) != 0) stack_wscale_ = v->options().wscale.value_or(0);
      stack_window_ = uint32_t{v->window()} << ((v->flags() & fl::syn) != 0 ? 0 : stack_wscale_);
      if (len > 0)
        out.push_back(Sent{end, len, v->options().timestamps ? v->options().timestamps->tsval : 0});
    }
  }
  return out;
}

uint64_t TcpPeer::drops() const noexcept {
  uint64_t n = 0;
  for (uint64_t d : core_->tcp().stats().drops) n += d;
  return n;
}

}  // namespace tern::perf
