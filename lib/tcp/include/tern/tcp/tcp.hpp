/**
 * @file
 * TCP (RFC 9293) for one core. Receive: Ipv4::deliver() hands a segment
 * (data at the TCP header) to Tcp::input(), which checks it once (length,
 * options, checksum unless the NIC verified it), finds its connection in the
 * core's 4-tuple table (or TIME_WAIT entry, or listener) and runs the
 * RFC 9293 §3.10.7 steps for its state (input.cpp). In-order payload mbufs
 * go to the connection's receive queue untouched; the application takes
 * them with Connection::recv(). Transmit: Connection::send() appends the
 * application's mbufs to the send queue; Tcp::flush() (run by Core::poll()
 * after the application events) builds segments: a fresh header mbuf in
 * front of indirect mbufs referencing the queued data (output.cpp), and
 * hands them to Ipv4::output(). Timers (retransmission, persist, delayed
 * ACK, keepalive, TIME_WAIT) run from the core's timer wheel (timers.cpp).
 *
 * Everything here belongs to one core and is used from its thread only.
 */
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tern/base/events.hpp"
#include "tern/base/port_table.hpp"
#include "tern/base/rate_limit.hpp"
#include "tern/base/result.hpp"
#include "tern/base/timer_wheel.hpp"
#include "tern/buf/packet.hpp"
#include "tern/l3/ipv4.hpp"
#include "tern/tcp/congestion.hpp"
#include "tern/tcp/isn.hpp"
#include "tern/tcp/ooo.hpp"
#include "tern/tcp/options.hpp"
#include "tern/tcp/rack.hpp"
#include "tern/tcp/rtt.hpp"
#include "tern/tcp/sack.hpp"
#include "tern/tcp/seg_queue.hpp"
#include "tern/tcp/syncookie.hpp"
#include "tern/tcp/tuple.hpp"
#include "tern/wire/addr.hpp"
#include "tern/wire/tcp.hpp"
#include "tern/wire/toeplitz.hpp"

namespace tern::tcp {

/** Loss recovery for SACK connections (TcpParams::recovery). */
enum class LossRecovery : uint8_t { rack_tlp, rfc6675 };
std::string_view to_string(LossRecovery r) noexcept;
std::optional<LossRecovery> loss_recovery_from_string(std::string_view s) noexcept;

/** Stack-wide TCP configuration (one per core, usually from config). */
struct TcpParams {
  uint32_t max_connections = 65536;      ///< TCBs per core (each costs memory: see docs/tcp.md)
  uint32_t max_time_wait = 65536;        ///< TIME_WAIT entries per core; the oldest is recycled when full
  uint64_t msl_ns = 30'000'000'000;      ///< MSL; TIME_WAIT lasts 2 x MSL (RFC 9293 §3.4.2)
  RttParams rtt;                         ///< RTO bounds (RFC 6298)
  uint64_t delayed_ack_ns = 40'000'000;  ///< delayed ACK timer (RFC 1122 §4.2.3.2: under 500 ms)
  uint32_t initial_window = 10;          ///< initial cwnd in segments (RFC 6928)
  bool timestamps = true;                ///< offer RFC 7323 timestamps
  bool window_scaling = true;            ///< offer RFC 7323 window scale
  bool sack = true;                      ///< offer RFC 2018 SACK
  /**
   * Loss detection and recovery for SACK connections (issue 12): rack_tlp = RACK-TLP
   * (RFC 8985: time-based loss marking, tail loss probes) with PRR (RFC 6937); rfc6675 =
   * DupThresh-based RFC 6675 recovery with PRR. Connections without SACK use NewReno
   * (RFC 6582) either way.
   */
  LossRecovery recovery = LossRecovery::rack_tlp;
  bool limited_transmit = true;  ///< RFC 3042: new data on the first two duplicate ACKs
  /// Slow start: RFC 3465 byte counting limit and HyStart++ (RFC 9406); see Congestion.
  CcParams cc;
  /// RFC 5681 §4.1: after an idle period longer than the RTO, restart from the initial window
  /// (Linux's tcp_slow_start_after_idle).
  bool idle_restart = true;
  /**
   * Quick ACK (as Linux): the first this many data segments of a connection, and of each burst
   * after the peer was silent longer than an RTO, are ACKed at once (the peer is in slow start and
   * waits for ACKs to grow its window); delayed ACK for the rest. 0: off.
   */
  uint32_t quick_acks = 16;
  /// TCP Fast Open (RFC 7413): the server's cookie key changes this often; cookies made with the
  /// previous key stay valid one more period (so a cookie lives 1-2 periods).
  uint64_t fastopen_key_rotate_ns = 3600ull * 1'000'000'000;
  /// Client side: cookies remembered per core (by server address; the oldest is replaced).
  uint32_t fastopen_cache = 1024;
  /// Client side: after a SYN with data went unanswered, no data on SYNs to that server for this
  /// long (RFC 7413 §4.2.2 fallback: a middlebox may drop such SYNs).
  uint64_t fastopen_blackhole_ns = 3600ull * 1'000'000'000;
  bool dsack = true;  ///< RFC 2883: report duplicate segments in the first SACK block
  /// Detect spurious retransmissions (D-SACK, RFC 3708-style counting; Eifel RFC 3522 with
  /// timestamps after an RTO) and undo the congestion response (RFC 4015).
  bool undo = true;
  bool syncookies = true;   ///< answer with SYN cookies when a SYN queue is full (RFC 4987)
  uint32_t backlog = 1024;  ///< default listen backlog (SYN queue + accept queue)
  /// RFC 5961 §7: mean challenge ACKs per second per core, in windows of random length and size
  /// (tern/base/rate_limit.hpp RandomBudget); 1..1000000.
  uint32_t challenge_ack_per_s = 1000;
  /// RFC 5961 §7: at most one challenge ACK per connection per this long (Linux's
  /// tcp_invalid_ratelimit, 500 ms); 0: no per-connection limit.
  uint64_t challenge_ack_interval_ns = 500'000'000;
  uint32_t syn_retries = 6;                 ///< SYN retransmissions before connect() fails
  uint32_t synack_retries = 5;              ///< SYN-ACK retransmissions before a half-open is dropped
  uint32_t max_retries = 15;                ///< data retransmissions before the connection times out
  uint64_t fin_wait_2_ns = 60'000'000'000;  ///< orphaned FIN_WAIT_2 lifetime
  uint32_t ooo_nodes = 65536;               ///< out-of-order segments held per core (all connections)
  uint32_t ooo_per_connection = 256;        ///< out-of-order segments held per connection
  /**
   * Truesize bytes (mbuf + whole buffer, see mbuf_truesize()) that all of
   * this core's TCP queues together may hold: receive, out-of-order and send.
   * 0: everything the pool has beyond rx_reserve. Never more than that.
   */
  uint64_t memory_limit = 0;
  /**
   * Mbufs of the core's pool that TCP queues can never take: RX ring refill,
   * header and clone mbufs, ARP/IP/UDP queues. 0: a quarter of the pool
   * (at least 64). See docs/robustness.md.
   */
  uint32_t rx_reserve = 0;
  uint16_t ephemeral_first = 49152;  ///< RFC 6335 dynamic port range
  uint16_t ephemeral_last = 65535;
  /// Multi-core active opens (issue 10): when set, connect() picks only ephemeral ports whose
  /// incoming frames the port's RSS steers to rx_queue, this core's. Cores then never pick the
  /// same 4-tuple either: its hash names one queue. Unset: any free port.
  std::optional<wire::RssSteering> steering;
  uint16_t rx_queue = 0;  ///< this core's RX queue (with steering)
  /**
   * A connect() with an explicit local port that the steering sends to another core (issue 10):
   * called with @p on = true to have that flow's frames steered to this core instead, and with
   * false when the 4-tuple is free again (after TIME_WAIT). @return false when the flow cannot be
   * pinned (the table is full): connect() then fails with no_memory. Null: such connects fail.
   */
  bool (*pin_flow)(void* ctx, const FourTuple& t, bool on) = nullptr;
  void* pin_ctx = nullptr;
  SocketOptions socket;  ///< defaults for new sockets
};

/** Why a segment was dropped (counted per reason). */
enum class TcpDrop : uint8_t {
  truncated,        ///< shorter than its header
  bad_header,       ///< bad data offset or option
  bad_checksum,     ///< RFC 9293 §3.1 checksum mismatch
  broadcast,        ///< to a broadcast address (TCP is unicast only)
  no_connection,    ///< nothing listens (a reset was sent)
  out_of_window,    ///< failed the acceptability test (an ACK was sent)
  paws,             ///< RFC 7323 §5 old timestamp
  bad_ack,          ///< acknowledges something not sent
  rst_ignored,      ///< a reset that failed the RFC 5961 checks
  syn_in_window,    ///< SYN on a synchronized connection (challenge ACK)
  listen_overflow,  ///< SYN or handshake ACK beyond a full listener
  no_memory,        ///< no mbuf or TCB
  ooo_full,         ///< out-of-order segment with no room
  rcv_buffer_full,  ///< in-order data beyond the receive buffer
  no_rcv_memory,    ///< data refused: the connection's or the core's buffer memory is used up
  bad_flags,        ///< SYN with FIN or RST (never a valid opening segment)
  after_close,      ///< data for a connection the application closed (reset)
  /// ICMP error quoting a segment of no live connection (RFC 5927 §4.1)
  icmp_no_connection,
  /// ICMP error quoting a sequence number outside SND.UNA..SND.NXT-1 (RFC 5927 §4.1)
  icmp_not_in_flight,
  count_
};
std::string_view to_string(TcpDrop d) noexcept;

/** Stack-wide counters, like `netstat -s`. */
struct TcpStats {
  uint64_t active_opens = 0, passive_opens = 0, attempt_fails = 0, estab_resets = 0;
  uint64_t in_segs = 0, out_segs = 0, retrans_segs = 0;
  uint64_t in_rsts = 0, out_rsts = 0;
  uint64_t ooo_segs = 0;  ///< segments held out of order
  uint64_t dup_segs = 0;  ///< segments (or parts) that were all duplicates
  uint64_t syncookies_sent = 0, syncookies_validated = 0, syncookies_failed = 0;
  uint64_t challenge_acks = 0;
  uint64_t challenge_acks_limited = 0;       ///< not sent: the core's random budget was spent
  uint64_t challenge_acks_conn_limited = 0;  ///< not sent: the connection had one within the interval
  uint64_t keepalive_probes = 0, keepalive_drops = 0;
  uint64_t rto_timeouts = 0, fast_retransmits = 0, sack_recoveries = 0, sack_retransmits = 0;
  uint64_t persist_probes = 0, delayed_acks = 0, window_updates = 0;
  uint64_t time_wait_entered = 0, time_wait_recycled = 0, time_wait_reused = 0;
  uint64_t pmtu_updates = 0, icmp_hard_errors = 0;
  /// ICMP errors recorded without ending the connection (RFC 5461 §4)
  uint64_t icmp_soft_errors = 0;
  uint64_t rx_bytes = 0, tx_bytes = 0;
  // Offloads (docs/offloads.md).
  uint64_t out_passes = 0;  ///< segments built (a super-segment counts once: what TCP output costs)
  uint64_t gso_segs = 0;    ///< of those, super-segments for TSO or the software GSO to cut
  uint64_t lro_segs = 0;    ///< segments that arrived merged (GRO/LRO), counted one by one
  uint64_t lro_chains = 0;  ///< merged chains TCP input ran once for
  // Memory pressure (docs/robustness.md): in the order tern relieves it.
  uint64_t mem_pressure = 0;       ///< segments that found their connection or the core over its memory limit
  uint64_t compacted_bytes = 0;    ///< truesize freed by copying small segments into full buffers
  uint64_t ooo_pruned_segs = 0;    ///< out-of-order segments dropped to make room (RFC 2018 §8 reneging)
  uint64_t ooo_pruned_bytes = 0;   ///< their truesize
  uint64_t ooo_pruned_others = 0;  ///< of those, taken from other connections under core pressure
  uint64_t send_mem_blocked = 0;   ///< send() refused because the core's TCP memory was used up
  uint64_t retrans_bytes = 0;      ///< payload bytes sent again (retransmissions and probes)
  uint64_t limited_transmits = 0;  ///< segments sent beyond cwnd on the first two duplicate ACKs (RFC 3042)
  uint64_t rack_marked_lost = 0;   ///< transmissions RACK marked lost (RFC 8985 §6.2)
  uint64_t rack_reo_timeouts = 0;  ///< RACK reordering timer expiries (RFC 8985 §6.2)
  uint64_t tlp_probes = 0;         ///< tail loss probes sent (RFC 8985 §7.3)
  uint64_t tlp_new_data = 0;       ///< of those, new data rather than the last segment again
  uint64_t tlp_recoveries = 0;     ///< probes that repaired a loss (RFC 8985 §7.4: cwnd reduced)
  uint64_t dsacks_sent = 0;        ///< ACKs reporting a duplicate segment (RFC 2883)
  uint64_t dsacks_received = 0;    ///< D-SACK blocks the peers sent
  uint64_t spurious_undos = 0;     ///< recoveries undone: every retransmission was D-SACKed
  uint64_t spurious_rtos = 0;      ///< RTOs undone by Eifel detection (RFC 3522, RFC 4015)
  uint64_t rack_log_full = 0;      ///< transmissions that found the RACK log full (coarser timing)
  uint64_t ecn_negotiated = 0;     ///< connections that agreed on ECN (RFC 3168 §6.1.1)
  uint64_t ecn_ce_received = 0;    ///< data segments that arrived marked CE (echoed with ECE)
  uint64_t ecn_reductions = 0;     ///< congestion responses to ECE, at most one per window (RFC 3168 §6.1.2)
  uint64_t ecn_cwr_sent = 0;
  // TCP Fast Open (RFC 7413).
  uint64_t tfo_cookies_sent = 0;  ///< server: cookies given in SYN-ACKs (asked for, or a bad one replaced)
  uint64_t tfo_accepted = 0;      ///< server: SYNs with a valid cookie (their data taken at once)
  uint64_t tfo_bad_cookie = 0;    ///< server: SYNs with a cookie that did not check (data ignored)
  uint64_t tfo_overflow = 0;  ///< server: valid cookies beyond the listener's pending limit (data ignored)
  uint64_t tfo_cookie_requests = 0;  ///< client: SYNs asking for a cookie
  uint64_t tfo_syn_data = 0;         ///< client: SYNs that carried data
  uint64_t tfo_data_acked = 0;       ///< client: of those, SYN-ACKs that acknowledged the data
  uint64_t tfo_fallbacks = 0;  ///< client: SYNs with data lost or refused (data sent after the handshake)
                               ///< ///< segments sent with CWR
  std::array<uint64_t, static_cast<size_t>(TcpDrop::count_)> drops{};
  void drop(TcpDrop d) noexcept { ++drops[static_cast<size_t>(d)]; }
  uint64_t dropped(TcpDrop d) const noexcept { return drops[static_cast<size_t>(d)]; }
};

class Tcp;
class Listener;

/**
 * One TCP connection. Owned by its Tcp; the application's handle stays
 * valid from connect()/accept() until it calls close() or abort(), even
 * after the connection failed (state() is then closed and error() says why).
 * Used only on its core's thread; no call blocks.
 */
class Connection {
 public:
  using Callback = std::function<void(Connection&, uint32_t events)>;

  State state() const noexcept { return st_; }
  const FourTuple& tuple() const noexcept { return t_; }
  Endpoint local() const noexcept { return {wire::Ipv4Addr{t_.local_ip}, t_.local_port}; }
  Endpoint remote() const noexcept { return {wire::Ipv4Addr{t_.remote_ip}, t_.remote_port}; }

  using SentCallback = std::function<void(Connection&, uint64_t acked_bytes)>;

  /**
   * Queue @p data (zero copy: its mbufs, pool or external buffers from
   * Packet::attach_external(), are sent and retransmitted by reference).
   * Takes the whole packet when it fits send_space(); else whole leading
   * segments while there is room, so the buffer goes over its limit by less
   * than one segment (at most 64 KiB), and @p data keeps the rest (wait for
   * ev::writable, then send it). @return bytes taken; errors: would_block
   * (buffer full; @p data untouched), closed (after shutdown/close),
   * not_connected (failed or reset; error() says why).
   */
  Result<size_t> send(Packet& data, uint32_t flags = 0) noexcept;
  /**
   * Send-completion events (lwIP's tcp_sent): from the core's loop, @p cb
   * gets the number of data bytes the peer acknowledged since its last call,
   * in stream order (the sum over all calls is the stream's acknowledged
   * length), and the event callback sees ev::sent. The acknowledged bytes
   * are out of TCP's hands unless the receiver still holds them in a shared
   * buffer; an external buffer's free callback says when its memory is free.
   * Null: no completion events (the default, no cost).
   */
  void on_sent(SentCallback cb);
  /** Copy up to send_space() bytes of @p data. @return bytes taken (0 only for empty data). */
  Result<size_t> send_copy(std::span<const uint8_t> data, uint32_t flags = 0) noexcept;
  /** Bytes send() can take now. */
  uint32_t send_space() const noexcept;
  /** send_space() has reached the low-water mark (SocketOptions::send_lowat): ev::writable's test. */
  bool writable_now() const noexcept;
  /**
   * Take received in-order data, zero copy: up to @p max bytes of whole
   * segments as one mbuf chain. @return false when nothing is queued (then
   * at_eof() tells whether the peer closed).
   */
  bool recv(Packet& out, uint32_t max = 64 * 1024) noexcept;
  /**
   * Copy received data into @p out. @return bytes copied; 0 means the peer
   * closed (end of stream); would_block when nothing is queued yet;
   * not_connected after a reset.
   */
  Result<size_t> recv_copy(std::span<uint8_t> out) noexcept;
  /** Bytes waiting in the receive queue. */
  uint32_t readable() const noexcept { return rcvq_.bytes(); }
  /** The peer sent FIN and every byte before it has been read. */
  bool at_eof() const noexcept { return fin_rcvd_ && rcvq_.empty(); }
  /** Close the write side: FIN after the queued data (RFC 9293 §3.10.4). */
  Status shutdown() noexcept;
  /**
   * Release the handle and close gracefully (FIN after queued data). With
   * unread received data, or linger 0, the connection is reset instead
   * (RFC 1122 §4.2.2.13). The handle is invalid after this call.
   */
  void close() noexcept;
  /** Release the handle and reset the connection (RST). The handle is invalid after this call. */
  void abort() noexcept;

  void set_nodelay(bool on) noexcept;
  /** SocketOptions::user_timeout_ns (0: off). Takes effect at the next timer. */
  void set_user_timeout(uint64_t ns) noexcept;
  /** SocketOptions::notsent_lowat (0: off). */
  void set_notsent_lowat(uint32_t bytes) noexcept;
  /**
   * SocketOptions::max_segment. Before the connection opens it sets what the SYN announces; after,
   * it can only lower the MSS in use. Errors: invalid_argument (not 0 and outside 88..65535).
   */
  Status set_max_segment(uint16_t mss) noexcept;
  /** SocketOptions::cork; uncorking sends a held partial segment at once (as Linux's TCP_CORK). */
  void set_cork(bool on) noexcept;
  void set_keepalive(const KeepaliveOptions& k) noexcept;
  /** Errors: invalid_argument (below 4 KiB or above 64 MiB). */
  Status set_send_buffer(uint32_t bytes) noexcept;
  /** Errors: invalid_argument (below 4 KiB or above the stack's window-scale limit). */
  Status set_recv_buffer(uint32_t bytes) noexcept;
  void set_congestion(CcAlgo a) noexcept;
  void set_linger(std::optional<uint64_t> ns) noexcept { opt_.linger_ns = ns; }
  /** SocketOptions::send_lowat (0: a third of the send buffer). */
  void set_send_lowat(uint32_t bytes) noexcept { opt_.send_lowat = bytes; }
  const SocketOptions& options() const noexcept { return opt_; }

  /** Connection info like `ss -ti`. */
  TcpInfo info() const noexcept;
  /** Why the connection failed (reset, refused, timed out, unreachable), if it did. */
  std::optional<Error> error() const noexcept { return err_; }
  /**
   * The last ICMP error about this connection that did not end it (a soft
   * error, RFC 1122 §4.2.3.9, RFC 5461 §4: destination unreachable of any
   * code, time exceeded, parameter problem, once synchronized), announced by
   * ev::soft_error. It stays until the connection is freed. When the
   * retransmission, persist or keepalive timer later gives up and no data was
   * acknowledged since it arrived, error() carries it as the reason instead of
   * timed_out (as Linux reports EHOSTUNREACH/ECONNREFUSED for ETIMEDOUT).
   */
  std::optional<Error> soft_error() const noexcept;
  /** Run @p cb from the core's loop with the events that happened since the last call. */
  void on_event(Callback cb) { cb_ = std::move(cb); }
  /** Free for the application. */
  void* user = nullptr;

  /**
   * Changes whenever the application releases the handle (close(), abort()): a handle that
   * remembers the generation it was given sees a mismatch once the TCB may serve another
   * connection (lib/api's TcpConnection does this).
   */
  uint32_t generation() const noexcept { return gen_; }
  /** The application holds this connection (between accept()/connect() and close()/abort()). */
  bool owned() const noexcept { return app_owned_; }
  /** The peer's FIN arrived (there may still be data before it to read). */
  bool fin_received() const noexcept { return fin_rcvd_; }
  /**
   * Report events to @p hook (besides on_event's callback) until the handle is released, when
   * hook->closed() runs and the connection forgets it. Errors: exists (another hook is set;
   * pass null to clear).
   */
  Status set_hook(EventHook* hook) noexcept;
  EventHook* hook() const noexcept { return hook_; }
  /** The core's TCP that owns this connection. */
  Tcp& engine() const noexcept { return tcp_; }

 private:
  friend class Tcp;
  friend class Listener;
  explicit Connection(Tcp& tcp);
  void release_handle() noexcept;
  void after_send(uint32_t flags) noexcept;
  /** Queued bytes never sent (TCP_NOTSENT_LOWAT's measure). */
  uint32_t notsent() const noexcept;
  /** The sequence number after the last queued byte (where a FIN goes). */
  wire::SeqNum send_end() const noexcept { return sndq_base_ + sndq_.bytes(); }
  /** Our FIN was sent and acknowledged. */
  bool fin_acked() const noexcept { return fin_queued_ && sndq_.empty() && snd_una_ == sndq_base_ + 1; }
  /** The window we last advertised, from RCV.NXT (RCV.WND). */
  uint32_t advertised() const noexcept {
    return rcv_adv_ > rcv_nxt_ ? static_cast<uint32_t>(rcv_adv_ - rcv_nxt_) : 0;
  }

  Tcp& tcp_;
  FourTuple t_;
  State st_ = State::closed;
  SocketOptions opt_;
  // Send sequence space (RFC 9293 §3.3.1).
  wire::SeqNum iss_, snd_una_, snd_nxt_, snd_max_, snd_wl1_, snd_wl2_, sndq_base_, recover_, high_rxt_;
  uint32_t snd_wnd_ = 0, max_snd_wnd_ = 0;
  // Receive sequence space.
  wire::SeqNum irs_, rcv_nxt_, rcv_adv_, last_ack_sent_;
  uint32_t rcv_wnd_ = 0;
  uint16_t peer_mss_ = 536, mss_ = 536;  // mss_: payload + options bytes per segment (path-clamped)
  uint16_t rcv_mss_ = 536;               // largest segment seen from the peer (delayed ACK)
  uint8_t snd_wscale_ = 0, rcv_wscale_ = 0;
  bool ts_ok_ = false, sack_ok_ = false, ws_ok_ = false;
  uint32_t ts_recent_ = 0, ts_offset_ = 0;
  uint16_t ip_id_ =
      0;  // IPv4 ID of the next atomic (DF) segment: per connection, random start (RFC 6864 §4.2)
  uint64_t challenge_next_ns_ = 0;  // no challenge ACK before this (RFC 5961 §7, per connection)
  uint64_t ts_recent_ns_ = 0;
  // Flags.
  bool fin_queued_ = false;  // application shut down the write side
  bool fin_rcvd_ = false;
  bool app_owned_ = true;    // the application holds the handle
  bool accepted_ = false;    // handed out by accept() (or connect())
  bool pinned_ = false;      // its flow is pinned to this core (TcpParams::pin_flow)
  bool ack_now_ = false;     // send an ACK at the next flush
  bool in_pending_ = false;  // on Tcp's flush list
  bool in_ready_ = false;    // on Tcp's event list
  bool want_writable_ = false;
  bool in_recovery_ = false;
  bool persist_ = false;  // rtx timer is the persist timer
  bool rtt_timing_ = false;
  bool from_cookie_ = false;
  bool mem_waiting_ = false;   // on Tcp's list of sends refused for core memory
  bool more_ = false;          // the last send had send_flag::more: hold a partial tail
  bool cork_flush_ = false;    // push a held partial tail once (uncork, or the 200 ms ceiling)
  bool in_loss_ = false;       // after an RTO, until recover_ is acknowledged (CaState::loss)
  uint8_t quickacks_ = 0;      // segments still to be ACKed at once (quick ACK mode)
  bool ecn_ok_ = false;        // RFC 3168 agreed
  uint8_t tfo_ = 0;            // Fast Open flags (recovery.cpp kTfo*)
  bool ece_out_ = false;       // CE arrived: ECE on every ACK until the peer's CWR (RFC 3168 §6.1.3)
  bool cwr_out_ = false;       // we reduced for an ECE: CWR on the next new data (RFC 3168 §6.1.2)
  uint32_t compact_mark_ = 0;  // receive-queue segments after the last compaction
  uint32_t lt_bytes_ = 0;      // sent by limited transmit since the last new ACK (RFC 5681 §3.2 step 2)
  uint8_t dupacks_ = 0;
  uint8_t rtx_mode_ = 0;        // when !persist_: what rtx_timer_ runs (timers.cpp RtxMode)
  bool tlp_on_ = false;         // a tail loss probe is outstanding (RFC 8985 TLP.end_seq is set)
  bool tlp_retrans_ = false;    // TLP.is_retrans
  bool dsack_pending_ = false;  // the next ACK reports [dsack_l_, dsack_r_) first (RFC 2883)
  bool undo_on_ = false;        // a recovery episode whose retransmissions may prove spurious
  bool undo_rto_ = false;       // the episode began with an RTO
  bool eifel_on_ = false;       // the first ACK after an RTO is checked (RFC 3522)
  wire::SeqNum tlp_end_, dsack_l_, dsack_r_;
  wire::SackBlock last_dsack_{};  // the last D-SACK the peer sent (a repeat is not counted again)
  wire::SeqNum ecn_high_;         // no second ECE response before SND.UNA passes this (once per window)
  uint32_t eifel_tsval_ = 0;      // TSval of the RTO retransmission
  uint32_t undo_retrans_ = 0;     // bytes retransmitted in the episode
  uint32_t undo_dsacked_ = 0;     // of those, D-SACKed by the peer
  uint32_t prr_delivered_ = 0, prr_out_ = 0, recover_fs_ = 0;  // RFC 6937 §3
  uint64_t rto_due_ns_ = 0;       // when the RTO fires (a probe or reordering timer comes no later)
  uint64_t last_tx_ns_ = 0;       // last transmission of data (RFC 5681 §4.1 idle restart)
  uint64_t last_data_rx_ns_ = 0;  // last in-order data from the peer (quick ACK after idle)
  uint64_t cork_due_ns_ = 0;      // the 200 ms cork ceiling for a held partial tail (0: none)
  uint64_t progress_ns_ = 0;      // last time SND.UNA moved or sending began (user timeout)
  uint64_t busy_ns_ = 0, busy_since_ns_ = 0;  // time with data queued or in flight (info())
  uint64_t rwnd_ns_ = 0, rwnd_since_ns_ = 0;  // of that, held back by the peer's window
  uint64_t rate_start_ns_ = 0, rate_start_bytes_ = 0, delivery_rate_ = 0;  // info().delivery_rate
  uint8_t soft_err_ = 0;          // the last ICMP soft error (tcp.cpp SoftError; 0: none), see soft_error()
  wire::SeqNum soft_una_;         // SND.UNA when it arrived: progress since makes it stale
  uint32_t delack_segs_ = 0;      // full segments received since the last ACK
  uint32_t retries_ = 0;          // consecutive retransmission/probe timeouts
  uint32_t persist_backoff_ = 0;  // zero-window probe backoff (kept while probes are answered)
  uint32_t ka_probes_ = 0;
  wire::SeqNum rtt_seq_;
  uint64_t rtt_start_ns_ = 0, last_rx_ns_ = 0, close_deadline_ns_ = 0;
  uint32_t events_ = 0;
  std::optional<Error> err_;
  // Counters for info().
  uint32_t retransmits_ = 0;
  uint64_t bytes_sent_ = 0, bytes_acked_ = 0, bytes_received_ = 0;
  uint64_t acked_reported_ = 0;  // bytes_acked_ at the last completion callback
  SentCallback sent_cb_;
  RttEstimator rtt_;
  Congestion cc_;
  SackScoreboard sb_;
  Rack rack_;
  SegQueue sndq_, rcvq_;
  OooQueue ooo_;
  Timer rtx_timer_, dack_timer_, ka_timer_;
  uint64_t connect_due_ns_ = 0;     // ConnectOptions::timeout_ns as a deadline (SYN-SENT only; 0: none)
  uint32_t gen_ = 0;                // generation(): survives recycling
  EventHook* hook_ = nullptr;       // set_hook()
  Listener* parent_ = nullptr;      // listener of a passive open not yet accepted
  Connection* hnext_ = nullptr;     // flow table chain
  Connection* qnext_ = nullptr;     // listener accept queue / free list
  Connection* ooo_prev_ = nullptr;  // list of connections holding out-of-order data
  Connection* ooo_next_ = nullptr;
  bool ooo_linked_ = false;
  Callback cb_;
};

/** A listening socket. Owned by its Tcp; valid until close(). */
class Listener {
 public:
  using Callback = std::function<void(Listener&, uint32_t events)>;
  uint16_t port() const noexcept { return port_; }
  /** The next established connection, or null. The caller owns the handle (close() it). */
  Connection* accept() noexcept;
  /** Connections waiting in accept(). */
  uint32_t pending() const noexcept { return accept_len_; }
  /** Half-open connections (SYN received). */
  uint32_t half_open() const noexcept { return syn_len_; }
  /** Run @p cb when connections are ready to accept. */
  void on_event(Callback cb) { cb_ = std::move(cb); }
  /** Stop listening: half-open and unaccepted connections are reset. The handle is invalid after this call.
   */
  void close() noexcept;
  void* user = nullptr;
  /** Changes when the listener closes (its object is reused for later listeners). */
  uint32_t generation() const noexcept { return gen_; }
  /** As Connection::set_hook(); hook->closed() runs when the listener closes (also by a drain). */
  Status set_hook(EventHook* hook) noexcept;
  EventHook* hook() const noexcept { return hook_; }
  Tcp& engine() const noexcept { return tcp_; }

 private:
  friend class Tcp;
  Listener(Tcp& tcp, uint16_t port, uint32_t backlog, SocketOptions opt)
      : tcp_(tcp), port_(port), backlog_(backlog), opt_(opt) {}
  Tcp& tcp_;
  uint16_t port_;
  uint32_t backlog_;
  SocketOptions opt_;
  Connection* accept_head_ = nullptr;
  Connection* accept_tail_ = nullptr;
  uint32_t accept_len_ = 0;
  uint32_t syn_len_ = 0;
  uint32_t tfo_qlen_ = 0;     // ListenOptions::fastopen
  uint32_t tfo_pending_ = 0;  // Fast Open children not yet established
  bool in_ready_ = false;
  uint32_t gen_ = 0;
  EventHook* hook_ = nullptr;
  Listener* next_free_ = nullptr;  // Tcp's list of closed listeners to reuse
  Callback cb_;
};

/** The TCP engine of one core. */
class alignas(64) Tcp final : public l3::L4Handler {
 public:
  /** Registers itself with @p ip for protocol 6; timers run on @p wheel. */
  Tcp(const TcpParams& params, l3::Ipv4& ip, TimerWheel& wheel, uint64_t now);
  ~Tcp() override;
  Tcp(const Tcp&) = delete;
  Tcp& operator=(const Tcp&) = delete;

  /** Listen on @p port. Errors: exists (already listening), invalid_argument (port 0). */
  Result<Listener*> listen(uint16_t port, const ListenOptions& opt = {});
  /**
   * Start an active open to @p remote (non-blocking): the SYN goes out at the
   * next flush; ev::connected or ev::error follows. Errors: no_route,
   * invalid_argument (port 0 or a broadcast address), exists (the 4-tuple is
   * in use), no_memory (no TCB or no free ephemeral port).
   */
  Result<Connection*> connect(const Endpoint& remote, const ConnectOptions& opt = {});

  l3::L4Verdict input(Packet& segment, const l3::Ipv4Meta& meta, uint64_t now) override;
  void icmp_error(const l3::IcmpError& err, uint64_t now) override;
  /** Send what connections have pending (data, ACKs, FINs). Core::poll() calls this each turn. */
  void flush();
  /** Run callbacks of connections and listeners with news since the last call. */
  void dispatch_events();
  /** The core's current time (set by Core::poll before input). */
  void set_now(uint64_t now) noexcept { now_ = now; }
  uint64_t now() const noexcept { return now_; }
  /** Abort every connection (RST) and free all state (for shutdown). */
  void abort_all();
  /**
   * Close every listener (a graceful drain's first step): their half-open
   * and unaccepted connections are reset, established ones are untouched.
   * Listener handles the application holds are invalid afterwards.
   * @return how many were closed.
   */
  size_t close_listeners();

  const TcpStats& stats() const noexcept { return stats_; }
  const TcpParams& params() const noexcept { return p_; }
  /** Live TCBs (any state but TIME_WAIT entries), including ones the application still holds. */
  uint32_t connections() const noexcept { return live_; }
  uint32_t time_wait() const noexcept { return tw_count_; }
  /** Truesize bytes all TCP queues of this core hold now (receive, out-of-order, send). */
  uint64_t memory_used() const noexcept { return mem_.used; }
  /** The most they may hold (TcpParams::memory_limit, bounded by the pool and its reserve). */
  uint64_t memory_limit() const noexcept { return mem_limit_; }
  /** Mbufs of the pool TCP queues never take (TcpParams::rx_reserve as applied). */
  uint32_t rx_reserve() const noexcept { return reserve_; }
  /** What one mbuf of the core's pool costs (truesize). */
  uint32_t mbuf_cost() const noexcept { return mbuf_cost_; }
  /**
   * Free memory for the RX path when the pool runs low whatever the cause:
   * compact every queue holding out-of-order data and prune that data (the
   * core calls this when free mbufs fall below its low-water mark). @p skip
   * (may be null) keeps its own. @return truesize freed.
   */
  uint64_t reclaim(uint64_t need, const Connection* skip = nullptr);
  /** Truesize bytes out-of-order queues hold now (part of memory_used(); reclaimable). */
  uint64_t memory_ooo() const noexcept { return mem_.ooo; }
  /** Bytes of memory per TCB (the object itself, without queued data). */
  static size_t connection_size() noexcept { return sizeof(Connection); }
  /** The core's timer wheel (what the connections' timers use). */
  TimerWheel& wheel() noexcept { return wheel_; }
  /** Find a connection by its tuple (tests, diagnostics). */
  Connection* find(const FourTuple& t) const noexcept;

 private:
  friend class Connection;
  friend class Listener;
  struct Segment;
  struct TimeWait {
    FourTuple t;
    wire::SeqNum snd_nxt, rcv_nxt;
    uint32_t ts_recent = 0, ts_offset = 0;
    uint16_t window = 0;  // the window field of our last segment, repeated in TIME_WAIT ACKs
    uint64_t ts_recent_ns = 0;
    uint64_t expiry_ns = 0;
    bool ts_ok = false;
    bool pinned = false;  // the connection's pin (TcpParams::pin_flow) lasts until the entry goes
    TimeWait* hnext = nullptr;
    TimeWait* older = nullptr;  // FIFO by expiry
    TimeWait* newer = nullptr;
  };

  // tcp.cpp: tables and lifecycle
  uint32_t hash(const FourTuple& t) const noexcept;
  Connection* alloc_conn();
  void insert(Connection* c);
  void unlink(Connection* c);
  void release(Connection* c);
  void destroy(Connection* c);
  void recycle(Connection* c);
  void quiesce(Connection& c);
  void ack_soon(Connection& c) {
    c.ack_now_ = true;
    schedule(c);
  }
  Connection* new_child(Listener& l, const Segment& s);
  void set_state(Connection& c, State s);
  void fail(Connection& c, Errc code, std::string_view reason);
  void notify(Connection& c, uint32_t events);
  void notify(Listener& l);
  void schedule(Connection& c);
  Result<uint16_t> pick_port(const FourTuple& t, bool reuse_tw);
  bool tuple_in_use(const FourTuple& t, bool reuse_tw);
  void init_tcb(Connection& c, const SocketOptions& opt, uint64_t now);
  void close_listener(Listener* l);
  uint32_t ts_now() const noexcept;
  // tcp.cpp: ICMP errors (RFC 1122 §4.2.3.9, RFC 1191, RFC 5461, RFC 5927)
  Connection* icmp_match(const l3::IcmpError& err);
  void pmtu_reduced(Connection& c, uint16_t mtu);
  void icmp_connecting(Connection& c, const l3::IcmpError& err);
  void soft_error(Connection& c, const l3::IcmpError& err);
  void give_up(Connection& c, std::string_view reason);

  // time_wait.cpp
  void enter_time_wait(Connection& c);
  TimeWait* tw_find(const FourTuple& t) const noexcept;
  void tw_remove(TimeWait* w);
  void tw_link_newest(TimeWait* w);
  void tw_unlink_fifo(TimeWait* w);
  bool tw_input(TimeWait& w, Segment& s);
  void tw_expire(uint64_t now);

  // input.cpp: RFC 9293 §3.10.7, split by state and step
  bool parse(Packet& pkt, const l3::Ipv4Meta& meta, Segment& s);
  void input_closed(Segment& s);
  void input_listen(Listener& l, Segment& s);
  void input_cookie_ack(Listener& l, Segment& s);
  void input_syn_sent(Connection& c, Segment& s);
  void input_synchronized(Connection& c, Segment& s);
  void established(Connection& c);
  bool check_seq(Connection& c, Segment& s);
  void trim_to_window(Connection& c, Segment& s, uint32_t wnd);
  bool check_rst(Connection& c, Segment& s);
  bool check_syn(Connection& c, Segment& s);
  bool check_ack(Connection& c, Segment& s);
  bool after_ack(Connection& c);
  void process_ack(Connection& c, Segment& s, uint32_t acked);
  void process_dupack(Connection& c, Segment& s);
  uint32_t retransmit_head(Connection& c);
  void update_window(Connection& c, Segment& s);
  bool process_text(Connection& c, Segment& s);
  bool process_fin(Connection& c);
  bool queue_in_order(Connection& c, Packet data, bool fin);
  void negotiate(Connection& c, const wire::TcpOptions& o);
  void offer_options(Connection& c);
  uint8_t our_wscale(const SocketOptions& o) const noexcept;
  void take_timestamp(Connection& c, const Segment& s);
  void challenge_ack(Connection& c);
  uint64_t rtt_sample(Connection& c, const Segment& s);
  Listener* listener_for(uint16_t port) const noexcept { return listeners_.get(port); }
  void accept_ready(Listener& l, Connection& c);
  void remove_from_listener(Connection& c);

  // memory.cpp: buffer accounting and pressure (docs/robustness.md)
  void init_memory();
  // Per connection and direction: twice the socket buffer (room for the overhead of
  // partly filled buffers), at least four mbufs.
  uint64_t recv_mem_limit(const Connection& c) const noexcept {
    return std::max<uint64_t>(2ull * c.opt_.recv_buffer, 4ull * mbuf_cost_);
  }
  uint64_t send_mem_limit(const Connection& c) const noexcept;
  bool rcv_room(Connection& c, uint64_t need, wire::SeqNum seq) {
    return rcv_fits(c, need) || rcv_room_slow(c, need, seq);
  }
  bool rcv_room_slow(Connection& c, uint64_t need, wire::SeqNum seq);
  // @p need more truesize bytes of received data fit c's and the core's limits (inline: once
  // per data segment).
  bool rcv_fits(const Connection& c, uint64_t need) const noexcept {
    if (c.rcvq_.mem() + c.ooo_.mem() + need > recv_mem_limit(c)) return false;
    const uint64_t used = mem_.used + need;
    return used <= mem_limit_ - guard_ || used <= core_limit(c);  // (the first: no sums for most)
  }
  // Truesize c holds in all its queues.
  static uint64_t held(const Connection& c) noexcept { return c.sndq_.mem() + c.rcvq_.mem() + c.ooo_.mem(); }
  // The core's limit for a connection holding @p held: all of it for one holding little, less
  // the guard for the others (memory.cpp, fairness).
  uint64_t core_limit(uint64_t held) const noexcept {
    return held < small_ ? mem_limit_ : mem_limit_ - guard_;
  }
  uint64_t core_limit(const Connection& c) const noexcept { return core_limit(held(c)); }
  // Core memory c (holding @p held) can count on; see memory.cpp.
  uint64_t core_free(const Connection& c, uint64_t held) const noexcept;
  uint64_t core_free(const Connection& c) const noexcept { return core_free(c, held(c)); }
  void maybe_compact(Connection& c);
  uint32_t mem_window(const Connection& c) const noexcept;
  bool send_mem_ok(Connection& c);
  void wake_mem_waiters() {
    if (!mem_waiters_.empty()) wake_mem_waiters_slow();
  }
  void wake_mem_waiters_slow();
  void ooo_track(Connection& c);
  void ooo_untrack(Connection& c);

  // output.cpp
  bool send_segment(Connection& c, wire::SeqNum seq, uint32_t len, uint8_t flags, uint32_t* sent = nullptr,
                    bool tail_ok = false);
  uint32_t super_segment(const Connection& c, const l3::PathInfo& path, uint32_t room, uint32_t hdrs,
                         uint32_t len, bool tail_ok, uint16_t* segsz) const noexcept;
  void send_cookie_synack(const Segment& s, const Listener& l);
  void send_syn(Connection& c);
  void send_ack(Connection& c);
  void send_rst(Connection& c);
  void send_reply_rst(const Segment& s);
  bool send_raw(const FourTuple& t, wire::SeqNum seq, wire::SeqNum ack, uint8_t flags, uint16_t window,
                const wire::TcpOptions& opts);
  Status emit(const FourTuple& t, const wire::TcpHeader& th, Packet data, const l3::PathInfo& path,
              bool offload, std::optional<uint16_t> ip_id = std::nullopt, uint16_t tso_segsz = 0,
              uint8_t tos = 0);
  void ecn_input(Connection& c, const Segment& s);
  void ecn_echo(Connection& c);
  void note_sent(Connection& c, wire::SeqNum seq, uint32_t len, uint8_t flags);
  void output(Connection& c);
  bool output_recovery(Connection& c);
  void after_output(Connection& c);
  static constexpr uint64_t kCorkCeilingNs = 200'000'000;
  static constexpr uint8_t kEct0 = 0x02;  ///< RFC 3168 §5: ECT(0) in the IPv4 ECN field
  static constexpr uint8_t kEcnCe = 0x03;
  bool may_send(const Connection& c, uint32_t len, uint32_t unsent) const noexcept;
  uint32_t recv_window(Connection& c) noexcept;
  uint16_t window_field(Connection& c, bool syn) noexcept;
  void fill_options(Connection& c, uint8_t flags, wire::TcpOptions& o) noexcept;
  uint16_t path_mss(wire::Ipv4Addr dst) const noexcept;
  // Lower c's MSS to @p mss (and congestion control's); false when it is not lower.
  bool shrink_mss(Connection& c, uint16_t mss) noexcept;
  void maybe_window_update(Connection& c);
  uint32_t flight(const Connection& c) const noexcept;
  /**
   * Payload per segment: the MSS less the options every segment carries (timestamps).
   * mss_ is at least 28 (a 68-byte path), so this is at least 16. Inline: called several times
   * per segment.
   */
  uint32_t effective_mss(const Connection& c) const noexcept {
    const uint32_t opts = c.ts_ok_ ? 12 : 0;
    return c.mss_ > opts ? c.mss_ - opts : 1;
  }

  // timers.cpp
  static void on_rtx_timer(Timer& t, uint64_t now);
  static void on_dack_timer(Timer& t, uint64_t now);
  static void on_ka_timer(Timer& t, uint64_t now);
  static void on_tw_timer(Timer& t, uint64_t now);
  void rtx_timeout(Connection& c);
  void persist_timeout(Connection& c);
  void arm_rtx(Connection& c);
  uint64_t user_deadline(const Connection& c) const noexcept;
  uint64_t rto_deadline(const Connection& c) const noexcept;
  void begin_episode(Connection& c, bool rto);
  void consume_acked(Connection& c, wire::SeqNum ack);
  void arm_persist(Connection& c);
  void arm_keepalive(Connection& c);
  void keepalive_timeout(Connection& c);
  uint64_t keepalive_due(const Connection& c) const noexcept;
  void dack_timeout(Connection& c);
  void arm_early(Connection& c, uint8_t mode, uint64_t delay_ns);
  void restart_loss_timer(Connection& c, uint64_t reo_ns);
  bool tlp_ok(const Connection& c) const noexcept;
  uint64_t pto_ns(const Connection& c) const noexcept;
  void tlp_timeout(Connection& c);
  void reo_timeout(Connection& c);

  // recovery.cpp: loss detection and recovery (RFC 3042, 6675, 6937, 8985, 2883, 3522, 4015)
  struct AckSack {
    uint32_t newly_sacked = 0;  ///< bytes the scoreboard gained
    bool dsack = false;         ///< the first block reported a duplicate (RFC 2883 §4)
    wire::SackBlock dsack_block{};
  };
  AckSack sack_input(Connection& c, const Segment& s);
  bool rack_on(const Connection& c) const noexcept {
    return p_.recovery == LossRecovery::rack_tlp && c.sack_ok_ && c.rack_.log() != nullptr;
  }
  uint64_t rack_ack(Connection& c, const AckSack& a);
  void enter_recovery(Connection& c);
  void exit_recovery(Connection& c);
  void prr_ack(Connection& c, uint32_t delivered);
  uint32_t recovery_pipe(const Connection& c) const noexcept;
  bool output_rack(Connection& c);
  void tlp_ack(Connection& c, const Segment& s, const AckSack& a);
  bool undo_check(Connection& c, const Segment& s, const AckSack& a, uint32_t acked);
  void undo_now(Connection& c, uint32_t acked);
  bool eifel_check(Connection& c, const Segment& s, uint32_t acked);
  void note_dsack(Connection& c, wire::SeqNum left, wire::SeqNum right);
  void note_delivery(Connection& c);
  void rack_log_attach(Connection& c);
  // fastopen.cpp (RFC 7413)
  struct TfoCacheEntry {
    uint32_t ip = 0;
    uint16_t mss = 0;
    uint64_t blocked_until_ns = 0;
    wire::FastOpenCookie cookie;
  };
  wire::FastOpenCookie tfo_cookie(uint32_t remote_ip, uint32_t local_ip, int key);
  bool tfo_cookie_ok(const wire::FastOpenCookie& c, uint32_t remote_ip, uint32_t local_ip);
  void tfo_rotate();
  TfoCacheEntry* tfo_cache(uint32_t ip, bool create);
  void tfo_listen(Listener& l, Connection& c, Segment& s);
  void tfo_syn_options(Connection& c, uint8_t flags, wire::TcpOptions& o);
  uint32_t tfo_syn_data(Connection& c);
  void tfo_synack(Connection& c, const Segment& s);
  void tfo_child_done(Connection& c);
  void rack_log_release(Connection& c);

  TcpParams p_;
  l3::Ipv4& ip_;
  TimerWheel& wheel_;
  rte_mempool* pool_;
  uint64_t now_ = 0;
  TcpStats stats_;
  MemAccount mem_;  // before the TCBs: their queues uncharge it when destroyed
  uint64_t mem_limit_ = 0;
  uint32_t mbuf_cost_ = 0;  // truesize of one mbuf of pool_
  uint32_t mbuf_room_ = 0;  // its data room
  uint32_t reserve_ = 0;    // mbufs TCP never takes
  uint64_t guard_ = 0;      // the last part of mem_limit_, kept for connections holding little
  uint64_t small_ = 0;      // what a connection may hold and still count as holding little
  Connection* ooo_holders_ = nullptr;
  std::vector<Connection*> mem_waiters_;
  IsnGenerator isn_;
  SynCookies cookies_;
  OooPool ooo_pool_;
  std::vector<Connection*> buckets_;
  uint32_t bucket_mask_ = 0;
  uint32_t hash_seed_ = 0;
  std::vector<std::unique_ptr<Connection>> all_;  // every TCB ever made (reused through free_)
  Connection* free_ = nullptr;
  uint32_t live_ = 0;
  PortTable<Listener> listeners_;                        // by port (open listeners)
  std::vector<std::unique_ptr<Listener>> listener_all_;  // every listener object ever made
  Listener* listener_free_ = nullptr;                    // closed ones, reused by listen()
  std::vector<Connection*> pending_;                     // to flush
  std::vector<Connection*> ready_;                       // with events
  std::vector<Listener*> ready_listeners_;
  std::vector<Connection*> dispatching_;
  std::vector<Listener*> dispatching_listeners_;
  std::vector<Connection::Callback> dead_callbacks_;  // of connections closed by their own callback
  std::vector<Listener::Callback> dead_listener_callbacks_;
  std::vector<Connection*> closing_;  // closed while dispatching: released after it
  bool in_dispatch_ = false;
  std::vector<std::unique_ptr<TxLog[]>> rack_chunks_;  // RACK transmission logs (recovery.cpp)
  TxLog* rack_free_ = nullptr;
  std::array<SipKey, 2> tfo_keys_{};  // Fast Open cookie keys: current, previous
  uint64_t tfo_key_at_ = 0;
  std::vector<TfoCacheEntry> tfo_cache_;
  uint32_t rack_logs_ = 0;
  // TIME_WAIT table.
  std::vector<std::unique_ptr<TimeWait>> tw_all_;
  TimeWait* tw_free_ = nullptr;  // linked through hnext
  std::vector<TimeWait*> tw_buckets_;
  TimeWait* tw_oldest_ = nullptr;
  TimeWait* tw_newest_ = nullptr;
  uint32_t tw_count_ = 0;
  Timer tw_timer_;
  // Draws for the limits below: unpredictable from outside (tern/base/siphash.hpp).
  SecretRandom rng_;
  // RFC 5961 §7 challenge ACK budget of the core, randomised (docs/robustness.md).
  RandomBudget challenge_budget_;
  // RFC 6056 §3.3.4 (algorithm 4): ephemeral port search positions, one per keyed hash bucket.
  std::array<uint16_t, 1024> port_table_{};
};

}  // namespace tern::tcp
