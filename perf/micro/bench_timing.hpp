/**
 * @file
 * Timing for benchmarks that work in batches with an untimed set-up or undo
 * between them. PauseTiming()/ResumeTiming() read the process CPU clock, a
 * system call that costs ~0.7 us on these VMs, as much as a whole batch of
 * the operations measured here; so those benchmarks use manual time:
 * UseManualTime(), a SectionTimer around the timed part (two steady_clock
 * reads, ~30 ns, per batch), and per_item() for items/s and the time per
 * item (counter "per_item", printed with an SI suffix: 12.3n = 12.3 ns).
 *
 * Wall time counts the time the thread was switched out (the 2-vCPU
 * machines are shared): a batch during which the thread was context-switched
 * (getrusage, read outside the timed part) is counted with the time of the
 * last clean batch instead, and counter "preempted" (shown when not 0) says
 * how many batches that was. The "Time" column is per batch and "CPU"
 * includes the untimed set-up: read per_item and items_per_second.
 */
#pragma once

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>

namespace tern::perf {

class SectionTimer {
 public:
  void start() noexcept {
    sw0_ = switches();
    t0_ = std::chrono::steady_clock::now();
  }
  void stop() noexcept {
    total_ += std::chrono::steady_clock::now() - t0_;
    if (switches() != sw0_) clean_ = false;
  }
  /** Give this iteration's timed sections to @p st and start over. */
  void report(benchmark::State& st) noexcept {
    double s = std::chrono::duration<double>(total_).count();
    if (clean_) {
      last_clean_ = s;
    } else {
      ++preempted_;
      if (last_clean_ > 0) s = last_clean_;
    }
    st.SetIterationTime(s);
    total_ = {};
    clean_ = true;
  }
  int64_t preempted() const noexcept { return preempted_; }

 private:
  static long switches() noexcept {
    rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_nivcsw + ru.ru_nvcsw;
  }
  std::chrono::steady_clock::time_point t0_;
  std::chrono::steady_clock::duration total_{};
  long sw0_ = 0;
  bool clean_ = true;
  double last_clean_ = 0;
  int64_t preempted_ = 0;
};

/** Items/s and time per item for @p per_iteration items in each iteration. */
inline void per_item(benchmark::State& st, int64_t per_iteration, const SectionTimer* clock = nullptr) {
  const int64_t n = static_cast<int64_t>(st.iterations()) * per_iteration;
  st.SetItemsProcessed(n);
  st.counters["per_item"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  if (clock != nullptr && clock->preempted() != 0)
    st.counters["preempted"] = static_cast<double>(clock->preempted());
}

}  // namespace tern::perf
