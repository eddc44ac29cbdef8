/**
 * @file
 * Error codes and a small Result<T> (a value or an Error) used across tern.
 * Error reasons are static strings, so returning an error never allocates.
 */
#pragma once

#include <cassert>
#include <string_view>
#include <utility>
#include <variant>

namespace tern {

/** Broad error classes; Error::reason says exactly what was wrong. */
enum class Errc {
  truncated,           ///< input shorter than the format requires
  bad_length,          ///< a length field disagrees with the data
  bad_version,         ///< wrong protocol version
  bad_header,          ///< an inconsistent header field (IHL, data offset, ...)
  bad_option,          ///< a malformed option
  bad_checksum,        ///< checksum mismatch
  bad_value,           ///< a field value that is not allowed
  unsupported,         ///< valid but not handled
  not_found,           ///< no such entry
  exists,              ///< entry already present (e.g. port already bound)
  no_memory,           ///< a pool or bound is exhausted
  no_route,            ///< no route to the destination
  would_block,         ///< retry later (queue full, resolution pending)
  invalid_argument,    ///< the caller passed something unusable
  io,                  ///< a device or system call failed
  connection_refused,  ///< the peer answered a connection attempt with a reset (or port unreachable)
  connection_reset,    ///< the peer reset an established connection
  timed_out,           ///< retransmissions or keepalive probes went unanswered
  host_unreachable,    ///< ICMP reported the destination unreachable
  not_connected,       ///< the operation needs a connection that is not (or no longer) there
  closed,              ///< the socket was shut down for this direction
  bad_handle,          ///< a handle to a socket (or timer) that was closed: its slot may be reused
};

/** Human-readable name of an error class. */
std::string_view to_string(Errc e) noexcept;

/** An error class plus a static, human-readable reason. */
struct Error {
  Errc code;
  std::string_view reason;  ///< points to static storage
};

/** Either a T or an Error. */
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error e) : v_(e) {}                 // NOLINT(google-explicit-constructor)
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  /** The value, or @p fallback when this holds an error. */
  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

/** Result without a value: success or an Error. */
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(e), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return err_;
  }

 private:
  Error err_{Errc::invalid_argument, {}};
  bool ok_ = true;
};

using Status = Result<void>;

/** Shorthand for building an Error. */
constexpr Error make_error(Errc code, std::string_view reason) noexcept { return Error{code, reason}; }

}  // namespace tern
