/**
 * @file
 * Readiness events shared by every socket kind (TCP connections and listeners, UDP sockets), and
 * the hook through which a socket reports them to whoever watches it (a Poller registration or a
 * coroutine waiter, lib/api). The engine calls the hook from the core's loop (Core::poll(), after
 * input); nothing here allocates.
 */
#pragma once

#include <cstdint>

namespace tern {

/** Readiness events (bit mask), one enum for every socket kind. */
namespace ev {
inline constexpr uint32_t connected = 1u << 0;    ///< an active open completed
inline constexpr uint32_t accept = 1u << 1;       ///< (listener) connections wait in accept()
inline constexpr uint32_t readable = 1u << 2;     ///< data (or a datagram) arrived, or the peer closed
inline constexpr uint32_t writable = 1u << 3;     ///< send space reached the low-water mark
inline constexpr uint32_t peer_closed = 1u << 4;  ///< the peer's FIN arrived (after all its data)
inline constexpr uint32_t error = 1u << 5;        ///< the socket failed: its error() says why
/// An ICMP error about the socket that does not end it (RFC 5461 §4): soft_error() says which.
inline constexpr uint32_t soft_error = 1u << 6;
/// The peer acknowledged data (TCP, only with Connection::on_sent set).
inline constexpr uint32_t sent = 1u << 7;
inline constexpr uint32_t all = connected | accept | readable | writable | peer_closed | error | soft_error;
}  // namespace ev

/**
 * What a socket calls when it has news for its watcher. A socket holds at most one hook (a null
 * pointer when nobody watches); the watcher owns the hook object and outlives the registration.
 * - events(): from the core's loop with the ev bits that happened since the last call.
 * - closed(): the socket's handle was released (close(), abort(), a listener closed by a drain);
 *   the socket has already forgotten the hook. The watcher must not touch the socket again.
 */
struct EventHook {
  void (*events)(EventHook& self, uint32_t ev) = nullptr;
  void (*closed)(EventHook& self) = nullptr;
};

}  // namespace tern
