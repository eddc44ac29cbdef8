#include "tern/l3/route.hpp"

namespace tern::l3 {

namespace {
uint32_t mask_of(uint8_t len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
constexpr size_t kMaxIds = 0x00ff'ffff;
}  // namespace

RouteTable::RouteTable() : l1_(65536, 0) {}

RouteTable::RouteTable(const RouteTable& o)
    : by_len_(o.by_len_), l1_(o.l1_), groups_(o.groups_), free_ids_(o.free_ids_), count_(o.count_) {
  // The index names routes by id; the pointers must point into our own maps.
  routes_.assign(o.routes_.size(), nullptr);
  for (const auto& m : by_len_) {
    for (const auto& [k, e] : m) routes_[e.id - 1] = &e.route;
  }
}

RouteTable& RouteTable::operator=(const RouteTable& o) {
  if (this != &o) {
    RouteTable copy(o);
    *this = std::move(copy);
  }
  return *this;
}

Status RouteTable::add(const Route& route) {
  if (route.prefix.len > 32) return make_error(Errc::invalid_argument, "prefix length above 32");
  Route r = route;
  r.prefix.addr.v &= mask_of(r.prefix.len);
  auto& m = by_len_[r.prefix.len];
  auto it = m.find(r.prefix.addr.v);
  if (it != m.end()) {
    it->second.route = r;  // same prefix: same id, the index already points here
    return {};
  }
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    if (routes_.size() >= kMaxIds) return make_error(Errc::no_memory, "route table full (2^24 routes)");
    routes_.push_back(nullptr);
    id = static_cast<uint32_t>(routes_.size());
  }
  Entry& e = m.emplace(r.prefix.addr.v, Entry{r, id}).first->second;
  routes_[id - 1] = &e.route;
  ++count_;
  if (auto s = paint(e.route, id); !s) {
    remove(r.prefix);  // undo: the index may hold a partial range
    return s;
  }
  return {};
}

bool RouteTable::remove(const wire::Ipv4Prefix& prefix) {
  if (prefix.len > 32) return false;
  auto& m = by_len_[prefix.len];
  auto it = m.find(prefix.addr.v & mask_of(prefix.len));
  if (it == m.end()) return false;
  routes_[it->second.id - 1] = nullptr;
  free_ids_.push_back(it->second.id);
  m.erase(it);
  --count_;
  rebuild();  // rare: painting cannot tell which shorter route lies underneath
  return true;
}

void RouteTable::rebuild() {
  std::fill(l1_.begin(), l1_.end(), 0);
  groups_.clear();
  for (const auto& m : by_len_) {
    for (const auto& [k, e] : m) (void)paint(e.route, e.id);  // groups only shrink on rebuild
  }
}

// Overwrite a leaf painted by a prefix no longer than @p len; descend into groups.
void RouteTable::paint_slot(uint32_t& slot, uint32_t value, uint8_t len) {
  if (slot & kGroup) {
    const size_t g = size_t{slot & kIdMask} << 8;
    for (size_t k = 0; k < 256; ++k) paint_slot(groups_[g + k], value, len);
    return;
  }
  if (((slot >> 24) & 0x3f) <= len) slot = value;
}

// The group behind @p slot, made from the slot's leaf when it is one.
// @p slot must not live in groups_ across the resize: callers pass a copy index.
Result<uint32_t> RouteTable::group_for(uint32_t& slot) {
  if (slot & kGroup) return slot & kIdMask;
  const size_t g = groups_.size() / 256;
  if (g >= kMaxIds) return make_error(Errc::no_memory, "route index full (2^24 groups)");
  groups_.resize(groups_.size() + 256, slot);  // the group starts as the leaf it refines
  return static_cast<uint32_t>(g);
}

Status RouteTable::paint(const Route& r, uint32_t id) {
  const uint32_t p = r.prefix.addr.v;
  const uint8_t len = r.prefix.len;
  const uint32_t v = leaf(len, id);
  if (len <= 16) {
    const uint32_t first = p >> 16;
    for (uint32_t i = 0; i < (1u << (16 - len)); ++i) paint_slot(l1_[first + i], v, len);
    return {};
  }
  uint32_t& s1 = l1_[p >> 16];
  auto g2 = group_for(s1);
  if (!g2) return g2.error();
  s1 = kGroup | *g2;
  if (len <= 24) {
    const size_t first = (size_t{*g2} << 8) | ((p >> 8) & 0xff);
    for (uint32_t j = 0; j < (1u << (24 - len)); ++j) paint_slot(groups_[first + j], v, len);
    return {};
  }
  const size_t i2 = (size_t{*g2} << 8) | ((p >> 8) & 0xff);
  uint32_t s2 = groups_[i2];  // a copy: group_for may move groups_
  auto g3 = group_for(s2);
  if (!g3) return g3.error();
  groups_[i2] = kGroup | *g3;
  const size_t first = (size_t{*g3} << 8) | (p & 0xff);
  for (uint32_t k = 0; k < (1u << (32 - len)); ++k) paint_slot(groups_[first + k], v, len);
  return {};
}

}  // namespace tern::l3
