#include "tern/base/rate_limit.hpp"

namespace tern {

KeyedLimiter::KeyedLimiter(uint32_t slots, uint32_t rate, uint32_t burst, const SipKey& key)
    : interval_ns_(rate == 0 ? 0 : 1'000'000'000ull / rate),
      slack_ns_(interval_ns_ * ((burst == 0 ? 1 : burst) - 1)),
      key_(key) {
  uint64_t n = 1;
  while (n < slots && n < (1u << 20)) n <<= 1;
  slots_.resize(n);
  mask_ = n - 1;
}

bool KeyedLimiter::take(uint32_t k, uint64_t now) noexcept {
  if (interval_ns_ == 0) return true;
  Slot& s = slots_[siphash24(key_, k, 0) & mask_];
  if (!s.used || s.key != k) s = Slot{0, k, true};  // a new key: a full bucket (see the class comment)
  uint64_t tat = s.tat > now ? s.tat : now;
  if (tat - now > slack_ns_) return false;
  s.tat = tat + interval_ns_;
  return true;
}

}  // namespace tern
