/**
 * @file
 * Helpers for the driver tests: frame builders, a non-owning Port adapter
 * (decorators own their inner port; PairWire owns its ends), pcap reading
 * and unique temporary file names.
 */
#pragma once

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tern/drivers/port_ref.hpp"
#include "tern/port/port.hpp"
#include "test_support.hpp"

namespace tern::drivers::test {

using Bytes = std::vector<uint8_t>;

/** An Ethernet frame of @p len bytes (at least 18) whose bytes 14..17 hold @p id. */
inline Bytes frame(uint32_t id, size_t len = 64) {
  Bytes b(std::max<size_t>(len, 18));
  const uint8_t hdr[14] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
  for (size_t i = 0; i < 14; ++i) b[i] = hdr[i];
  b[14] = static_cast<uint8_t>(id >> 24);
  b[15] = static_cast<uint8_t>(id >> 16);
  b[16] = static_cast<uint8_t>(id >> 8);
  b[17] = static_cast<uint8_t>(id);
  for (size_t i = 18; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 7 + id);
  return b;
}

/** The id written by frame(). */
inline uint32_t id_of(const Bytes& b) {
  return (uint32_t{b[14]} << 24) | (uint32_t{b[15]} << 16) | (uint32_t{b[16]} << 8) | b[17];
}

/** A raw mbuf chain holding @p b (segments of at most @p seg bytes); the caller owns it. */
inline rte_mbuf* mbuf_of(const Bytes& b, uint16_t seg = 2048) {
  return tern::test::make_packet(b, seg).release();
}

/** Bytes of @p m, which is then freed. */
inline Bytes take_bytes(rte_mbuf* m) {
  Packet p(m);
  return tern::test::bytes_of(p);
}

/** Send all of @p frames on @p port queue @p q; returns how many were accepted (the rest are freed). */
inline uint16_t send(Port& port, const std::vector<Bytes>& frames, uint16_t q = 0, uint16_t seg = 2048) {
  std::vector<rte_mbuf*> ms;
  for (const Bytes& b : frames) ms.push_back(mbuf_of(b, seg));
  const uint16_t sent = port.tx_burst(q, ms.data(), static_cast<uint16_t>(ms.size()));
  for (size_t i = sent; i < ms.size(); ++i) rte_pktmbuf_free(ms[i]);
  return sent;
}

/** Receive everything queued on @p port queue @p q, as bytes (mbufs freed). */
inline std::vector<Bytes> drain(Port& port, uint16_t q = 0, int max_empty_polls = 1) {
  std::vector<Bytes> out;
  rte_mbuf* ms[32];
  int empty = 0;
  while (empty < max_empty_polls) {
    const uint16_t n = port.rx_burst(q, ms, 32);
    if (n == 0) {
      ++empty;
      continue;
    }
    for (uint16_t i = 0; i < n; ++i) out.push_back(take_bytes(ms[i]));
  }
  return out;
}

/** A fresh temporary path, unique per process and call; removed by the destructor. */
class TempFile {
 public:
  explicit TempFile(const char* tag) {
    static std::atomic<int> seq{0};
    const char* dir = getenv("TMPDIR");
    path_ = std::string(dir != nullptr ? dir : "/tmp") + "/tern-drivers-" + tag + "-" +
            std::to_string(getpid()) + "-" + std::to_string(seq++) + ".pcap";
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/** One pcap record. */
struct Record {
  Bytes bytes;
  uint32_t len;
  timeval ts;
};

/** Every record of the pcap file @p path (fails the test if unreadable). */
inline std::vector<Record> read_pcap(const std::string& path) {
  std::vector<Record> out;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  EXPECT_NE(p, nullptr) << err;
  if (p == nullptr) return out;
  EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) out.push_back(Record{Bytes(data, data + h->caplen), h->len, h->ts});
  pcap_close(p);
  return out;
}

/** Write @p frames to a new pcap file @p path. */
inline void write_pcap(const std::string& path, const std::vector<Bytes>& frames) {
  pcap_t* p = pcap_open_dead(DLT_EN10MB, 65535);
  pcap_dumper_t* d = pcap_dump_open(p, path.c_str());
  ASSERT_NE(d, nullptr) << pcap_geterr(p);
  for (const Bytes& b : frames) {
    pcap_pkthdr h{};
    h.caplen = h.len = static_cast<uint32_t>(b.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, b.data());
  }
  pcap_dump_close(d);
  pcap_close(p);
}

}  // namespace tern::drivers::test
