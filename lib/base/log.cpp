#include "tern/base/log.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdio>

#include "tern/base/result.hpp"

namespace tern {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
const char* const kNames[] = {"error", "warn", "info", "debug"};
}  // namespace

LogLevel log_level() noexcept { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

void set_log_level(LogLevel level) noexcept {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool parse_log_level(std::string_view name, LogLevel& out) noexcept {
  for (int i = 0; i < 4; ++i) {
    if (name == kNames[i]) {
      out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

void log_write(LogLevel level, const char* fmt, ...) noexcept {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "tern %s: %s\n", kNames[static_cast<int>(level)], buf);
}

std::string_view to_string(Errc e) noexcept {
  switch (e) {
    case Errc::truncated:
      return "truncated";
    case Errc::bad_length:
      return "bad_length";
    case Errc::bad_version:
      return "bad_version";
    case Errc::bad_header:
      return "bad_header";
    case Errc::bad_option:
      return "bad_option";
    case Errc::bad_checksum:
      return "bad_checksum";
    case Errc::bad_value:
      return "bad_value";
    case Errc::unsupported:
      return "unsupported";
    case Errc::not_found:
      return "not_found";
    case Errc::exists:
      return "exists";
    case Errc::no_memory:
      return "no_memory";
    case Errc::no_route:
      return "no_route";
    case Errc::would_block:
      return "would_block";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::io:
      return "io";
    case Errc::connection_refused:
      return "connection_refused";
    case Errc::connection_reset:
      return "connection_reset";
    case Errc::timed_out:
      return "timed_out";
    case Errc::host_unreachable:
      return "host_unreachable";
    case Errc::not_connected:
      return "not_connected";
    case Errc::closed:
      return "closed";
    case Errc::bad_handle:
      return "bad_handle";
  }
  return "unknown";
}

}  // namespace tern
