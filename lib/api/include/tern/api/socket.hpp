/**
 * @file
 * Socket handles: what applications hold for TCP connections, TCP listeners and UDP sockets.
 *
 * A handle is a slot (the engine's socket object, which the core reuses) plus the generation the
 * slot had when the handle was made. Every call checks the generation first: a handle kept after
 * close() (or after a drain closed its listener) answers Errc::bad_handle and never reaches the
 * socket that now lives in the slot. Handles are small values (16 bytes), copyable; the socket has
 * one owner in the application's logic, which calls close() (or holds an Owned<> that does).
 *
 * One shape for every kind:
 * - recv() returns Result<size_t>: bytes (TCP: 0 = end of stream; UDP: the datagram's length,
 *   which may be 0), Errc::would_block when nothing is queued, other errors when the socket failed.
 * - send() takes a Packet&: what the socket took is gone from it; on would_block (TCP: the send
 *   buffer is full) the Packet is untouched and still the caller's. UDP never answers would_block
 *   (a datagram is sent or dropped with a counted reason and an error).
 * - close() on every kind; one error type (tern::Error), one Endpoint, one event enum (tern::ev).
 *
 * Everything is per core: use a handle only on the thread of the core that made it. Nothing
 * blocks; the coroutine layer (tern/api/coro.hpp) and the Poller (tern/api/poller.hpp) wait.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <variant>

#include "tern/base/events.hpp"
#include "tern/base/result.hpp"
#include "tern/buf/packet.hpp"
#include "tern/tcp/options.hpp"
#include "tern/wire/addr.hpp"

namespace tern {

namespace tcp {
class Connection;
class Listener;
}  // namespace tcp
namespace udp {
class Socket;
}  // namespace udp

/** What a handle refers to. */
enum class SocketKind : uint8_t { tcp_connection, tcp_listener, udp };

/** A TCP connection (from TcpListener::accept() or Net::connect()). */
class TcpConnection {
 public:
  TcpConnection() = default;
  /** Wrap an engine connection the application owns (the generation is taken now). */
  explicit TcpConnection(tcp::Connection* c) noexcept;

  /** The handle refers to a connection the application still holds (close() not called). */
  bool valid() const noexcept;
  explicit operator bool() const noexcept { return valid(); }

  /**
   * Queue @p data, zero copy (its mbufs are sent and retransmitted by reference). Takes all of it
   * when it fits, else whole leading segments; @p data keeps the rest. @return bytes taken.
   * Errors: would_block (buffer full, @p data untouched: wait for ev::writable), closed (after
   * shutdown()), not_connected (failed; error() says why), bad_handle. @p flags: tcp::send_flag.
   */
  Result<size_t> send(Packet& data, uint32_t flags = 0) const noexcept;
  /** Copy as much of @p data as fits. @return bytes copied (would_block when none fit). */
  Result<size_t> send(std::span<const uint8_t> data, uint32_t flags = 0) const noexcept;
  /**
   * Take received in-order data, zero copy: up to @p max bytes of whole segments as one mbuf
   * chain in @p out. @return bytes; 0 = the peer closed and everything before its FIN was read.
   * Errors: would_block (nothing yet), the connection's error after a reset/timeout, bad_handle.
   */
  Result<size_t> recv(Packet& out, uint32_t max = 64 * 1024) const noexcept;
  /** Copy received data into @p out. @return bytes (0 = end of stream); errors as above. */
  Result<size_t> recv(std::span<uint8_t> out) const noexcept;
  /** Bytes waiting to be read (0 for a stale handle). */
  uint32_t readable() const noexcept;
  /** Bytes send() can take now (0 for a stale handle). */
  uint32_t send_space() const noexcept;
  /** Close the write side (FIN after queued data). Errors: not_connected, bad_handle. */
  Status shutdown() const noexcept;
  /**
   * Release the handle and close gracefully (a reset when unread data is left or linger is 0).
   * Any Poller registration and coroutine waiter of the socket is dropped (a waiting coroutine
   * resumes with bad_handle). Errors: bad_handle (already closed).
   */
  Status close() const noexcept;
  /** Release the handle and reset the connection. Errors: bad_handle. */
  Status abort() const noexcept;

  Result<Endpoint> local() const noexcept;
  Result<Endpoint> remote() const noexcept;
  /** RFC 9293 state (closed for a stale handle). */
  tcp::State state() const noexcept;
  /** Why the connection failed (reset, refused, timed out, unreachable); bad_handle when stale. */
  std::optional<Error> error() const noexcept;
  /** The last ICMP error the connection survived (RFC 5461 §4). */
  std::optional<Error> soft_error() const noexcept;
  /** The peer's FIN arrived (data before it may still be queued). */
  bool peer_closed() const noexcept;
  /** `ss -ti`-like state. Errors: bad_handle. */
  Result<tcp::TcpInfo> info() const noexcept;
  /** Options as set (defaults: the stack's tcp section). Errors: bad_handle. */
  Result<tcp::SocketOptions> options() const noexcept;

  /// Options (tcp::SocketOptions documents each). Errors: bad_handle, and invalid_argument where
  /// the engine's setter has a range.
  Status set_nodelay(bool on) const noexcept;
  Status set_keepalive(const tcp::KeepaliveOptions& k) const noexcept;
  Status set_send_buffer(uint32_t bytes) const noexcept;
  Status set_recv_buffer(uint32_t bytes) const noexcept;
  Status set_send_lowat(uint32_t bytes) const noexcept;
  Status set_linger(std::optional<uint64_t> ns) const noexcept;
  Status set_user_timeout(uint64_t ns) const noexcept;
  Status set_notsent_lowat(uint32_t bytes) const noexcept;
  Status set_cork(bool on) const noexcept;
  Status set_max_segment(uint16_t mss) const noexcept;
  Status set_congestion(tcp::CcAlgo a) const noexcept;

  /** Per-socket user data (null for a stale handle; set is ignored then). */
  void* user() const noexcept;
  void set_user(void* p) const noexcept;

  /** The engine object, for the few tools that need it (null when stale). */
  tcp::Connection* get() const noexcept { return valid() ? c_ : nullptr; }
  uint32_t generation() const noexcept { return gen_; }
  friend bool operator==(const TcpConnection& a, const TcpConnection& b) noexcept {
    return a.c_ == b.c_ && a.gen_ == b.gen_;
  }

 private:
  tcp::Connection* live() const noexcept { return valid() ? c_ : nullptr; }
  tcp::Connection* c_ = nullptr;
  uint32_t gen_ = 0;
};

/** A TCP listener (from Net::listen()). */
class TcpListener {
 public:
  TcpListener() = default;
  explicit TcpListener(tcp::Listener* l) noexcept;
  bool valid() const noexcept;
  explicit operator bool() const noexcept { return valid(); }
  /** The next established connection. Errors: would_block (none waiting), bad_handle. */
  Result<TcpConnection> accept() const noexcept;
  /** Connections waiting in accept() (0 when stale). */
  uint32_t pending() const noexcept;
  /** The port (0 when stale). */
  uint16_t port() const noexcept;
  /** Stop listening: half-open and unaccepted connections are reset. Errors: bad_handle. */
  Status close() const noexcept;
  void* user() const noexcept;
  void set_user(void* p) const noexcept;
  tcp::Listener* get() const noexcept { return valid() ? l_ : nullptr; }
  uint32_t generation() const noexcept { return gen_; }
  friend bool operator==(const TcpListener& a, const TcpListener& b) noexcept {
    return a.l_ == b.l_ && a.gen_ == b.gen_;
  }

 private:
  tcp::Listener* l_ = nullptr;
  uint32_t gen_ = 0;
};

/** A bound UDP socket (from Net::udp_bind()). */
class UdpSocket {
 public:
  UdpSocket() = default;
  explicit UdpSocket(udp::Socket* s) noexcept;
  bool valid() const noexcept;
  explicit operator bool() const noexcept { return valid(); }
  /**
   * Take the oldest datagram (zero copy) into @p out; @p from / @p to (may be null) get its
   * addresses. @return its length. Errors: would_block (none queued), bad_handle.
   */
  Result<size_t> recv(Packet& out, Endpoint* from = nullptr, Endpoint* to = nullptr) const noexcept;
  /**
   * Copy the oldest datagram into @p out, truncating as recvfrom() does, and free it.
   * @return the datagram's full length. Errors: would_block, bad_handle.
   */
  Result<size_t> recv(std::span<uint8_t> out, Endpoint* from = nullptr) const noexcept;
  /**
   * Send @p data as one datagram to @p to from @p src (0.0.0.0: the outgoing interface's
   * address). On success @p data is consumed; on an error it was dropped (counted) unless the
   * error is bad_handle or invalid_argument, which leave it untouched. @return its length.
   * Errors: invalid_argument (port 0), no_route, bad_length (over 65507 bytes), no_memory.
   */
  Result<size_t> send(Packet& data, const Endpoint& to, wire::Ipv4Addr src = {}) const noexcept;
  /** Copy @p data into a datagram to @p to. */
  Result<size_t> send(std::span<const uint8_t> data, const Endpoint& to) const noexcept;
  /** Datagrams waiting (0 when stale). */
  size_t queued() const noexcept;
  /** The last ICMP error for what this socket sent (connection_refused, host_unreachable), cleared on read.
   */
  std::optional<Error> take_error() const noexcept;
  /** The bound port (0 when stale). */
  uint16_t port() const noexcept;
  /** Close: queued datagrams are freed, the port released. Errors: bad_handle. */
  Status close() const noexcept;
  void* user() const noexcept;
  void set_user(void* p) const noexcept;
  udp::Socket* get() const noexcept { return valid() ? s_ : nullptr; }
  uint32_t generation() const noexcept { return gen_; }
  friend bool operator==(const UdpSocket& a, const UdpSocket& b) noexcept {
    return a.s_ == b.s_ && a.gen_ == b.gen_;
  }

 private:
  udp::Socket* s_ = nullptr;
  uint32_t gen_ = 0;
};

/** Any socket handle (what a Poller event names). */
using SocketRef = std::variant<TcpConnection, TcpListener, UdpSocket>;

/**
 * RAII owner of a handle: closes it when destroyed or reassigned (a stale handle's close is a
 * harmless bad_handle). Move-only.
 */
template <class H>
class Owned {
 public:
  Owned() = default;
  explicit Owned(H h) noexcept : h_(std::move(h)) {}
  Owned(Owned&& o) noexcept : h_(std::exchange(o.h_, H{})) {}
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) reset(std::exchange(o.h_, H{}));
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { reset(); }
  /** Close what is held and hold @p h instead. */
  void reset(H h = H{}) noexcept {
    if (h_.valid()) (void)h_.close();
    h_ = std::move(h);
  }
  /** Give up ownership without closing. */
  H release() noexcept { return std::exchange(h_, H{}); }
  H& operator*() noexcept { return h_; }
  H* operator->() noexcept { return &h_; }
  const H& get() const noexcept { return h_; }

 private:
  H h_;
};

}  // namespace tern
