// Tests for the schedule-level memory planner (src/builder/memory_planner.h, plan_memory):
// hand-made schedules with known optimal arenas, in-place rules, and a randomized property test
// whose checks are recomputed here independently of the planner.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "builder/memory_planner.h"

namespace kiln::builder {
namespace {

BufferRequest req(uint64_t bytes, int64_t def, int64_t last_use,
                  std::vector<int64_t> inplace = {}) {
  BufferRequest r;
  r.bytes = bytes;
  r.def = def;
  r.last_use = last_use;
  r.inplace_candidates = std::move(inplace);
  return r;
}

uint64_t round_up(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}

bool lifetimes_intersect(const BufferRequest& a, const BufferRequest& b) {
  return a.def <= std::max(b.def, b.last_use) && b.def <= std::max(a.def, a.last_use);
}

// Checks every guarantee of plan_memory against the requests, without trusting the planner's
// own bookkeeping: offsets, overlaps, in-place rules, and the three reported sizes recomputed
// from scratch. Returns a description of the first violation, or "".
std::string violation(const std::vector<BufferRequest>& rs, const MemoryPlan& plan,
                      uint64_t alignment) {
  const size_t n = rs.size();
  if (plan.placements.size() != n) return "placement count";
  uint64_t naive = 0, top = 0;
  for (size_t i = 0; i < n; ++i) {
    const BufferPlacement& p = plan.placements[i];
    naive += round_up(rs[i].bytes, alignment);
    if (p.offset % alignment != 0) return "misaligned offset of " + std::to_string(i);
    if (rs[i].bytes == 0 && (p.offset != 0 || p.inplace_of != -1))
      return "zero-byte buffer " + std::to_string(i) + " placed";
    if (rs[i].bytes > 0) top = std::max(top, p.offset + rs[i].bytes);
  }
  if (plan.naive_bytes != naive) return "naive " + std::to_string(plan.naive_bytes);
  if (plan.arena_bytes != round_up(top, alignment))
    return "arena " + std::to_string(plan.arena_bytes) + " vs top " + std::to_string(top);

  // In-place pairs: the rules of BufferRequest::inplace_candidates.
  std::vector<int> claimed(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const int64_t c = plan.placements[i].inplace_of;
    if (c < 0) continue;
    if (c >= static_cast<int64_t>(n)) return "inplace_of out of range";
    const auto& cands = rs[i].inplace_candidates;
    if (std::find(cands.begin(), cands.end(), c) == cands.end()) return "not a candidate";
    if (std::max(rs[c].def, rs[c].last_use) != rs[i].def) return "candidate still live";
    if (rs[c].def >= rs[i].def) return "candidate not defined earlier";
    if (rs[c].bytes < rs[i].bytes) return "candidate too small";
    if (plan.placements[c].offset != plan.placements[i].offset) return "pair offsets differ";
    if (++claimed[c] > 1) return "candidate reused twice";
  }
  // "The first candidate that qualifies wins": every candidate before the chosen one (all of
  // them when none was chosen) fails a static rule or was claimed by another buffer.
  for (size_t i = 0; i < n; ++i) {
    if (rs[i].bytes == 0) continue;
    for (int64_t c : rs[i].inplace_candidates) {
      if (c == plan.placements[i].inplace_of) break;
      const bool valid = c >= 0 && c < static_cast<int64_t>(n) && c != static_cast<int64_t>(i);
      if (!valid) continue;
      const bool qualifies = rs[c].bytes >= rs[i].bytes && rs[c].def < rs[i].def &&
                             std::max(rs[c].def, rs[c].last_use) == rs[i].def;
      if (qualifies && claimed[c] == 0)
        return "buffer " + std::to_string(i) + " skipped free candidate " + std::to_string(c);
    }
  }

  // Live-overlapping buffers never share memory, except a direct in-place pair.
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (rs[i].bytes == 0 || rs[j].bytes == 0 || !lifetimes_intersect(rs[i], rs[j])) continue;
      const uint64_t a0 = plan.placements[i].offset, a1 = a0 + rs[i].bytes;
      const uint64_t b0 = plan.placements[j].offset, b1 = b0 + rs[j].bytes;
      if (a0 >= b1 || b0 >= a1) continue;
      const bool pair = plan.placements[i].inplace_of == static_cast<int64_t>(j) ||
                        plan.placements[j].inplace_of == static_cast<int64_t>(i);
      if (!pair) return "buffers " + std::to_string(i) + " and " + std::to_string(j) + " overlap";
    }
  }

  // Lower bound: chains (union of in-place pairs) live per step, each counted once at its
  // largest aligned size, by brute force over every step.
  std::vector<size_t> root(n);
  for (size_t i = 0; i < n; ++i) {
    size_t r = i;
    while (plan.placements[r].inplace_of >= 0)
      r = static_cast<size_t>(plan.placements[r].inplace_of);
    root[i] = r;
  }
  int64_t lo = 0, hi = -1;
  for (const auto& r : rs) {
    lo = std::min(lo, r.def);
    hi = std::max(hi, std::max(r.def, r.last_use));
  }
  uint64_t bound = 0;
  for (int64_t s = lo; s <= hi; ++s) {
    std::vector<uint64_t> chain_size(n, 0);
    for (size_t i = 0; i < n; ++i) {
      if (rs[i].def <= s && s <= std::max(rs[i].def, rs[i].last_use))
        chain_size[root[i]] = std::max(chain_size[root[i]], round_up(rs[i].bytes, alignment));
    }
    uint64_t live = 0;
    for (uint64_t b : chain_size) live += b;
    bound = std::max(bound, live);
  }
  if (plan.lower_bound_bytes != bound)
    return "lower bound " + std::to_string(plan.lower_bound_bytes);
  if (!(plan.lower_bound_bytes <= plan.arena_bytes && plan.arena_bytes <= plan.naive_bytes))
    return "lower <= arena <= naive violated";
  return "";
}

TEST(Planner, EmptySchedule) {
  const MemoryPlan plan = plan_memory({});
  EXPECT_TRUE(plan.placements.empty());
  EXPECT_EQ(plan.arena_bytes, 0u);
  EXPECT_EQ(plan.naive_bytes, 0u);
  EXPECT_EQ(plan.lower_bound_bytes, 0u);
}

// a -> b -> c, each read only by the next step: a and b are live together at step 1, b and c at
// step 2, so without in-place two buffers are needed (a and c can share).
TEST(Planner, ChainWithoutInplaceNeedsTwoBuffers) {
  const std::vector<BufferRequest> rs = {req(1000, 0, 1), req(1000, 1, 2), req(1000, 2, 3)};
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.arena_bytes, 2048u);
  EXPECT_EQ(plan.lower_bound_bytes, 2048u);
  EXPECT_EQ(plan.naive_bytes, 3072u);
  EXPECT_EQ(plan.placements[0].offset, plan.placements[2].offset);
  EXPECT_NE(plan.placements[0].offset, plan.placements[1].offset);
  for (const auto& p : plan.placements) EXPECT_EQ(p.inplace_of, -1);
}

TEST(Planner, ChainWithInplaceNeedsOneBuffer) {
  const std::vector<BufferRequest> rs = {req(1000, 0, 1), req(1000, 1, 2, {0}),
                                         req(1000, 2, 3, {1})};
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.arena_bytes, 1024u);
  EXPECT_EQ(plan.lower_bound_bytes, 1024u);
  EXPECT_EQ(plan.naive_bytes, 3072u);
  EXPECT_EQ(plan.placements[1].inplace_of, 0);
  EXPECT_EQ(plan.placements[2].inplace_of, 1);
}

// A chain's lifetime is the union of its members': a buffer live with the head only, or with the
// tail only, may not share the chain's memory (but those two may share with each other).
TEST(Planner, ChainLifetimeIsUnion) {
  const std::vector<BufferRequest> rs = {req(256, 0, 1), req(256, 1, 3, {0}), req(256, 0, 0),
                                         req(256, 2, 3)};
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.placements[1].inplace_of, 0);
  EXPECT_EQ(plan.arena_bytes, 512u);
  EXPECT_NE(plan.placements[2].offset, plan.placements[0].offset);
  EXPECT_NE(plan.placements[3].offset, plan.placements[0].offset);
}

// A chain is one block of its largest member's size for its whole lifetime, so a buffer live
// with the chain's small tail cannot use the rest of the head's block. The lower bound counts
// only what is live per step (4096 at steps 0-1, 1024 + 2048 at steps 2-3).
TEST(Planner, ChainIsOneBlockOfItsLargestMember) {
  const std::vector<BufferRequest> rs = {req(4096, 0, 1), req(1024, 1, 3, {0}), req(2048, 2, 3)};
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.placements[1].inplace_of, 0);
  EXPECT_EQ(plan.lower_bound_bytes, 4096u);
  EXPECT_EQ(plan.arena_bytes, 4096u + 2048u);
}

TEST(Planner, InplaceRefusals) {
  const std::vector<BufferRequest> rs = {
      req(100, 0, 1),               // 0
      req(200, 1, 2, {0}),          // 1: 0 is smaller
      req(100, 0, 3),               // 2
      req(100, 2, 3, {2}),          // 3: 2 is still read at step 3
      req(100, 4, 4),               // 4
      req(100, 4, 5, {4}),          // 5: 4 defined at the same step
      req(100, 5, 6, {-1, 99, 6}),  // 6
      req(100, 6, 7),               // 7
      req(100, 7, 8, {7}),          // 8: claims 7
      req(100, 7, 8, {7}),          // 9: 7 already taken
  };
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  for (int i : {1, 3, 5, 6, 9}) EXPECT_EQ(plan.placements[i].inplace_of, -1) << i;
  EXPECT_EQ(plan.placements[8].inplace_of, 7);
}

TEST(Planner, FirstQualifyingCandidateWins) {
  // Buffer 3 lists 0 (still live), 1 (qualifies) and 2 (qualifies): 1 wins.
  const std::vector<BufferRequest> rs = {req(64, 0, 4), req(64, 1, 2), req(64, 1, 2),
                                         req(64, 2, 3, {0, 1, 2})};
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.placements[3].inplace_of, 1);
}

TEST(Planner, ZeroByteBuffersTakeNoSpace) {
  const std::vector<BufferRequest> rs = {req(0, 0, 3), req(128, 0, 3), req(0, 1, 2, {1}),
                                         req(128, 1, 2)};
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.placements[0].offset, 0u);
  EXPECT_EQ(plan.placements[2].offset, 0u);
  EXPECT_EQ(plan.placements[2].inplace_of, -1);
  EXPECT_EQ(plan.arena_bytes, 256u);
  EXPECT_EQ(plan.lower_bound_bytes, 256u);
  EXPECT_EQ(plan.naive_bytes, 256u);
}

TEST(Planner, OffsetsAreAligned) {
  const std::vector<BufferRequest> rs = {req(1, 0, 2), req(65, 0, 2), req(3, 1, 2)};
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.arena_bytes, 64u + 128u + 64u);
  // Largest first (the 65-byte one), then equal sizes by def step.
  EXPECT_EQ(plan.placements[1].offset, 0u);
  EXPECT_EQ(plan.placements[0].offset, 128u);
  EXPECT_EQ(plan.placements[2].offset, 192u);

  const MemoryPlan packed = plan_memory(rs, 1);
  EXPECT_EQ(violation(rs, packed, 1), "");
  EXPECT_EQ(packed.arena_bytes, 69u);
  const MemoryPlan zero = plan_memory(rs, 0);  // 0 reads as 1
  EXPECT_EQ(zero.arena_bytes, 69u);
}

TEST(Planner, DisjointLifetimesShareOneBlock) {
  std::vector<BufferRequest> rs;
  for (int64_t s = 0; s < 10; ++s) rs.push_back(req(64 * (s + 1), s, s));
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.arena_bytes, 640u);
  for (const auto& p : plan.placements) EXPECT_EQ(p.offset, 0u);
}

TEST(Planner, AllLiveTogetherNeedTheSum) {
  std::vector<BufferRequest> rs;
  for (int64_t s = 0; s < 10; ++s) rs.push_back(req(100, s, 10));
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.arena_bytes, 10u * 128u);
  EXPECT_EQ(plan.arena_bytes, plan.naive_bytes);
}

// A freed large block is reused by two smaller buffers live at the same time, and a later large
// buffer reuses it again: optimal arena = the peak (lower bound).
TEST(Planner, ReusesFreedBlocks) {
  const std::vector<BufferRequest> rs = {
      req(4096, 0, 1),  // big, dies at step 1
      req(1024, 0, 4),  // long-lived
      req(2048, 2, 3),  // fit into the big one's block
      req(2048, 2, 3), req(4096, 4, 4),
  };
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.lower_bound_bytes, 5120u);
  EXPECT_EQ(plan.arena_bytes, 5120u);
}

TEST(Planner, LastUseBeforeDefReadsAsDef) {
  const std::vector<BufferRequest> rs = {req(64, 3, 1), req(64, 3, 3)};
  const MemoryPlan plan = plan_memory(rs, 64);
  EXPECT_EQ(violation(rs, plan, 64), "");
  EXPECT_EQ(plan.arena_bytes, 128u);
}

std::vector<BufferRequest> random_schedule(std::mt19937_64& rng) {
  const auto pick = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  const int64_t steps = 1 + static_cast<int64_t>(pick(40));
  const size_t count = pick(60);
  std::vector<BufferRequest> rs;
  for (size_t i = 0; i < count; ++i) {
    BufferRequest r;
    switch (pick(8)) {
      case 0:
        r.bytes = 0;
        break;
      case 1:
        r.bytes = 1 + pick(64);
        break;
      case 2:
        r.bytes = 4096u << pick(10);
        break;
      default:
        r.bytes = 1 + pick(20000);
        break;
    }
    r.def = static_cast<int64_t>(pick(static_cast<uint64_t>(steps)));
    // Mostly short lifetimes like real graphs, sometimes long ones (skip connections).
    r.last_use =
        r.def + static_cast<int64_t>(pick(8) == 0 ? pick(static_cast<uint64_t>(steps)) : pick(3));
    rs.push_back(r);
  }
  // In-place candidates: mostly buffers that die where this one is defined (so some qualify),
  // plus arbitrary ones and invalid indices the planner must ignore.
  for (size_t i = 0; i < count; ++i) {
    if (pick(3) != 0) continue;
    for (size_t k = 0, m = 1 + pick(3); k < m; ++k) {
      std::vector<int64_t> dying;
      for (size_t j = 0; j < count; ++j)
        if (rs[j].last_use == rs[i].def) dying.push_back(static_cast<int64_t>(j));
      if (!dying.empty() && pick(4) != 0)
        rs[i].inplace_candidates.push_back(dying[pick(dying.size())]);
      else if (pick(5) == 0)
        rs[i].inplace_candidates.push_back(pick(2) ? -1 : static_cast<int64_t>(count + pick(3)));
      else if (count > 0)
        rs[i].inplace_candidates.push_back(static_cast<int64_t>(pick(count)));
    }
  }
  return rs;
}

TEST(Planner, RandomSchedulesKeepEveryGuarantee) {
  std::mt19937_64 rng(20240611);
  const uint64_t alignments[] = {1, 16, 64, 256};
  int inplace_pairs = 0, by_breadth = 0, at_bound = 0;
  double worst = 1.0;
  for (int round = 0; round < 1000; ++round) {
    const std::vector<BufferRequest> rs = random_schedule(rng);
    const uint64_t alignment = alignments[rng() % 4];
    const MemoryPlan plan = plan_memory(rs, alignment);
    const std::string bad = violation(rs, plan, alignment);
    ASSERT_EQ(bad, "") << "round " << round << ", " << rs.size() << " buffers";
    const MemoryPlan again = plan_memory(rs, alignment);
    for (size_t i = 0; i < rs.size(); ++i) {
      ASSERT_EQ(again.placements[i].offset, plan.placements[i].offset) << "nondeterministic";
      ASSERT_EQ(again.placements[i].inplace_of, plan.placements[i].inplace_of);
    }
    for (const auto& p : plan.placements) inplace_pairs += p.inplace_of >= 0;
    by_breadth += plan.strategy == "greedy_by_breadth";
    at_bound += plan.arena_bytes == plan.lower_bound_bytes;
    if (plan.lower_bound_bytes > 0)
      worst = std::max(worst, static_cast<double>(plan.arena_bytes) /
                                  static_cast<double>(plan.lower_bound_bytes));
  }
  // The generator must exercise the interesting paths, or the checks above prove little.
  EXPECT_GT(inplace_pairs, 500);
  EXPECT_GT(by_breadth, 0);
  EXPECT_GT(at_bound, 500);
  std::printf(
      "random schedules: %d in-place pairs, %d won by breadth, %d at the lower bound, worst "
      "arena/bound %.3f\n",
      inplace_pairs, by_breadth, at_bound, worst);
}

}  // namespace
}  // namespace kiln::builder
