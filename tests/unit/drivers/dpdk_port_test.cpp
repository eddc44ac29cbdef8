#include "tern/drivers/dpdk_port.hpp"

#include <gtest/gtest.h>
#include <net/if.h>
#include <rte_dev.h>

#include "driver_test_util.hpp"

namespace tern::drivers {
namespace {

using namespace tern::drivers::test;
using tern::test::pool;

DpdkPortOptions ring_options(const std::string& devargs) {
  DpdkPortOptions o;
  o.name = "ring";
  o.devargs = devargs;
  o.rx_desc = 256;
  o.tx_desc = 256;
  o.rx_pools = {pool()};
  return o;
}

TEST(DpdkPort, RingLoopsTransmittedFramesBackToReceive) {
  std::string error;
  auto port = DpdkPort::open(ring_options("net_ring0"), error);
  ASSERT_NE(port, nullptr) << error;
  EXPECT_TRUE(error.empty());
  EXPECT_EQ(port->name(), "ring");
  EXPECT_EQ(port->device_name(), "net_ring0");
  uint16_t pid = 0;
  ASSERT_EQ(rte_eth_dev_get_port_by_name("net_ring0", &pid), 0);
  EXPECT_EQ(port->port_id(), pid);
  EXPECT_EQ(port->caps().rx_queues, 1);
  EXPECT_EQ(port->caps().tx_queues, 1);
  EXPECT_EQ(port->caps().mtu, 1500);
  EXPECT_FALSE(port->caps().rss);  // one ring: no hash key

  std::vector<Bytes> fs;
  for (uint32_t i = 0; i < 20; ++i) fs.push_back(frame(i, 60 + 50 * i));
  EXPECT_EQ(send(*port, fs), 20);
  EXPECT_EQ(drain(*port), fs);
  const PortStats st = port->stats();
  EXPECT_EQ(st.tx_packets, 20u);
  EXPECT_EQ(st.rx_packets, 20u);
  EXPECT_TRUE(port->link().up);
}

TEST(DpdkPort, RingLoopsEachQueueBackToTheSameQueue) {
  DpdkPortOptions o = ring_options("net_ring4");
  o.rx_queues = o.tx_queues = 4;
  o.rx_pools = {pool(), pool(), pool(), pool()};
  std::string error;
  auto port = DpdkPort::open(o, error);
  ASSERT_NE(port, nullptr) << error;
  EXPECT_EQ(port->caps().rx_queues, 4);
  EXPECT_EQ(port->caps().tx_queues, 4);
  for (uint16_t q = 0; q < 4; ++q) EXPECT_EQ(send(*port, {frame(q)}, q), 1);
  for (uint16_t q = 0; q < 4; ++q) {
    auto got = drain(*port, q);
    ASSERT_EQ(got.size(), 1u) << "queue " << q;
    EXPECT_EQ(id_of(got[0]), q);
  }
}

TEST(DpdkPort, ClosesAndRemovesAProbedDeviceSoItCanBeOpenedAgain) {
  for (int round = 0; round < 3; ++round) {
    std::string error;
    auto port = DpdkPort::open(ring_options("net_ring1"), error);
    ASSERT_NE(port, nullptr) << "round " << round << ": " << error;
    // Frames left in the loopback ring are freed by the destructor (the leak check watches).
    EXPECT_EQ(send(*port, {frame(1), frame(2)}), 2);
  }
  uint16_t pid = 0;
  EXPECT_NE(rte_eth_dev_get_port_by_name("net_ring1", &pid), 0);
}

TEST(DpdkPort, UsesAnExistingPortOfTheSameNameAndLeavesTheDeviceInPlace) {
  ASSERT_EQ(rte_dev_probe("net_ring2"), 0);
  uint16_t pid = 0;
  ASSERT_EQ(rte_eth_dev_get_port_by_name("net_ring2", &pid), 0);
  {
    std::string error;
    DpdkPortOptions bad = ring_options("net_ring2");
    bad.rx_queues = 64;
    EXPECT_EQ(DpdkPort::open(bad, error), nullptr);  // a failed open leaves the existing port usable
    auto port = DpdkPort::open(ring_options("net_ring2"), error);
    ASSERT_NE(port, nullptr) << error;
    EXPECT_EQ(port->port_id(), pid);
    EXPECT_EQ(send(*port, {frame(3)}), 1);
    EXPECT_EQ(drain(*port).size(), 1u);
  }
  // The port is closed, the device itself (not probed by DpdkPort) stays until its owner removes it.
  EXPECT_EQ(rte_eal_hotplug_remove("vdev", "net_ring2"), 0);
}

TEST(DpdkPort, PcapReadsTheRxFileAndWritesTransmittedFrames) {
  TempFile in("dpdk-rx"), out("dpdk-tx");
  std::vector<Bytes> incoming = {frame(1, 60), frame(2, 1514), frame(3, 200)};
  write_pcap(in.path(), incoming);
  std::vector<Bytes> outgoing = {frame(10, 64), frame(11, 1000), frame(12, 1400)};
  {
    DpdkPortOptions o;
    o.name = "pcap";
    o.devargs = "net_pcap0,rx_pcap=" + in.path() + ",tx_pcap=" + out.path();
    o.rx_pools = {pool()};
    o.rx_desc = o.tx_desc = 128;
    o.mac = std::array<uint8_t, 6>{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    std::string error;
    auto port = DpdkPort::open(o, error);
    ASSERT_NE(port, nullptr) << error;
    EXPECT_EQ(port->caps().mac, *o.mac);
    EXPECT_EQ(drain(*port, 0, 8), incoming);
    EXPECT_EQ(send(*port, {outgoing[0]}), 1);
    EXPECT_EQ(send(*port, {outgoing[1], outgoing[2]}, 0, 128), 2);  // multi-segment frames
    EXPECT_EQ(port->stats().tx_packets, 3u);
  }  // closing the device flushes its tx file
  auto recs = read_pcap(out.path());
  ASSERT_EQ(recs.size(), outgoing.size());
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].bytes, outgoing[i]) << "record " << i;
}

TEST(DpdkPort, BadDevargsGiveAClearErrorAndNoPort) {
  std::string error;
  auto port = DpdkPort::open(ring_options("net_nosuchdriver0,foo=bar"), error);
  EXPECT_EQ(port, nullptr);
  EXPECT_NE(error.find("cannot probe"), std::string::npos) << error;
  EXPECT_NE(error.find("net_nosuchdriver0,foo=bar"), std::string::npos) << error;

  port = DpdkPort::open(ring_options(""), error);
  EXPECT_EQ(port, nullptr);
  EXPECT_NE(error.find("devargs is empty"), std::string::npos) << error;

  port = DpdkPort::open(ring_options("net_pcap9,rx_pcap=/nonexistent-tern-dir/in.pcap"), error);
  EXPECT_EQ(port, nullptr);
  EXPECT_NE(error.find("cannot probe"), std::string::npos) << error;
}

TEST(DpdkPort, RejectsUnusableOptionsWithTheReason) {
  std::string error;
  DpdkPortOptions o = ring_options("net_ring3");
  o.rx_pools.clear();
  EXPECT_EQ(DpdkPort::open(o, error), nullptr);
  EXPECT_NE(error.find("rx_pools"), std::string::npos) << error;

  o = ring_options("net_ring3");
  o.rx_queues = 64;  // a default net_ring has 16 ring pairs
  EXPECT_EQ(DpdkPort::open(o, error), nullptr);
  EXPECT_NE(error.find("at most 16 RX queues, 64 asked"), std::string::npos) << error;

  o = ring_options("net_ring3");
  o.tx_queues = 0;
  EXPECT_EQ(DpdkPort::open(o, error), nullptr);
  EXPECT_NE(error.find("at least 1"), std::string::npos) << error;

  o = ring_options("net_ring3");
  o.mtu = 10;
  EXPECT_EQ(DpdkPort::open(o, error), nullptr);
  EXPECT_NE(error.find("MTU 10"), std::string::npos) << error;

  // Each failure removed the device it probed: a correct open still works.
  auto port = DpdkPort::open(ring_options("net_ring3"), error);
  EXPECT_NE(port, nullptr) << error;
}

TEST(DpdkPort, TapInterfaceDisappearsWhenThePortIsDestroyed) {
  const std::string iface = "terntst" + std::to_string(getpid() % 100000);
  DpdkPortOptions o;
  o.name = "tap";
  o.devargs = "net_tap9,iface=" + iface;
  o.rx_pools = {pool()};
  o.rx_desc = o.tx_desc = 128;
  o.mtu = 1400;
  std::string error;
  auto port = DpdkPort::open(o, error);
  if (port == nullptr) GTEST_SKIP() << "net_tap unavailable here: " << error;
  EXPECT_NE(if_nametoindex(iface.c_str()), 0u);
  EXPECT_EQ(port->caps().mtu, 1400);
  port.reset();
  EXPECT_EQ(if_nametoindex(iface.c_str()), 0u);
}

}  // namespace
}  // namespace tern::drivers
