// gtest main for tests that need DPDK: EAL with --no-huge and a per-process
// --file-prefix so suites run side by side; a listener fails a test that
// leaks mbufs.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "test_support.hpp"

namespace tern::test {

namespace {
rte_mempool* g_pool = nullptr;
rte_mempool* g_small = nullptr;

class LeakCheck : public ::testing::EmptyTestEventListener {
  unsigned before_ = 0;
  void OnTestStart(const ::testing::TestInfo&) override { before_ = mbufs_in_use(); }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    unsigned after = mbufs_in_use();
    if (after != before_) {
      ADD_FAILURE() << "mbuf leak in " << info.test_suite_name() << "." << info.name() << ": "
                    << (after - before_) << " mbufs not returned to their pool";
    }
  }
};
}  // namespace

rte_mempool* pool() { return g_pool; }
rte_mempool* small_pool() { return g_small; }

unsigned mbufs_in_use() { return rte_mempool_in_use_count(g_pool) + rte_mempool_in_use_count(g_small); }

Packet make_packet(std::span<const uint8_t> bytes, uint16_t seg_size) {
  Packet head = Packet::alloc(seg_size <= 256 ? g_small : g_pool);
  size_t off = 0;
  bool first = true;
  do {
    Packet seg = first ? std::move(head) : Packet::alloc(seg_size <= 256 ? g_small : g_pool);
    size_t room = std::min<size_t>({seg_size, bytes.size() - off, rte_pktmbuf_tailroom(seg.mbuf())});
    uint8_t* dst = seg.append(static_cast<uint16_t>(room));
    std::copy_n(bytes.data() + off, room, dst);
    off += room;
    if (first) {
      head = std::move(seg);
      first = false;
    } else {
      head.chain(std::move(seg));
    }
  } while (off < bytes.size());
  return head;
}

std::vector<uint8_t> bytes_of(const Packet& p) {
  std::vector<uint8_t> out(p.length());
  p.copy_out(0, out);
  return out;
}

}  // namespace tern::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string prefix = "--file-prefix=tern-test-" + std::to_string(getpid());
  const char* eal_argv[] = {"tern-test",
                            "--no-huge",
                            "-m",
                            "256",
                            "--no-pci",
                            "--no-telemetry",
                            "--log-level=lib.eal:error",
                            "--log-level=pmd.*:error",
                            prefix.c_str(),
                            "-l",
                            "0"};
  int eal_argc = sizeof(eal_argv) / sizeof(eal_argv[0]);
  if (rte_eal_init(eal_argc, const_cast<char**>(eal_argv)) < 0) {
    fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  using namespace tern::test;
  g_pool = rte_pktmbuf_pool_create("test_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  g_small = rte_pktmbuf_pool_create("test_small", 4095, 0, 0, 256 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
  if (g_pool == nullptr || g_small == nullptr) {
    fprintf(stderr, "mbuf pool creation failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  ::testing::UnitTest::GetInstance()->listeners().Append(new LeakCheck);
  int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
