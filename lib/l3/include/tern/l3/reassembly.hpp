/**
 * @file
 * IPv4 reassembly (RFC 791 §3.2, with RFC 815's idea of tracking holes),
 * bounded in memory, in datagrams and in fragments, with a timeout.
 * Fragments come from Ipv4::input() after header validation; a completed
 * datagram (one IPv4 header followed by the payload as an mbuf chain, no
 * copy) goes back to Ipv4::input() for delivery.
 *
 * Overlaps: every byte a new fragment shares with held data is compared.
 * Where they all agree (a retransmission, perhaps cut differently), the held
 * bytes are kept and the overlapping part of the new one is trimmed away;
 * held fragments lying wholly inside a new one are replaced by it; a fragment
 * that adds nothing is dropped as a duplicate. Where any byte differs, the
 * whole datagram is discarded: its held fragments are freed at once and every
 * later fragment of it is refused until the reassembly timer of its first
 * fragment would have expired (counted as fragment_conflict; no ICMP). This is
 * RFC 5722's rule for IPv6 applied to IPv4 in spirit, narrowed to overlaps
 * that disagree: RFC 791 §3.2 and RFC 815 leave overlaps to the implementation,
 * and identical overlaps are legitimate there (a datagram fragmented twice
 * along different paths). A fragment that contradicts the known total length
 * poisons its datagram, which is dropped whole.
 */
#pragma once

#include <cstdint>
#include <vector>

#include "tern/buf/packet.hpp"
#include "tern/l3/stats.hpp"
#include "tern/wire/ipv4.hpp"

namespace tern::l3 {

struct ReassemblyParams {
  uint64_t timeout_ns = 30'000'000'000;  ///< RFC 1122 §3.3.2: 60-120 s recommended; Linux uses 30 s
  uint32_t max_bytes = 4u << 20;         ///< mbuf memory held by fragments (buf_len per segment)
  uint32_t max_datagrams = 256;          ///< datagrams being reassembled at once
  uint32_t max_fragments = 4096;         ///< fragments held in total
};

class Reassembler {
 public:
  Reassembler(const ReassemblyParams& params, L3Stats& stats);
  ~Reassembler();
  Reassembler(const Reassembler&) = delete;
  Reassembler& operator=(const Reassembler&) = delete;

  /**
   * Add a fragment. @p frag has its data at the IPv4 header and is trimmed
   * to the header's total length; @p ip is the view of that header.
   * @return the reassembled datagram when this fragment completed it, else empty.
   */
  Packet add(Packet&& frag, const wire::Ipv4View& ip, uint64_t now);
  /**
   * Drop datagrams older than the timeout. For each one whose first fragment
   * arrived, @p on_timeout(Packet&& first_fragment_at_ip_header) is called so
   * the caller can send ICMP time exceeded (RFC 792, RFC 1122 §3.3.2).
   * A discarded datagram (overlaps that disagree) is forgotten silently.
   */
  template <typename F>
  void expire(uint64_t now, F&& on_timeout) {
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (s.in_use && now - s.first_ns >= p_.timeout_ns) {
        Packet first = take_first(s);
        release(s, L3Drop::reassembly_timeout);
        if (first) on_timeout(std::move(first));
      }
    }
  }
  /** Datagrams in progress, including discarded ones waiting for their timer. */
  uint32_t in_progress() const noexcept { return active_; }
  /** Bytes of mbuf memory held. */
  uint64_t bytes_held() const noexcept { return bytes_; }
  /** Fragments held. */
  uint32_t fragments_held() const noexcept {
    return static_cast<uint32_t>(nodes_.size() - free_nodes_.size());
  }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  struct Node {
    Packet payload;  // fragment data only (IP header trimmed)
    uint32_t off = 0, end = 0;
    uint32_t next = kNil;
  };
  struct Slot {
    bool in_use = false;
    uint32_t src = 0, dst = 0;
    uint16_t id = 0;
    uint8_t proto = 0;
    uint32_t total = 0;  // payload length once the last fragment is seen
    bool have_last = false;
    uint8_t header[60] = {};  // header of the offset-0 fragment
    uint8_t header_len = 0;   // 0 until the first fragment arrives
    uint64_t first_ns = 0;
    uint32_t head = kNil;  // sorted by offset
    uint32_t nfrags = 0;
    bool discarded = false;  // overlapping fragments disagreed: refuse the rest until the timeout
  };

  Slot* find_or_create(const wire::Ipv4View& ip, uint64_t now);
  enum class Insert { added, duplicate, no_room };
  Insert insert(Slot& s, Packet payload, uint32_t off, uint32_t end);
  bool conflicts(const Slot& s, const Packet& payload, uint32_t off, uint32_t end) const;
  void discard(Slot& s);
  void free_fragments(Slot& s, L3Drop why);
  bool complete(const Slot& s) const;
  Packet assemble(Slot& s);
  Packet take_first(Slot& s);
  void release(Slot& s, L3Drop why);
  void evict_oldest(const Slot* keep);
  uint32_t max_end(const Slot& s) const;
  uint32_t alloc_node();
  void free_node(uint32_t n);
  static uint64_t truesize(const Packet& p);

  ReassemblyParams p_;
  L3Stats& stats_;
  std::vector<Slot> slots_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> free_nodes_;
  uint32_t active_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace tern::l3
