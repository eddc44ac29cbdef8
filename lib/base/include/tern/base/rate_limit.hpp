/**
 * @file
 * Rate limiters for replies the stack owes to what it receives (challenge
 * ACKs, ICMP errors, echo replies). Three shapes:
 *  - TokenBucket: a rate and a burst, state of one owner (one connection,
 *    one peer). Integer GCRA ("virtual scheduling", ITU-T I.371): 8 bytes.
 *  - RandomBudget: a budget shared by many peers whose window length and size
 *    are drawn at random each time a window opens, so an off-path host that
 *    exhausts it cannot tell from the count it gets whether someone else
 *    spent part of it (the side channel of CVE-2016-5696).
 *  - KeyedLimiter: a TokenBucket per key (peer address) in a fixed table,
 *    so one peer spends only its own allowance.
 * Time is passed in nanoseconds (fake clocks in tests); single-threaded.
 */
#pragma once

#include <cstdint>
#include <vector>

#include "tern/base/siphash.hpp"

namespace tern {

/** The rule of a token bucket (GCRA): @p rate events per second, bursts of @p burst; rate 0 means unlimited.
 */
class Gcra {
 public:
  /** @param rate events per second (0: unlimited); @param burst depth, at least 1. */
  Gcra(uint32_t rate, uint32_t burst) noexcept
      : interval_ns_(rate == 0 ? 0 : 1'000'000'000ull / rate),
        slack_ns_(interval_ns_ * ((burst == 0 ? 1 : burst) - 1)) {}
  /**
   * Take one token at @p now from the bucket whose theoretical arrival time is @p tat (0: full);
   * false (and @p tat unchanged) when none is left.
   */
  bool take(uint64_t& tat, uint64_t now) const noexcept {
    if (interval_ns_ == 0) return true;
    // Conforming unless the theoretical arrival time is more than the burst ahead of now.
    const uint64_t t = tat > now ? tat : now;
    if (t - now > slack_ns_) return false;
    tat = t + interval_ns_;
    return true;
  }

 private:
  uint64_t interval_ns_;
  uint64_t slack_ns_;
};

/** One owner's bucket (one connection, one peer): a Gcra and its state. */
class TokenBucket {
 public:
  /** @param rate events per second (0: unlimited); @param burst depth, at least 1. */
  TokenBucket(uint32_t rate = 0, uint32_t burst = 1) noexcept : rule_(rate, burst) {}
  /** Take one token at @p now; false (and no state change) when none is left. */
  bool take(uint64_t now) noexcept { return rule_.take(tat_, now); }

 private:
  Gcra rule_;
  uint64_t tat_ = 0;
};

/**
 * On average @p per_second events per second, in windows of random length
 * (uniform in [0.5, 1.5) s) each with a random budget (uniform in
 * [n/2, 3n/2) for a window of mean budget n). Linux randomises the size of its
 * challenge-ACK budget the same way (after CVE-2016-5696); tern randomises the
 * window too, so that when a window opens cannot be found by timing either.
 */
class RandomBudget {
 public:
  /** @param per_second mean events per second (0: nothing allowed); @param rng not owned, outlives this. */
  RandomBudget(uint32_t per_second, SecretRandom& rng) noexcept : rate_(per_second), rng_(&rng) {}
  /** Spend one event at @p now; false (counted by the caller) when this window's budget is gone. */
  bool take(uint64_t now) noexcept {
    if (now >= window_end_) open(now);
    if (left_ == 0) return false;
    --left_;
    return true;
  }

 private:
  void open(uint64_t now) noexcept {
    const uint64_t len = 500'000'000 + rng_->below(1'000'000'000);
    // In thousandths of an event: the mean for a window this long, then uniform in
    // [mean/2, 3 mean/2], rounded at random so that low rates keep their mean.
    const uint64_t mean = uint64_t{rate_} * len / 1'000'000;
    const uint64_t milli = mean / 2 + rng_->below(mean + 1);
    left_ = milli / 1000 + (rng_->below(1000) < milli % 1000 ? 1 : 0);
    window_end_ = now + len;
  }

  uint32_t rate_;
  SecretRandom* rng_;
  uint64_t window_end_ = 0;
  uint64_t left_ = 0;
};

/**
 * A TokenBucket per 32-bit key (an IPv4 address) in a fixed direct-mapped
 * table whose index is a keyed hash: bounded memory, O(1), no allocation
 * after construction. A key that lands on a slot another key holds takes it
 * over with a full bucket, so colliding keys can only ever give each other
 * more allowance, never less; the index is secret, so collisions cannot be
 * chosen. Whatever it allows, a global limit still applies on top.
 */
class KeyedLimiter {
 public:
  /**
   * @param slots table size, rounded up to a power of two (16 bytes each).
   * @param rate events per second per key (0: unlimited); @param burst depth per key.
   * @param key secret for the index hash.
   */
  KeyedLimiter(uint32_t slots, uint32_t rate, uint32_t burst, const SipKey& key);
  /** Take one token of @p k at @p now. */
  bool take(uint32_t k, uint64_t now) noexcept;

 private:
  struct Slot {
    uint64_t tat = 0;
    uint32_t key = 0;
    bool used = false;
  };
  Gcra rule_;
  std::vector<Slot> slots_;
  uint64_t mask_;
  SipKey key_;
};

}  // namespace tern
