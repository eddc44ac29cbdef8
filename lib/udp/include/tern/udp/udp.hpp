/**
 * @file
 * UDP (RFC 768) for one core, with a zero-copy socket API. Receive:
 * Ipv4::deliver() hands the datagram (data at the UDP header) to
 * Udp::input(), which checks it, trims the header and queues the payload
 * mbufs on the bound socket; Core::poll() then runs the readable callbacks.
 * Transmit: Socket::send() prepends the UDP header into the payload's
 * headroom, fills or offloads the checksum, and calls Ipv4::output().
 */
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tern/base/events.hpp"
#include "tern/base/port_table.hpp"
#include "tern/base/result.hpp"
#include "tern/base/timer_wheel.hpp"
#include "tern/buf/packet.hpp"
#include "tern/l3/ipv4.hpp"
#include "tern/wire/addr.hpp"

namespace tern::udp {

/** The endpoint type of every socket (tern/wire/addr.hpp). */
using Endpoint = ::tern::Endpoint;

/** A received datagram: the payload mbufs (headers trimmed) and its addresses. */
struct Datagram {
  Packet payload;
  Endpoint from;
  Endpoint to;
  bool broadcast = false;  ///< sent to a broadcast address (IP or link layer): do not answer blindly
};

/** An ICMP error reported for something the socket sent (e.g. port unreachable: "connection refused"). */
struct SocketError {
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  Endpoint remote;  ///< destination of the datagram that failed
};

enum class UdpDrop : uint8_t {
  truncated,     ///< shorter than a UDP header
  bad_length,    ///< length field below 8 or beyond the datagram
  bad_checksum,  ///< checksum mismatch (RFC 768)
  no_socket,     ///< no socket on the port (ICMP port unreachable sent)
  queue_full,    ///< socket receive queue full
  /// ICMP error quoting a datagram from a port with no socket
  icmp_no_socket,
  count_
};
std::string_view to_string(UdpDrop d) noexcept;

struct UdpStats {
  uint64_t rx_datagrams = 0, rx_bytes = 0;
  uint64_t tx_datagrams = 0, tx_bytes = 0;
  uint64_t tx_errors = 0;
  uint64_t icmp_errors = 0;  ///< ICMP errors matched to a socket
  std::array<uint64_t, static_cast<size_t>(UdpDrop::count_)> drops{};
  void drop(UdpDrop d) noexcept { ++drops[static_cast<size_t>(d)]; }
  uint64_t dropped(UdpDrop d) const noexcept { return drops[static_cast<size_t>(d)]; }
};

struct UdpParams {
  uint32_t rx_queue_len = 1024;  ///< datagrams queued per socket before drops
};

class Udp;

/** A bound UDP socket. Owned by its Udp; valid until Udp::close(). Used only on its core. */
class Socket {
 public:
  using Callback = std::function<void(Socket&)>;

  uint16_t port() const noexcept { return port_; }
  /** The core's UDP that owns this socket (Udp::close() closes it). */
  Udp& udp() noexcept { return udp_; }
  /** Datagrams waiting. */
  size_t queued() const noexcept { return qlen_; }
  /** Payload bytes of the oldest waiting datagram (0 when none). */
  size_t front_length() const noexcept {
    return qlen_ > 0 && ring_[head_].payload ? ring_[head_].payload.length() : 0;
  }
  /**
   * Take the oldest datagram (zero copy: the payload is the received mbuf chain).
   * @return false when the queue is empty.
   */
  bool recv(Datagram& out) noexcept;
  /**
   * Copy the oldest datagram's payload into @p out (truncating if it is
   * longer, as recvfrom does) and free it. Errors: would_block when empty.
   * @return the datagram's full length.
   */
  Result<size_t> recv_copy(std::span<uint8_t> out, Endpoint* from = nullptr) noexcept;
  /**
   * Send @p payload (data at the payload; headroom is used for headers) to
   * @p to. Takes ownership in every case. @p src is the source address to
   * use (0.0.0.0: the outgoing interface's; a reply should pass the address
   * the request was sent to, RFC 1122 §4.1.3.5). Errors: invalid_argument
   * (port 0), no_route, bad_length (over 65507 bytes), no_memory.
   */
  Status send(const Endpoint& to, Packet payload, wire::Ipv4Addr src = {}) noexcept;
  /** Copy @p data into fresh mbufs and send it (counted as a copy). */
  Status send_copy(const Endpoint& to, std::span<const uint8_t> data) noexcept;
  /** Run @p cb from the core's poll loop when datagrams or errors arrive. */
  void on_readable(Callback cb) { cb_ = std::move(cb); }
  /** The last ICMP error reported for this socket, cleared on read. */
  std::optional<SocketError> take_error() noexcept { return std::exchange(error_, std::nullopt); }
  /** Datagrams dropped because the queue was full. */
  uint64_t rx_dropped() const noexcept { return rx_dropped_; }
  /** An ICMP error waits in take_error(). */
  bool has_error() const noexcept { return error_.has_value(); }
  /** Free for the application. */
  void* user = nullptr;
  /** Changes when the socket closes (its object is reused for later sockets). */
  uint32_t generation() const noexcept { return gen_; }
  /** Report ev::readable (datagrams or an ICMP error) to @p hook; hook->closed() runs at close. Errors:
   * exists. */
  Status set_hook(EventHook* hook) noexcept;
  EventHook* hook() const noexcept { return hook_; }

 private:
  friend class Udp;
  Socket(Udp& udp, uint16_t port, uint32_t capacity);
  bool enqueue(Datagram&& d) noexcept;

  Udp& udp_;
  uint16_t port_;
  uint32_t gen_ = 0;
  EventHook* hook_ = nullptr;
  bool open_ = false;
  std::vector<Datagram> ring_;
  uint32_t head_ = 0, qlen_ = 0;
  uint64_t rx_dropped_ = 0;
  bool pending_event_ = false;
  std::optional<SocketError> error_;
  Callback cb_;
};

class alignas(64) Udp final : public l3::L4Handler {
 public:
  /** Registers itself with @p ip for protocol 17. */
  Udp(const UdpParams& params, l3::Ipv4& ip);
  ~Udp() override;
  Udp(const Udp&) = delete;
  Udp& operator=(const Udp&) = delete;

  /**
   * Bind a socket to @p port (0 picks a free ephemeral port, 49152-65535).
   * Errors: exists (port in use), no_memory (no ephemeral port left).
   */
  Result<Socket*> bind(uint16_t port);
  /**
   * Close @p s: queued datagrams are freed, the port is released. Safe from
   * inside @p s's own callback (the socket is freed once the callback returns).
   */
  void close(Socket* s);
  /** Run callbacks of sockets that became readable since the last call. */
  void dispatch_events();
  /** The core's current time (set by Core::poll before input). */
  void set_now(uint64_t now) noexcept { now_ = now; }
  uint64_t now() const noexcept { return now_; }
  /** The core's timer wheel (set by Core; coroutine timeouts on UDP sockets use it). */
  void set_wheel(TimerWheel* w) noexcept { wheel_ = w; }
  TimerWheel* wheel() const noexcept { return wheel_; }

  l3::L4Verdict input(Packet& payload, const l3::Ipv4Meta& meta, uint64_t now) override;
  void icmp_error(const l3::IcmpError& err, uint64_t now) override;

  const UdpStats& stats() const noexcept { return stats_; }
  size_t sockets() const noexcept { return open_; }

 private:
  friend class Socket;
  Status output(uint16_t src_port, const Endpoint& to, Packet payload, wire::Ipv4Addr src) noexcept;

  UdpParams p_;
  l3::Ipv4& ip_;
  UdpStats stats_;
  PortTable<Socket> by_port_;                     // O(1) demux
  std::vector<std::unique_ptr<Socket>> all_;      // every socket object ever made (closed ones are reused)
  std::vector<Socket*> free_;                     // closed sockets, reused by bind()
  std::vector<Socket::Callback> dead_callbacks_;  // of sockets closed during dispatch: freed after it
  size_t open_ = 0;
  bool in_dispatch_ = false;
  std::vector<Socket*> ready_;        // sockets with news since the last dispatch
  std::vector<Socket*> dispatching_;  // the snapshot dispatch_events() walks
  uint16_t next_ephemeral_ = 49152;
  uint64_t now_ = 0;
  TimerWheel* wheel_ = nullptr;
};

}  // namespace tern::udp
