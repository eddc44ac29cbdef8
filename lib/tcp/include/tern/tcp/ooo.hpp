/**
 * @file
 * Out-of-order reassembly for one connection's receive side (RFC 9293
 * §3.10.7.4 step 7: segments beyond RCV.NXT are held until the gap fills).
 * Segments are kept sorted and non-overlapping (new data overlapping held
 * data is trimmed; held data wins), in nodes taken from a per-core OooPool,
 * so the whole core's out-of-order memory is bounded and nothing allocates
 * on the data path. The queue also produces the receiver's SACK blocks
 * (RFC 2018 §4).
 */
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tern/buf/packet.hpp"
#include "tern/wire/seq.hpp"
#include "tern/wire/tcp.hpp"

namespace tern::tcp {

/** One held segment: [seq, seq + len), plus whether a FIN follows it. */
struct OooNode {
  wire::SeqNum seq;
  uint32_t len = 0;
  bool fin = false;
  Packet data;
  OooNode* next = nullptr;
};

/** The per-core store of nodes (fixed size, chosen at start). */
class OooPool {
 public:
  explicit OooPool(uint32_t capacity);
  OooNode* get() noexcept;
  void put(OooNode* n) noexcept;
  uint32_t available() const noexcept { return static_cast<uint32_t>(free_.size()); }
  uint32_t capacity() const noexcept { return static_cast<uint32_t>(nodes_.size()); }

 private:
  std::vector<OooNode> nodes_;
  std::vector<OooNode*> free_;
};

/** What insert() did with a segment. */
enum class OooResult : uint8_t {
  queued,     ///< held (possibly trimmed against held data)
  duplicate,  ///< every byte was already held: freed
  dropped,    ///< no node or over the per-connection limit: freed (the peer will retransmit)
};

class OooQueue {
 public:
  OooQueue() = default;
  OooQueue(const OooQueue&) = delete;
  OooQueue& operator=(const OooQueue&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  uint32_t bytes() const noexcept { return bytes_; }
  uint32_t count() const noexcept { return count_; }
  /** The end of the highest held segment (valid when not empty). */
  wire::SeqNum highest_end() const noexcept;

  /**
   * Hold @p data ([seq, seq + data.length()), plus FIN when @p fin). At most
   * @p max_nodes segments are held per connection.
   */
  OooResult insert(wire::SeqNum seq, Packet data, bool fin, OooPool& pool, uint32_t max_nodes) noexcept;
  /**
   * Take the first held segment when it starts at or before @p rcv_nxt
   * (trimmed to start at rcv_nxt; segments entirely below are freed).
   * @return false when the first segment is beyond rcv_nxt (or none is held).
   */
  bool pop_ready(wire::SeqNum rcv_nxt, Packet& out, bool& fin, OooPool& pool) noexcept;
  /**
   * The SACK blocks describing held data (RFC 2018 §4): the block holding
   * the most recently received segment first, then the others from the
   * highest down. @return blocks written.
   */
  size_t sack_blocks(std::span<wire::SackBlock> out) const noexcept;
  /** Free everything. */
  void clear(OooPool& pool) noexcept;

 private:
  void remove_after(OooNode* prev, OooNode* n, OooPool& pool) noexcept;
  static bool join(Packet& front, Packet& back) noexcept;
  OooNode* head_ = nullptr;
  uint32_t bytes_ = 0;
  uint32_t count_ = 0;
  wire::SeqNum last_seq_;  // start of the most recently inserted data
};

}  // namespace tern::tcp
