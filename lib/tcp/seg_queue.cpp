/**
 * @file
 * SegQueue: the byte stream of a TCP send or receive queue over mbuf segments.
 */
#include "tern/tcp/seg_queue.hpp"

#include <algorithm>
#include <cstring>

namespace tern::tcp {

namespace {

// A segment whose bytes we may write: direct, not shared, with room after its data.
bool writable_tail(const rte_mbuf* m) noexcept {
  return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 && !RTE_MBUF_HAS_EXTBUF(m);
}

uint16_t tailroom(const rte_mbuf* m) noexcept {
  return static_cast<uint16_t>(m->buf_len - m->data_off - m->data_len);
}

}  // namespace

void SegQueue::append(Packet p) noexcept {
  if (!p) return;
  if (p.length() == 0) return;  // Packet frees it
  rte_mbuf* m = p.mbuf();
  if (tail_ != nullptr && m->pkt_len <= kCoalesceMax && writable_tail(tail_) &&
      tailroom(tail_) >= m->pkt_len) {
    uint8_t* dst = rte_pktmbuf_mtod_offset(tail_, uint8_t*, tail_->data_len);
    p.for_each_segment([&](std::span<const uint8_t> s) {
      std::memcpy(dst, s.data(), s.size());
      dst += s.size();
    });
    tail_->data_len = static_cast<uint16_t>(tail_->data_len + m->pkt_len);
    bytes_ += m->pkt_len;
    buf_stats().copies++;
    buf_stats().copied_bytes += m->pkt_len;
    return;
  }
  m = p.release();
  m->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
  // Unlink empty segments and count the rest.
  rte_mbuf* first = nullptr;
  rte_mbuf* last = nullptr;
  while (m != nullptr) {
    rte_mbuf* next = m->next;
    m->next = nullptr;
    if (m->data_len == 0) {
      rte_pktmbuf_free_seg(m);
    } else {
      if (first == nullptr) first = m;
      if (last != nullptr) last->next = m;
      last = m;
      bytes_ += m->data_len;
      ++segs_;
      charge(m);
    }
    m = next;
  }
  if (first == nullptr) return;
  if (tail_ == nullptr) {
    head_ = first;
  } else {
    tail_->next = first;
  }
  tail_ = last;
}

uint32_t SegQueue::append_copy(std::span<const uint8_t> data, rte_mempool* pool) noexcept {
  uint32_t done = 0;
  if (tail_ != nullptr && writable_tail(tail_)) {
    uint32_t n = std::min<uint32_t>(tailroom(tail_), static_cast<uint32_t>(data.size()));
    if (n > 0) {
      std::memcpy(rte_pktmbuf_mtod_offset(tail_, uint8_t*, tail_->data_len), data.data(), n);
      tail_->data_len = static_cast<uint16_t>(tail_->data_len + n);
      bytes_ += n;
      done = n;
    }
  }
  while (done < data.size()) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
      ++buf_stats().alloc_failures;
      break;
    }
    uint32_t n = std::min<uint32_t>(rte_pktmbuf_tailroom(m), static_cast<uint32_t>(data.size() - done));
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), data.data() + done, n);
    m->data_len = static_cast<uint16_t>(n);
    m->pkt_len = n;
    if (tail_ == nullptr) {
      head_ = m;
    } else {
      tail_->next = m;
    }
    tail_ = m;
    ++segs_;
    charge(m);
    bytes_ += n;
    done += n;
  }
  buf_stats().copies++;
  buf_stats().copied_bytes += done;
  return done;
}

void SegQueue::consume(uint32_t n) noexcept {
  n = std::min(n, bytes_);
  cur_ = nullptr;
  while (n > 0 && head_ != nullptr) {
    if (n < head_->data_len) {
      head_->data_off = static_cast<uint16_t>(head_->data_off + n);
      head_->data_len = static_cast<uint16_t>(head_->data_len - n);
      bytes_ -= n;
      return;
    }
    rte_mbuf* m = head_;
    n -= m->data_len;
    bytes_ -= m->data_len;
    head_ = m->next;
    m->next = nullptr;
    --segs_;
    uncharge(m);
    rte_pktmbuf_free_seg(m);
  }
  if (head_ == nullptr) tail_ = nullptr;
}

uint64_t SegQueue::compact(rte_mempool* pool) noexcept {
  if (segs_ < 2) return 0;
  uint64_t saved = 0;
  cur_ = nullptr;
  head_ = compact_segments(head_, pool, &tail_, &segs_, &saved);
  mem_ -= saved;
  if (acct_ != nullptr) acct_->used -= saved;
  return saved;
}

Packet SegQueue::pop(uint32_t max, rte_mempool* clone_pool) noexcept {
  if (head_ == nullptr || max == 0) return {};
  cur_ = nullptr;
  if (head_->data_len > max) {
    // Split the first segment: hand out a clone of its front.
    rte_mbuf* c = rte_pktmbuf_alloc(clone_pool);
    if (c == nullptr) {
      ++buf_stats().alloc_failures;
      return {};
    }
    rte_pktmbuf_attach(c, head_);
    c->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
    c->data_off = head_->data_off;
    c->data_len = static_cast<uint16_t>(max);
    c->pkt_len = max;
    consume(max);
    return Packet(c);
  }
  rte_mbuf* first = head_;
  rte_mbuf* last = head_;
  uint32_t len = head_->data_len;
  uint16_t n = 1;
  uncharge(first);
  while (last->next != nullptr && n < 128 && len + last->next->data_len <= max) {
    last = last->next;
    len += last->data_len;
    uncharge(last);
    ++n;
  }
  head_ = last->next;
  last->next = nullptr;
  if (head_ == nullptr) tail_ = nullptr;
  segs_ -= n;
  bytes_ -= len;
  first->pkt_len = len;
  first->nb_segs = n;
  first->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
  return Packet(first);
}

uint32_t SegQueue::pop_copy(std::span<uint8_t> out) noexcept {
  uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(out.size()), bytes_);
  peek(0, out.first(n));
  consume(n);
  if (n > 0) {
    buf_stats().copies++;
    buf_stats().copied_bytes += n;
  }
  return n;
}

Packet SegQueue::slice(uint32_t off, uint32_t len, rte_mempool* pool) const noexcept {
  // Find the segment holding byte `off`, from the cursor when it is not past it.
  rte_mbuf* m = head_;
  uint32_t base = 0;
  if (cur_ != nullptr && cur_off_ <= off) {
    m = cur_;
    base = cur_off_;
  }
  while (m != nullptr && base + m->data_len <= off) {
    base += m->data_len;
    m = m->next;
  }
  rte_mbuf* first = nullptr;
  rte_mbuf* last = nullptr;
  uint32_t done = 0;
  uint16_t n = 0;
  uint32_t in_seg = off - base;
  while (m != nullptr && done < len) {
    rte_mbuf* c = rte_pktmbuf_alloc(pool);
    if (c == nullptr) {
      ++buf_stats().alloc_failures;
      if (first != nullptr) rte_pktmbuf_free(first);
      return {};
    }
    rte_pktmbuf_attach(c, m);
    uint32_t take = std::min<uint32_t>(m->data_len - in_seg, len - done);
    c->data_off = static_cast<uint16_t>(m->data_off + in_seg);
    c->data_len = static_cast<uint16_t>(take);
    c->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
    if (first == nullptr) {
      first = c;
    } else {
      last->next = c;
    }
    last = c;
    ++n;
    done += take;
    if (in_seg + take == m->data_len) {
      base += m->data_len;
      m = m->next;
      in_seg = 0;
    }
  }
  cur_ = m;
  cur_off_ = base;
  if (first == nullptr) return {};
  first->pkt_len = done;
  first->nb_segs = n;
  return Packet(first);
}

void SegQueue::peek(uint32_t off, std::span<uint8_t> out) const noexcept {
  const rte_mbuf* m = head_;
  uint32_t base = 0;
  while (m != nullptr && base + m->data_len <= off) {
    base += m->data_len;
    m = m->next;
  }
  size_t done = 0;
  uint32_t in_seg = off - base;
  while (m != nullptr && done < out.size()) {
    size_t take = std::min<size_t>(m->data_len - in_seg, out.size() - done);
    std::memcpy(out.data() + done, rte_pktmbuf_mtod_offset(m, const uint8_t*, in_seg), take);
    done += take;
    in_seg = 0;
    m = m->next;
  }
}

void SegQueue::clear() noexcept {
  while (head_ != nullptr) {
    rte_mbuf* m = head_;
    head_ = m->next;
    m->next = nullptr;
    uncharge(m);
    rte_pktmbuf_free_seg(m);
  }
  tail_ = nullptr;
  cur_ = nullptr;
  bytes_ = segs_ = 0;
}

}  // namespace tern::tcp
