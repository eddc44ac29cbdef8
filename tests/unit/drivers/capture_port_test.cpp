#include "tern/drivers/capture_port.hpp"

#include <gtest/gtest.h>
#include <sys/time.h>

#include "driver_test_util.hpp"
#include "tern/drivers/pair_wire.hpp"

namespace tern::drivers {
namespace {

using namespace tern::drivers::test;

TEST(CapturePort, WritesExactlyTheReceivedAndTransmittedFrames) {
  PairWire wire(PortCaps{}, PortCaps{});
  TempFile file("capture");
  std::string error;
  timeval start{};
  gettimeofday(&start, nullptr);
  std::vector<Bytes> tx = {frame(1, 60), frame(2, 1514), frame(3, 100)};
  std::vector<Bytes> rx = {frame(10, 80), frame(11, 70)};
  {
    auto cap = CapturePort::open(ref(wire.a()), file.path(), error);
    ASSERT_NE(cap, nullptr) << error;
    EXPECT_EQ(cap->name(), "pair-a");
    EXPECT_EQ(&cap->inner().caps(), &wire.a().caps());
    EXPECT_EQ(send(*cap, tx), 3);
    EXPECT_EQ(drain(wire.b()), tx);
    EXPECT_EQ(send(wire.b(), rx), 2);
    EXPECT_EQ(drain(*cap), rx);
    EXPECT_EQ(cap->frames_written(), 5u);
  }  // flushed and closed here
  auto recs = read_pcap(file.path());
  ASSERT_EQ(recs.size(), 5u);
  std::vector<Bytes> all = {tx[0], tx[1], tx[2], rx[0], rx[1]};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(recs[i].bytes, all[i]) << "record " << i;
    EXPECT_EQ(recs[i].len, all[i].size());
    EXPECT_GE(recs[i].ts.tv_sec, start.tv_sec);
    EXPECT_LE(recs[i].ts.tv_sec, start.tv_sec + 60);
  }
}

TEST(CapturePort, WritesMultiSegmentFramesWhole) {
  PairWire wire(PortCaps{}, PortCaps{});
  TempFile file("capture-seg");
  std::string error;
  const Bytes big = frame(5, 1800), other = frame(6, 700);
  {
    auto cap = CapturePort::open(ref(wire.a()), file.path(), error);
    ASSERT_NE(cap, nullptr) << error;
    EXPECT_EQ(send(*cap, {big}, 0, 200), 1);  // small-pool segments of 200 bytes
    EXPECT_EQ(send(wire.b(), {other}, 0, 100), 1);
    rte_mbuf* m = nullptr;
    ASSERT_EQ(cap->rx_burst(0, &m, 1), 1);
    EXPECT_GT(m->nb_segs, 1);
    EXPECT_EQ(take_bytes(m), other);
    cap->flush();
    auto mid = read_pcap(file.path());  // readable while still capturing
    EXPECT_EQ(mid.size(), 2u);
  }
  drain(wire.b());
  auto recs = read_pcap(file.path());
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].bytes, big);
  EXPECT_EQ(recs[1].bytes, other);
}

TEST(CapturePort, WritesRefusedFramesOnceWhenRetried) {
  PairWire wire(PortCaps{}, PortCaps{}, 2);
  TempFile file("capture-retry");
  std::string error;
  {
    auto cap = CapturePort::open(ref(wire.a()), file.path(), error);
    ASSERT_NE(cap, nullptr) << error;
    std::vector<rte_mbuf*> ms;
    for (uint32_t i = 0; i < 5; ++i) ms.push_back(mbuf_of(frame(i)));
    size_t done = 0;
    int rounds = 0;
    while (done < ms.size() && rounds++ < 10) {
      done += cap->tx_burst(0, ms.data() + done, static_cast<uint16_t>(ms.size() - done));
      drain(wire.b());
    }
    EXPECT_EQ(done, 5u);
    EXPECT_EQ(cap->frames_written(), 5u);
  }
  auto recs = read_pcap(file.path());
  ASSERT_EQ(recs.size(), 5u);
  for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ(recs[i].bytes, frame(i));
}

TEST(CapturePort, ReportsAnUnwritablePath) {
  PairWire wire(PortCaps{}, PortCaps{});
  std::string error;
  auto cap = CapturePort::open(ref(wire.a()), "/nonexistent-tern-dir/x.pcap", error);
  EXPECT_EQ(cap, nullptr);
  EXPECT_NE(error.find("/nonexistent-tern-dir/x.pcap"), std::string::npos) << error;
  auto none = CapturePort::open(nullptr, "/tmp/unused.pcap", error);
  EXPECT_EQ(none, nullptr);
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace tern::drivers
