/**
 * @file
 * An epoll-like readiness interface over tern's sockets, for applications
 * that prefer one event loop to per-socket callbacks. Register TCP
 * connections, TCP listeners and UDP sockets with an interest mask and a
 * 64-bit cookie; after (or inside) Core::poll(), wait() hands back what became
 * ready. Semantics are edge-triggered (like EPOLLET): an event is reported
 * once per occurrence, so drain a readable socket until recv() says
 * would_block (or returns false) before waiting again.
 *
 * A Poller replaces the socket's own callback (on_event / on_readable) while
 * the socket is registered. Everything is per core: use one Poller per Core,
 * from that core's thread. Nothing blocks.
 */
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tern/tcp/tcp.hpp"
#include "tern/udp/udp.hpp"

namespace tern::api {

/** What a registered socket is. */
enum class Kind : uint8_t { tcp_connection, tcp_listener, udp_socket };

/** Interest and event bits: the tcp::ev values, plus these for UDP. */
namespace ev {
inline constexpr uint32_t connected = tcp::ev::connected;
inline constexpr uint32_t accept = tcp::ev::accept;
inline constexpr uint32_t readable = tcp::ev::readable;
inline constexpr uint32_t writable = tcp::ev::writable;
inline constexpr uint32_t peer_closed = tcp::ev::peer_closed;
inline constexpr uint32_t error = tcp::ev::error;
/// An ICMP error the connection survives (RFC 5461 §4): tcp::Connection::soft_error(). Only on interest.
inline constexpr uint32_t soft_error = tcp::ev::soft_error;
inline constexpr uint32_t all = connected | accept | readable | writable | peer_closed | error | soft_error;
}  // namespace ev

/** One ready socket. */
struct Event {
  Kind kind = Kind::tcp_connection;
  uint32_t events = 0;     ///< ev bits that happened (masked by the interest)
  uint64_t cookie = 0;     ///< what was given to add()
  void* socket = nullptr;  ///< the tcp::Connection*, tcp::Listener* or udp::Socket*
  tcp::Connection* connection() const noexcept { return static_cast<tcp::Connection*>(socket); }
  tcp::Listener* listener() const noexcept { return static_cast<tcp::Listener*>(socket); }
  udp::Socket* udp() const noexcept { return static_cast<udp::Socket*>(socket); }
};

class Poller {
 public:
  Poller() = default;
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  /** Unregisters everything still registered (their callbacks are cleared). */
  ~Poller();

  /**
   * Watch @p c for @p interest. Errors: exists (already registered here).
   * If data or a FIN is already queued, a readable event is reported at once.
   */
  Status add(tcp::Connection* c, uint32_t interest, uint64_t cookie);
  /** Watch @p l for ev::accept. Errors: exists. */
  Status add(tcp::Listener* l, uint64_t cookie);
  /** Watch @p s for ev::readable (datagrams or an ICMP error). Errors: exists. */
  Status add(udp::Socket* s, uint64_t cookie);
  /** Change the interest of a registered connection. Errors: not_found. */
  Status modify(tcp::Connection* c, uint32_t interest);
  /**
   * Stop watching @p socket (and forget its pending events). Call it before
   * closing a socket. Errors: not_found.
   */
  Status remove(void* socket);
  /** Copy up to out.size() ready events into @p out and clear them. @return how many. */
  size_t wait(std::span<Event> out);
  /** Sockets registered. */
  size_t size() const noexcept { return regs_.size(); }

 private:
  struct Reg {
    Kind kind;
    void* socket;
    uint32_t interest;
    uint32_t pending = 0;
    uint64_t cookie;
    bool queued = false;
  };
  Reg* find(void* s) noexcept;
  void raise(void* s, uint32_t events);
  std::vector<Reg> regs_;  // small per-core sets: a linear index is fine and cache friendly
  std::vector<void*> ready_;
};

/**
 * Copy all of @p data into @p c, or as much as fits: a convenience over
 * Connection::send_copy for applications that keep their own backlog.
 * @return bytes taken (0 when the buffer is full); errors as send_copy's.
 */
Result<size_t> write_some(tcp::Connection& c, std::span<const uint8_t> data);

/**
 * Copy received data into @p out until it is full or nothing is queued.
 * @return bytes copied; 0 with *eof = true at the end of the stream.
 */
Result<size_t> read_some(tcp::Connection& c, std::span<uint8_t> out, bool* eof = nullptr);

}  // namespace tern::api
