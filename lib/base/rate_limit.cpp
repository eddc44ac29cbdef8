#include "tern/base/rate_limit.hpp"

namespace tern {

KeyedLimiter::KeyedLimiter(uint32_t slots, uint32_t rate, uint32_t burst, const SipKey& key)
    : rule_(rate, burst), key_(key) {
  uint64_t n = 1;
  while (n < slots && n < (1u << 20)) n <<= 1;
  slots_.resize(n);
  mask_ = n - 1;
}

bool KeyedLimiter::take(uint32_t k, uint64_t now) noexcept {
  Slot& s = slots_[siphash24(key_, k, 0) & mask_];
  if (!s.used || s.key != k) s = Slot{0, k, true};  // a new key: a full bucket (see the class comment)
  return rule_.take(s.tat, now);
}

}  // namespace tern
