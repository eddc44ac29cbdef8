#include "tern/wire/seq.hpp"

#include <gtest/gtest.h>

namespace tern::wire {
namespace {

static_assert(SeqNum{0xfffffff0} < SeqNum{0x10});
static_assert(SeqNum{0xffffffff} + 2 == SeqNum{1});

TEST(SeqNum, ComparesAcrossWrapAround) {
  const SeqNum before{0xfffffff0};
  const SeqNum after{0x00000010};
  EXPECT_TRUE(before < after);
  EXPECT_TRUE(before <= after);
  EXPECT_TRUE(after > before);
  EXPECT_TRUE(after >= before);
  EXPECT_FALSE(after < before);
  EXPECT_TRUE(before <= before);
  EXPECT_TRUE(before >= before);
  EXPECT_FALSE(before < before);
  EXPECT_NE(before, after);
}

TEST(SeqNum, OrdersByHalfSpaceNotMagnitude) {
  EXPECT_TRUE(SeqNum{0} < SeqNum{0x7fffffff});
  EXPECT_TRUE(SeqNum{0x80000001} < SeqNum{0});  // 2^31 - 1 before 0, modulo 2^32
}

TEST(SeqNum, DifferenceIsSignedModulo32) {
  EXPECT_EQ(SeqNum{5} - SeqNum{0xfffffffb}, 10);
  EXPECT_EQ(SeqNum{0xfffffffb} - SeqNum{5}, -10);
  EXPECT_EQ(SeqNum{100} - SeqNum{100}, 0);
}

TEST(SeqNum, ArithmeticWraps) {
  EXPECT_EQ((SeqNum{0xffffffff} + 1).v, 0u);
  EXPECT_EQ((SeqNum{0} - 1).v, 0xffffffffu);
  SeqNum s{0xfffffffe};
  s += 4;
  EXPECT_EQ(s.v, 2u);
  s -= 3;
  EXPECT_EQ(s.v, 0xffffffffu);
}

TEST(SeqNum, BetweenIsHalfOpenAcrossWrap) {
  const SeqNum a{0xfffffff0};
  const SeqNum c{0x10};
  EXPECT_TRUE(seq_between(a, a, c));
  EXPECT_TRUE(seq_between(a, SeqNum{0xffffffff}, c));
  EXPECT_TRUE(seq_between(a, SeqNum{0}, c));
  EXPECT_TRUE(seq_between(a, SeqNum{0xf}, c));
  EXPECT_FALSE(seq_between(a, c, c));
  EXPECT_FALSE(seq_between(a, SeqNum{0xffffffef}, c));
  EXPECT_FALSE(seq_between(a, a, a));  // empty window
}

TEST(SeqNum, MaxAndMinFollowSequenceOrder) {
  const SeqNum early{0xfffffff0};
  const SeqNum late{0x10};
  EXPECT_EQ(seq_max(early, late), late);
  EXPECT_EQ(seq_max(late, early), late);
  EXPECT_EQ(seq_min(early, late), early);
  EXPECT_EQ(seq_min(late, early), early);
}

}  // namespace
}  // namespace tern::wire
