/**
 * @file
 * SegQueue: a byte stream held as a singly linked list of mbuf segments
 * (linked through rte_mbuf::next), used for a connection's send queue
 * (application data waiting to be acknowledged) and receive queue (in-order
 * data waiting for the application). Zero copy: appended Packets become
 * segments of the list as they are. Slicing for transmission attaches
 * indirect mbufs to the queued segments, so a retransmission holds a
 * reference, never a copy.
 *
 * Tiny segments cost a whole mbuf each; append() copies data of at most
 * kCoalesceMax bytes into the tail's free room when the tail is a private
 * direct mbuf (counted as a copy in buf_stats): a peer dribbling 1-byte
 * segments cannot pin one mbuf per byte.
 */
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <span>

#include "tern/buf/packet.hpp"

namespace tern::tcp {

/**
 * Memory held by a set of queues, by truesize (see mbuf_truesize()): one per
 * core, shared by every queue of its connections, so the core's total is
 * known exactly without walking them.
 */
struct MemAccount {
  uint64_t used = 0;  ///< truesize bytes held now
  uint64_t ooo = 0;   ///< of which out-of-order queues hold (reclaimable: RFC 2018 section 8)
};

class SegQueue {
 public:
  /** Appended data this small is copied into the tail's free room when possible. */
  static constexpr uint32_t kCoalesceMax = 256;

  SegQueue() = default;
  ~SegQueue() { clear(); }
  SegQueue(const SegQueue&) = delete;
  SegQueue& operator=(const SegQueue&) = delete;

  /** Bytes queued. */
  uint32_t bytes() const noexcept { return bytes_; }
  /** Segments (mbufs) queued. */
  uint32_t segments() const noexcept { return segs_; }
  /** What the queued mbufs cost (truesize), however few bytes they carry. */
  uint64_t mem() const noexcept { return mem_; }
  /** Also charge every change to @p a (null: none). Call while empty. */
  void set_account(MemAccount* a) noexcept { acct_ = a; }
  /**
   * Copy runs of small segments into full mbufs from @p pool (Linux's
   * collapse; counted copies). Full segments are not touched.
   * @return truesize freed.
   */
  uint64_t compact(rte_mempool* pool) noexcept;
  bool empty() const noexcept { return bytes_ == 0; }

  /** Append all of @p p (its data, at any offset); takes ownership. Empty packets are freed. */
  void append(Packet p) noexcept;
  /**
   * Copy @p data to the end, filling the tail's room first, then fresh mbufs
   * from @p pool. @return bytes taken (less than data.size() when the pool ran dry).
   */
  uint32_t append_copy(std::span<const uint8_t> data, rte_mempool* pool) noexcept;
  /** Drop @p n bytes from the front (acknowledged data), freeing whole segments. */
  void consume(uint32_t n) noexcept;
  /**
   * Take up to @p max bytes from the front as one Packet chain (whole
   * segments only, except that a first segment longer than @p max is split
   * by cloning; at most 128 segments). Empty Packet when the queue is empty.
   */
  Packet pop(uint32_t max, rte_mempool* clone_pool) noexcept;
  /** Copy up to out.size() bytes from the front into @p out and consume them. @return bytes copied. */
  uint32_t pop_copy(std::span<uint8_t> out) noexcept;
  /**
   * A chain of indirect mbufs covering bytes [off, off + len) of the queue
   * (zero copy), allocated from @p pool, or an empty Packet when the pool is
   * empty. @pre off + len <= bytes().
   */
  Packet slice(uint32_t off, uint32_t len, rte_mempool* pool) const noexcept;
  /** Copy bytes [off, off + out.size()) into @p out (for tests and diagnostics). */
  void peek(uint32_t off, std::span<uint8_t> out) const noexcept;
  /** Free everything. */
  void clear() noexcept;

 private:
  rte_mbuf* head_ = nullptr;
  rte_mbuf* tail_ = nullptr;
  uint32_t bytes_ = 0;
  uint32_t segs_ = 0;
  uint64_t mem_ = 0;
  MemAccount* acct_ = nullptr;
  void charge(const rte_mbuf* m) noexcept {
    mem_ += mbuf_truesize(m);
    if (acct_ != nullptr) acct_->used += mbuf_truesize(m);
  }
  void uncharge(const rte_mbuf* m) noexcept {
    mem_ -= mbuf_truesize(m);
    if (acct_ != nullptr) acct_->used -= mbuf_truesize(m);
  }
  // Slice cursor: the segment holding byte offset cur_off_ (a cache for sequential sends).
  mutable rte_mbuf* cur_ = nullptr;
  mutable uint32_t cur_off_ = 0;
};

}  // namespace tern::tcp
