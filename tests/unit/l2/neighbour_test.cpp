// NeighbourTable: the ARP state machine (incomplete -> reachable -> stale),
// its bounds and its open-addressing storage, driven by a fake clock and a
// fake sink that records what the table asks its interface to do.
#include "tern/l2/neighbour.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "test_support.hpp"

namespace tern::l2 {
namespace {

using wire::Ipv4Addr;
using wire::MacAddr;

constexpr uint64_t kSec = 1'000'000'000;
constexpr uint64_t kT0 = 1000 * kSec;  // fake clock start, far from 0

struct Request {
  Ipv4Addr target;
  std::optional<MacAddr> unicast;  // nullopt: broadcast
  uint64_t now;
};

struct Transmit {
  uint32_t tag;  // UINT32_MAX for an empty packet
  MacAddr dst;
};

/** Records requests and transmits; transmitted packets are freed at once. */
class FakeSink final : public NeighbourSink {
 public:
  std::vector<Request> requests;
  std::vector<Transmit> transmits;

  void neigh_request(Ipv4Addr target, const MacAddr* unicast, uint64_t now) override {
    requests.push_back({target, unicast != nullptr ? std::optional<MacAddr>(*unicast) : std::nullopt, now});
  }
  void neigh_transmit(Packet&& dgram, const MacAddr& dst) override {
    uint32_t tag = UINT32_MAX;
    if (dgram) {
      uint8_t b[4] = {};
      dgram.copy_out(0, b);
      tag = load_be32(b);
    }
    transmits.push_back({tag, dst});
    dgram.reset();
  }
  std::vector<uint32_t> tags() const {
    std::vector<uint32_t> t;
    for (const auto& x : transmits) t.push_back(x.tag);
    return t;
  }
};

/** A 4-byte packet carrying @p tag, to check order. */
Packet tagged(uint32_t tag) {
  uint8_t b[4];
  store_be32(b, tag);
  return test::make_packet(b, 64);
}

Ipv4Addr ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }

MacAddr mac_of(uint32_t n) {
  return MacAddr{{0x02, 0x00, static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                  static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)}};
}

NeighbourParams small_params() {
  NeighbourParams p;
  p.table_size = 16;
  p.queue_len = 4;
  p.reachable_ns = 30 * kSec;
  p.stale_ns = 600 * kSec;
  p.retry_ns = 1 * kSec;
  p.retries = 3;
  return p;
}

class NeighbourTableTest : public ::testing::Test {
 protected:
  explicit NeighbourTableTest(NeighbourParams p = small_params())
      : params_(p), table_(params_, sink_, stats_) {}
  NeighbourParams params_;
  FakeSink sink_;
  L2Stats stats_;
  NeighbourTable table_;
};

const Ipv4Addr kPeer = Ipv4Addr::from_octets(198, 18, 0, 2);
const MacAddr kPeerMac{{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x02}};

TEST_F(NeighbourTableTest, UnresolvedAddressBroadcastsRequestAndQueuesPacket) {
  table_.send(kPeer, tagged(1), kT0);
  ASSERT_EQ(sink_.requests.size(), 1u);
  EXPECT_EQ(sink_.requests[0].target, kPeer);
  EXPECT_FALSE(sink_.requests[0].unicast.has_value()) << "RFC 826: the first request is broadcast";
  EXPECT_EQ(sink_.requests[0].now, kT0);
  EXPECT_TRUE(sink_.transmits.empty());
  const NeighEntry* e = table_.find(kPeer);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, NeighState::incomplete);
  EXPECT_EQ(e->qlen, 1u);
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(stats_.neigh_created, 1u);
  EXPECT_EQ(stats_.neigh_queued, 1u);

  // A second packet joins the queue without a second request.
  table_.send(kPeer, tagged(2), kT0 + 10);
  EXPECT_EQ(sink_.requests.size(), 1u);
  EXPECT_EQ(table_.find(kPeer)->qlen, 2u);
  EXPECT_EQ(stats_.neigh_queued, 2u);
}

TEST_F(NeighbourTableTest, ReplyFlushesQueuedPacketsInOrder) {
  for (uint32_t i = 0; i < 4; ++i) table_.send(kPeer, tagged(100 + i), kT0 + i);
  EXPECT_TRUE(sink_.transmits.empty());
  EXPECT_TRUE(table_.learn(kPeer, kPeerMac, false, kT0 + 50));
  EXPECT_EQ(sink_.tags(), (std::vector<uint32_t>{100, 101, 102, 103}));
  for (const auto& t : sink_.transmits) EXPECT_EQ(t.dst, kPeerMac);
  const NeighEntry* e = table_.find(kPeer);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, NeighState::reachable);
  EXPECT_EQ(e->mac, kPeerMac);
  EXPECT_EQ(e->qlen, 0u);
  EXPECT_EQ(e->confirmed_ns, kT0 + 50);
  EXPECT_EQ(stats_.neigh_resolved, 1u);

  // Resolved: the next packet leaves at once, no request.
  table_.send(kPeer, tagged(104), kT0 + 60);
  EXPECT_EQ(sink_.tags().back(), 104u);
  EXPECT_EQ(sink_.requests.size(), 1u);
}

// RFC 1122 §2.3.2.2: keep the latest packets; the oldest are dropped and counted.
TEST_F(NeighbourTableTest, QueueBoundKeepsLatestAndCountsQueueFull) {
  for (uint32_t i = 0; i < 6; ++i) table_.send(kPeer, tagged(i), kT0);
  EXPECT_EQ(table_.find(kPeer)->qlen, 4u);
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_queue_full), 2u);
  EXPECT_EQ(stats_.neigh_queued, 6u);
  table_.learn(kPeer, kPeerMac, false, kT0 + 1);
  EXPECT_EQ(sink_.tags(), (std::vector<uint32_t>{2, 3, 4, 5}));
}

TEST_F(NeighbourTableTest, RetriesEveryRetryIntervalThenGivesUpAndDropsQueue) {
  table_.send(kPeer, tagged(1), kT0);
  table_.send(kPeer, tagged(2), kT0 + 1);
  table_.tick(kT0 + kSec - 1);
  EXPECT_EQ(sink_.requests.size(), 1u) << "no retry before retry_ns";
  table_.tick(kT0 + kSec);
  ASSERT_EQ(sink_.requests.size(), 2u);
  table_.tick(kT0 + kSec + kSec / 2);
  EXPECT_EQ(sink_.requests.size(), 2u);
  table_.tick(kT0 + 2 * kSec);
  ASSERT_EQ(sink_.requests.size(), 3u);
  for (const auto& r : sink_.requests) {
    EXPECT_EQ(r.target, kPeer);
    EXPECT_FALSE(r.unicast.has_value()) << "resolution requests are broadcast";
  }
  EXPECT_EQ(sink_.requests[1].now, kT0 + kSec);
  EXPECT_EQ(sink_.requests[2].now, kT0 + 2 * kSec);
  ASSERT_NE(table_.find(kPeer), nullptr);

  // `retries` (3) requests sent and unanswered: give up one interval after the last.
  table_.tick(kT0 + 3 * kSec - 1);
  ASSERT_NE(table_.find(kPeer), nullptr);
  table_.tick(kT0 + 3 * kSec);
  EXPECT_EQ(sink_.requests.size(), 3u);
  EXPECT_EQ(table_.find(kPeer), nullptr);
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(stats_.neigh_failed, 1u);
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_unresolved), 2u);
  EXPECT_TRUE(sink_.transmits.empty());

  // The address can be resolved afresh later.
  table_.send(kPeer, tagged(3), kT0 + 10 * kSec);
  EXPECT_EQ(sink_.requests.size(), 4u);
  EXPECT_EQ(table_.find(kPeer)->state, NeighState::incomplete);
}

TEST_F(NeighbourTableTest, ReachableBecomesStaleAfterReachableTime) {
  ASSERT_TRUE(table_.learn(kPeer, kPeerMac, true, kT0));
  table_.tick(kT0 + params_.reachable_ns - 1);
  EXPECT_EQ(table_.find(kPeer)->state, NeighState::reachable);
  table_.tick(kT0 + params_.reachable_ns);
  EXPECT_EQ(table_.find(kPeer)->state, NeighState::stale);
  EXPECT_TRUE(sink_.requests.empty()) << "an unused stale entry is not probed";
}

TEST_F(NeighbourTableTest, StaleEntryStillTransmitsAndSendsOneUnicastProbe) {
  table_.learn(kPeer, kPeerMac, true, kT0);
  const uint64_t t = kT0 + params_.reachable_ns;
  table_.tick(t);
  ASSERT_EQ(table_.find(kPeer)->state, NeighState::stale);
  for (uint32_t i = 0; i < 3; ++i) table_.send(kPeer, tagged(i), t + i);
  EXPECT_EQ(sink_.tags(), (std::vector<uint32_t>{0, 1, 2}));
  for (const auto& x : sink_.transmits) EXPECT_EQ(x.dst, kPeerMac);
  ASSERT_EQ(sink_.requests.size(), 1u);
  ASSERT_TRUE(sink_.requests[0].unicast.has_value()) << "RFC 1122 §2.3.2.1: re-confirm by unicast";
  EXPECT_EQ(*sink_.requests[0].unicast, kPeerMac);
  EXPECT_EQ(sink_.requests[0].target, kPeer);
}

TEST_F(NeighbourTableTest, SendPastReachableTimeWithoutTickTreatsEntryAsStale) {
  table_.learn(kPeer, kPeerMac, true, kT0);
  table_.send(kPeer, tagged(7), kT0 + params_.reachable_ns);
  EXPECT_EQ(sink_.tags(), (std::vector<uint32_t>{7}));
  EXPECT_EQ(table_.find(kPeer)->state, NeighState::stale);
  ASSERT_EQ(sink_.requests.size(), 1u);
  EXPECT_TRUE(sink_.requests[0].unicast.has_value());
}

TEST_F(NeighbourTableTest, AnsweredProbeMakesEntryReachable) {
  table_.learn(kPeer, kPeerMac, true, kT0);
  const uint64_t t = kT0 + params_.reachable_ns;
  table_.tick(t);
  table_.send(kPeer, tagged(1), t);
  ASSERT_EQ(sink_.requests.size(), 1u);
  const uint64_t resolved = stats_.neigh_resolved;
  EXPECT_TRUE(table_.learn(kPeer, kPeerMac, false, t + 100));
  const NeighEntry* e = table_.find(kPeer);
  EXPECT_EQ(e->state, NeighState::reachable);
  EXPECT_EQ(e->probes, 0u);
  EXPECT_EQ(e->confirmed_ns, t + 100);
  EXPECT_EQ(stats_.neigh_resolved, resolved) << "re-confirmation is not a resolution";
  table_.tick(t + 5 * kSec);
  EXPECT_EQ(sink_.requests.size(), 1u) << "no more probes once confirmed";
  EXPECT_NE(table_.find(kPeer), nullptr);
}

TEST_F(NeighbourTableTest, UnansweredProbesRemoveEntry) {
  table_.learn(kPeer, kPeerMac, true, kT0);
  const uint64_t t = kT0 + params_.reachable_ns;
  table_.tick(t);
  table_.send(kPeer, tagged(1), t);
  table_.tick(t + kSec);
  table_.tick(t + 2 * kSec);
  ASSERT_EQ(sink_.requests.size(), 3u);
  for (size_t i = 0; i + 1 < sink_.requests.size(); ++i) {
    ASSERT_TRUE(sink_.requests[i].unicast.has_value());
    EXPECT_EQ(*sink_.requests[i].unicast, kPeerMac);
  }
  EXPECT_FALSE(sink_.requests[2].unicast.has_value()) << "RFC 1122 §2.3.2.1: the last poll is broadcast";
  ASSERT_NE(table_.find(kPeer), nullptr);
  table_.tick(t + 3 * kSec);
  EXPECT_EQ(table_.find(kPeer), nullptr);
  EXPECT_EQ(stats_.neigh_failed, 1u);
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_unresolved), 0u) << "nothing was queued";
}

TEST_F(NeighbourTableTest, UnusedStaleEntryIsGarbageCollectedAfterStaleTime) {
  table_.learn(kPeer, kPeerMac, true, kT0);
  table_.tick(kT0 + params_.reachable_ns);
  ASSERT_EQ(table_.find(kPeer)->state, NeighState::stale);
  table_.tick(kT0 + params_.stale_ns - 1);
  EXPECT_NE(table_.find(kPeer), nullptr);
  table_.tick(kT0 + params_.stale_ns);
  EXPECT_EQ(table_.find(kPeer), nullptr);
  EXPECT_EQ(stats_.neigh_failed, 0u) << "garbage collection is not a failure";
  EXPECT_TRUE(sink_.requests.empty());
}

TEST_F(NeighbourTableTest, RecentlyUsedStaleEntryIsNotGarbageCollected) {
  table_.learn(kPeer, kPeerMac, true, kT0);
  table_.tick(kT0 + params_.reachable_ns);
  // Used late in its life: probed, confirmed, then stale again.
  const uint64_t used = kT0 + params_.stale_ns - kSec;
  table_.send(kPeer, tagged(1), used);
  table_.learn(kPeer, kPeerMac, false, used + 1);
  // Stale again, and more than stale_ns after its creation: still kept.
  const uint64_t t = used + 1 + params_.reachable_ns;
  ASSERT_GT(t - kT0, params_.stale_ns);
  table_.tick(t);
  ASSERT_NE(table_.find(kPeer), nullptr);
  EXPECT_EQ(table_.find(kPeer)->state, NeighState::stale);
  table_.tick(used + params_.stale_ns);
  EXPECT_EQ(table_.find(kPeer), nullptr);
}

class SmallNeighbourTableTest : public NeighbourTableTest {
 protected:
  static NeighbourParams four() {
    NeighbourParams p = small_params();
    p.table_size = 4;
    return p;
  }
  SmallNeighbourTableTest() : NeighbourTableTest(four()) {}
};

TEST_F(SmallNeighbourTableTest, FullTableEvictsLeastRecentlyUsedStaleEntry) {
  const Ipv4Addr a = ip(198, 18, 0, 11), b = ip(198, 18, 0, 12), c = ip(198, 18, 0, 13),
                 d = ip(198, 18, 0, 14);
  table_.learn(a, mac_of(11), true, kT0 + 1);
  table_.learn(b, mac_of(12), true, kT0 + 2);
  table_.learn(c, mac_of(13), true, kT0 + 3);
  table_.learn(d, mac_of(14), true, kT0 + 4);
  const uint64_t t = kT0 + params_.reachable_ns + 10;
  table_.tick(t);
  // a is used again: b is now the least recently used.
  table_.send(a, tagged(1), t + 1);
  ASSERT_EQ(table_.size(), 4u);

  const Ipv4Addr e = ip(198, 18, 0, 15);
  table_.send(e, tagged(2), t + 2);
  EXPECT_EQ(stats_.neigh_evicted, 1u);
  EXPECT_EQ(table_.find(b), nullptr);
  EXPECT_NE(table_.find(a), nullptr);
  EXPECT_NE(table_.find(c), nullptr);
  EXPECT_NE(table_.find(d), nullptr);
  ASSERT_NE(table_.find(e), nullptr);
  EXPECT_EQ(table_.find(e)->state, NeighState::incomplete);
  EXPECT_EQ(table_.size(), 4u);
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_table_full), 0u);

  // The next LRU stale entry (c) makes room for the next one.
  table_.send(ip(198, 18, 0, 16), tagged(3), t + 3);
  EXPECT_EQ(table_.find(c), nullptr);
  EXPECT_EQ(stats_.neigh_evicted, 2u);
}

TEST_F(SmallNeighbourTableTest, FullTableWithoutStaleEntriesDropsNewResolution) {
  table_.send(ip(198, 18, 0, 11), tagged(1), kT0);
  table_.send(ip(198, 18, 0, 12), tagged(2), kT0);
  // Two of our own resolutions, answered: reachable, and ours (not evictable while fresh).
  table_.send(ip(198, 18, 0, 13), tagged(13), kT0);
  table_.send(ip(198, 18, 0, 14), tagged(14), kT0);
  table_.learn(ip(198, 18, 0, 13), mac_of(13), false, kT0);
  table_.learn(ip(198, 18, 0, 14), mac_of(14), false, kT0);
  ASSERT_EQ(table_.size(), 4u);
  const size_t requests = sink_.requests.size();

  table_.send(ip(198, 18, 0, 15), tagged(3), kT0 + 1);
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_table_full), 1u);
  EXPECT_EQ(table_.find(ip(198, 18, 0, 15)), nullptr);
  EXPECT_EQ(sink_.requests.size(), requests) << "no request for a resolution that has no entry";
  EXPECT_EQ(table_.size(), 4u);
  EXPECT_EQ(stats_.neigh_evicted, 0u);

  // learn(create) is refused the same way.
  EXPECT_FALSE(table_.learn(ip(198, 18, 0, 16), mac_of(16), true, kT0 + 2));
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_table_full), 2u);
}

TEST_F(NeighbourTableTest, LearnWithoutCreateDoesNotAddEntry) {
  EXPECT_FALSE(table_.learn(kPeer, kPeerMac, false, kT0));
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(table_.find(kPeer), nullptr);
  EXPECT_TRUE(table_.learn(kPeer, kPeerMac, true, kT0));
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.find(kPeer)->state, NeighState::reachable);
}

TEST_F(NeighbourTableTest, LearnUpdatesMacOfExistingEntry) {
  table_.learn(kPeer, kPeerMac, true, kT0);
  const MacAddr moved = mac_of(99);
  EXPECT_TRUE(table_.learn(kPeer, moved, false, kT0 + kSec));  // RFC 826 merge, after the lock time
  EXPECT_EQ(table_.find(kPeer)->mac, moved);
  EXPECT_EQ(stats_.neigh_mac_changes, 1u);
  table_.send(kPeer, tagged(5), kT0 + kSec + 1);
  ASSERT_EQ(sink_.transmits.size(), 1u);
  EXPECT_EQ(sink_.transmits[0].dst, moved);
}

// --- the lock time (issue 14) ------------------------------------------------

TEST_F(NeighbourTableTest, ADifferentMacWithinTheLockTimeIsIgnored) {
  ASSERT_EQ(params_.lock_ns, kSec) << "Linux's locktime is the default";
  table_.learn(kPeer, kPeerMac, true, kT0);
  const MacAddr forged = mac_of(66);
  // Unsolicited replies alternating the MAC every 10 ms: none is taken within the lock time.
  for (uint64_t t = 10'000'000; t < kSec; t += 10'000'000) {
    const bool real = t % 20'000'000 == 0;
    EXPECT_EQ(table_.learn(kPeer, real ? kPeerMac : forged, false, kT0 + t), real) << "at " << t << " ns";
  }
  EXPECT_EQ(stats_.neigh_updates_locked, 50u) << "every forged one counted (the true MAC is no change)";
  table_.send(kPeer, tagged(1), kT0 + kSec - 1);
  ASSERT_EQ(sink_.transmits.size(), 1u);
  EXPECT_EQ(sink_.transmits[0].dst, kPeerMac) << "frames keep going to the confirmed MAC";
  // The same MAC is no change: it confirms the entry and does not move the lock.
  EXPECT_TRUE(table_.learn(kPeer, kPeerMac, false, kT0 + kSec - 1));
  EXPECT_EQ(table_.find(kPeer)->confirmed_ns, kT0 + kSec - 1);
  EXPECT_TRUE(table_.learn(kPeer, forged, false, kT0 + kSec)) << "the lock runs from the last change";
  EXPECT_EQ(table_.find(kPeer)->mac, forged);
  EXPECT_FALSE(table_.learn(kPeer, kPeerMac, false, kT0 + kSec + 1)) << "and a new lock starts";
}

TEST_F(NeighbourTableTest, OfTwoAnswersToOneRequestTheFirstWins) {
  table_.send(kPeer, tagged(1), kT0);  // broadcast request
  EXPECT_TRUE(table_.learn(kPeer, kPeerMac, false, kT0 + 1000, LearnSource::answer));
  EXPECT_FALSE(table_.learn(kPeer, mac_of(66), false, kT0 + 2000, LearnSource::answer))
      << "the request is answered: a second answer is no longer ours";
  EXPECT_EQ(table_.find(kPeer)->mac, kPeerMac);
  EXPECT_EQ(stats_.neigh_updates_locked, 1u);
}

class NeighbourLongLockTest : public NeighbourTableTest {
 protected:
  static NeighbourParams long_lock() {
    NeighbourParams p = small_params();
    p.lock_ns = 120 * kSec;  // longer than reachable_ns (30 s), so the probe below is within it
    return p;
  }
  NeighbourLongLockTest() : NeighbourTableTest(long_lock()) {}
};

TEST_F(NeighbourLongLockTest, AGenuineChangeFoundByOurOwnRequestIsTakenAtOnce) {
  table_.learn(kPeer, kPeerMac, true, kT0);
  const MacAddr moved = mac_of(42);
  // The entry goes stale; the next send re-confirms it with unicast requests to the MAC it has.
  uint64_t t = kT0 + 31 * kSec;
  table_.tick(t);
  table_.send(kPeer, tagged(1), t);
  ASSERT_EQ(sink_.requests.size(), 1u);
  ASSERT_TRUE(sink_.requests[0].unicast.has_value());
  // An answer to a unicast request naming another MAC: the old MAC's owner would not say that.
  EXPECT_FALSE(table_.learn(kPeer, moved, false, t + 1, LearnSource::answer));
  // The peer moved and does not hear them: the last retry is broadcast (RFC 1122 §2.3.2.1).
  t += kSec;
  table_.tick(t);
  t += kSec;
  table_.tick(t);
  ASSERT_EQ(sink_.requests.size(), 3u);
  EXPECT_TRUE(sink_.requests[1].unicast.has_value());
  EXPECT_FALSE(sink_.requests[2].unicast.has_value()) << "the last retry is broadcast";
  // Someone's unsolicited claim in the meantime is still locked out...
  EXPECT_FALSE(table_.learn(kPeer, mac_of(66), false, t + 1, LearnSource::packet));
  // ... but the answer to our broadcast carries the new MAC: taken at once, lock or not.
  EXPECT_TRUE(table_.learn(kPeer, moved, false, t + 2, LearnSource::answer));
  EXPECT_EQ(table_.find(kPeer)->mac, moved);
  EXPECT_EQ(table_.find(kPeer)->state, NeighState::reachable);
  table_.send(kPeer, tagged(2), t + 3);
  EXPECT_EQ(sink_.transmits.back().dst, moved);
  // An answer when we did not ask is just a packet: locked.
  EXPECT_FALSE(table_.learn(kPeer, kPeerMac, false, t + kSec, LearnSource::answer));
  EXPECT_EQ(stats_.neigh_updates_locked, 3u);
}

TEST_F(NeighbourLongLockTest, ASiblingCoresUpdateIsApplied) {
  // Another core took the change under its own lock (Core::drain_inbox): not checked twice.
  table_.learn(kPeer, kPeerMac, true, kT0);
  EXPECT_TRUE(table_.learn(kPeer, mac_of(7), false, kT0 + 1, LearnSource::sibling));
  EXPECT_EQ(table_.find(kPeer)->mac, mac_of(7));
}

// --- storage: linear probing with backward-shift deletion --------------------

// A copy of the table's home-slot hash (Fibonacci hashing), only used to pick
// addresses that collide; the assertions hold whatever the hash is.
size_t home_slot(uint32_t v, size_t mask) {
  uint32_t h = v * 0x9e3779b1u;
  return (h ^ (h >> 16)) & mask;
}

TEST(NeighbourTableStorage, ManyInsertsAndRandomRemovalsKeepLookupsCorrect) {
  NeighbourParams p;
  p.table_size = 1024;  // 2048 slots
  p.queue_len = 1;
  p.reachable_ns = 1 * kSec;
  p.stale_ns = 1'000'000 * kSec;  // never garbage collected here
  p.retry_ns = 10'000;            // > number of removals (one per ns below)
  p.retries = 1;
  FakeSink sink;
  L2Stats stats;
  NeighbourTable table(p, sink, stats);
  const size_t mask = 2047;

  // 500 addresses whose home slots sit in the 16 slots around the wrap of the
  // array (one long cluster crossing the end), plus 500 spread at random.
  std::vector<uint32_t> addrs;
  for (uint32_t v = 0xc6120001; addrs.size() < 500; ++v) {  // from 198.18.0.1
    size_t h = home_slot(v, mask);
    if (h >= mask - 7 || h <= 7) addrs.push_back(v);
  }
  std::mt19937 rng(12345);
  while (addrs.size() < 1000) {
    uint32_t v = 0xc6130000u | (rng() & 0x0000ffffu);  // 198.19.0.0/16
    if (std::find(addrs.begin(), addrs.end(), v) == addrs.end()) addrs.push_back(v);
  }
  std::vector<uint32_t> order = addrs;
  std::shuffle(order.begin(), order.end(), rng);
  uint64_t now = kSec;
  for (uint32_t v : order) ASSERT_TRUE(table.learn(Ipv4Addr{v}, mac_of(v), true, now));
  ASSERT_EQ(table.size(), 1000u);
  for (uint32_t v : addrs) {
    const NeighEntry* e = table.find(Ipv4Addr{v});
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(e->mac, mac_of(v));
  }

  // All entries go stale. Then half of them, in random order, get one packet
  // each (which sends a probe); each unanswered probe removes its entry one
  // retry interval later, so removal k happens alone at tick(base + k).
  now += 2 * kSec;
  table.tick(now);
  std::vector<uint32_t> victims = addrs;
  std::shuffle(victims.begin(), victims.end(), rng);
  victims.resize(500);
  std::vector<uint32_t> alive;
  for (uint32_t v : addrs) {
    if (std::find(victims.begin(), victims.end(), v) == victims.end()) alive.push_back(v);
  }
  const uint64_t base = now;
  for (size_t k = 0; k < victims.size(); ++k) table.send(Ipv4Addr{victims[k]}, Packet{}, base + k);
  ASSERT_EQ(sink.requests.size(), 500u);

  std::vector<uint32_t> remaining = addrs;
  for (size_t k = 0; k < victims.size(); ++k) {
    table.tick(base + k + p.retry_ns);
    ASSERT_EQ(table.size(), 999u - k) << "removal " << k;
    ASSERT_EQ(table.find(Ipv4Addr{victims[k]}), nullptr) << "removal " << k;
    remaining.erase(std::find(remaining.begin(), remaining.end(), victims[k]));
    for (uint32_t v : remaining) {
      const NeighEntry* e = table.find(Ipv4Addr{v});
      ASSERT_NE(e, nullptr) << "lost " << Ipv4Addr{v}.to_string() << " after removal " << k;
      ASSERT_EQ(e->ip.v, v);
      ASSERT_EQ(e->mac, mac_of(v));
    }
  }
  EXPECT_EQ(stats.neigh_failed, 500u);
  for (uint32_t v : victims) EXPECT_EQ(table.find(Ipv4Addr{v}), nullptr);

  // Re-insert the removed half: everything is found again.
  now = base + 2 * p.retry_ns;
  for (uint32_t v : victims) ASSERT_TRUE(table.learn(Ipv4Addr{v}, mac_of(v + 1), true, now));
  EXPECT_EQ(table.size(), 1000u);
  for (uint32_t v : alive) EXPECT_EQ(table.find(Ipv4Addr{v})->mac, mac_of(v));
  for (uint32_t v : victims) EXPECT_EQ(table.find(Ipv4Addr{v})->mac, mac_of(v + 1));
  size_t seen = 0;
  table.for_each([&](const NeighEntry&) { ++seen; });
  EXPECT_EQ(seen, 1000u);
}

// --- a full table under a flood of forged on-link senders (issue 9) ----------

/** The @p n-th forged sender: 198.18.128.0/17, never one of the test's real peers. */
Ipv4Addr forged_sender(uint32_t n) { return Ipv4Addr{Ipv4Addr::from_octets(198, 18, 128, 0).v + n}; }
const Ipv4Addr kNewPeer = Ipv4Addr::from_octets(198, 18, 0, 77);
const MacAddr kNewPeerMac{{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x77}};

/**
 * What Interface::arp_input does for each forged "who-has <us>" request: learn the
 * sender, creating its entry (RFC 826: we are the target).
 */
void forged_requests(NeighbourTable& t, uint32_t first, uint32_t count, uint64_t now) {
  for (uint32_t i = first; i < first + count; ++i) t.learn(forged_sender(i), mac_of(0x100000 + i), true, now);
}

TEST_F(NeighbourTableTest, ForgedSenderFloodDoesNotKeepANewPeerOut) {
  forged_requests(table_, 0, params_.table_size, kT0);
  ASSERT_EQ(table_.size(), params_.table_size) << "the flood filled the table with fresh entries";
  // Our own resolution of a new peer gets an entry at once: a request goes out, the packet waits.
  table_.send(kNewPeer, tagged(1), kT0 + 1);
  ASSERT_EQ(sink_.requests.size(), 1u);
  EXPECT_EQ(sink_.requests[0].target, kNewPeer);
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_table_full), 0u);
  // The flood goes on while the reply travels: it displaces only its own entries.
  forged_requests(table_, params_.table_size, 10 * params_.table_size, kT0 + 2);
  ASSERT_NE(table_.find(kNewPeer), nullptr) << "our pending resolution survived the flood";
  EXPECT_EQ(table_.find(kNewPeer)->state, NeighState::incomplete);
  // The reply is accepted and the queued packet leaves.
  EXPECT_TRUE(table_.learn(kNewPeer, kNewPeerMac, true, kT0 + 3));
  ASSERT_EQ(sink_.transmits.size(), 1u);
  EXPECT_EQ(sink_.transmits[0].tag, 1u);
  EXPECT_EQ(sink_.transmits[0].dst, kNewPeerMac);
  EXPECT_EQ(stats_.neigh_resolved, 1u);
  EXPECT_EQ(stats_.neigh_evicted_unsolicited, 1u + 10 * params_.table_size);
  EXPECT_EQ(stats_.neigh_evicted, stats_.neigh_evicted_unsolicited);
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_table_full), 0u);
}

TEST_F(NeighbourTableTest, EntryWeSendThroughOutlivesAFloodOfUnusedOnes) {
  // A real client resolves us (its request creates its entry) and we answer it.
  const Ipv4Addr client = Ipv4Addr::from_octets(198, 18, 0, 50);
  table_.learn(client, mac_of(50), true, kT0);
  table_.send(client, tagged(7), kT0 + 1);
  forged_requests(table_, 0, 10 * params_.table_size, kT0 + 2);
  ASSERT_NE(table_.find(client), nullptr) << "an entry in use is not displaced by unsolicited ones";
  table_.send(client, tagged(8), kT0 + 3);
  EXPECT_EQ(sink_.tags(), (std::vector<uint32_t>{7, 8}));
  EXPECT_TRUE(sink_.requests.empty());
}

TEST_F(NeighbourTableTest, UnsolicitedTrafficNeverEvictsOurOwnResolutions) {
  // The table is full of our resolutions, pending and answered.
  for (uint32_t i = 0; i < params_.table_size; ++i) {
    const Ipv4Addr a = Ipv4Addr{Ipv4Addr::from_octets(198, 18, 1, 0).v + i};
    table_.send(a, tagged(i), kT0);
    if (i % 2 == 0) table_.learn(a, mac_of(i), false, kT0);
  }
  forged_requests(table_, 0, 100, kT0 + 1);
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_table_full), 100u) << "no room for unsolicited entries";
  EXPECT_EQ(stats_.neigh_evicted, 0u);
  for (uint32_t i = 0; i < 100; ++i) EXPECT_EQ(table_.find(forged_sender(i)), nullptr);
}

TEST_F(SmallNeighbourTableTest, OwnResolutionEvictsTheLeastRecentlyUsedUnsolicitedEntryLast) {
  // Four peers resolved us and we answered each: all reachable, all in use, none stale.
  const Ipv4Addr peers[] = {Ipv4Addr::from_octets(198, 18, 0, 11), Ipv4Addr::from_octets(198, 18, 0, 12),
                            Ipv4Addr::from_octets(198, 18, 0, 13), Ipv4Addr::from_octets(198, 18, 0, 14)};
  for (uint32_t i = 0; i < 4; ++i) table_.learn(peers[i], mac_of(i), true, kT0);
  // peers[0] was used longest ago.
  for (uint32_t i : {2u, 0u, 3u, 1u}) table_.send(peers[i], tagged(i), kT0 + 1 + i);
  // A forged request finds nothing it may displace...
  EXPECT_FALSE(table_.learn(forged_sender(0), mac_of(0x100000), true, kT0 + 10));
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_table_full), 1u);
  // ...but our own resolution does: the least recently used of them.
  table_.send(kNewPeer, tagged(9), kT0 + 11);
  EXPECT_EQ(table_.find(peers[0]), nullptr);
  ASSERT_NE(table_.find(kNewPeer), nullptr);
  EXPECT_EQ(stats_.neigh_evicted_active, 1u);
  EXPECT_EQ(stats_.neigh_evicted, 1u);
  EXPECT_EQ(stats_.dropped(L2Drop::neigh_table_full), 1u);
}

}  // namespace
}  // namespace tern::l2
