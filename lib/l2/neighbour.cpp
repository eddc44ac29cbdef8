#include "tern/l2/neighbour.hpp"

namespace tern::l2 {

using wire::Ipv4Addr;
using wire::MacAddr;

namespace {
size_t pow2_at_least(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

NeighbourTable::NeighbourTable(const NeighbourParams& params, NeighbourSink& sink, L2Stats& stats)
    : p_(params), sink_(sink), stats_(stats) {
  if (p_.table_size == 0) p_.table_size = 1;
  if (p_.retries == 0) p_.retries = 1;
  slots_.resize(pow2_at_least(size_t{p_.table_size} * 2));
  mask_ = slots_.size() - 1;
  queues_.resize(size_t{p_.table_size} * p_.queue_len);
  free_qslots_.reserve(p_.table_size);
  for (uint32_t i = p_.table_size; i-- > 0;) free_qslots_.push_back(i);
  doomed_.reserve(p_.table_size);
}

size_t NeighbourTable::home(Ipv4Addr ip) const noexcept {
  uint32_t h = ip.v * 0x9e3779b1u;  // Fibonacci hashing
  return (h ^ (h >> 16)) & mask_;
}

NeighEntry* NeighbourTable::lookup(Ipv4Addr ip) noexcept {
  for (size_t i = home(ip);; i = (i + 1) & mask_) {
    NeighEntry& e = slots_[i];
    if (e.state == NeighState::free) return nullptr;
    if (e.ip == ip) return &e;
  }
}

const NeighEntry* NeighbourTable::find(Ipv4Addr ip) const noexcept {
  return const_cast<NeighbourTable*>(this)->lookup(ip);
}

NeighEntry* NeighbourTable::create(Ipv4Addr ip, bool unsolicited, uint64_t now) {
  if (used_ >= p_.table_size && !evict_one(!unsolicited)) {
    return nullptr;
  }
  size_t i = home(ip);
  while (slots_[i].state != NeighState::free) i = (i + 1) & mask_;
  NeighEntry& e = slots_[i];
  e = NeighEntry{};
  e.ip = ip;
  e.state = NeighState::incomplete;
  e.qslot = free_qslots_.back();
  free_qslots_.pop_back();
  e.confirmed_ns = e.used_ns = now;
  e.unsolicited = unsolicited;
  ++used_;
  ++stats_.neigh_created;
  return &e;
}

// Make room (see neighbour.hpp). RFC 826 has every target learn its sender,
// so anyone on the link can make us create entries, from as many forged
// addresses as it likes: those go first, oldest confirmation first, while
// nothing was ever sent through them. Then the least recently used stale
// entry (RFC 1122 §2.3.2.1: unconfirmed, re-resolved on use). Then, for a
// resolution of our own only, the least recently used unsolicited entry we
// sent through (it is re-resolved on its next use). Our own resolutions,
// incomplete (packets waiting) or reachable, are never evicted.
bool NeighbourTable::evict_one(bool for_own_resolution) {
  NeighEntry *unused = nullptr, *stale = nullptr, *active = nullptr;
  for (auto& e : slots_) {
    if (e.state == NeighState::free) continue;
    if (e.unsolicited && !e.sent) {
      if (unused == nullptr || e.confirmed_ns < unused->confirmed_ns) unused = &e;
    } else if (e.state == NeighState::stale) {
      if (stale == nullptr || e.used_ns < stale->used_ns) stale = &e;
    } else if (e.unsolicited && e.state == NeighState::reachable) {
      if (active == nullptr || e.used_ns < active->used_ns) active = &e;
    }
  }
  NeighEntry* victim = nullptr;
  if (unused != nullptr) {
    victim = unused;
    ++stats_.neigh_evicted_unsolicited;
  } else if (stale != nullptr) {
    victim = stale;
    ++stats_.neigh_evicted_stale;
  } else if (active != nullptr && for_own_resolution) {
    victim = active;
    ++stats_.neigh_evicted_active;
  } else {
    return false;
  }
  ++stats_.neigh_evicted;
  remove(victim->ip);
  return true;
}

// Linear-probing deletion by backward shift (Knuth 6.4 Algorithm R): no tombstones.
void NeighbourTable::remove(Ipv4Addr ip) {
  NeighEntry* e = lookup(ip);
  if (e == nullptr) return;
  drop_queue(*e, L2Drop::neigh_unresolved);
  free_qslots_.push_back(e->qslot);
  size_t i = static_cast<size_t>(e - slots_.data());
  for (size_t j = (i + 1) & mask_; slots_[j].state != NeighState::free; j = (j + 1) & mask_) {
    size_t k = home(slots_[j].ip);
    bool movable = (j > i) ? (k <= i || k > j) : (k <= i && k > j);
    if (movable) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = NeighEntry{};
  --used_;
}

void NeighbourTable::enqueue(NeighEntry& e, Packet dgram) {
  Packet* q = &queues_[size_t{e.qslot} * p_.queue_len];
  if (e.qlen >= p_.queue_len) {
    // RFC 1122 §2.3.2.2: SHOULD save at least one (the latest) packet: the oldest goes.
    stats_.drop(L2Drop::neigh_queue_full);
    for (uint32_t i = 1; i < e.qlen; ++i) q[i - 1] = std::move(q[i]);
    --e.qlen;
  }
  q[e.qlen++] = std::move(dgram);
  ++stats_.neigh_queued;
}

void NeighbourTable::flush_queue(NeighEntry& e) {
  Packet* q = &queues_[size_t{e.qslot} * p_.queue_len];
  uint32_t n = e.qlen;
  e.qlen = 0;
  MacAddr mac = e.mac;
  for (uint32_t i = 0; i < n; ++i) sink_.neigh_transmit(std::move(q[i]), mac);
}

void NeighbourTable::drop_queue(NeighEntry& e, L2Drop why) {
  Packet* q = &queues_[size_t{e.qslot} * p_.queue_len];
  for (uint32_t i = 0; i < e.qlen; ++i) q[i].reset();
  stats_.drop(why, e.qlen);
  e.qlen = 0;
}

void NeighbourTable::probe(NeighEntry& e, bool broadcast, uint64_t now) {
  ++e.probes;
  e.broadcast_probe = broadcast;
  e.next_probe_ns = now + p_.retry_ns;
  MacAddr mac = e.mac;
  sink_.neigh_request(e.ip, broadcast ? nullptr : &mac, now);
}

void NeighbourTable::send(Ipv4Addr ip, Packet dgram, uint64_t now) {
  NeighEntry* e = lookup(ip);
  if (e == nullptr) {
    e = create(ip, false, now);
    if (e == nullptr) {
      stats_.drop(L2Drop::neigh_table_full);
      return;
    }
    enqueue(*e, std::move(dgram));
    probe(*e, true, now);  // RFC 826: broadcast a request
    return;
  }
  e->used_ns = now;
  e->sent = true;  // in use: no longer displaced by unsolicited entries
  switch (e->state) {
    case NeighState::incomplete:
      enqueue(*e, std::move(dgram));
      return;
    case NeighState::reachable:
      if (fresh(*e, now)) break;
      e->state = NeighState::stale;
      [[fallthrough]];
    case NeighState::stale:
      // RFC 1122 §2.3.2.1: keep using the entry, re-confirm it by unicast.
      if (e->probes == 0) probe(*e, false, now);
      break;
    case NeighState::free:
      return;
  }
  sink_.neigh_transmit(std::move(dgram), e->mac);
}

bool NeighbourTable::learn(Ipv4Addr ip, const MacAddr& mac, bool create_entry, uint64_t now,
                           LearnSource from) {
  NeighEntry* e = lookup(ip);
  if (e == nullptr) {
    if (!create_entry) return false;
    e = create(ip, true, now);
    if (e == nullptr) {
      stats_.drop(L2Drop::neigh_table_full);
      return false;
    }
    e->state = NeighState::reachable;  // nothing queued: not one of our resolutions (neigh_resolved)
    e->mac = mac;
    e->updated_ns = now;
  }
  bool was_incomplete = e->state == NeighState::incomplete;
  if (was_incomplete) {
    e->updated_ns = now;  // the first answer starts the lock: later different answers are ignored
  } else if (e->mac != mac && !may_change(*e, from, now)) {
    ++stats_.neigh_updates_locked;
    return false;
  }
  e->mac = mac;
  e->state = NeighState::reachable;
  e->confirmed_ns = now;
  if (e->probes > 0) e->unsolicited = false;  // confirmed while we were asking: ours now
  e->probes = 0;
  if (was_incomplete) {
    ++stats_.neigh_resolved;
    flush_queue(*e);
  }
  return true;
}

// Linux's locktime (arp_process: override only after n->updated + LOCKTIME): a different MAC is
// taken when the lock time since the last change has passed, when it answers a broadcast request
// of ours still outstanding (a genuine change, found by asking everyone), or when a sibling core
// took it.
bool NeighbourTable::may_change(NeighEntry& e, LearnSource from, uint64_t now) noexcept {
  const bool answers_us = from == LearnSource::answer && e.probes > 0 && e.broadcast_probe;
  if (!answers_us && from != LearnSource::sibling && now - e.updated_ns < p_.lock_ns) return false;
  ++stats_.neigh_mac_changes;
  e.updated_ns = now;
  return true;
}

void NeighbourTable::tick_entry(NeighEntry& e, uint64_t now) {
  switch (e.state) {
    case NeighState::incomplete:
    case NeighState::stale:
      if (e.probes > 0 && now >= e.next_probe_ns) {
        if (e.probes < p_.retries) {
          // RFC 1122 §2.3.2.1: unicast polls of a stale entry, the last one broadcast.
          probe(e, e.state == NeighState::incomplete || e.probes + 1u >= p_.retries, now);
        } else {
          ++stats_.neigh_failed;
          doomed_.push_back(e.ip);
        }
      } else if (e.state == NeighState::stale && e.probes == 0 && now - e.used_ns >= p_.stale_ns) {
        doomed_.push_back(e.ip);  // garbage collection of unused entries
      }
      break;
    case NeighState::reachable:
      if (!fresh(e, now)) e.state = NeighState::stale;
      break;
    case NeighState::free:
      break;
  }
}

void NeighbourTable::tick(uint64_t now) {
  doomed_.clear();
  for (auto& e : slots_) tick_entry(e, now);
  for (Ipv4Addr ip : doomed_) remove(ip);
}

}  // namespace tern::l2
