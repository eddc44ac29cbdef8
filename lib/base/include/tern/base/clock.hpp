/**
 * @file
 * Monotonic time in nanoseconds. Production code reads the TSC (calibrated
 * once against CLOCK_MONOTONIC); every protocol module takes `now` as a
 * parameter, so tests drive time with plain integers (a fake clock).
 */
#pragma once

#include <cstdint>

namespace tern {

constexpr uint64_t kNsPerUs = 1000;
constexpr uint64_t kNsPerMs = 1000 * 1000;
constexpr uint64_t kNsPerSec = 1000 * 1000 * 1000;

/** Monotonic nanoseconds from the TSC; cheap (no system call). */
uint64_t monotonic_ns() noexcept;

/** TSC ticks per second as calibrated at first use. */
uint64_t tsc_hz() noexcept;

}  // namespace tern
