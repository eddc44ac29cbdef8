/**
 * @file
 * TxQueue: the per-core egress batch of one port queue. Layers push finished
 * frames; Core::poll() flushes once per iteration with one tx_burst (and
 * pushes flush early when the batch is full). Frames the port refuses after
 * a bounded number of retries are dropped and counted, so a stuck device
 * can never stall the core.
 */
#pragma once

#include <cstdint>

#include "tern/buf/packet.hpp"
#include "tern/port/port.hpp"

namespace tern {

/** Egress counters of one TxQueue. */
struct TxQueueStats {
  uint64_t packets = 0;  ///< frames accepted by the port
  uint64_t bytes = 0;
  uint64_t bursts = 0;   ///< tx_burst calls that sent at least one frame
  uint64_t dropped = 0;  ///< frames refused by a full device queue
};

/** A batch of frames for one (port, queue). Owned and used by one core. */
class alignas(64) TxQueue {
 public:
  static constexpr uint16_t kBatch = 32;

  TxQueue(Port& port, uint16_t queue) noexcept : port_(&port), queue_(queue) {}
  TxQueue(const TxQueue&) = delete;
  TxQueue& operator=(const TxQueue&) = delete;
  ~TxQueue() { flush(); }  // flush() sends or frees (counted) everything queued

  /** Queue a finished frame (takes ownership); flushes when the batch is full. */
  void push(Packet&& frame) noexcept {
    if (n_ == kBatch) flush();
    uint32_t len = frame.length();
    pkts_[n_++] = frame.release();
    pending_bytes_ += len;
  }
  /** Send everything queued; what the device refuses twice is dropped and counted. */
  void flush() noexcept {
    if (n_ == 0) return;
    uint16_t sent = 0;
    for (int attempt = 0; attempt < 2 && sent < n_; ++attempt) {
      sent = static_cast<uint16_t>(sent +
                                   port_->tx_burst(queue_, pkts_ + sent, static_cast<uint16_t>(n_ - sent)));
    }
    if (sent > 0) ++stats_.bursts;
    stats_.packets += sent;
    for (uint16_t i = sent; i < n_; ++i) {
      pending_bytes_ -= rte_pktmbuf_pkt_len(pkts_[i]);
      rte_pktmbuf_free(pkts_[i]);
      ++stats_.dropped;
    }
    stats_.bytes += pending_bytes_;
    pending_bytes_ = 0;
    n_ = 0;
  }
  uint16_t pending() const noexcept { return n_; }
  Port& port() const noexcept { return *port_; }
  uint16_t queue() const noexcept { return queue_; }
  const TxQueueStats& stats() const noexcept { return stats_; }

 private:
  Port* port_;
  uint16_t queue_;
  uint16_t n_ = 0;
  uint64_t pending_bytes_ = 0;
  rte_mbuf* pkts_[kBatch];
  TxQueueStats stats_;
};

}  // namespace tern
