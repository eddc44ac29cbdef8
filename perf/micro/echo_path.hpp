/**
 * @file
 * The UDP echo path fixture: a Core echoing UDP on port 7 behind a PairWire
 * (no device cost). run(bursts) pushes 32-frame bursts in, polls once per
 * burst, and frees the replies. Used by the Google Benchmark and by the
 * fixed-count driver that callgrind measures.
 */
#pragma once

#include <memory>
#include <vector>

#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"

namespace tern::perf {

class EchoPath {
 public:
  static constexpr int kBurst = 32;
  explicit EchoPath(size_t payload);
  void run(int bursts);
  uint64_t replies() const noexcept { return replies_; }

 private:
  rte_mempool* pool_;
  PortCaps caps_a_, caps_b_;
  std::unique_ptr<drivers::PairWire> wire_;
  std::unique_ptr<Core> core_;
  std::vector<uint8_t> frame_;
  uint64_t now_ = 1'000'000;
  uint64_t replies_ = 0;
};

}  // namespace tern::perf
