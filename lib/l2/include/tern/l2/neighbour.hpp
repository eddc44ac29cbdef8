/**
 * @file
 * The neighbour (ARP) table of one interface on one core, RFC 826 with the
 * host-requirements behaviour of RFC 1122 §2.3.2: entries are incomplete
 * (request sent, packets queued), reachable (recently confirmed) or stale
 * (usable, re-confirmed by a unicast probe on use). Bounded in entries and
 * in queued packets per entry; fixed storage, no allocation after
 * construction. Time is passed in (fake clocks in tests).
 *
 * A full table makes room by evicting, in this order: an unsolicited entry
 * (created from a peer's ARP) that nothing was ever sent through, oldest
 * confirmation first; then the least recently used stale entry; then, only
 * for a resolution of our own (send()), the least recently used unsolicited
 * entry we did send through. Entries of our own resolutions, incomplete or
 * reachable, are never evicted. So a flood of forged ARP requests from many
 * on-link senders only displaces its own entries: a new peer we need gets an
 * entry at once (issue 9). Each eviction is counted by its kind.
 *
 * A lock time (NeighbourParams::lock_ns, Linux's locktime, 1 s) follows every
 * change of an entry's MAC: within it, an ARP packet naming another MAC for
 * the address is ignored (counted in neigh_updates_locked) unless it answers
 * a broadcast request of ours still outstanding. So unsolicited or gratuitous
 * replies alternating a peer's MAC cannot redirect our frames more than once
 * per lock time, and of several answers to one request the first wins
 * (issue 14). A stale entry is re-confirmed by unicast requests to the MAC it
 * has, the last retry broadcast (RFC 1122 §2.3.2.1): only an answer to that
 * one may bring a new MAC within the lock time (a peer that moved cannot hear
 * the unicast ones, and an answer to them with another MAC is a forgery).
 */
#pragma once

#include <cstdint>
#include <vector>

#include "tern/buf/packet.hpp"
#include "tern/l2/stats.hpp"
#include "tern/wire/addr.hpp"

namespace tern::l2 {

/** Limits and timers of a neighbour table. */
struct NeighbourParams {
  uint32_t table_size = 1024;              ///< max entries
  uint32_t queue_len = 16;                 ///< max packets queued per unresolved entry
  uint64_t reachable_ns = 30'000'000'000;  ///< reachable -> stale after this long unconfirmed
  uint64_t stale_ns = 600'000'000'000;     ///< stale entries unused this long are removed
  uint64_t retry_ns = 1'000'000'000;       ///< interval between requests/probes
  uint32_t retries = 3;                    ///< requests before giving up
  uint64_t lock_ns = 1'000'000'000;        ///< after a MAC change, other MACs are ignored this long
};

/** Where a mapping given to NeighbourTable::learn() comes from. */
enum class LearnSource : uint8_t {
  packet,   ///< an ARP request, an unsolicited or gratuitous reply, or a reply to someone else
  answer,   ///< an ARP reply sent to us (our address as target): answers our request if one is outstanding
  sibling,  ///< another core's table took it (already checked there): applied as it is
};

enum class NeighState : uint8_t { free, incomplete, reachable, stale };

/** One entry, as seen by callers of find(). */
struct NeighEntry {
  wire::Ipv4Addr ip;
  wire::MacAddr mac{};
  NeighState state = NeighState::free;
  uint8_t probes = 0;         ///< requests sent in the current resolution/probe
  uint32_t qslot = 0;         ///< index of this entry's packet queue
  uint32_t qlen = 0;          ///< packets queued (incomplete only)
  uint64_t confirmed_ns = 0;  ///< last time the mapping was confirmed
  uint64_t next_probe_ns = 0;
  uint64_t used_ns = 0;     ///< last time a packet was sent through it
  uint64_t updated_ns = 0;  ///< last time the MAC was set or changed (the lock time runs from it)
  /** Created from a peer's ARP packet (RFC 826: we were the target), not by our
   *  own resolution, and not confirmed by an answer to one of our requests since. */
  bool unsolicited = false;
  bool sent = false;             ///< a packet was sent through it since it was created
  bool broadcast_probe = false;  ///< the outstanding request (probes > 0) was broadcast
};

/** What the table asks its interface to do. */
class NeighbourSink {
 public:
  virtual ~NeighbourSink() = default;
  /** Send an ARP request for @p target: broadcast when @p unicast is null, else to that MAC. */
  virtual void neigh_request(wire::Ipv4Addr target, const wire::MacAddr* unicast, uint64_t now) = 0;
  /** Transmit an IPv4 datagram to the resolved @p dst. */
  virtual void neigh_transmit(Packet&& dgram, const wire::MacAddr& dst) = 0;
};

class NeighbourTable {
 public:
  NeighbourTable(const NeighbourParams& params, NeighbourSink& sink, L2Stats& stats);
  NeighbourTable(const NeighbourTable&) = delete;
  NeighbourTable& operator=(const NeighbourTable&) = delete;

  /**
   * Send @p dgram to @p ip: at once when the MAC is known, else queue it and
   * resolve. Takes ownership: every path transmits, queues or drops (counted).
   */
  void send(wire::Ipv4Addr ip, Packet dgram, uint64_t now);
  /**
   * Record @p ip is at @p mac (an ARP packet said so). Updates an existing
   * entry (RFC 826 merge); creates one only when @p create (we were the
   * target), marked unsolicited: it may only displace other unsolicited
   * entries never sent through, or stale ones. Flushes packets queued for it.
   * A different MAC within the lock time is ignored unless @p from is an
   * answer while we are asking, or a sibling's update (see the file comment).
   * @return true if an entry was updated or created (false: none, or locked).
   */
  bool learn(wire::Ipv4Addr ip, const wire::MacAddr& mac, bool create, uint64_t now,
             LearnSource from = LearnSource::packet);
  /** Timers: retries, reachable->stale, failure and garbage collection. */
  void tick(uint64_t now);
  /** The entry for @p ip, or null. */
  const NeighEntry* find(wire::Ipv4Addr ip) const noexcept;
  /**
   * The MAC of @p ip when its entry is reachable and still fresh at @p now
   * (marking it used, as send() does); null when send() would have to queue,
   * probe or age the entry. For the forwarding fast path.
   */
  const wire::MacAddr* fresh_mac(wire::Ipv4Addr ip, uint64_t now) noexcept {
    NeighEntry* e = lookup(ip);
    if (e == nullptr || e->state != NeighState::reachable || !fresh(*e, now)) return nullptr;
    e->used_ns = now;
    e->sent = true;
    return &e->mac;
  }
  /** Entries in use. */
  size_t size() const noexcept { return used_; }
  /** Call @p f(const NeighEntry&) on each entry in use. */
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& e : slots_) {
      if (e.state != NeighState::free) f(e);
    }
  }

 private:
  // RFC 1122 §2.3.2.1: a reachable entry is trusted this long after its last confirmation.
  bool fresh(const NeighEntry& e, uint64_t now) const noexcept {
    return now - e.confirmed_ns < p_.reachable_ns;
  }
  size_t home(wire::Ipv4Addr ip) const noexcept;
  NeighEntry* lookup(wire::Ipv4Addr ip) noexcept;
  NeighEntry* create(wire::Ipv4Addr ip, bool unsolicited, uint64_t now);
  bool evict_one(bool for_own_resolution);
  bool may_change(NeighEntry& e, LearnSource from, uint64_t now) noexcept;
  void remove(wire::Ipv4Addr ip);
  void enqueue(NeighEntry& e, Packet dgram);
  void flush_queue(NeighEntry& e);
  void drop_queue(NeighEntry& e, L2Drop why);
  void probe(NeighEntry& e, bool broadcast, uint64_t now);
  void tick_entry(NeighEntry& e, uint64_t now);

  NeighbourParams p_;
  NeighbourSink& sink_;
  L2Stats& stats_;
  std::vector<NeighEntry> slots_;  // open addressing, linear probing
  size_t mask_;
  size_t used_ = 0;
  std::vector<Packet> queues_;  // table_size * queue_len
  std::vector<uint32_t> free_qslots_;
  std::vector<wire::Ipv4Addr> doomed_;  // scratch for tick()
};

}  // namespace tern::l2
