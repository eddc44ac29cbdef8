/**
 * @file
 * TcpPeer: the fixture of the TCP input benchmarks. One tern Core (198.18.0.1,
 * PairWire end a) is the stack under test with one ESTABLISHED connection
 * (passive open on port 80, real segments through Core::poll: SYN with MSS,
 * window scale, SACK-permitted and timestamps, the stack's SYN,ACK, ACK);
 * the fixture plays the peer (198.18.0.2:40000) on end b. It builds segments
 * as Tcp::input() takes them (an mbuf holding the whole frame, trimmed to the
 * TCP header, with the Ipv4Meta that Ipv4::deliver would pass) and reads
 * back what the stack sent. A fake clock drives the core. Every failure
 * aborts with a message (tern::perf::fail).
 */
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "bench_util.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"

namespace tern::perf {

class TcpPeer {
 public:
  static constexpr uint16_t kStackPort = 80;
  static constexpr uint16_t kPeerPort = 40000;
  static constexpr uint16_t kPeerWindow = 4096;  ///< window field of the peer's segments (scaled by 2^7)

  /** Build the core and open the connection; @p nodelay for the stack's side. */
  explicit TcpPeer(bool nodelay = true);
  ~TcpPeer();
  TcpPeer(const TcpPeer&) = delete;
  TcpPeer& operator=(const TcpPeer&) = delete;

  Core& core() noexcept { return *core_; }
  tcp::Tcp& tcp() noexcept { return core_->tcp(); }
  tcp::Connection& conn() noexcept { return *conn_; }
  uint64_t now() const noexcept { return now_; }
  /** The metadata of a peer segment; l4_csum_good as if the NIC verified the checksum. */
  const l3::Ipv4Meta& meta(bool l4_csum_good) const noexcept { return l4_csum_good ? meta_good_ : meta_; }

  /** An in-order data segment (ACK|PSH, timestamps) carrying @p payload; advances the peer's SND.NXT. */
  Packet data_segment(std::span<const uint8_t> payload);
  /** A pure ACK of the stack's byte @p ack, echoing @p tsecr. */
  Packet ack_segment(wire::SeqNum ack, uint32_t tsecr);

  /** A data segment the stack sent. */
  struct Sent {
    wire::SeqNum end;  ///< sequence number after its data
    uint32_t len = 0;
    uint32_t tsval = 0;
  };
  /**
   * Advance the clock by @p ns, run one Core::poll, and take every frame
   * the stack sent (fails on a RST). @return the data segments among them.
   */
  std::vector<Sent> poll(uint64_t ns);
  /** The receive window the stack last advertised (scaled), in bytes. */
  uint32_t stack_window() const noexcept { return stack_window_; }
  /** Sum of the stack's TCP drop counters (a benchmark checks it did not move). */
  uint64_t drops() const noexcept;

 private:
  Packet segment(uint8_t flags, wire::SeqNum seq, wire::SeqNum ack, const wire::TcpOptions& o,
                 std::span<const uint8_t> payload, uint16_t window);
  void inject(Packet frame_at_tcp);

  rte_mempool* pool_;
  std::unique_ptr<drivers::PairWire> wire_;
  std::unique_ptr<Core> core_;
  tcp::Listener* listener_ = nullptr;
  tcp::Connection* conn_ = nullptr;
  FrameEnds ends_;
  l3::Ipv4Meta meta_, meta_good_;
  uint64_t now_ = 1000ull * 1'000'000'000;
  wire::SeqNum p_nxt_{1'000'000};  // peer SND.NXT
  wire::SeqNum p_rcv_;             // peer RCV.NXT: the stack's next sequence number
  uint32_t p_tsval_ = 1, p_tsecr_ = 0;
  uint16_t ip_id_ = 0;
  uint8_t stack_wscale_ = 0;
  uint32_t stack_window_ = 0;
};

}  // namespace tern::perf
