// Core: one per-lcore stack instance on end a of a PairWire; the test plays
// the peer on end b with hand-built frames and a fake clock.
#include "tern/stack/core.hpp"

#include <gtest/gtest.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cctype>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/wire/arp.hpp"
#include "tern/wire/ethernet.hpp"
#include "tern/wire/ipv4.hpp"
#include "test_support.hpp"

namespace tern {
namespace {

using Bytes = std::vector<uint8_t>;
using wire::Ipv4Addr;
using wire::MacAddr;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;

const MacAddr kCoreMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const MacAddr kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
const Ipv4Addr kCoreIp = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kPeerIp = Ipv4Addr::from_octets(198, 18, 0, 2);

PortCaps caps(const MacAddr& mac) {
  PortCaps c;
  c.mac = mac.b;
  return c;
}

CoreParams params(Port& port, bool garp = true) {
  CoreParams p;
  p.index = 3;
  p.pool = test::pool();
  CoreInterface ci;
  ci.port = &port;
  ci.params.name = "if0";
  ci.params.address = wire::Ipv4Prefix{kCoreIp, 24};
  ci.params.gratuitous_arp = garp;
  p.interfaces.push_back(ci);
  return p;
}

/** Frames the core sent, by kind. */
struct Sent {
  std::vector<wire::ArpPacket> arp;
  std::vector<Bytes> ipv4;  // the datagrams (Ethernet header removed)
  std::vector<MacAddr> arp_eth_dst;
};

class CoreTest : public ::testing::Test {
 protected:
  explicit CoreTest(bool garp = true) : core_(params(wire_.a(), garp)) {}

  Sent sent() {
    Sent s;
    rte_mbuf* m = nullptr;
    while (wire_.b().rx_burst(0, &m, 1) == 1) {
      Packet p(m);
      Bytes f = test::bytes_of(p);
      auto eh = wire::EthernetHeader::parse(f);
      EXPECT_TRUE(eh.ok());
      if (!eh.ok()) continue;
      EXPECT_EQ(eh->src, kCoreMac);
      std::span<const uint8_t> body = std::span<const uint8_t>(f).subspan(eh->length());
      if (eh->ethertype == wire::ethertype::arp) {
        auto a = wire::ArpPacket::parse(body);
        EXPECT_TRUE(a.ok());
        if (a.ok()) s.arp.push_back(*a);
        s.arp_eth_dst.push_back(eh->dst);
      } else if (eh->ethertype == wire::ethertype::ipv4) {
        s.ipv4.emplace_back(body.begin(), body.end());
      }
    }
    return s;
  }
  /** The peer sends @p l3 (an IPv4 datagram) to the core. */
  void peer_sends_ipv4(const Bytes& l3) {
    wire::EthernetHeader eh{kCoreMac, kPeerMac, wire::ethertype::ipv4, std::nullopt};
    Bytes f(eh.length());
    eh.emit(f);
    f.insert(f.end(), l3.begin(), l3.end());
    rte_mbuf* m = test::make_packet(f).release();
    ASSERT_EQ(wire_.b().tx_burst(0, &m, 1), 1);
  }
  /** Poll every @p step from now_ until @p until (inclusive). */
  void run_until(uint64_t until, uint64_t step = 10 * kMs) {
    while (now_ + step <= until) {
      now_ += step;
      core_.poll(now_);
    }
  }

  uint64_t now_ = 50 * kSec;
  drivers::PairWire wire_{caps(kCoreMac), caps(kPeerMac)};
  Core core_;
};

TEST_F(CoreTest, StartSendsGratuitousArp) {
  core_.start(now_);
  Sent s = sent();
  ASSERT_EQ(s.arp.size(), 1u);
  EXPECT_TRUE(s.arp_eth_dst[0].is_broadcast());
  EXPECT_EQ(s.arp[0].op, wire::arp_op::request);
  EXPECT_EQ(s.arp[0].sha, kCoreMac);
  EXPECT_EQ(s.arp[0].spa, kCoreIp);
  EXPECT_EQ(s.arp[0].tpa, kCoreIp);
  EXPECT_EQ(core_.interface(0).stats().arp_gratuitous_out, 1u);
  EXPECT_TRUE(s.ipv4.empty());
}

class CoreWithoutGarpTest : public CoreTest {
 protected:
  CoreWithoutGarpTest() : CoreTest(false) {}
};

TEST_F(CoreWithoutGarpTest, StartIsSilentWhenGratuitousArpIsOff) {
  core_.start(now_);
  EXPECT_TRUE(sent().arp.empty());
}

TEST_F(CoreTest, ConnectedRouteIsAddedForTheInterface) {
  auto path = core_.ipv4().path(kPeerIp);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->iface, &core_.interface(0));
  EXPECT_EQ(path->src, kCoreIp);
  EXPECT_EQ(path->next_hop, kPeerIp);
  EXPECT_FALSE(core_.ipv4().path(Ipv4Addr::from_octets(198, 18, 1, 1)).ok());
}

TEST_F(CoreTest, HousekeepingRetriesAndExpiresNeighbourResolution) {
  core_.start(now_);
  core_.poll(now_);
  sent();
  const uint64_t t0 = now_;
  auto s = core_.udp().bind(4000);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->send_copy({kPeerIp, 5000}, Bytes(10, 1)).ok());
  core_.poll(now_);
  Sent first = sent();
  ASSERT_EQ(first.arp.size(), 1u);
  EXPECT_EQ(first.arp[0].tpa, kPeerIp);
  EXPECT_TRUE(first.ipv4.empty()) << "queued until resolved";

  // Default: a request every second, three in all, then give up.
  run_until(t0 + kSec - 10 * kMs);
  EXPECT_TRUE(sent().arp.empty());
  run_until(t0 + 2 * kSec + 100 * kMs);
  EXPECT_EQ(sent().arp.size(), 2u);
  EXPECT_NE(core_.interface(0).neighbours().find(kPeerIp), nullptr);
  run_until(t0 + 3 * kSec + 200 * kMs);
  EXPECT_TRUE(sent().arp.empty());
  EXPECT_EQ(core_.interface(0).neighbours().find(kPeerIp), nullptr);
  EXPECT_EQ(core_.interface(0).stats().neigh_failed, 1u);
  EXPECT_EQ(core_.interface(0).stats().dropped(l2::L2Drop::neigh_unresolved), 1u);
}

TEST_F(CoreTest, SendRightAfterStartWaitsTheRetryIntervalBeforeTheNextArpRequest) {
  core_.start(now_);
  sent();
  const uint64_t t0 = now_;
  // An application sends during its setup, after start() and before the first poll().
  auto s = core_.udp().bind(4000);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->send_copy({kPeerIp, 5000}, Bytes(10, 1)).ok());
  core_.poll(now_);
  ASSERT_EQ(sent().arp.size(), 1u);
  const l2::NeighEntry* e = core_.interface(0).neighbours().find(kPeerIp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->used_ns, t0) << "the send happened at the time start() was given";
  run_until(t0 + kSec - 10 * kMs);
  EXPECT_TRUE(sent().arp.empty()) << "the second request is due retry_ns (1 s) after the first";
}

TEST_F(CoreTest, HousekeepingTimesOutReassemblyAndReportsIt) {
  core_.start(now_);
  sent();
  core_.interface(0).neighbours().learn(kPeerIp, kPeerMac, true, now_);
  // The first fragment of a UDP datagram; the rest never comes.
  wire::Ipv4Header h;
  h.id = 99;
  h.mf = true;
  h.protocol = 17;
  h.src = kPeerIp;
  h.dst = kCoreIp;
  h.total_length = 20 + 16;
  Bytes l3(20);
  h.emit(l3, true);
  l3.resize(36, 0x5a);
  peer_sends_ipv4(l3);
  core_.poll(now_);
  EXPECT_EQ(core_.ipv4().reassembler().in_progress(), 1u);
  const uint64_t t0 = now_;
  run_until(t0 + 30 * kSec - 200 * kMs, 100 * kMs);
  EXPECT_EQ(core_.ipv4().reassembler().in_progress(), 1u);
  run_until(t0 + 30 * kSec + 200 * kMs, 100 * kMs);
  EXPECT_EQ(core_.ipv4().reassembler().in_progress(), 0u);
  EXPECT_EQ(core_.ipv4().stats().dropped(l3::L3Drop::reassembly_timeout), 1u);
  Sent s = sent();
  ASSERT_EQ(s.ipv4.size(), 1u);
  auto v = wire::Ipv4View::parse(s.ipv4[0]);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->protocol(), wire::ip_proto::icmp);
  EXPECT_EQ(v->dst(), kPeerIp);
  EXPECT_EQ(v->payload()[0], 11u);  // time exceeded
  EXPECT_EQ(v->payload()[1], 1u);   // fragment reassembly time exceeded
}

TEST_F(CoreTest, PollCountsReceivedFrames) {
  core_.start(now_);
  peer_sends_ipv4(Bytes(30, 0));  // junk: dropped by IPv4 but received
  peer_sends_ipv4(Bytes(30, 0));
  EXPECT_EQ(core_.poll(now_ + 1), 2u);
  EXPECT_EQ(core_.poll(now_ + 2), 0u);
  EXPECT_EQ(core_.stats().polls, 2u);
  EXPECT_EQ(core_.stats().busy_polls, 1u);
  EXPECT_EQ(core_.stats().rx_packets, 2u);
  EXPECT_EQ(core_.stats().last_rx_ns, now_ + 1);
  EXPECT_EQ(core_.interface(0).stats().rx_ipv4, 2u);
}

TEST_F(CoreTest, OnPollHookRunsEveryTurn) {
  int calls = 0;
  uint64_t last = 0;
  core_.set_on_poll([&](Core& c, uint64_t now) {
    EXPECT_EQ(&c, &core_);
    ++calls;
    last = now;
  });
  core_.poll(now_ + 5);
  core_.poll(now_ + 9);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(last, now_ + 9);
}

// --- write_json ----------------------------------------------------------------

/**
 * A strict little JSON parser (RFC 8259 grammar, no extensions) that flattens
 * the document into path -> literal text: "ipv4.drops.bad_checksum" -> "0",
 * "interfaces.0.name" -> "\"if0\"". Fails the test on any syntax error.
 */
class FlatJson {
 public:
  explicit FlatJson(const std::string& s) : s_(s) {
    ws();
    value("");
    ws();
    if (i_ != s_.size()) fail("trailing characters");
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return err_; }
  const std::map<std::string, std::string>& values() const { return v_; }
  bool has(const std::string& k) const { return v_.count(k) != 0; }
  std::string at(const std::string& k) const {
    auto it = v_.find(k);
    return it == v_.end() ? "<missing>" : it->second;
  }

 private:
  void fail(const std::string& why) {
    if (ok_) err_ = why + " at offset " + std::to_string(i_);
    ok_ = false;
    i_ = s_.size();
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  static std::string join(const std::string& p, const std::string& k) { return p.empty() ? k : p + "." + k; }
  void value(const std::string& path) {
    if (!ok_) return;
    if (i_ >= s_.size()) return fail("unexpected end");
    char c = s_[i_];
    if (c == '{') return object(path);
    if (c == '[') return array(path);
    size_t start = i_;
    if (c == '"') {
      string();
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      number();
    } else if (s_.compare(i_, 4, "true") == 0 || s_.compare(i_, 4, "null") == 0) {
      i_ += 4;
    } else if (s_.compare(i_, 5, "false") == 0) {
      i_ += 5;
    } else {
      return fail("bad value");
    }
    if (ok_) {
      if (v_.count(path) != 0) return fail("duplicate key " + path);
      v_[path] = s_.substr(start, i_ - start);
    }
  }
  void object(const std::string& path) {
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return;
    }
    while (ok_) {
      ws();
      if (i_ >= s_.size() || s_[i_] != '"') return fail("expected key");
      size_t k0 = i_;
      string();
      std::string key = s_.substr(k0 + 1, i_ - k0 - 2);
      ws();
      if (i_ >= s_.size() || s_[i_] != ':') return fail("expected ':'");
      ++i_;
      ws();
      value(join(path, key));
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return;
      }
      return fail("expected ',' or '}'");
    }
  }
  void array(const std::string& path) {
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return;
    }
    for (size_t n = 0; ok_; ++n) {
      ws();
      value(join(path, std::to_string(n)));
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return;
      }
      return fail("expected ',' or ']'");
    }
  }
  void string() {
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (static_cast<unsigned char>(s_[i_]) < 0x20) return fail("control character in string");
      if (s_[i_] == '\\') ++i_;
      ++i_;
    }
    if (i_ >= s_.size()) return fail("unterminated string");
    ++i_;
  }
  void number() {
    if (s_[i_] == '-') ++i_;
    if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_]))) return fail("bad number");
    if (s_[i_] == '0' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))
      return fail("leading zero");
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_]))) return fail("bad fraction");
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
  }

  const std::string& s_;
  size_t i_ = 0;
  bool ok_ = true;
  std::string err_;
  std::map<std::string, std::string> v_;
};

TEST(FlatJsonSelfTest, RejectsMalformedDocuments) {
  EXPECT_TRUE(FlatJson(R"({"a":{"b":[1,"x",true]},"c":-2.5})").ok());
  EXPECT_EQ(FlatJson(R"({"a":{"b":[1,"x",true]}})").at("a.b.1"), "\"x\"");
  for (const char* bad : {"{", R"({"a":1,})", R"({"a" 1})", R"({"a":1}{)", R"({"a":01})", R"([1 2])",
                          R"({"a":1,"a":2})", R"({"a":tru})"}) {
    EXPECT_FALSE(FlatJson(bad).ok()) << bad;
  }
}

TEST_F(CoreTest, WriteJsonIsValidAndCarriesTheCounters) {
  core_.start(now_);
  // Some traffic: an echo request is answered, a UDP datagram to a closed
  // port is refused, a bad-checksum datagram is dropped.
  core_.interface(0).neighbours().learn(kPeerIp, kPeerMac, true, now_);
  auto datagram = [](uint8_t proto, const Bytes& payload) {
    wire::Ipv4Header h;
    h.protocol = proto;
    h.src = kPeerIp;
    h.dst = kCoreIp;
    h.total_length = static_cast<uint16_t>(20 + payload.size());
    Bytes d(20);
    h.emit(d, true);
    d.insert(d.end(), payload.begin(), payload.end());
    return d;
  };
  Bytes echo = {8, 0, 0, 0, 0, 1, 0, 1, 'h', 'i'};
  store_be16(&echo[2], internet_checksum(echo));
  peer_sends_ipv4(datagram(wire::ip_proto::icmp, echo));
  peer_sends_ipv4(datagram(wire::ip_proto::udp, {0x10, 0x00, 0x00, 0x09, 0x00, 0x08, 0x00, 0x00}));
  Bytes bad = datagram(wire::ip_proto::udp, Bytes(8, 0));
  bad[10] ^= 1;
  peer_sends_ipv4(bad);
  core_.poll(now_ + kMs);
  core_.snapshot_buf_stats();

  JsonWriter w;
  core_.write_json(w);
  const std::string& json = w.str();
  FlatJson j(json);
  ASSERT_TRUE(j.ok()) << j.error() << "\n" << json;
  EXPECT_EQ(j.at("core"), "3");
  EXPECT_EQ(j.at("polls"), "1");
  EXPECT_EQ(j.at("rx"), "3");
  EXPECT_EQ(j.at("interfaces.0.name"), "\"if0\"");
  EXPECT_EQ(j.at("interfaces.0.rx"), "3");
  EXPECT_EQ(j.at("interfaces.0.rx_ipv4"), "3");
  EXPECT_EQ(j.at("interfaces.0.tx"), "3") << "gratuitous ARP, echo reply, port unreachable";
  EXPECT_EQ(j.at("interfaces.0.arp.gratuitous_out"), "1");
  EXPECT_EQ(j.at("interfaces.0.arp.neighbours"), "1");
  EXPECT_EQ(j.at("ipv4.rx"), "3");
  EXPECT_EQ(j.at("ipv4.delivered"), "2");
  EXPECT_EQ(j.at("ipv4.drops.bad_checksum"), "1");
  EXPECT_EQ(j.at("icmp.echo_requests"), "1");
  EXPECT_EQ(j.at("icmp.unreachable_out"), "1");
  EXPECT_EQ(j.at("icmp.errors_out"), "1");
  EXPECT_EQ(j.at("udp.drops.no_socket"), "1");
  EXPECT_TRUE(j.has("buf.copies"));
  // Every drop reason of every layer is there, by name.
  for (size_t d = 0; d < static_cast<size_t>(l2::L2Drop::count_); ++d) {
    EXPECT_TRUE(j.has("interfaces.0.drops." + std::string(to_string(static_cast<l2::L2Drop>(d)))));
  }
  for (size_t d = 0; d < static_cast<size_t>(l3::L3Drop::count_); ++d) {
    EXPECT_TRUE(j.has("ipv4.drops." + std::string(to_string(static_cast<l3::L3Drop>(d)))));
  }
  for (size_t d = 0; d < static_cast<size_t>(udp::UdpDrop::count_); ++d) {
    EXPECT_TRUE(j.has("udp.drops." + std::string(to_string(static_cast<udp::UdpDrop>(d)))));
  }
}

}  // namespace
}  // namespace tern

namespace tern {
namespace {

Bytes arp_frame(uint16_t op, const MacAddr& eth_dst, const MacAddr& sha, Ipv4Addr spa, const MacAddr& tha,
                Ipv4Addr tpa) {
  Bytes f(wire::kEthernetHeaderLen + wire::kArpLen);
  wire::EthernetHeader{eth_dst, sha, wire::ethertype::arp, std::nullopt}.emit(f);
  wire::ArpPacket{op, sha, spa, tha, tpa}.emit({f.data() + wire::kEthernetHeaderLen, wire::kArpLen});
  return f;
}

// Two cores on two queues of one port. Core 1 resolves the peer; the NIC
// delivers the ARP reply to core 0's queue. Core 0 learns it and posts it to
// core 1 through core 1's ring; core 1's queued datagram then leaves.
TEST(CoreSiblings, ArpLearnedOnOneCoreWakesTheOther) {
  PortCaps ca = caps(kCoreMac), cb = caps(kPeerMac);
  ca.rx_queues = ca.tx_queues = cb.rx_queues = cb.tx_queues = 2;
  drivers::PairWire wire(ca, cb);
  CoreParams p0 = params(wire.a(), false);
  p0.index = 0;
  CoreParams p1 = params(wire.a(), false);
  p1.index = 1;
  p1.interfaces[0].queue = 1;
  Core c0(std::move(p0));
  Core c1(std::move(p1));
  CoreLinks links;
  std::string err;
  ASSERT_TRUE(links.create(2, "t_neigh_", 256, 64, 0, err)) << err;
  c0.connect(links);
  c1.connect(links);
  uint64_t now = kSec;
  c0.start(now);
  c1.start(now);

  auto sock = c1.udp().bind(4000);
  ASSERT_TRUE(sock.ok());
  ASSERT_TRUE((*sock)->send_copy({kPeerIp, 7}, Bytes(20, 0x5a)).ok());
  c1.poll(now += kMs);  // flushes core 1's ARP request on queue 1
  rte_mbuf* got[8];
  uint16_t n = wire.b().rx_burst(1, got, 8);
  ASSERT_EQ(n, 1u) << "core 1 asks for the peer";
  rte_pktmbuf_free_bulk(got, n);

  // The reply arrives on queue 0: core 0's.
  Packet reply = Packet::copy_from(
      test::pool(), arp_frame(wire::arp_op::reply, kCoreMac, kPeerMac, kPeerIp, kCoreMac, kCoreIp));
  rte_mbuf* m = reply.release();
  ASSERT_EQ(wire.b().tx_burst(0, &m, 1), 1u);
  c0.poll(now += kMs);
  EXPECT_EQ(c0.stats().neigh_shared, 1u);
  c1.poll(now += kMs);
  EXPECT_EQ(c1.stats().neigh_received, 1u);
  n = wire.b().rx_burst(1, got, 8);
  ASSERT_EQ(n, 1u) << "core 1's queued datagram left once the sibling shared the mapping";
  auto eth = wire::EthernetView::parse({rte_pktmbuf_mtod(got[0], const uint8_t*), got[0]->data_len});
  ASSERT_TRUE(eth.ok());
  EXPECT_EQ(eth->ethertype(), wire::ethertype::ipv4);
  EXPECT_EQ(eth->dst(), kPeerMac);
  rte_pktmbuf_free_bulk(got, n);
  // A sibling's update only refreshes entries a core already has: core 0 now
  // learns a third host (it asks us), core 1 never talked to it.
  const MacAddr kOtherMac{{0x02, 0, 0, 0, 0, 9}};
  const Ipv4Addr kOtherIp = Ipv4Addr::from_octets(198, 18, 0, 9);
  Packet req = Packet::copy_from(test::pool(), arp_frame(wire::arp_op::request, MacAddr::broadcast(),
                                                         kOtherMac, kOtherIp, MacAddr{}, kCoreIp));
  m = req.release();
  ASSERT_EQ(wire.b().tx_burst(0, &m, 1), 1u);
  c0.poll(now += kMs);
  c1.poll(now += kMs);
  EXPECT_EQ(c1.stats().neigh_received, 2u);
  EXPECT_EQ(c0.interface(0).neighbours().size(), 2u);
  EXPECT_EQ(c1.interface(0).neighbours().size(), 1u) << "no entry created from a sibling's update";
  EXPECT_EQ(c1.interface(0).neighbours().find(kOtherIp), nullptr);
  n = wire.b().rx_burst(0, got, 8);  // core 0's ARP reply to the third host
  rte_pktmbuf_free_bulk(got, n);
  links.destroy();
}

}  // namespace
}  // namespace tern
