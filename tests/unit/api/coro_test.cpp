// Coroutines on the core's loop: an echo server and a request/response client, byte-exact through
// a lossy, reordering fault port; connect, read and write timeouts fire; sleep; closing a socket
// resumes its waiter; one reader per socket.
#include "tern/api/coro.hpp"

#include <gtest/gtest.h>

#include <array>
#include <iostream>
#include <vector>

#include "api_fixture.hpp"
#include "tern/api/poller.hpp"

namespace tern::apitest {
namespace {

Task<void> echo_session(TcpConnection c) {
  std::array<uint8_t, 2048> buf;
  for (;;) {
    auto n = co_await read(c, buf);
    if (!n || *n == 0) break;
    auto w = co_await write(c, std::span<const uint8_t>(buf.data(), *n));
    if (!w) break;
  }
  (void)c.close();
}

Task<void> echo_server(TcpListener l, int* sessions) {
  for (;;) {
    auto c = co_await accept(l);
    if (!c) co_return;  // the listener closed
    ++*sessions;
    spawn(echo_session(*c));
  }
}

// Request/response: send @p requests messages of @p size bytes, read each echo back in full.
Task<void> client(Net& net, int requests, size_t size, std::vector<uint8_t>* sent, std::vector<uint8_t>* got,
                  bool* done, std::optional<Error>* err) {
  auto c = co_await connect(net, Endpoint{kIpB, 7}, 5'000'000'000);
  if (!c) {
    *err = c.error();
    *done = true;
    co_return;
  }
  std::vector<uint8_t> msg(size), reply(size);
  for (int r = 0; r < requests; ++r) {
    for (size_t i = 0; i < size; ++i) msg[i] = static_cast<uint8_t>(r * 31 + i * 7);
    auto w = co_await write(*c, msg);
    if (!w) {
      *err = w.error();
      break;
    }
    sent->insert(sent->end(), msg.begin(), msg.end());
    size_t have = 0;
    while (have < size) {
      auto n = co_await read(*c, std::span<uint8_t>(reply).subspan(have));
      if (!n || *n == 0) {
        *err = n ? make_error(Errc::closed, "early end of stream") : n.error();
        break;
      }
      have += *n;
    }
    got->insert(got->end(), reply.begin(), reply.begin() + static_cast<std::ptrdiff_t>(have));
    if (have < size) break;
  }
  (void)c->close();
  *done = true;
}

class CoroFaultTest : public ApiTest {
 public:
  CoroFaultTest() : ApiTest(faults()) {}
  static drivers::FaultOptions faults() {
    drivers::FaultOptions f;
    f.loss = 0.02;
    f.reorder = 0.02;
    f.seed = 7;
    return f;
  }
};

TEST_F(CoroFaultTest, EchoServerAndClientAreByteExactUnderLossAndReordering) {
  auto l = nb_->listen(7);
  ASSERT_TRUE(l);
  int sessions = 0;
  spawn(echo_server(*l, &sessions));
  std::vector<uint8_t> sent, got;
  bool done = false;
  std::optional<Error> err;
  spawn(client(*na_, 40, 6000, &sent, &got, &done, &err));
  for (int i = 0; i < 200000 && !done; ++i) run(1, 1'000'000);
  ASSERT_TRUE(done);
  EXPECT_FALSE(err) << (err ? err->reason : "");
  if (err) std::cerr << "error: " << to_string(err->code) << " " << err->reason << "\n";
  EXPECT_EQ(sent.size(), 40u * 6000);
  EXPECT_EQ(got, sent);
  EXPECT_EQ(sessions, 1);
  EXPECT_GT(fa_.fault_stats().dropped + fb_.fault_stats().dropped, 0u) << "the fault port dropped nothing";
  ASSERT_TRUE(l->close());  // resumes the server coroutine with bad_handle: it ends
  run(20);
}

class CoroTest : public ApiTest {};

// Every frame is lost: SYNs go unanswered.
class CoroBlackholeTest : public ApiTest {
 public:
  CoroBlackholeTest() : ApiTest(blackhole()) {}
  static drivers::FaultOptions blackhole() {
    drivers::FaultOptions f;
    f.loss = 1.0;
    return f;
  }
};

TEST_F(CoroBlackholeTest, ConnectTimeoutFires) {
  ApiTest& lossy = *this;
  bool done = false;
  std::optional<Error> err;
  uint64_t started = lossy.now_, ended = 0;
  auto attempt = [](Net& net, bool* done, std::optional<Error>* err, uint64_t* ended) -> Task<void> {
    auto c = co_await connect(net, Endpoint{kIpB, 7}, 300'000'000);
    if (!c) *err = c.error();
    *ended = net.now();
    *done = true;
  };
  spawn(attempt(*lossy.na_, &done, &err, &ended));
  for (int i = 0; i < 2000 && !done; ++i) lossy.run(1, 1'000'000);
  ASSERT_TRUE(done);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, Errc::timed_out);
  EXPECT_GE(ended - started, 300'000'000u);
  EXPECT_LE(ended - started, 310'000'000u);
  EXPECT_EQ(lossy.a_.tcp().connections(), 0u) << "the failed attempt's TCB is freed";
}

TEST_F(CoroTest, ReadTimeoutFiresAndSleepWaits) {
  auto l = nb_->listen(7);
  ASSERT_TRUE(l);
  auto [c, s] = open(*l, 7);
  ASSERT_TRUE(c.valid() && s.valid());
  std::optional<Error> err;
  uint64_t t0 = 0, t1 = 0, slept = 0;
  bool done = false;
  auto reader = [](Net& net, TcpConnection s, std::optional<Error>* err, uint64_t* t0, uint64_t* t1,
                   uint64_t* slept, bool* done) -> Task<void> {
    std::array<uint8_t, 16> buf;
    *t0 = net.now();
    auto n = co_await read(s, buf, 50'000'000);
    if (!n) *err = n.error();
    *t1 = net.now();
    co_await sleep(net, 20'000'000);
    *slept = net.now() - *t1;
    *done = true;
  };
  spawn(reader(*nb_, s, &err, &t0, &t1, &slept, &done));
  for (int i = 0; i < 200 && !done; ++i) run(1, 1'000'000);
  ASSERT_TRUE(done);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, Errc::timed_out);
  EXPECT_GE(t1 - t0, 50'000'000u);
  EXPECT_LE(t1 - t0, 53'000'000u);
  EXPECT_GE(slept, 20'000'000u);
  EXPECT_LE(slept, 23'000'000u);
  // The socket is usable after the timeout (the waiter left it).
  Poller p;
  EXPECT_TRUE(p.add(s, ev::readable, 1));
}

TEST_F(CoroTest, WriteSuspendsOnAFullBufferAndResumesOnTheLowWaterMark) {
  auto l = nb_->listen(7);
  ASSERT_TRUE(l);
  auto [c, s] = open(*l, 7);
  ASSERT_TRUE(c.valid() && s.valid());
  ASSERT_TRUE(c.set_send_buffer(16 * 1024));
  std::vector<uint8_t> big(1 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 13);
  bool done = false;
  Result<size_t> wrote = size_t{0};
  auto writer = [](TcpConnection c, std::span<const uint8_t> d, Result<size_t>* out,
                   bool* done) -> Task<void> {
    *out = co_await write(c, d);
    *done = true;
  };
  spawn(writer(c, big, &wrote, &done));
  EXPECT_FALSE(done) << "1 MiB cannot fit a 16 KiB buffer at once";
  std::vector<uint8_t> got;
  std::array<uint8_t, 65536> buf;
  for (int i = 0; i < 5000 && got.size() < big.size(); ++i) {
    run(1);
    for (;;) {
      auto n = s.recv(buf);
      if (!n) break;
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
  }
  ASSERT_TRUE(done);
  ASSERT_TRUE(wrote);
  EXPECT_EQ(*wrote, big.size());
  EXPECT_EQ(got, big);
}

TEST_F(CoroTest, ClosingASocketResumesItsWaiterAndOneReaderAtATime) {
  auto l = nb_->listen(7);
  ASSERT_TRUE(l);
  std::optional<Error> first, second;
  bool first_done = false;
  auto acceptor = [](TcpListener l, std::optional<Error>* e, bool* done) -> Task<void> {
    auto c = co_await accept(l);
    if (!c) *e = c.error();
    *done = true;
  };
  spawn(acceptor(*l, &first, &first_done));
  bool second_done = false;
  spawn(acceptor(*l, &second, &second_done));
  EXPECT_TRUE(second_done) << "a second reader is refused at once";
  ASSERT_TRUE(second);
  EXPECT_EQ(second->code, Errc::exists);
  EXPECT_FALSE(first_done);
  Poller p;
  EXPECT_EQ(p.add(*l, 1).error().code, Errc::exists) << "coroutines watch it";
  ASSERT_TRUE(l->close());
  ASSERT_TRUE(first_done);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->code, Errc::bad_handle);
}

TEST_F(CoroTest, DestroyingASuspendedCoroutineDetachesItFromItsSocket) {
  auto l = nb_->listen(7);
  ASSERT_TRUE(l);
  auto [c, s] = open(*l, 7);
  ASSERT_TRUE(c.valid() && s.valid());
  int reads = 0;
  auto reader = [](TcpConnection s, int* reads) -> Task<void> {
    std::array<uint8_t, 16> buf;
    auto n = co_await read(s, buf, 1'000'000'000);
    if (n) ++*reads;
  };
  // Start one by hand and destroy its frame while it waits for data (an application tearing down
  // a session): before the fix the socket's hook kept pointing into the freed frame, so the next
  // reader was refused (exists) and arriving data resumed freed memory.
  auto h = reader(s, &reads).release();
  h.resume();
  ASSERT_FALSE(h.done());
  h.destroy();
  spawn(reader(s, &reads));
  ASSERT_TRUE(c.send(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("hi"), 2)));
  run(3);
  EXPECT_EQ(reads, 1) << "the second reader got the data";
  run(1100, 1'000'000);  // past the first reader's timeout: its timer was cancelled with its frame
  EXPECT_EQ(reads, 1);
}

}  // namespace
}  // namespace tern::apitest
