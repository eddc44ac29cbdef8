// tcp_params(): the `tcp:` configuration section mapped into tcp::TcpParams.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tern/config/config.hpp"
#include "tern/stack/core.hpp"
#include "tern/stack/stack.hpp"
#include "tern/tcp/congestion.hpp"
#include "tern/tcp/tcp.hpp"

namespace tern {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;

TEST(TcpParamsFromConfig, EveryNumberAndSwitchOfTheTcpSectionReachesTheEngine) {
  // A key added to lib/config's table without a row in tcp_params() would be parsed, validated,
  // documented and then ignored.
  EXPECT_EQ(tcp_keys_without_engine_field(), std::vector<std::string>{});
}

TEST(TcpParamsFromConfig, DefaultsMatchTheEngineDefaults) {
  const tcp::TcpParams got = tcp_params(config::TcpConfig{});
  const tcp::TcpParams want;
  EXPECT_EQ(got.max_connections, want.max_connections);
  EXPECT_EQ(got.max_time_wait, want.max_time_wait);
  EXPECT_EQ(got.msl_ns, want.msl_ns);
  EXPECT_EQ(got.rtt.initial_rto_ns, want.rtt.initial_rto_ns);
  EXPECT_EQ(got.rtt.min_rto_ns, want.rtt.min_rto_ns);
  EXPECT_EQ(got.rtt.max_rto_ns, want.rtt.max_rto_ns);
  EXPECT_EQ(got.rtt.granularity_ns, want.rtt.granularity_ns);
  EXPECT_EQ(got.delayed_ack_ns, want.delayed_ack_ns);
  EXPECT_EQ(got.initial_window, want.initial_window);
  EXPECT_EQ(got.timestamps, want.timestamps);
  EXPECT_EQ(got.window_scaling, want.window_scaling);
  EXPECT_EQ(got.sack, want.sack);
  EXPECT_EQ(got.syncookies, want.syncookies);
  EXPECT_EQ(got.backlog, want.backlog);
  EXPECT_EQ(got.challenge_ack_per_s, want.challenge_ack_per_s);
  EXPECT_EQ(got.challenge_ack_interval_ns, want.challenge_ack_interval_ns);
  EXPECT_EQ(got.syn_retries, want.syn_retries);
  EXPECT_EQ(got.synack_retries, want.synack_retries);
  EXPECT_EQ(got.max_retries, want.max_retries);
  EXPECT_EQ(got.fin_wait_2_ns, want.fin_wait_2_ns);
  EXPECT_EQ(got.ooo_nodes, want.ooo_nodes);
  EXPECT_EQ(got.recovery, want.recovery);
  EXPECT_EQ(got.limited_transmit, want.limited_transmit);
  EXPECT_EQ(got.dsack, want.dsack);
  EXPECT_EQ(got.undo, want.undo);
  EXPECT_EQ(got.cc.hystart, want.cc.hystart);
  EXPECT_EQ(got.cc.abc_limit, want.cc.abc_limit);
  EXPECT_EQ(got.idle_restart, want.idle_restart);
  EXPECT_EQ(got.quick_acks, want.quick_acks);
  EXPECT_EQ(got.socket.ecn, want.socket.ecn);
  EXPECT_EQ(got.socket.user_timeout_ns, want.socket.user_timeout_ns);
  EXPECT_EQ(got.socket.notsent_lowat, want.socket.notsent_lowat);
  EXPECT_EQ(got.fastopen_key_rotate_ns, want.fastopen_key_rotate_ns);
  EXPECT_EQ(got.fastopen_cache, want.fastopen_cache);
  EXPECT_EQ(got.fastopen_blackhole_ns, want.fastopen_blackhole_ns);
  EXPECT_EQ(got.ooo_per_connection, want.ooo_per_connection);
  EXPECT_EQ(got.ephemeral_first, want.ephemeral_first);
  EXPECT_EQ(got.ephemeral_last, want.ephemeral_last);
  EXPECT_EQ(got.socket.nodelay, want.socket.nodelay);
  EXPECT_EQ(got.socket.send_buffer, want.socket.send_buffer);
  EXPECT_EQ(got.socket.recv_buffer, want.socket.recv_buffer);
  EXPECT_EQ(got.socket.congestion, want.socket.congestion);
  EXPECT_EQ(got.socket.keepalive.enabled, want.socket.keepalive.enabled);
  EXPECT_EQ(got.socket.keepalive.idle_ns, want.socket.keepalive.idle_ns);
  EXPECT_EQ(got.socket.keepalive.interval_ns, want.socket.keepalive.interval_ns);
  EXPECT_EQ(got.socket.keepalive.count, want.socket.keepalive.count);
  EXPECT_EQ(got.socket.linger_ns, want.socket.linger_ns);
  EXPECT_EQ(got.socket.reuse_time_wait, want.socket.reuse_time_wait);
}

TEST(TcpParamsFromConfig, EveryFieldIsMappedWithItsUnit) {
  config::TcpConfig c;
  c.congestion = "newreno";
  c.initial_window = 4;
  c.delayed_ack_ms = 25;
  c.rto_min_ms = 300;
  c.rto_max_ms = 600000;  // 600 s: the ns value does not fit 32 bits
  c.rto_initial_ms = 3000;
  c.msl_ms = 60000;
  c.max_connections = 4194304;
  c.max_time_wait = 2048;
  c.backlog = 128;
  c.syncookies = false;
  c.timestamps = false;
  c.sack = false;
  c.window_scaling = false;
  c.send_buffer = 65536;
  c.recv_buffer = 131072;
  c.nodelay = true;
  c.keepalive = config::TcpKeepaliveConfig{true, 604800, 10, 3};
  c.max_retries = 8;
  c.syn_retries = 3;
  c.fin_wait_2_s = 3600;
  c.ooo_nodes = 4096;
  c.challenge_ack_limit = 250;
  c.challenge_ack_interval_ms = 0;
  const tcp::TcpParams p = tcp_params(c);
  EXPECT_EQ(p.socket.congestion, tcp::CcAlgo::newreno);
  EXPECT_EQ(p.initial_window, 4u);
  EXPECT_EQ(p.delayed_ack_ns, 25 * kMs);
  EXPECT_EQ(p.rtt.min_rto_ns, 300 * kMs);
  EXPECT_EQ(p.rtt.max_rto_ns, 600 * kSec);
  EXPECT_EQ(p.rtt.initial_rto_ns, 3 * kSec);
  EXPECT_EQ(p.msl_ns, 60 * kSec);
  EXPECT_EQ(p.max_connections, 4194304u) << "per core, not divided among cores";
  EXPECT_EQ(p.max_time_wait, 2048u);
  EXPECT_EQ(p.backlog, 128u);
  EXPECT_FALSE(p.syncookies);
  EXPECT_FALSE(p.timestamps);
  EXPECT_FALSE(p.sack);
  EXPECT_FALSE(p.window_scaling);
  EXPECT_EQ(p.socket.send_buffer, 65536u);
  EXPECT_EQ(p.socket.recv_buffer, 131072u);
  EXPECT_TRUE(p.socket.nodelay);
  EXPECT_TRUE(p.socket.keepalive.enabled);
  EXPECT_EQ(p.socket.keepalive.idle_ns, 604800 * kSec);
  EXPECT_EQ(p.socket.keepalive.interval_ns, 10 * kSec);
  EXPECT_EQ(p.socket.keepalive.count, 3u);
  EXPECT_EQ(p.max_retries, 8u);
  EXPECT_EQ(p.syn_retries, 3u);
  EXPECT_EQ(p.fin_wait_2_ns, 3600 * kSec);
  EXPECT_EQ(p.ooo_nodes, 4096u);
  EXPECT_EQ(p.challenge_ack_per_s, 250u);
  EXPECT_EQ(p.challenge_ack_interval_ns, 0u);
}

// Issue 12's keys: every one reaches its engine parameter.
TEST(TcpParamsFromConfig, LossRecoveryEcnAndFastOpenKeysAreMapped) {
  config::TcpConfig c;
  c.recovery = "rfc6675";
  c.limited_transmit = false;
  c.dsack = false;
  c.undo = false;
  c.hystart = false;
  c.abc_limit = 0;
  c.idle_restart = false;
  c.quick_acks = 3;
  c.ecn = "passive";
  c.user_timeout_ms = 1500;
  c.notsent_lowat = 4096;
  c.fastopen_key_rotate_s = 120;
  c.fastopen_cache = 7;
  c.fastopen_blackhole_s = 9;
  const tcp::TcpParams p = tcp_params(c);
  EXPECT_EQ(p.recovery, tcp::LossRecovery::rfc6675);
  EXPECT_FALSE(p.limited_transmit);
  EXPECT_FALSE(p.dsack);
  EXPECT_FALSE(p.undo);
  EXPECT_FALSE(p.cc.hystart);
  EXPECT_EQ(p.cc.abc_limit, 0u);
  EXPECT_FALSE(p.idle_restart);
  EXPECT_EQ(p.quick_acks, 3u);
  EXPECT_EQ(p.socket.ecn, tcp::EcnMode::passive);
  EXPECT_EQ(p.socket.user_timeout_ns, 1500 * kMs);
  EXPECT_EQ(p.socket.notsent_lowat, 4096u);
  EXPECT_EQ(p.fastopen_key_rotate_ns, 120 * kSec);
  EXPECT_EQ(p.fastopen_cache, 7u);
  EXPECT_EQ(p.fastopen_blackhole_ns, 9 * kSec);

  c.congestion = "cubic";
  EXPECT_EQ(tcp_params(c).socket.congestion, tcp::CcAlgo::cubic);
}

TEST(TcpParamsFromConfig, ConfigCongestionNamesAreTheEngines) {
  // config validates the names itself (it does not depend on lib/tcp); they must stay in step.
  for (const char* name : {"cubic", "newreno"}) {
    config::StackConfig s;
    s.ports.push_back(config::PortConfig{});
    s.ports[0].name = "p0";
    s.ports[0].devargs = "net_null0";
    s.ports[0].address = wire::Ipv4Prefix{wire::Ipv4Addr::from_octets(198, 18, 0, 2), 24};
    s.tcp.congestion = name;
    EXPECT_FALSE(config::validate(s).has_value()) << name;
    const auto algo = tcp::cc_from_string(name);
    ASSERT_TRUE(algo.has_value()) << name;
    EXPECT_EQ(tcp::to_string(*algo), name);
  }
}

}  // namespace
}  // namespace tern
