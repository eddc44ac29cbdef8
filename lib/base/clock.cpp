#include "tern/base/clock.hpp"

#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define TERN_HAVE_TSC 1
#endif

namespace tern {

namespace {

uint64_t clock_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSec + static_cast<uint64_t>(ts.tv_nsec);
}

#ifdef TERN_HAVE_TSC
struct Calibration {
  uint64_t hz;
  uint64_t tsc0;
  uint64_t ns0;
  Calibration() {
    uint64_t n0 = clock_ns();
    uint64_t t0 = __rdtsc();
    timespec req{0, 20 * 1000 * 1000};
    nanosleep(&req, nullptr);
    uint64_t n1 = clock_ns();
    uint64_t t1 = __rdtsc();
    hz = (t1 - t0) * kNsPerSec / (n1 - n0);
    if (hz == 0) hz = 1;
    tsc0 = t1;
    ns0 = n1;
  }
};
const Calibration& calibration() {
  static const Calibration c;
  return c;
}
#endif

}  // namespace

uint64_t monotonic_ns() noexcept {
#ifdef TERN_HAVE_TSC
  const Calibration& c = calibration();
  uint64_t dt = __rdtsc() - c.tsc0;
  // Split to avoid overflow of dt * 1e9 for long uptimes.
  uint64_t sec = dt / c.hz;
  uint64_t rem = dt % c.hz;
  return c.ns0 + sec * kNsPerSec + rem * kNsPerSec / c.hz;
#else
  return clock_ns();
#endif
}

uint64_t tsc_hz() noexcept {
#ifdef TERN_HAVE_TSC
  return calibration().hz;
#else
  return kNsPerSec;
#endif
}

}  // namespace tern
