/**
 * @file
 * CapturePort: RX frames are written after the inner rx_burst() (we own
 * them then); TX frames are copied to a per-queue scratch first and only
 * those the inner port accepted are written, without touching the mbufs
 * once they are handed down.
 */
#include "tern/drivers/capture_port.hpp"

#include <pcap/pcap.h>

#include <algorithm>

namespace tern::drivers {

namespace {

constexpr uint32_t kSnapLen = 65535;

timespec now_realtime() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

// Copy up to @p max bytes of @p m's chain to @p dst; returns bytes copied.
uint32_t copy_chain(const rte_mbuf* m, uint8_t* dst, uint32_t max) {
  uint32_t done = 0;
  for (const rte_mbuf* s = m; s != nullptr && done < max; s = s->next) {
    uint32_t take = std::min<uint32_t>(s->data_len, max - done);
    std::copy_n(rte_pktmbuf_mtod(s, const uint8_t*), take, dst + done);
    done += take;
  }
  return done;
}

}  // namespace

std::unique_ptr<CapturePort> CapturePort::open(std::unique_ptr<Port> inner, const std::string& pcap_path,
                                               std::string& error) {
  error.clear();
  if (!inner) {
    error = "CapturePort: no inner port to capture";
    return nullptr;
  }
  std::unique_ptr<CapturePort> cap(new CapturePort);
  cap->inner_ = std::move(inner);
  const std::string& name = cap->inner_->name();
  cap->pcap_ = pcap_open_dead(DLT_EN10MB, kSnapLen);
  if (cap->pcap_ == nullptr) {
    error = name + ": pcap_open_dead failed (out of memory?)";
    return nullptr;
  }
  cap->dumper_ = pcap_dump_open(cap->pcap_, pcap_path.c_str());
  if (cap->dumper_ == nullptr) {
    error = name + ": cannot open capture file \"" + pcap_path + "\": " + pcap_geterr(cap->pcap_) +
            "; check that the directory exists and is writable";
    return nullptr;
  }
  cap->linear_.resize(kSnapLen);
  cap->tx_.resize(std::max<uint16_t>(cap->inner_->caps().tx_queues, 1));
  for (TxScratch& s : cap->tx_) {
    s.bytes.reserve(64 * 1024);
    s.records.reserve(64);
  }
  return cap;
}

CapturePort::~CapturePort() {
  if (dumper_ != nullptr) {
    pcap_dump_flush(dumper_);
    pcap_dump_close(dumper_);
  }
  if (pcap_ != nullptr) pcap_close(pcap_);
}

void CapturePort::flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  pcap_dump_flush(dumper_);
}

uint64_t CapturePort::frames_written() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return written_;
}

void CapturePort::write_locked(const timespec& ts, const uint8_t* data, uint32_t caplen, uint32_t len) {
  pcap_pkthdr hdr{};
  hdr.ts.tv_sec = ts.tv_sec;
  hdr.ts.tv_usec = static_cast<suseconds_t>(ts.tv_nsec / 1000);
  hdr.caplen = caplen;
  hdr.len = len;
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &hdr, data);
  ++written_;
}

uint16_t CapturePort::rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  const uint16_t got = inner_->rx_burst(queue, pkts, n);
  if (got == 0) return 0;
  const timespec ts = now_realtime();
  std::lock_guard<std::mutex> lock(mutex_);
  for (uint16_t i = 0; i < got; ++i) {
    const rte_mbuf* m = pkts[i];
    const uint32_t caplen = std::min(m->pkt_len, kSnapLen);
    if (m->next == nullptr) {
      write_locked(ts, rte_pktmbuf_mtod(m, const uint8_t*), std::min<uint32_t>(caplen, m->data_len),
                   m->pkt_len);
    } else {
      write_locked(ts, linear_.data(), copy_chain(m, linear_.data(), caplen), m->pkt_len);
    }
  }
  return got;
}

uint16_t CapturePort::tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  if (queue >= tx_.size() || n == 0) return inner_->tx_burst(queue, pkts, n);
  TxScratch& s = tx_[queue];
  s.bytes.clear();
  s.records.clear();
  for (uint16_t i = 0; i < n; ++i) {
    const rte_mbuf* m = pkts[i];
    const uint32_t caplen = std::min(m->pkt_len, kSnapLen);
    const size_t off = s.bytes.size();
    s.bytes.resize(off + caplen);
    s.records.push_back(Record{off, copy_chain(m, s.bytes.data() + off, caplen), m->pkt_len});
  }
  const timespec ts = now_realtime();
  // From here on the accepted mbufs belong to the inner port: only the copies are read.
  const uint16_t sent = inner_->tx_burst(queue, pkts, n);
  if (sent > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (uint16_t i = 0; i < sent; ++i) {
      const Record& r = s.records[i];
      write_locked(ts, s.bytes.data() + r.offset, r.caplen, r.len);
    }
  }
  return sent;
}

}  // namespace tern::drivers
