/**
 * @file
 * PortTable: pointers by 16-bit port number (TCP listeners, UDP sockets) in
 * O(1), two loads, with memory only for the 256-port pages in use: a core
 * costs 2 KiB for it instead of 512 KiB filled at start-up.
 */
#pragma once

#include <array>
#include <cstdint>
#include <memory>

namespace tern {

/** Port -> T*, not owning. Empty slots are null. Single-threaded (one core's). */
template <typename T>
class PortTable {
 public:
  /** The entry of @p port, or null. */
  T* get(uint16_t port) const noexcept {
    const Page* pg = pages_[port >> 8].get();
    return pg != nullptr ? (*pg)[port & 0xffu] : nullptr;
  }
  /** Set the entry of @p port (null clears it). Allocates a 2 KiB page on first use; throws std::bad_alloc.
   */
  void set(uint16_t port, T* value) {
    std::unique_ptr<Page>& pg = pages_[port >> 8];
    if (pg == nullptr) {
      if (value == nullptr) return;
      pg = std::make_unique<Page>();
      pg->fill(nullptr);
    }
    (*pg)[port & 0xffu] = value;
  }
  /** Call @p fn(port, T*) for every non-null entry, in port order (fn may clear entries). */
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (uint32_t hi = 0; hi < 256; ++hi) {
      const Page* pg = pages_[hi].get();
      if (pg == nullptr) continue;
      for (uint32_t lo = 0; lo < 256; ++lo) {
        if (T* v = (*pg)[lo]) fn(static_cast<uint16_t>(hi << 8 | lo), v);
      }
    }
  }

 private:
  using Page = std::array<T*, 256>;
  std::array<std::unique_ptr<Page>, 256> pages_;
};

}  // namespace tern
