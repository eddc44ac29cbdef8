/**
 * @file
 * Leveled logging to stderr, printf-style. The level check is inline so a
 * disabled debug line costs one compare on the data path.
 */
#pragma once

#include <string_view>

namespace tern {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

/** The current process-wide threshold (default info). */
LogLevel log_level() noexcept;
/** Set the threshold; lines above it are dropped. */
void set_log_level(LogLevel level) noexcept;
/** Parse "error", "warn", "info" or "debug"; false if unknown. */
bool parse_log_level(std::string_view name, LogLevel& out) noexcept;
/** Write one line (a newline is appended). Use the TERN_LOG_* macros. */
void log_write(LogLevel level, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

}  // namespace tern

#define TERN_LOG(level, ...)                                              \
  do {                                                                    \
    if (static_cast<int>(level) <= static_cast<int>(::tern::log_level())) \
      ::tern::log_write(level, __VA_ARGS__);                              \
  } while (0)
#define TERN_LOG_ERROR(...) TERN_LOG(::tern::LogLevel::error, __VA_ARGS__)
#define TERN_LOG_WARN(...) TERN_LOG(::tern::LogLevel::warn, __VA_ARGS__)
#define TERN_LOG_INFO(...) TERN_LOG(::tern::LogLevel::info, __VA_ARGS__)
#define TERN_LOG_DEBUG(...) TERN_LOG(::tern::LogLevel::debug, __VA_ARGS__)
