/**
 * @file
 * PairWire: each end owns one bounded FIFO per RX queue (a ring of mbuf
 * pointers allocated once); the other end's tx_burst() appends to it. No
 * allocation and no locks per packet.
 */
#include "tern/drivers/pair_wire.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace tern::drivers {

namespace {

// A bounded FIFO of mbuf pointers with fixed storage.
class Fifo {
 public:
  explicit Fifo(size_t capacity) : slots_(capacity) {}
  Fifo(Fifo&& o) noexcept
      : slots_(std::move(o.slots_)), head_(std::exchange(o.head_, 0)), count_(std::exchange(o.count_, 0)) {}
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;
  Fifo& operator=(Fifo&&) = delete;
  ~Fifo() { clear(); }

  size_t size() const noexcept { return count_; }
  size_t room() const noexcept { return slots_.size() - count_; }
  void push(rte_mbuf* m) noexcept {
    slots_[(head_ + count_) % slots_.size()] = m;
    ++count_;
  }
  rte_mbuf* pop() noexcept {
    rte_mbuf* m = slots_[head_];
    head_ = (head_ + 1) % slots_.size();
    --count_;
    return m;
  }
  void clear() noexcept {
    while (count_ > 0) rte_pktmbuf_free(pop());
  }

 private:
  std::vector<rte_mbuf*> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
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
    while (got < n && f.size() > 0) {
      rte_mbuf* m = f.pop();
      stats_.rx_bytes += m->pkt_len;
      pkts[got++] = m;
    }
    stats_.rx_packets += got;
    return got;
  }

  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override {
    uint16_t sent = 0;
    if (queue < caps_.tx_queues && queue < peer_->rx_.size()) {
      Fifo& f = peer_->rx_[queue];
      while (sent < n && f.room() > 0) {
        stats_.tx_bytes += pkts[sent]->pkt_len;
        f.push(pkts[sent++]);
      }
    }
    stats_.tx_packets += sent;
    stats_.tx_dropped += n - sent;
    return sent;
  }

  LinkStatus link() const override { return LinkStatus{true, 0, true}; }
  PortStats stats() const override { return stats_; }

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
  PortStats stats_{};
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
