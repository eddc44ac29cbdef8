/**
 * @file
 * PairWire: each end owns one bounded FIFO per RX queue (a ring of mbuf
 * pointers allocated once); the other end's tx_burst() appends to it. No
 * allocation and no locks per packet.
 */
#include "tern/drivers/pair_wire.hpp"

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

namespace tern::drivers {

namespace {

// A bounded single-producer, single-consumer FIFO of mbuf pointers with fixed storage: the
// sender and the receiver may be different threads (head and tail are atomics, release/acquire).
class Fifo {
 public:
  explicit Fifo(size_t capacity) : slots_(capacity) {}
  Fifo(Fifo&& o) noexcept
      : slots_(std::move(o.slots_)), head_(o.head_.exchange(0)), tail_(o.tail_.exchange(0)) {}
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;
  Fifo& operator=(Fifo&&) = delete;
  ~Fifo() { clear(); }

  size_t size() const noexcept {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }
  // Producer side.
  bool push(rte_mbuf* m) noexcept {
    const size_t t = tail_.load(std::memory_order_relaxed);
    if (t - head_.load(std::memory_order_acquire) == slots_.size()) return false;
    slots_[t % slots_.size()] = m;
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }
  // Consumer side: null when empty.
  rte_mbuf* pop() noexcept {
    const size_t h = head_.load(std::memory_order_relaxed);
    if (h == tail_.load(std::memory_order_acquire)) return nullptr;
    rte_mbuf* m = slots_[h % slots_.size()];
    head_.store(h + 1, std::memory_order_release);
    return m;
  }
  void clear() noexcept {
    while (rte_mbuf* m = pop()) rte_pktmbuf_free(m);
  }

 private:
  std::vector<rte_mbuf*> slots_;
  std::atomic<size_t> head_{0};  // next to pop (consumer)
  std::atomic<size_t> tail_{0};  // next to fill (producer)
};

}  // namespace

class PairWire::End final : public Port {
 public:
  End(std::string name, const PortCaps& caps, size_t capacity) : name_(std::move(name)), caps_(caps) {
    rx_.reserve(caps.rx_queues);
    for (uint16_t q = 0; q < caps.rx_queues; ++q) rx_.emplace_back(std::max<size_t>(capacity, 1));
  }

  void connect(End* peer) noexcept { peer_ = peer; }

  const std::string& name() const override { return name_; }
  const PortCaps& caps() const override { return caps_; }

  uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override {
    if (queue >= rx_.size()) return 0;
    Fifo& f = rx_[queue];
    uint16_t got = 0;
    uint64_t bytes = 0;
    while (got < n) {
      rte_mbuf* m = f.pop();
      if (m == nullptr) break;
      bytes += m->pkt_len;
      pkts[got++] = m;
    }
    rx_packets_.fetch_add(got, std::memory_order_relaxed);
    rx_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    return got;
  }

  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override {
    uint16_t sent = 0;
    if (queue < caps_.tx_queues && queue < peer_->rx_.size()) {
      Fifo& f = peer_->rx_[queue];
      uint64_t bytes = 0;
      while (sent < n) {
        const uint32_t len = pkts[sent]->pkt_len;
        if (!f.push(pkts[sent])) break;
        bytes += len;
        ++sent;
      }
      tx_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    }
    tx_packets_.fetch_add(sent, std::memory_order_relaxed);
    tx_dropped_.fetch_add(n - sent, std::memory_order_relaxed);
    return sent;
  }

  LinkStatus link() const override { return LinkStatus{true, 0, true}; }
  PortStats stats() const override {
    PortStats s{};
    s.rx_packets = rx_packets_.load(std::memory_order_relaxed);
    s.rx_bytes = rx_bytes_.load(std::memory_order_relaxed);
    s.tx_packets = tx_packets_.load(std::memory_order_relaxed);
    s.tx_bytes = tx_bytes_.load(std::memory_order_relaxed);
    s.tx_dropped = tx_dropped_.load(std::memory_order_relaxed);
    return s;
  }

  size_t queued() const noexcept {
    size_t total = 0;
    for (const Fifo& f : rx_) total += f.size();
    return total;
  }

 private:
  std::string name_;
  PortCaps caps_;
  End* peer_ = nullptr;
  std::vector<Fifo> rx_;  // one per RX queue of this end, filled by the peer
  std::atomic<uint64_t> rx_packets_{0}, rx_bytes_{0}, tx_packets_{0}, tx_bytes_{0}, tx_dropped_{0};
};

PairWire::PairWire(PortCaps a_caps, PortCaps b_caps, size_t capacity_per_queue)
    : a_(std::make_unique<End>("pair-a", a_caps, capacity_per_queue)),
      b_(std::make_unique<End>("pair-b", b_caps, capacity_per_queue)) {
  a_->connect(b_.get());
  b_->connect(a_.get());
}

PairWire::~PairWire() = default;  // each End's FIFOs free the frames in flight

Port& PairWire::a() noexcept { return *a_; }
Port& PairWire::b() noexcept { return *b_; }

size_t PairWire::in_flight(bool to_b) const noexcept { return to_b ? b_->queued() : a_->queued(); }

}  // namespace tern::drivers
