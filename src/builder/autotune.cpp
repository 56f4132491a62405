#include "builder/autotune.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "core/errors.h"

namespace kiln::builder {
namespace {

using Clock = std::chrono::steady_clock;

std::string type_text(const ir::Value* v) {
  if (v == nullptr) return "-";
  return (v->is_initializer() ? "const " : "") + v->type.to_string();
}

// Synthetic operands at the node's (static) shapes: constants as they are, float activations
// uniform in [-1, 1], anything else zeros. nullopt when a shape is not static.
using Operands = std::vector<std::optional<Tensor>>;

std::optional<Operands> synthetic_inputs(const ir::Node& n) {
  Operands out;
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  for (const ir::Value* v : n.inputs()) {
    if (v == nullptr) {
      out.push_back(std::nullopt);
      continue;
    }
    if (const Tensor* c = v->initializer()) {
      out.push_back(c->view());
      continue;
    }
    const ir::ValueType& t = v->type;
    if (!t.known() || !t.shape.rank_known() || t.dtype == DataType::kString) return std::nullopt;
    std::vector<int64_t> shape;
    for (size_t i = 0; i < t.shape.rank(); ++i) {
      if (!t.shape[i].is_static()) return std::nullopt;
      shape.push_back(t.shape[i].value);
    }
    Result<Tensor> r = Tensor::allocate(t.dtype, shape);
    if (!r.ok()) return std::nullopt;
    if (t.dtype == DataType::kFloat32) {
      float* p = r->data_as<float>();
      for (int64_t i = 0; i < r->numel(); ++i) p[i] = uni(rng);
    }
    out.push_back(std::move(r).value());
  }
  return out;
}

// Time of one run of the prepared kernel (best of several), ms; nullopt when it fails.
std::optional<double> time_kernel(const backends::Kernel& k, const ir::Node& n,
                                  const ops::OpSchema& schema, const Operands& in) {
  std::vector<const Tensor*> ptrs;
  for (const std::optional<Tensor>& t : in) ptrs.push_back(t ? &*t : nullptr);
  auto once = [&]() -> std::optional<double> {
    ops::KernelContext ctx(n, schema, ptrs, nullptr);
    const auto t0 = Clock::now();
    if (!k.run(ctx).ok()) return std::nullopt;
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  if (!once()) return std::nullopt;  // warm-up: primitive creation, weight packing
  std::vector<double> ms;
  double total = 0;
  // At least 5 runs, up to 20 or ~40 ms of runs: enough to rank kernels, cheap to build.
  while (ms.size() < 5 || (ms.size() < 20 && total < 40.0)) {
    std::optional<double> t = once();
    if (!t) return std::nullopt;
    ms.push_back(*t);
    total += *t;
  }
  // The fastest run: on a shared machine interference only ever adds time, so the minimum
  // ranks kernels more reliably than the median.
  return *std::min_element(ms.begin(), ms.end());
}

std::string label_of(const backends::Tactic& t, const backends::Tactic::Variant& v) {
  return v.label.empty() ? std::string(t.name()) : std::string(t.name()) + "/" + v.label;
}

}  // namespace

std::string layer_signature(const ir::Node& n) {
  std::string s = (n.domain().empty() ? std::string() : n.domain() + "::") + n.op_type() + "(";
  for (size_t i = 0; i < n.inputs().size(); ++i) s += (i ? ", " : "") + type_text(n.input(i));
  s += ")";
  std::vector<const ir::Attribute*> attrs;
  for (const ir::Attribute& a : n.attributes()) attrs.push_back(&a);
  std::sort(attrs.begin(), attrs.end(),
            [](const ir::Attribute* a, const ir::Attribute* b) { return a->name < b->name; });
  for (const ir::Attribute* a : attrs) {
    // Timings do not depend on a calibrated scale's value, and every calibration changes it.
    if (a->name == "int8_x_scale") {
      s += " int8_x_scale=set";
      continue;
    }
    s += " " + a->name + "=" + a->value_string();
  }
  // The key goes into a JSON file: keep it printable ASCII (string attributes may hold bytes).
  std::string key;
  for (unsigned char ch : s) {
    if (ch >= 0x20 && ch < 0x7f) {
      key += static_cast<char>(ch);
    } else {
      static const char* hex = "0123456789abcdef";
      key += "\\x";
      key += hex[ch >> 4];
      key += hex[ch & 15];
    }
  }
  return key;
}

TacticChoice choose_tactic(const ir::Node& n, const ops::OpSchema& schema,
                           const std::vector<const backends::Tactic*>& tactics, bool timing,
                           TimingCache& cache) {
  TacticChoice best;
  if (tactics.empty()) return best;
  if (!timing) {
    best.tactic = tactics.front();
    best.variant = tactics.front()->default_variant(n, schema);
    best.candidates = 1;
    return best;
  }
  struct Candidate {
    const backends::Tactic* tactic;
    backends::Tactic::Variant variant;
  };
  std::vector<Candidate> all;
  for (const backends::Tactic* t : tactics)
    for (backends::Tactic::Variant& v : t->variants(n, schema)) all.push_back({t, std::move(v)});
  best.candidates = static_cast<int>(all.size());
  if (all.size() <= 1) {
    best.tactic = all.empty() ? tactics.front() : all.front().tactic;
    best.variant = all.empty() ? tactics.front()->default_variant(n, schema) : all.front().variant;
    return best;
  }
  const std::string key = layer_signature(n);
  const std::map<std::string, double>* cached = cache.timings(key);
  std::optional<Operands> inputs;
  for (Candidate& c : all) {
    const std::string label = label_of(*c.tactic, c.variant);
    std::optional<double> ms;
    if (cached != nullptr)
      if (auto it = cached->find(label); it != cached->end()) ms = it->second;
    if (!ms) {
      if (!inputs) inputs = synthetic_inputs(n);
      if (!inputs) break;  // shapes not static at opt: no timing possible
      Result<std::unique_ptr<backends::Kernel>> k = c.tactic->prepare(n, schema, c.variant.params);
      if (!k.ok()) continue;
      ms = time_kernel(**k, n, schema, *inputs);
      if (!ms) continue;
      cache.record(key, label, *ms);
      cached = cache.timings(key);
      ++best.timed;
    }
    if (best.tactic == nullptr || *ms < best.ms) {
      best.tactic = c.tactic;
      best.variant = c.variant;
      best.ms = *ms;
    }
  }
  if (best.tactic == nullptr) {
    best.tactic = all.front().tactic;
    best.variant = all.front().variant;
  }
  return best;
}

}  // namespace kiln::builder
