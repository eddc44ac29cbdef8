/**
 * @file
 * Packet: the one buffer type of tern, a move-only owner of an rte_mbuf
 * chain. The mbuf a NIC filled is the buffer the application reads; headers
 * are prepended into headroom and trimmed from the front without copying.
 *
 * Chain invariants (as DPDK's): the head mbuf carries pkt_len (sum of all
 * data_len) and nb_segs; only the head's offload fields are meaningful.
 * Every copy or linearization is counted in buf_stats() with a reason.
 */
#pragma once

#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>

namespace tern {

/** Per-thread (per-core) counters of the costly buffer operations. */
struct BufStats {
  uint64_t copies = 0;          ///< copy_out/copy_in/read calls that had to copy
  uint64_t copied_bytes = 0;    ///< bytes moved by those copies
  uint64_t linearizations = 0;  ///< chains flattened into one segment
  uint64_t alloc_failures = 0;  ///< pool exhausted on alloc/append/share
};

/** Counters of the calling thread. Each core reads and owns its own. */
BufStats& buf_stats() noexcept;

/**
 * What one mbuf costs its pool, whatever it carries: the mbuf header and its
 * whole buffer (Linux's "truesize"). An indirect mbuf is charged for the
 * buffer it pins as well. Queues are charged by this, never by payload bytes.
 */
inline uint32_t mbuf_truesize(const rte_mbuf* m) noexcept {
  // An external buffer (application memory, Packet::attach_external) is not the pool's, and many
  // mbufs may point into one large piece of it: each is charged as one default-sized buffer, what
  // its bytes would cost copied into the pool. (A constant: a queue uncharges what it charged.)
  const uint32_t buf =
      RTE_MBUF_HAS_EXTBUF(m) ? std::min<uint32_t>(m->buf_len, RTE_MBUF_DEFAULT_BUF_SIZE) : m->buf_len;
  return static_cast<uint32_t>(sizeof(rte_mbuf)) + buf;
}
/** The truesize of a whole chain (0 for null). */
uint64_t chain_truesize(const rte_mbuf* m) noexcept;
/**
 * Copy runs of small segments of the list starting at @p head (linked
 * through rte_mbuf::next; pkt_len/nb_segs of the head are not read) into
 * fresh, full mbufs from @p pool, freeing the originals: whole segments
 * only, and only where two or more fit one new buffer, so a list of full
 * segments is left untouched (no copy). Counted as copies in buf_stats().
 * Stops copying (keeping the rest as it is) when the pool is empty.
 * @param tail receives the new last segment; @param segs the new segment count.
 * @return the new head; @p saved is increased by the truesize freed.
 */
rte_mbuf* compact_segments(rte_mbuf* head, rte_mempool* pool, rte_mbuf** tail, uint32_t* segs,
                           uint64_t* saved) noexcept;

/**
 * Receive checksum status reported by the NIC (from mbuf ol_flags). The
 * NIC's "NONE" state (data verified, checksum field not filled, as virtio
 * delivers) counts as good.
 */
enum class RxCsum : uint8_t { unknown, good, bad };

/** A move-only owner of an rte_mbuf chain. Empty (null) when default-built or moved from. */
class Packet {
 public:
  Packet() noexcept = default;
  /** Take ownership of @p m (may be null). */
  explicit Packet(rte_mbuf* m) noexcept : m_(m) {}
  ~Packet() { reset(); }
  Packet(Packet&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  Packet& operator=(Packet&& o) noexcept {
    if (this != &o) {
      reset();
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  Packet(const Packet&) = delete;
  Packet& operator=(const Packet&) = delete;

  /** An empty packet (length 0) from @p pool; null if the pool is exhausted (counted). */
  static Packet alloc(rte_mempool* pool) noexcept;
  /** A packet holding a copy of @p bytes in as many segments as needed; null on exhaustion. */
  static Packet copy_from(rte_mempool* pool, std::span<const uint8_t> bytes) noexcept;

  /** Called once when no mbuf refers to an external buffer any more (see attach_external()). */
  using ExternalFree = void (*)(void* addr, size_t len, void* opaque);
  /**
   * A packet over application memory, zero copy (issue 11): mbufs from
   * @p pool whose data are @p len bytes at @p addr (rte_pktmbuf_attach_extbuf,
   * pieces of kExternalPiece bytes sharing one reference count). Every mbuf
   * that later refers to the bytes (TCP's send-queue slices, retransmissions,
   * GSO pieces, a peer's receive queue over the pair driver) holds a reference;
   * @p done(addr, len, opaque) runs exactly once, on the thread that drops the
   * last one. Until then the memory must stay valid and unchanged.
   * @param len 1..1 GiB. @return null (and @p done is not called) when the
   * pool has too few mbufs or @p len is out of range.
   */
  static Packet attach_external(rte_mempool* pool, void* addr, size_t len, ExternalFree done,
                                void* opaque) noexcept;
  static constexpr uint32_t kExternalPiece = 61440;  ///< bytes of application memory per mbuf

  /**
   * Keep the leading whole segments while fewer than @p limit bytes are kept
   * (at least the first), and return the rest as a packet of its own (empty
   * when everything is kept).
   */
  Packet split_segments(uint32_t limit) noexcept;

  explicit operator bool() const noexcept { return m_ != nullptr; }
  /** The head mbuf (still owned by this Packet). */
  rte_mbuf* mbuf() const noexcept { return m_; }
  /** Give up ownership; the caller must free or pass on the chain. */
  rte_mbuf* release() noexcept { return std::exchange(m_, nullptr); }
  /** Free the chain now. */
  void reset() noexcept {
    if (m_ != nullptr) rte_pktmbuf_free(std::exchange(m_, nullptr));
  }

  /** Total bytes in the chain. */
  uint32_t length() const noexcept { return m_->pkt_len; }
  /** Number of segments. */
  uint16_t segments() const noexcept { return m_->nb_segs; }
  /** Start of the first segment's data. */
  uint8_t* data() noexcept { return rte_pktmbuf_mtod(m_, uint8_t*); }
  const uint8_t* data() const noexcept { return rte_pktmbuf_mtod(m_, const uint8_t*); }
  /** Bytes contiguous at data(). */
  uint16_t head_length() const noexcept { return m_->data_len; }
  /** The first segment's bytes. */
  std::span<uint8_t> head() noexcept { return {data(), head_length()}; }
  std::span<const uint8_t> head() const noexcept { return {data(), head_length()}; }
  uint16_t headroom() const noexcept { return rte_pktmbuf_headroom(m_); }

  /** Grow the front by @p n bytes of headroom; returns the new start or null if there is no room. */
  uint8_t* prepend(uint16_t n) noexcept;
  /**
   * Make room for an @p n byte header in front: in the headroom when there
   * is some (no allocation), else in a fresh mbuf from @p pool chained in
   * front, which takes over the TX offload request. Returns the header bytes,
   * or null with the packet unchanged (pool exhausted, chain too long).
   */
  uint8_t* push_header(uint16_t n, rte_mempool* pool) noexcept;
  /** Drop @p n bytes from the front, across segments (empty leading segments are freed). False if n >
   * length(). */
  bool trim_front(uint32_t n) noexcept;
  /** Drop @p n bytes from the back, across segments. False if n > length(). */
  bool trim_back(uint32_t n) noexcept;
  /** Cut the packet to exactly @p len bytes (no-op if already shorter). */
  void truncate(uint32_t len) noexcept {
    if (len < length()) trim_back(length() - len);
  }
  /**
   * Reserve @p n contiguous bytes at the tail and return them. Uses the last
   * segment's tailroom, else chains a new segment from @p pool (if given).
   * Null when neither works.
   */
  uint8_t* append(uint16_t n, rte_mempool* pool = nullptr) noexcept;
  /** Append @p tail's chain to this one (takes ownership). False if the segment count would overflow; @p tail
   * is then untouched. */
  bool chain(Packet&& tail) noexcept;

  /** Copy @p out.size() bytes starting at @p offset into @p out; returns bytes copied (short at the end). */
  size_t copy_out(uint32_t offset, std::span<uint8_t> out) const noexcept;
  /** Overwrite bytes at @p offset with @p in; false if it would run past length(). */
  bool copy_in(uint32_t offset, std::span<const uint8_t> in) noexcept;
  /**
   * Read @p len bytes at @p offset: a pointer into the segment when they are
   * contiguous (no copy), else they are copied to @p scratch (>= len bytes,
   * counted) and scratch is returned. Null if the range passes the end.
   */
  const uint8_t* read(uint32_t offset, uint32_t len, uint8_t* scratch) const noexcept;
  /**
   * Make the first @p len bytes contiguous in the head segment (pulling
   * bytes forward from later segments when needed, counted as a copy).
   * Returns data() or null if impossible (too short, or no room).
   */
  uint8_t* pull_up(uint32_t len) noexcept;
  /** What the chain costs its pool (see mbuf_truesize()). */
  uint64_t truesize() const noexcept { return chain_truesize(m_); }
  /**
   * Copy runs of small segments into full mbufs from @p pool (see
   * compact_segments()); the bytes are unchanged. @return truesize freed.
   */
  uint64_t compact(rte_mempool* pool) noexcept;
  /** Flatten the chain into one segment (counted); false if it does not fit. */
  bool linearize() noexcept;
  /** Call @p f(std::span<const uint8_t>) for each segment's bytes in order. */
  template <typename F>
  void for_each_segment(F&& f) const {
    for (const rte_mbuf* s = m_; s != nullptr; s = s->next) {
      f(std::span<const uint8_t>(rte_pktmbuf_mtod(s, const uint8_t*), s->data_len));
    }
  }

  /**
   * A second owner of the same bytes: indirect mbufs from @p clone_pool
   * referencing this chain's data (no payload copy). Used by retransmission
   * and by duplication in tests. Null on exhaustion (counted).
   */
  Packet share(rte_mempool* clone_pool) const noexcept;

  // --- offload metadata travelling in the head mbuf -----------------------
  bool has_rss_hash() const noexcept { return (m_->ol_flags & RTE_MBUF_F_RX_RSS_HASH) != 0; }
  uint32_t rss_hash() const noexcept { return m_->hash.rss; }
  void set_rss_hash(uint32_t h) noexcept {
    m_->hash.rss = h;
    m_->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
  }
  RxCsum rx_ip_csum() const noexcept {  // inline: the forwarding fast path asks per packet
    switch (m_->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
      case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
      case RTE_MBUF_F_RX_IP_CKSUM_NONE:  // verified, field not filled (virtio)
        return RxCsum::good;
      case RTE_MBUF_F_RX_IP_CKSUM_BAD:
        return RxCsum::bad;
      default:
        return RxCsum::unknown;
    }
  }
  RxCsum rx_l4_csum() const noexcept;
  /** Copy the TX offload request (flags and lengths) of @p from onto this head (a new header mbuf). */
  void copy_tx_offloads(const Packet& from) noexcept {
    m_->ol_flags = (m_->ol_flags & kAttachFlags) | (from.m_->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK);
    m_->tx_offload = from.m_->tx_offload;
  }
  /** Record header lengths for TX offloads (l2, l3, l4 bytes). */
  void set_tx_lengths(uint8_t l2, uint16_t l3, uint8_t l4 = 0) noexcept {
    m_->l2_len = l2;
    m_->l3_len = l3;
    m_->l4_len = l4;
  }
  /** Ask the NIC for offloads (RTE_MBUF_F_TX_* flags). */
  void add_tx_flags(uint64_t flags) noexcept { m_->ol_flags |= flags; }
  uint64_t ol_flags() const noexcept { return m_->ol_flags; }
  /**
   * Clear RX-side and offload flags before reusing a received mbuf for
   * transmit. The attach markers (INDIRECT, EXTERNAL) describe the buffer,
   * not the packet, and are kept: losing them leaks or corrupts buffers.
   */
  void clear_offloads() noexcept {
    m_->ol_flags &= kAttachFlags;
    m_->tx_offload = 0;
  }
  /** Flags that say how the head mbuf's buffer is attached; never copied or cleared. */
  static constexpr uint64_t kAttachFlags = RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
  /** Maximum segment size for TSO (0 = none). */
  void set_tso_segsz(uint16_t mss) noexcept { m_->tso_segsz = mss; }
  /** The port the packet arrived on, as set by the driver. */
  uint16_t port() const noexcept { return m_->port; }

 private:
  rte_mbuf* m_ = nullptr;
};

}  // namespace tern
