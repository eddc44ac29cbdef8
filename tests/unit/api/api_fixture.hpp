/**
 * @file
 * Two Cores joined by a PairWire (198.18.0.1 on a, 198.18.0.2 on b), each behind a FaultPort
 * (no faults unless the test asks), with a Net on each: what the application-surface tests share.
 */
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "core_pair.hpp"
#include "tern/api/net.hpp"
#include "tern/drivers/fault_port.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/drivers/port_ref.hpp"
#include "tern/stack/core.hpp"
#include "test_support.hpp"

namespace tern::apitest {

using test::caps;
using test::kIpA;
using test::kIpB;
using test::kMacA;
using test::kMacB;

inline CoreParams params(Port& port, wire::Ipv4Addr ip, uint32_t max_conns) {
  CoreParams p = test::core_params(port, ip);
  p.tcp.max_connections = max_conns;
  p.tcp.ooo_nodes = 1024;
  p.tcp.msl_ns = 1'000'000'000;  // short TIME_WAIT: cycle tests reuse ports
  return p;
}

class ApiTest : public ::testing::Test {
 public:
  explicit ApiTest(drivers::FaultOptions faults = {}, uint32_t max_conns = 64)
      : wire_(caps(kMacA), caps(kMacB), 8192),
        fa_(drivers::ref(wire_.a()), faults, nullptr),
        fb_(drivers::ref(wire_.b()), with_seed(faults, 1000), nullptr),
        a_(params(fa_, kIpA, max_conns)),
        b_(params(fb_, kIpB, max_conns)) {
    a_.start(now_);
    b_.start(now_);
    a_.interface(0).neighbours().learn(kIpB, kMacB, true, now_);
    b_.interface(0).neighbours().learn(kIpA, kMacA, true, now_);
    na_ = std::make_unique<Net>(a_);
    nb_ = std::make_unique<Net>(b_);
  }
  ~ApiTest() override {
    na_.reset();
    nb_.reset();
  }
  static drivers::FaultOptions with_seed(drivers::FaultOptions f, uint64_t add) {
    f.seed += add;
    return f;
  }
  /** @p turns loop turns of both cores, @p step_ns apart. */
  void run(int turns = 3, uint64_t step_ns = 1'000'000) {
    for (int i = 0; i < turns; ++i) {
      now_ += step_ns;
      a_.poll(now_);
      b_.poll(now_);
    }
  }
  /** Connect a to b:port (b listens on @p l) and accept it. @return {client, server}. */
  std::pair<TcpConnection, TcpConnection> open(TcpListener& l, uint16_t port) {
    auto c = na_->connect(Endpoint{kIpB, port});
    EXPECT_TRUE(c);
    run(3);
    auto s = l.accept();
    EXPECT_TRUE(s);
    return {c ? *c : TcpConnection{}, s ? *s : TcpConnection{}};
  }
  drivers::PairWire wire_;
  drivers::FaultPort fa_, fb_;
  uint64_t now_ = 1'000'000'000;
  Core a_, b_;
  std::unique_ptr<Net> na_, nb_;
};

}  // namespace tern::apitest
