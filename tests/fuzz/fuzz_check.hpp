/**
 * @file
 * Shared helpers of the wire libFuzzer targets: a check that aborts (so
 * libFuzzer saves the input as a crash) and a check of rejected inputs.
 */
#pragma once

#include <cstdio>
#include <cstdlib>

#include "tern/base/result.hpp"

/** Abort with a message when @p cond is false: libFuzzer records the input as a crash. */
#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace tern::wire::fuzz {

/** Every rejection must carry a reason. */
inline void check_rejection(const Error& e) { FUZZ_CHECK(!e.reason.empty()); }

}  // namespace tern::wire::fuzz
