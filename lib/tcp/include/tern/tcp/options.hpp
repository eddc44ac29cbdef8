/**
 * @file
 * The value types of TCP's application surface: connection states, socket, listen and connect
 * options, congestion-control choice and the `ss -ti`-like TcpInfo. Installed for applications
 * (tern/api uses them); the engine (tern/tcp/tcp.hpp, internal) includes this file.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "tern/base/events.hpp"
#include "tern/wire/addr.hpp"

namespace tern::tcp {

/** Readiness events (bit mask) delivered to callbacks and pollers: tern::ev, shared with UDP. */
namespace ev = ::tern::ev;

/** The endpoint type of every socket (tern/wire/addr.hpp). */
using Endpoint = ::tern::Endpoint;

/** Congestion control algorithm of a connection. */
enum class CcAlgo : uint8_t { newreno, cubic };

/** "newreno" or "cubic". */
std::string_view to_string(CcAlgo a);
/** Parse "newreno" / "cubic" (exact, lower case); std::nullopt for anything else. */
std::optional<CcAlgo> cc_from_string(std::string_view s);

/** RFC 9293 §3.3.2 connection states. */
enum class State : uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
};
std::string_view to_string(State s) noexcept;

/** RFC 1122 §4.2.3.6 keepalive; defaults are Linux's (7200 s idle, 75 s interval, 9 probes). */
struct KeepaliveOptions {
  bool enabled = false;
  uint64_t idle_ns = 7200ull * 1'000'000'000;
  uint64_t interval_ns = 75ull * 1'000'000'000;
  uint32_t count = 9;
};

/**
 * ECN (RFC 3168) for a socket: off; passive = agree when the peer asks (its SYN carries ECE and
 * CWR); on = also ask when connecting.
 */
enum class EcnMode : uint8_t { off, passive, on };
std::string_view to_string(EcnMode m) noexcept;
std::optional<EcnMode> ecn_from_string(std::string_view s) noexcept;

/** Per-socket options; the stack-wide defaults live in TcpParams::socket. */
struct SocketOptions {
  bool nodelay = false;        ///< disable Nagle's algorithm (RFC 1122 §4.2.3.4)
  KeepaliveOptions keepalive;  ///< RFC 1122 §4.2.3.6
  /// Bytes queued (unacknowledged + unsent) before send() refuses; the queue's mbufs may
  /// also cost at most 2 x this in truesize (tiny packets are refused sooner).
  uint32_t send_buffer = 256 * 1024;
  /// ev::writable fires (after a refused or short send) once send_space() reaches this many bytes;
  /// 0: a third of send_buffer (as Linux wakes a writer when free space is half of what is queued).
  uint32_t send_lowat = 0;
  /// Bytes held (in order + out of order); drives the window. The held mbufs may cost at
  /// most 2 x this in truesize (Linux doubles SO_RCVBUF alike); beyond it the queue is
  /// compacted, then out-of-order data pruned, then data refused (docs/robustness.md).
  uint32_t recv_buffer = 256 * 1024;
  CcAlgo congestion = CcAlgo::cubic;  ///< congestion control (RFC 5681/6582 NewReno or RFC 9438 CUBIC)
  std::optional<uint64_t> linger_ns;  ///< close(): 0 = abort with RST; T = reset if not done after T
  bool reuse_time_wait = false;       ///< connect() may take over a TIME_WAIT 4-tuple (needs timestamps)
  /**
   * RFC 5482 / Linux TCP_USER_TIMEOUT: the connection fails with timed_out when sent data (or a
   * SYN, or zero-window probes) stays unacknowledged this long, or keepalive probes go unanswered
   * this long, whatever the retry counts say. 0: off (the retry counts decide).
   */
  uint64_t user_timeout_ns = 0;
  /**
   * Linux TCP_NOTSENT_LOWAT: ev::writable (and writable_now()) also wait until fewer than this many
   * queued bytes are still unsent, so an application keeps little in the socket and decides late
   * what to send next. 0: off.
   */
  uint32_t notsent_lowat = 0;
  /** Linux TCP_MAXSEG: the largest MSS this socket announces and uses (88..65535); 0: the path's. */
  uint16_t max_segment = 0;
  /**
   * Linux TCP_CORK: hold a partial last segment until the data fills it, the socket is uncorked,
   * or 200 ms pass (Linux's ceiling). See also send_flag::more.
   */
  bool cork = false;
  /** RFC 3168 ECN; off by default (configure where the path is known to handle it). */
  EcnMode ecn = EcnMode::off;
};

/** Flags for Connection::send() and send_copy(). */
namespace send_flag {
/// Linux MSG_MORE: more data follows at once; a partial last segment waits for the next send
/// without this flag (or the 200 ms cork ceiling), as if corked for this call.
inline constexpr uint32_t more = 1u << 0;
}  // namespace send_flag

/** Congestion-control state of a connection (Linux's TCP_CA_* as `ss -ti` shows it). */
enum class CaState : uint8_t {
  open,      ///< nothing outstanding looks lost
  disorder,  ///< duplicate ACKs or SACKs seen, no loss declared yet
  recovery,  ///< fast recovery (RFC 6675 / RACK with PRR)
  loss,      ///< after a retransmission timeout, until what was outstanding then is acknowledged
};
std::string_view to_string(CaState s) noexcept;

/** One connection's state, like `ss -ti`. Times in nanoseconds, sizes in bytes. */
struct TcpInfo {
  State state = State::closed;
  CcAlgo congestion = CcAlgo::cubic;
  uint32_t mss = 0;  ///< payload bytes per segment we send
  uint32_t cwnd = 0, ssthresh = 0;
  uint64_t srtt_ns = 0, rttvar_ns = 0, rto_ns = 0;
  uint32_t retransmits = 0;  ///< segments retransmitted
  uint32_t backoffs = 0;     ///< consecutive RTO backoffs now
  uint32_t bytes_in_flight = 0;
  uint64_t bytes_sent = 0, bytes_acked = 0, bytes_received = 0;
  uint32_t snd_wnd = 0;  ///< the peer's window
  uint32_t rcv_wnd = 0;  ///< our advertised window
  uint8_t snd_wscale = 0, rcv_wscale = 0;
  bool timestamps = false, sack = false, nodelay = false;
  uint32_t send_queued = 0, recv_queued = 0, ooo_queued = 0;
  /// What the queues' mbufs cost (truesize), and the connection's limits on it.
  uint64_t send_mem = 0, recv_mem = 0, ooo_mem = 0, send_mem_limit = 0, recv_mem_limit = 0;
  uint32_t ooo_segments = 0;
  // What `ss -ti` shows beyond the above (issue 12).
  CaState ca_state = CaState::open;
  uint32_t lost = 0;             ///< bytes marked lost and not yet resent (RACK)
  uint32_t sacked = 0;           ///< bytes SACKed above SND.UNA
  uint32_t notsent = 0;          ///< queued bytes never sent
  bool reordering = false;       ///< RACK saw the peer's ACKs reorder data (RFC 8985 §6.2)
  uint32_t reo_wnd_mult = 1;     ///< RACK reordering window multiplier (D-SACK driven)
  uint64_t min_rtt_ns = 0;       ///< smallest RTT seen (RACK.min_RTT)
  uint64_t delivery_rate = 0;    ///< bytes per second acknowledged over the last round trip
  uint64_t busy_ns = 0;          ///< time with data queued or in flight
  uint64_t rwnd_limited_ns = 0;  ///< of that, time the peer's window held data back
  uint32_t undos = 0;            ///< congestion responses undone as spurious
  bool in_slow_start = false;
  bool hystart_css = false;  ///< in HyStart++ conservative slow start (RFC 9406)
  uint64_t user_timeout_ns = 0;
  uint32_t notsent_lowat = 0;
  bool cork = false;
  bool ecn = false;  ///< ECN agreed (RFC 3168)
};

/** Options for listen(). */
struct ListenOptions {
  uint32_t backlog = 0;                 ///< SYN queue + accept queue bound; 0: TcpParams::backlog
  std::optional<SocketOptions> socket;  ///< options for accepted connections (default: the stack's)
  /**
   * TCP Fast Open server (RFC 7413, Linux's TCP_FASTOPEN queue length): at most this many
   * connections opened by a SYN with a valid cookie and data may wait for their handshake to
   * complete; such a connection is ready in accept() at once with the SYN's data readable. 0: off.
   */
  uint32_t fastopen = 0;
};

/** Options for connect(). */
struct ConnectOptions {
  uint16_t local_port = 0;    ///< 0: an ephemeral port that collides with no live or TIME_WAIT connection
  wire::Ipv4Addr local_addr;  ///< 0.0.0.0: the outgoing interface's address
  std::optional<SocketOptions> socket;  ///< default: the stack's
  /**
   * TCP Fast Open client (RFC 7413, Linux's TCP_FASTOPEN_CONNECT): the SYN leaves at the next
   * flush instead of at once, and carries what the application send()s before then (up to one
   * segment) when a cookie for the server is cached; without one it asks for a cookie. Data the
   * server did not take, or that went in a lost SYN, is sent again after the handshake.
   */
  bool fastopen = false;
  /**
   * Give up the connection attempt after this long (error timed_out, ev::error), whatever
   * TcpParams::syn_retries allows; 0: the retries decide (6 retries: 127 s with a 1 s RTO).
   */
  uint64_t timeout_ns = 0;
};

}  // namespace tern::tcp
