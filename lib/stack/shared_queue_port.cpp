/**
 * @file
 * SharedQueuePort: frames from a core's TxQueue go to the port's TX queue
 * (core % tx_queues), under that queue's lock when cores share it.
 */
#include "tern/stack/shared_queue_port.hpp"

#include <algorithm>

namespace tern {

SharedQueuePort::SharedQueuePort(std::unique_ptr<Port> inner, uint16_t cores) : inner_(std::move(inner)) {
  const uint16_t txq = std::max<uint16_t>(1, inner_->caps().tx_queues);
  shared_.assign(txq, 0);
  locks_ = std::make_unique<rte_spinlock_t[]>(txq);
  for (uint16_t q = 0; q < txq; ++q) {
    rte_spinlock_init(&locks_[q]);
    shared_[q] = cores > txq + q ? 1 : 0;  // cores q, q + txq, ... map here
  }
}

uint16_t SharedQueuePort::tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  const uint16_t q = static_cast<uint16_t>(queue % shared_.size());
  if (shared_[q] == 0) return inner_->tx_burst(q, pkts, n);
  rte_spinlock_lock(&locks_[q]);
  const uint16_t sent = inner_->tx_burst(q, pkts, n);
  rte_spinlock_unlock(&locks_[q]);
  return sent;
}

}  // namespace tern
