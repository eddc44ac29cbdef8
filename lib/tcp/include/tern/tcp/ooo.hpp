/**
 * @file
 * Out-of-order reassembly for one connection's receive side (RFC 9293
 * §3.10.7.4 step 7: segments beyond RCV.NXT are held until the gap fills).
 * Segments are kept sorted and non-overlapping (new data overlapping held
 * data is trimmed; held data wins), in nodes taken from a per-core OooPool,
 * so the whole core's out-of-order memory is bounded and nothing allocates
 * on the data path. The queue also produces the receiver's SACK blocks
 * (RFC 2018 §4).
 *
 * Memory: every node is charged by what its mbufs cost (truesize), to the
 * queue and to the core's MemAccount. Data contiguous with held data joins
 * that node; when it is small it is copied into the room of the node's
 * last (or first) buffer instead of chaining one more mbuf (a counted copy),
 * so contiguous one-byte segments cost bytes, not buffers. Under pressure
 * the owner compacts (compact()) and prunes from the highest sequence down
 * (prune_top(); RFC 2018 §8 allows a receiver to renege on SACKed data).
 */
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tern/buf/packet.hpp"
#include "tern/tcp/seg_queue.hpp"
#include "tern/wire/seq.hpp"
#include "tern/wire/tcp.hpp"

namespace tern::tcp {

/** One held segment: [seq, seq + len), plus whether a FIN follows it. */
struct OooNode {
  wire::SeqNum seq;
  uint32_t len = 0;
  bool fin = false;
  Packet data;
  rte_mbuf* last = nullptr;  ///< last segment of data (appends without a walk)
  uint32_t mem = 0;          ///< truesize of data
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
  /** What the held mbufs cost (truesize). */
  uint64_t mem() const noexcept { return mem_; }
  /** Also charge every change to @p a (null: none). Call while empty. */
  void set_account(MemAccount* a) noexcept { acct_ = a; }
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
  /**
   * Drop held segments from the highest sequence down until at least
   * @p need truesize bytes are freed, or no held segment starts beyond
   * @p floor (RFC 2018 §8 reneging). @return truesize freed.
   */
  uint64_t prune_top(uint64_t need, OooPool& pool, wire::SeqNum floor) noexcept;
  /** The start of the highest held segment (valid when not empty). */
  wire::SeqNum highest_start() const noexcept;
  /** Copy runs of small segments into full mbufs from @p mp (counted). @return truesize freed. */
  uint64_t compact(rte_mempool* mp) noexcept;

 private:
  void remove_after(OooNode* prev, OooNode* n, OooPool& pool) noexcept;
  void charge(OooNode* n, int64_t delta) noexcept;
  bool append_to(OooNode* n, Packet& data) noexcept;
  bool prepend_to(OooNode* n, Packet& data) noexcept;
  void merge_next(OooNode* prev, OooPool& pool) noexcept;
  uint64_t mem_ = 0;
  MemAccount* acct_ = nullptr;
  OooNode* head_ = nullptr;
  uint32_t bytes_ = 0;
  uint32_t count_ = 0;
  wire::SeqNum last_seq_;  // start of the most recently inserted data
};

}  // namespace tern::tcp
