// Activation memory planner. In-place pairs are decided first and merged into chains that are
// placed as one buffer; offsets then come from best-fit placement in two orders (greedy by size
// and greedy by breadth, Pisarchyk & Lee, "Efficient Memory Management for Deep Neural Net
// Inference", 2020), keeping the smaller arena.
#include "builder/memory_planner.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace kiln::builder {
namespace {

uint64_t align_up(uint64_t bytes, uint64_t alignment) {
  const uint64_t rem = bytes % alignment;
  return rem == 0 ? bytes : bytes + (alignment - rem);
}

int64_t last_step(const BufferRequest& r) {
  return std::max(r.def, r.last_use);
}

// Members of an in-place chain share one memory block for the union of their lifetimes.
struct Chain {
  uint64_t size = 0;  // aligned, max over members
  int64_t begin = 0;  // first def
  int64_t end = 0;    // last use, inclusive
  int64_t head = 0;   // request index of the first member (tie-break)
};

// inplace_of per request, claimed in (def, index) order so that contention for one candidate is
// settled the same way every time.
std::vector<int64_t> decide_inplace(const std::vector<BufferRequest>& requests) {
  const int64_t n = static_cast<int64_t>(requests.size());
  std::vector<int64_t> inplace_of(requests.size(), -1);
  std::vector<int64_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return requests[a].def < requests[b].def; });
  std::vector<bool> reused(requests.size(), false);
  for (int64_t i : order) {
    const BufferRequest& r = requests[i];
    if (r.bytes == 0) continue;
    for (int64_t c : r.inplace_candidates) {
      if (c < 0 || c >= n || c == i || reused[c]) continue;
      const BufferRequest& cand = requests[c];
      // Defined earlier keeps chains acyclic and makes a chain's members meet only pairwise.
      if (cand.bytes < r.bytes || cand.def >= r.def || last_step(cand) != r.def) continue;
      inplace_of[i] = c;
      reused[c] = true;
      break;
    }
  }
  return inplace_of;
}

// Max over steps of the bytes live at that step, a chain counted once at its largest member live
// then. Sizes never grow along a chain, so at a hand-over step the older member covers the newer
// one: a member reusing another counts from the step after its def.
uint64_t lower_bound(const std::vector<BufferRequest>& requests,
                     const std::vector<int64_t>& inplace_of, uint64_t alignment) {
  // (step, 0 = starts / 1 = ends after this step, size): starts at a step count before ends.
  std::vector<std::tuple<int64_t, int, uint64_t>> events;
  events.reserve(requests.size() * 2);
  for (size_t i = 0; i < requests.size(); ++i) {
    const BufferRequest& r = requests[i];
    if (r.bytes == 0) continue;
    const int64_t begin = inplace_of[i] >= 0 ? r.def + 1 : r.def;
    if (begin > last_step(r)) continue;
    events.emplace_back(begin, 0, align_up(r.bytes, alignment));
    events.emplace_back(last_step(r), 1, align_up(r.bytes, alignment));
  }
  std::sort(events.begin(), events.end());
  uint64_t live = 0, best = 0;
  for (const auto& [step, kind, size] : events) {
    if (kind == 0) {
      live += size;
      best = std::max(best, live);
    } else {
      live -= size;
    }
  }
  return best;
}

// Chains live at each step, with steps renumbered densely (the distinct begin/end values in
// order; intersection is unchanged by that). Real schedules have few buffers live per step, so
// walking these lists is near linear where comparing every pair of chains would be quadratic.
std::vector<std::vector<int64_t>> live_per_step(const std::vector<Chain>& chains,
                                                const std::vector<int64_t>& chain_order) {
  std::vector<int64_t> points;
  points.reserve(chains.size() * 2);
  for (const Chain& c : chains) {
    points.push_back(c.begin);
    points.push_back(c.end);
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  const auto rank = [&](int64_t step) {
    return static_cast<size_t>(std::lower_bound(points.begin(), points.end(), step) -
                               points.begin());
  };
  std::vector<std::vector<int64_t>> live(points.size());
  for (int64_t c : chain_order)
    for (size_t s = rank(chains[c].begin), e = rank(chains[c].end); s <= e; ++s)
      live[s].push_back(c);
  return live;
}

// Places chains one by one in `order`, each in the smallest gap (lowest on ties) left between
// already-placed chains whose lifetimes intersect it, or above all of them if none fits.
// Returns offsets per chain and the arena size.
std::pair<std::vector<uint64_t>, uint64_t> place_in_order(const std::vector<Chain>& chains,
                                                          const std::vector<int64_t>& order) {
  const std::vector<std::vector<int64_t>> live_at = live_per_step(chains, order);
  std::vector<std::vector<int64_t>> steps_of(chains.size());
  for (size_t s = 0; s < live_at.size(); ++s)
    for (int64_t c : live_at[s]) steps_of[c].push_back(static_cast<int64_t>(s));

  std::vector<uint64_t> offsets(chains.size(), 0);
  std::vector<bool> placed(chains.size(), false);
  std::vector<int64_t> seen(chains.size(), -1);  // last chain whose neighbours listed it
  std::vector<int64_t> live;
  uint64_t arena = 0;
  for (int64_t c : order) {
    const Chain& chain = chains[c];
    live.clear();
    for (int64_t s : steps_of[c]) {
      for (int64_t p : live_at[s]) {
        if (!placed[p] || seen[p] == c) continue;
        seen[p] = c;
        live.push_back(p);
      }
    }
    std::sort(live.begin(), live.end(), [&](int64_t a, int64_t b) {
      return offsets[a] != offsets[b] ? offsets[a] < offsets[b] : a < b;
    });
    uint64_t prev_end = 0;
    uint64_t best_gap = std::numeric_limits<uint64_t>::max();
    std::optional<uint64_t> best;
    for (int64_t p : live) {
      if (offsets[p] > prev_end) {
        const uint64_t gap = offsets[p] - prev_end;
        if (gap >= chain.size && gap < best_gap) {
          best_gap = gap;
          best = prev_end;
        }
      }
      prev_end = std::max(prev_end, offsets[p] + chains[p].size);
    }
    offsets[c] = best.value_or(prev_end);
    arena = std::max(arena, offsets[c] + chain.size);
    placed[c] = true;
  }
  return {std::move(offsets), arena};
}

bool larger_first(const std::vector<Chain>& chains, int64_t a, int64_t b) {
  const Chain& x = chains[a];
  const Chain& y = chains[b];
  if (x.size != y.size) return x.size > y.size;
  if (x.begin != y.begin) return x.begin < y.begin;
  return x.head < y.head;
}

std::vector<int64_t> order_by_size(const std::vector<Chain>& chains) {
  std::vector<int64_t> order(chains.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int64_t a, int64_t b) { return larger_first(chains, a, b); });
  return order;
}

// Steps with the most live bytes first (ties: earlier step); within a step, the chains live there
// that are not yet ordered, larger first.
std::vector<int64_t> order_by_breadth(const std::vector<Chain>& chains) {
  const std::vector<std::vector<int64_t>> live_at = live_per_step(chains, order_by_size(chains));
  std::vector<uint64_t> breadth(live_at.size(), 0);
  for (size_t s = 0; s < live_at.size(); ++s)
    for (int64_t c : live_at[s]) breadth[s] += chains[c].size;
  std::vector<size_t> step_order(live_at.size());
  std::iota(step_order.begin(), step_order.end(), 0);
  std::stable_sort(step_order.begin(), step_order.end(),
                   [&](size_t a, size_t b) { return breadth[a] > breadth[b]; });
  std::vector<int64_t> order;
  order.reserve(chains.size());
  std::vector<bool> taken(chains.size(), false);
  for (size_t s : step_order) {
    for (int64_t c : live_at[s]) {
      if (taken[c]) continue;
      taken[c] = true;
      order.push_back(c);
    }
  }
  return order;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferRequest>& requests, uint64_t alignment) {
  if (alignment == 0) alignment = 1;
  MemoryPlan plan;
  plan.placements.resize(requests.size());
  const std::vector<int64_t> inplace_of = decide_inplace(requests);

  // Chains in order of their head's (def, index); a member's candidate is always defined earlier,
  // so walking by def assigns the candidate's chain first.
  std::vector<int64_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return requests[a].def < requests[b].def; });
  std::vector<int64_t> chain_of(requests.size(), -1);
  std::vector<Chain> chains;
  for (int64_t i : order) {
    const BufferRequest& r = requests[i];
    plan.naive_bytes += align_up(r.bytes, alignment);
    if (r.bytes == 0) continue;
    const uint64_t size = align_up(r.bytes, alignment);
    if (inplace_of[i] >= 0) {
      Chain& chain = chains[chain_of[inplace_of[i]]];
      chain_of[i] = chain_of[inplace_of[i]];
      chain.size = std::max(chain.size, size);
      chain.begin = std::min(chain.begin, r.def);
      chain.end = std::max(chain.end, last_step(r));
      continue;
    }
    chain_of[i] = static_cast<int64_t>(chains.size());
    chains.push_back(Chain{size, r.def, last_step(r), i});
  }
  plan.lower_bound_bytes = lower_bound(requests, inplace_of, alignment);

  auto [offsets, arena] = place_in_order(chains, order_by_size(chains));
  plan.strategy = "greedy_by_size";
  // Greedy by size is optimal when it meets the lower bound; otherwise the breadth order (which
  // packs the busiest steps first) sometimes does better.
  if (arena > plan.lower_bound_bytes) {
    auto [b_offsets, b_arena] = place_in_order(chains, order_by_breadth(chains));
    if (b_arena < arena) {
      offsets = std::move(b_offsets);
      arena = b_arena;
      plan.strategy = "greedy_by_breadth";
    }
  }
  plan.arena_bytes = align_up(arena, alignment);
  for (size_t i = 0; i < requests.size(); ++i) {
    plan.placements[i].inplace_of = inplace_of[i];
    if (chain_of[i] >= 0) plan.placements[i].offset = offsets[chain_of[i]];
  }
  return plan;
}

GraphMemoryPlan plan_graph_memory(
    const ir::Graph& graph,
    const std::function<std::optional<uint64_t>(const ir::Value&)>& bytes_of,
    const std::function<bool(const ir::Node&, size_t input_index)>& allows_inplace,
    uint64_t alignment) {
  GraphMemoryPlan out;
  const std::vector<ir::Node*> nodes = graph.nodes();
  // Membership in this graph's outputs, not Value::is_graph_output(): a subgraph that returns an
  // outer value directly sets that flag on the outer value too.
  const std::unordered_set<const ir::Value*> graph_outputs(graph.outputs().begin(),
                                                           graph.outputs().end());
  std::unordered_map<const ir::Value*, int64_t> request_of;
  std::unordered_set<const ir::Value*> dynamic;
  std::vector<BufferRequest> requests;
  std::vector<const ir::Value*> values;
  for (size_t step = 0; step < nodes.size(); ++step) {
    for (const ir::Value* v : nodes[step]->outputs()) {
      if (v == nullptr || graph_outputs.count(v) || v->is_graph_input() || v->is_initializer())
        continue;
      if (request_of.count(v) || dynamic.count(v)) continue;  // listed twice by one node
      const std::optional<uint64_t> bytes = bytes_of(*v);
      if (!bytes) {
        dynamic.insert(v);
        out.dynamic.push_back(v);
        continue;
      }
      const auto s = static_cast<int64_t>(step);
      request_of.emplace(v, static_cast<int64_t>(requests.size()));
      requests.push_back(BufferRequest{*bytes, s, s, {}});
      values.push_back(v);
    }
  }
  // dependencies() rather than consumers(): it also lists outer values that a node's subgraphs
  // read or return, which must stay alive until that node has run.
  for (size_t step = 0; step < nodes.size(); ++step) {
    for (const ir::Value* v : nodes[step]->dependencies()) {
      auto it = request_of.find(v);
      if (it == request_of.end()) continue;
      BufferRequest& r = requests[it->second];
      r.last_use = std::max(r.last_use, static_cast<int64_t>(step));
    }
  }
  for (size_t step = 0; step < nodes.size(); ++step) {
    const ir::Node& node = *nodes[step];
    auto out0 = request_of.find(node.output(0));
    if (out0 == request_of.end()) continue;
    for (size_t i = 0; i < node.inputs().size(); ++i) {
      auto in = request_of.find(node.input(i));
      if (in == request_of.end()) continue;
      if (requests[in->second].last_use != static_cast<int64_t>(step)) continue;
      if (!allows_inplace(node, i)) continue;
      requests[out0->second].inplace_candidates.push_back(in->second);
    }
  }

  const MemoryPlan plan = plan_memory(requests, alignment);
  out.slots.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    GraphMemoryPlan::Slot slot;
    slot.value = values[i];
    slot.offset = plan.placements[i].offset;
    slot.bytes = requests[i].bytes;
    if (plan.placements[i].inplace_of >= 0) slot.inplace_of = values[plan.placements[i].inplace_of];
    out.slots.push_back(slot);
  }
  out.arena_bytes = plan.arena_bytes;
  out.naive_bytes = plan.naive_bytes;
  out.lower_bound_bytes = plan.lower_bound_bytes;
  out.strategy = plan.strategy;
  return out;
}

}  // namespace kiln::builder
