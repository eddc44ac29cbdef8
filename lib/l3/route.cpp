#include "tern/l3/route.hpp"

namespace tern::l3 {

namespace {
uint32_t mask_of(uint8_t len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
}  // namespace

Status RouteTable::add(const Route& route) {
  if (route.prefix.len > 32) return make_error(Errc::invalid_argument, "prefix length above 32");
  Route r = route;
  r.prefix.addr.v &= mask_of(r.prefix.len);
  auto& m = by_len_[r.prefix.len];
  auto [it, inserted] = m.insert_or_assign(r.prefix.addr.v, r);
  (void)it;
  if (inserted) ++count_;
  lens_ |= uint64_t{1} << r.prefix.len;
  return {};
}

bool RouteTable::remove(const wire::Ipv4Prefix& prefix) {
  if (prefix.len > 32) return false;
  auto& m = by_len_[prefix.len];
  if (m.erase(prefix.addr.v & mask_of(prefix.len)) == 0) return false;
  --count_;
  if (m.empty()) lens_ &= ~(uint64_t{1} << prefix.len);
  return true;
}

const Route* RouteTable::lookup(wire::Ipv4Addr dst) const noexcept {
  uint64_t lens = lens_;
  while (lens != 0) {
    int len = 63 - __builtin_clzll(lens);  // longest remaining length first
    lens &= ~(uint64_t{1} << len);
    const auto& m = by_len_[len];
    auto it = m.find(dst.v & mask_of(static_cast<uint8_t>(len)));
    if (it != m.end()) return &it->second;
  }
  return nullptr;
}

}  // namespace tern::l3
