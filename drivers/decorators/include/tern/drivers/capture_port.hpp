/**
 * @file
 * CapturePort: a decorator that writes every frame a port receives and
 * every frame it accepts for transmit to a pcap file (libpcap, DLT_EN10MB,
 * microsecond timestamps from CLOCK_REALTIME, snaplen 65535). A debugging
 * feature, off by default: it copies and takes a mutex per burst.
 *
 * TX rule: a frame is written only if the inner port accepted it, so a
 * frame refused and retried later is written once. Its bytes are copied to
 * a per-queue scratch before the burst is handed down (the inner port may
 * free or modify the mbuf as soon as it owns it) and written afterwards.
 */
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tern/port/port.hpp"

struct pcap;
struct pcap_dumper;

namespace tern::drivers {

/**
 * Wraps a Port and records its traffic. Name, caps, link and stats are the
 * inner port's. Queues may run on different cores: writes to the file are
 * serialised by a mutex. Not copyable or movable.
 */
class CapturePort final : public Port {
 public:
  /**
   * Start capturing @p inner's traffic into a new pcap file.
   * @param inner the port to wrap (owned from now on, also on failure).
   * @param pcap_path file to create or truncate.
   * @param error on failure, what went wrong and what to do.
   * @return the decorator, or null with @p error set.
   */
  static std::unique_ptr<CapturePort> open(std::unique_ptr<Port> inner, const std::string& pcap_path,
                                           std::string& error);
  /** Flushes and closes the file, then destroys the inner port. */
  ~CapturePort() override;
  CapturePort(const CapturePort&) = delete;
  CapturePort& operator=(const CapturePort&) = delete;

  /** The wrapped port. */
  Port& inner() noexcept { return *inner_; }
  /** Push buffered records to the file (so it can be read while capturing). */
  void flush();
  /** Frames written so far (rx + tx). */
  uint64_t frames_written() const;

  const std::string& name() const override { return inner_->name(); }
  const PortCaps& caps() const override { return inner_->caps(); }
  /** Receives from the inner port and writes each received frame whole. */
  uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override;
  /**
   * Copies the frames' bytes, hands them to the inner port, and writes the
   * ones it accepted. Ownership as Port::tx_burst(). A @p queue beyond
   * caps().tx_queues is passed down uncaptured.
   */
  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override;
  LinkStatus link() const override { return inner_->link(); }
  PortStats stats() const override { return inner_->stats(); }
  /** Forwards to the inner port. */
  void poll(uint16_t queue, uint64_t now_ns) override { inner_->poll(queue, now_ns); }
  bool rss_state(RssState& out) const override { return inner_->rss_state(out); }

 private:
  struct Record {
    size_t offset;    // into TxScratch::bytes
    uint32_t caplen;  // bytes stored
    uint32_t len;     // frame length on the wire
  };
  struct TxScratch {  // one per TX queue, used only by that queue's core
    std::vector<uint8_t> bytes;
    std::vector<Record> records;
  };

  CapturePort() = default;
  // Write one record; mutex_ held.
  void write_locked(const timespec& ts, const uint8_t* data, uint32_t caplen, uint32_t len);

  std::unique_ptr<Port> inner_;
  pcap* pcap_ = nullptr;
  pcap_dumper* dumper_ = nullptr;
  mutable std::mutex mutex_;
  std::vector<uint8_t> linear_;  // rx: flattened multi-segment frame; mutex_ held
  uint64_t written_ = 0;         // mutex_ held
  std::vector<TxScratch> tx_;
};

}  // namespace tern::drivers
