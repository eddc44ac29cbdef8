/**
 * @file
 * Buffer accounting for one core's TCP (docs/robustness.md). Every queue
 * (receive, out-of-order, send) is charged by what its mbufs cost, their
 * truesize, to the connection and to the core's MemAccount, never by payload
 * bytes alone: a thousand one-byte segments cost a thousand buffers until
 * they are compacted. Limits: 2 x the socket buffer per connection and
 * direction, and TcpParams::memory_limit for the core, which can never
 * reach into the pool's rx_reserve, so the RX ring can always be refilled.
 *
 * Data arriving over a limit relieves pressure in this order (as Linux's
 * tcp_prune_queue does): compact runs of small segments into full buffers,
 * prune the connection's out-of-order queue from its highest sequence down
 * (RFC 2018 §8 allows reneging), under core pressure prune other
 * connections' out-of-order data, and only then refuse the data (counted);
 * the advertised window follows the memory left, so a well-behaved peer sees
 * a closing window, not drops.
 *
 * Fairness: out-of-order data is reclaimable, so it does not count against
 * the windows and send space of other connections (they reclaim it when
 * their data arrives or their application sends), and the last sixteenth of
 * the core's limit is kept for connections that hold little (a new
 * connection, an interactive one), so a few connections that fill their
 * queues cannot stall everyone else at a zero window.
 */
#include <algorithm>

#include "tern/tcp/tcp.hpp"

namespace tern::tcp {

void Tcp::init_memory() {
  mbuf_room_ = rte_pktmbuf_data_room_size(pool_) - RTE_PKTMBUF_HEADROOM;
  mbuf_cost_ = static_cast<uint32_t>(sizeof(rte_mbuf)) + rte_pktmbuf_data_room_size(pool_);
  const uint32_t size = pool_->size;
  uint32_t reserve = p_.rx_reserve != 0 ? p_.rx_reserve : std::max<uint32_t>(size / 4, 64);
  reserve = std::min(reserve, size - size / 8);  // TCP keeps at least an eighth of the pool
  reserve_ = reserve;
  const uint64_t most = uint64_t{size - reserve} * mbuf_cost_;
  mem_limit_ = p_.memory_limit != 0 ? std::min(p_.memory_limit, most) : most;
  guard_ = mem_limit_ / 16;
  small_ = std::min<uint64_t>(guard_, std::max<uint64_t>(mem_limit_ / 64, 16ull * mbuf_cost_));
}

// Core memory c can count on: free under its limit, plus what other connections' out-of-order
// queues hold (rcv_room() and send_mem_ok() reclaim it when c needs it).
uint64_t Tcp::core_free(const Connection& c, uint64_t held) const noexcept {
  const uint64_t firm = mem_.used - (mem_.ooo - c.ooo_.mem());
  const uint64_t lim = core_limit(held);
  return lim > firm ? lim - firm : 0;
}

uint64_t Tcp::send_mem_limit(const Connection& c) const noexcept {
  return std::max<uint64_t>(2ull * c.opt_.send_buffer, 4ull * mbuf_cost_);
}

// Make room for @p need truesize bytes of new data at @p seq on c; false: refuse the data.
bool Tcp::rcv_room_slow(Connection& c, uint64_t need, wire::SeqNum seq) {
  ++stats_.mem_pressure;
  // 1. Copy runs of small segments into full buffers.
  uint64_t saved = c.rcvq_.compact(pool_) + c.ooo_.compact(pool_);
  stats_.compacted_bytes += saved;
  if (rcv_fits(c, need)) return true;
  // 2. Out-of-order data from the top, only above the new data: data nearer RCV.NXT is
  //    worth more (RFC 2018 §8 reneging).
  while (!c.ooo_.empty() && !rcv_fits(c, need) && c.ooo_.highest_start() > seq) {
    stats_.ooo_pruned_bytes += c.ooo_.prune_top(1, ooo_pool_, seq);
    ++stats_.ooo_pruned_segs;
  }
  if (c.ooo_.empty()) ooo_untrack(c);
  if (rcv_fits(c, need)) return true;
  // 3. The core is over its limit: other connections' out-of-order data goes next.
  const uint64_t lim = core_limit(c);
  if (mem_.used + need > lim && c.rcvq_.mem() + need <= recv_mem_limit(c))
    reclaim(mem_.used + need - lim, &c);
  return rcv_fits(c, need);
}

// Small in-order segments the application has not read yet cost far more than their bytes
// and would close the window early: compact them before any limit is reached, when the queue
// uses its buffers worse than a quarter (full 1,448-byte segments use 63 % of a 2 KiB mbuf)
// and has grown by 8 segments since it was last compacted (bounds the walks).
void Tcp::maybe_compact(Connection& c) {
  const SegQueue& q = c.rcvq_;
  if (q.segments() < c.compact_mark_) c.compact_mark_ = q.segments();  // the application read
  if (q.segments() < c.compact_mark_ + 8 || q.mem() <= 4ull * q.bytes()) return;
  stats_.compacted_bytes += c.rcvq_.compact(pool_);
  c.compact_mark_ = c.rcvq_.segments();
}

uint64_t Tcp::reclaim(uint64_t need, const Connection* skip) {
  uint64_t freed = 0;
  for (Connection* h = ooo_holders_; h != nullptr && freed < need;) {
    Connection* next = h->ooo_next_;
    if (h == skip) {
      h = next;
      continue;
    }
    uint64_t s = h->ooo_.compact(pool_);
    stats_.compacted_bytes += s;
    freed += s;
    while (!h->ooo_.empty() && freed < need) {
      uint64_t f = h->ooo_.prune_top(1, ooo_pool_, h->rcv_nxt_);
      freed += f;
      stats_.ooo_pruned_bytes += f;
      ++stats_.ooo_pruned_segs;
      ++stats_.ooo_pruned_others;
    }
    if (h->ooo_.empty()) ooo_untrack(*h);
    h = next;
  }
  return freed;
}

// The window memory allows: what is left, in full-sized segments' payload.
uint32_t Tcp::mem_window(const Connection& c) const noexcept {
  const uint64_t rcv_held = c.rcvq_.mem() + c.ooo_.mem();
  const uint64_t lim = recv_mem_limit(c);
  const uint64_t free_conn = lim > rcv_held ? lim - rcv_held : 0;
  const uint64_t free_core = core_free(c, rcv_held + c.sndq_.mem());
  const uint64_t bufs = std::min(free_conn, free_core) / mbuf_cost_;
  const uint32_t per = std::min<uint32_t>(std::max<uint32_t>(c.rcv_mss_, effective_mss(c)), mbuf_room_);
  return static_cast<uint32_t>(std::min<uint64_t>(bufs * per, UINT32_MAX));
}

// send(): the core's TCP memory may refuse it; the caller is told writable once it frees.
bool Tcp::send_mem_ok(Connection& c) {
  if (mem_.used < mem_limit_ - guard_) return true;  // below every connection's limit
  const uint64_t lim = core_limit(c);
  if (mem_.used < lim) return true;
  if (reclaim(mem_.used - lim + mbuf_cost_, &c) > 0 && mem_.used < lim) return true;
  ++stats_.send_mem_blocked;
  if (!c.mem_waiting_) {
    c.mem_waiting_ = true;
    mem_waiters_.push_back(&c);
  }
  return false;
}

void Tcp::wake_mem_waiters_slow() {
  // Hysteresis: wake when an eighth of the limit is free again (out-of-order data counts as free).
  if (mem_.used - mem_.ooo > mem_limit_ - guard_ - mem_limit_ / 8) return;
  std::vector<Connection*> w;
  w.swap(mem_waiters_);
  for (Connection* c : w) {
    c->mem_waiting_ = false;
    if (c->want_writable_ && c->writable_now()) {
      c->want_writable_ = false;
      notify(*c, ev::writable);
    }
  }
}

void Tcp::ooo_track(Connection& c) {
  if (c.ooo_linked_ || c.ooo_.empty()) return;
  c.ooo_linked_ = true;
  c.ooo_prev_ = nullptr;
  c.ooo_next_ = ooo_holders_;
  if (ooo_holders_ != nullptr) ooo_holders_->ooo_prev_ = &c;
  ooo_holders_ = &c;
}

void Tcp::ooo_untrack(Connection& c) {
  if (!c.ooo_linked_) return;
  if (c.ooo_prev_ != nullptr) {
    c.ooo_prev_->ooo_next_ = c.ooo_next_;
  } else {
    ooo_holders_ = c.ooo_next_;
  }
  if (c.ooo_next_ != nullptr) c.ooo_next_->ooo_prev_ = c.ooo_prev_;
  c.ooo_prev_ = c.ooo_next_ = nullptr;
  c.ooo_linked_ = false;
}

}  // namespace tern::tcp
