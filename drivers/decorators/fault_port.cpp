/**
 * @file
 * FaultPort data path. Per lane: decide (loss, corrupt, duplicate, reorder)
 * with the lane's own xoshiro256** generator, then stage frames through the
 * reorder slot, the delay line and the ready FIFO. Rings are allocated once
 * at construction; counters are single-writer relaxed atomics so that
 * fault_stats() may read them from another thread.
 */
#include "tern/drivers/fault_port.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <utility>

namespace tern::drivers {

namespace {

constexpr uint32_t kEthHeaderLen = 14;
constexpr uint16_t kBurst = 32;
constexpr uint64_t kRxStream = 0x5258'0000'0000'0000ULL;  // "RX": RX lanes draw a different stream

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman & Vigna): small, fast, and the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& w : s_) w = splitmix64(seed);
  }
  uint64_t next() noexcept {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /** Uniform in [0, 1). */
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /** Uniform in [0, n). */
  uint64_t below(uint64_t n) noexcept {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A bounded FIFO of mbufs (with an optional due time each), fixed storage.
class Ring {
 public:
  explicit Ring(size_t capacity) : mbufs_(capacity), due_(capacity) {}
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() {
    while (count_ > 0) rte_pktmbuf_free(pop());
  }
  size_t size() const noexcept { return count_; }
  size_t room() const noexcept { return mbufs_.size() - count_; }
  bool empty() const noexcept { return count_ == 0; }
  void push(rte_mbuf* m, uint64_t due = 0) noexcept {
    assert(room() > 0);
    const size_t i = (head_ + count_) % mbufs_.size();
    mbufs_[i] = m;
    due_[i] = due;
    ++count_;
  }
  rte_mbuf* front() const noexcept { return mbufs_[head_]; }
  uint64_t front_due() const noexcept { return due_[head_]; }
  rte_mbuf* pop() noexcept {
    rte_mbuf* m = mbufs_[head_];
    drop_front(1);
    return m;
  }
  /** The oldest frames that are contiguous in storage (for one burst call). */
  rte_mbuf** contiguous(size_t& n) noexcept {
    n = std::min(count_, mbufs_.size() - head_);
    return &mbufs_[head_];
  }
  void drop_front(size_t n) noexcept {
    head_ = (head_ + n) % mbufs_.size();
    count_ -= n;
  }

 private:
  std::vector<rte_mbuf*> mbufs_;
  std::vector<uint64_t> due_;
  size_t head_ = 0;
  size_t count_ = 0;
};

// A counter with one writer (the lane's core) and any readers.
class Counter {
 public:
  void add(uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// True when writing into @p m could change bytes another owner sees.
bool shared(const rte_mbuf* m) {
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    if (RTE_MBUF_CLONED(s) || RTE_MBUF_HAS_EXTBUF(s) || rte_mbuf_refcnt_read(s) > 1) return true;
  }
  return false;
}

}  // namespace

struct FaultPort::Lane {
  Lane(uint64_t seed, uint64_t delay_ns) : rng(seed), delay(delay_ns) {}
  ~Lane() {
    if (reorder_slot != nullptr) rte_pktmbuf_free(reorder_slot);
  }

  Rng rng;
  const uint64_t delay;
  uint64_t now = 0;                  // most recent clock from poll()
  rte_mbuf* reorder_slot = nullptr;  // frame held back to swap with the next
  Ring delayed{kHoldCapacity};       // frames on the delay line, due times ascending
  Ring ready{kHoldCapacity};         // frames decided, waiting to be handed on
  Counter passed, dropped, duplicated, reordered, corrupted, delayed_count;

  size_t held() const noexcept { return (reorder_slot != nullptr) + delayed.size() + ready.size(); }
  // Room for what one frame can produce (itself, a duplicate, the released reorder slot).
  bool room_for_one() const noexcept { return (delay > 0 ? delayed.room() : ready.room()) >= 3; }

  // Past the reorder stage: onto the delay line, or straight to ready.
  void stage(rte_mbuf* m) noexcept {
    if (delay > 0) {
      delayed.push(m, now + delay);
      delayed_count.add();
    } else {
      ready.push(m);
    }
  }
  // Pass @p m on, then the frame held for reordering (it went after the next one).
  void emit(rte_mbuf* m) noexcept {
    stage(m);
    if (reorder_slot != nullptr) stage(std::exchange(reorder_slot, nullptr));
  }
  // poll(): a held frame waits no longer than the next poll.
  void release_reorder() noexcept {
    if (reorder_slot != nullptr && (delay > 0 ? delayed.room() : ready.room()) > 0) {
      stage(std::exchange(reorder_slot, nullptr));
    }
  }
  // Move due frames from the delay line to ready.
  void release_due() noexcept {
    while (!delayed.empty() && delayed.front_due() <= now && ready.room() > 0) ready.push(delayed.pop());
  }
};

FaultPort::FaultPort(std::unique_ptr<Port> inner, FaultOptions opts, rte_mempool* pool)
    : inner_(std::move(inner)), opts_(opts), pool_(pool) {
  assert(inner_ != nullptr);
  const PortCaps& c = inner_->caps();
  if (opts_.on_rx) {
    for (uint16_t q = 0; q < c.rx_queues; ++q)
      rx_.push_back(std::make_unique<Lane>((opts_.seed + q) ^ kRxStream, opts_.delay_ns));
  }
  if (opts_.on_tx) {
    for (uint16_t q = 0; q < c.tx_queues; ++q)
      tx_.push_back(std::make_unique<Lane>(opts_.seed + q, opts_.delay_ns));
  }
}

FaultPort::~FaultPort() {
  // Lanes free their held frames before the inner port goes.
  rx_.clear();
  tx_.clear();
}

FaultStats FaultPort::fault_stats() const {
  FaultStats s;
  for (const auto* lanes : {&rx_, &tx_}) {
    for (const auto& l : *lanes) {
      s.passed += l->passed.get();
      s.dropped += l->dropped.get();
      s.duplicated += l->duplicated.get();
      s.reordered += l->reordered.get();
      s.corrupted += l->corrupted.get();
      s.delayed += l->delayed_count.get();
    }
  }
  return s;
}

size_t FaultPort::held() const {
  size_t n = 0;
  for (const auto* lanes : {&rx_, &tx_}) {
    for (const auto& l : *lanes) n += l->held();
  }
  return n;
}

rte_mbuf* FaultPort::corrupt(Lane& lane, rte_mbuf* m) {
  if (m->pkt_len <= kEthHeaderLen) return m;
  // Draw first, so decisions do not depend on whether a copy was needed.
  uint32_t off = kEthHeaderLen + static_cast<uint32_t>(lane.rng.below(m->pkt_len - kEthHeaderLen));
  const auto bit = static_cast<uint8_t>(1u << lane.rng.below(8));
  if (shared(m)) {
    // Never write into a buffer someone else holds (e.g. a retransmission's share()).
    rte_mbuf* copy = pool_ != nullptr ? rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX) : nullptr;
    if (copy == nullptr) return m;
    rte_pktmbuf_free(m);
    m = copy;
  }
  rte_mbuf* s = m;
  while (off >= s->data_len) {
    off -= s->data_len;
    s = s->next;
  }
  *rte_pktmbuf_mtod_offset(s, uint8_t*, off) ^= bit;
  lane.corrupted.add();
  return m;
}

void FaultPort::process(Lane& lane, rte_mbuf* m) {
  const double u_loss = lane.rng.uniform();
  const double u_dup = lane.rng.uniform();
  const double u_reorder = lane.rng.uniform();
  const double u_corrupt = lane.rng.uniform();
  if (u_loss < opts_.loss) {
    rte_pktmbuf_free(m);
    lane.dropped.add();
    return;
  }
  if (u_corrupt < opts_.corrupt) m = corrupt(lane, m);
  rte_mbuf* dup = nullptr;
  if (u_dup < opts_.duplicate && pool_ != nullptr) {
    dup = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
    if (dup != nullptr) lane.duplicated.add();
  }
  if (u_reorder < opts_.reorder && lane.reorder_slot == nullptr) {
    lane.reorder_slot = m;
    lane.reordered.add();
  } else {
    lane.emit(m);
  }
  if (dup != nullptr) lane.emit(dup);
}

void FaultPort::flush_tx(uint16_t queue, Lane& lane) {
  while (!lane.ready.empty()) {
    size_t n = 0;
    rte_mbuf** run = lane.ready.contiguous(n);
    const uint16_t want = static_cast<uint16_t>(std::min<size_t>(n, UINT16_MAX));
    const uint16_t sent = inner_->tx_burst(queue, run, want);
    // The first `sent` now belong to the inner port: forget them without touching them.
    lane.ready.drop_front(sent);
    lane.passed.add(sent);
    if (sent < want) break;
  }
}

uint16_t FaultPort::tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  if (queue >= tx_.size()) return inner_->tx_burst(queue, pkts, n);
  Lane& lane = *tx_[queue];
  lane.release_due();
  flush_tx(queue, lane);
  // Backpressure: while the inner port refuses what is ready, accept nothing new.
  if (!lane.ready.empty()) return 0;
  uint16_t accepted = 0;
  while (accepted < n && lane.room_for_one()) process(lane, pkts[accepted++]);
  flush_tx(queue, lane);
  return accepted;
}

uint16_t FaultPort::rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  if (queue >= rx_.size()) return inner_->rx_burst(queue, pkts, n);
  Lane& lane = *rx_[queue];
  lane.release_due();
  rte_mbuf* burst[kBurst];
  while (lane.ready.size() < n && lane.room_for_one()) {
    const size_t room = (lane.delay > 0 ? lane.delayed.room() : lane.ready.room()) / 3;
    const auto want = static_cast<uint16_t>(std::min<size_t>({kBurst, n - lane.ready.size(), room}));
    const uint16_t got = inner_->rx_burst(queue, burst, want);
    for (uint16_t i = 0; i < got; ++i) process(lane, burst[i]);
    if (got < want) break;
  }
  lane.release_due();
  uint16_t out = 0;
  while (out < n && !lane.ready.empty()) pkts[out++] = lane.ready.pop();
  lane.passed.add(out);
  return out;
}

void FaultPort::poll(uint16_t queue, uint64_t now_ns) {
  if (queue < rx_.size()) {
    Lane& lane = *rx_[queue];
    lane.now = now_ns;
    lane.release_reorder();
    lane.release_due();
  }
  if (queue < tx_.size()) {
    Lane& lane = *tx_[queue];
    lane.now = now_ns;
    lane.release_reorder();
    lane.release_due();
    flush_tx(queue, lane);
  }
  inner_->poll(queue, now_ns);
}

}  // namespace tern::drivers
