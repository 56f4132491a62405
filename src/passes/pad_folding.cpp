// A zero Pad in front of a Conv is the Conv's own padding: Pad(x, mode=constant, value 0,
// non-negative pads on spatial dims only) → Conv(…) becomes Conv(x, pads += Pad's pads), when
// the padded tensor has no other reader. The same holds for AveragePool when padded cells count
// in the divisor (count_include_pad = 1; ceil_mode = 0, so no window reaches past the padding).
// MaxPool pads with -inf, not 0: never folded. The consumer's auto_pad must be NOTSET or VALID
// (VALID is NOTSET with zero pads); SAME_* padding depends on the input size.
#include <optional>
#include <string>

#include "core/errors.h"
#include "passes/patterns.h"
#include "passes/rewrite.h"
#include "passes/simplify_util.h"

namespace kiln::passes {
namespace {

// Pads per dim (begin, end) of a zero constant Pad, or nullopt with `why`.
struct DimPads {
  std::vector<int64_t> begin, end;
};

std::optional<DimPads> zero_pads(const ir::Node& pad, const PassContext& ctx, std::string* why) {
  const int64_t opset = opset_of(pad, ctx);
  const ir::Attribute* mode = pad.attr("mode");
  if (mode != nullptr && mode->s != "constant")
    return none_because(why, "Pad mode '" + mode->s + "' (only constant pads with zeros)");
  std::vector<int64_t> pads;
  std::optional<std::vector<int64_t>> axes;
  if (opset < 11) {
    if (attr_float(pad, "value", 0.0f) != 0.0f) return none_because(why, "the Pad value is not 0");
    pads = attr_ints(pad, opset < 2 ? "paddings" : "pads");
  } else {
    if (pad.input(2) != nullptr) {
      std::optional<double> value = scalar_constant(pad.input(2));
      if (!value || *value != 0) return none_because(why, "the Pad value is not a constant 0");
    }
    std::optional<std::vector<int64_t>> p = constant_ints(pad.input(1));
    if (!p) return none_because(why, "the pads are not a constant");
    pads = std::move(*p);
    if (opset >= 18 && pad.input(3) != nullptr) {
      axes = constant_ints(pad.input(3));
      if (!axes) return none_because(why, "the Pad axes are not a constant");
    }
  }
  const ir::Value* x = pad.input(0);
  int64_t rank = static_cast<int64_t>(pads.size() / 2);
  if (axes) {
    if (x == nullptr || !x->type.shape.rank_known())
      return none_because(why, "Pad axes given and the input's rank unknown");
    rank = static_cast<int64_t>(x->type.shape.rank());
  }
  const std::vector<int64_t> which = [&] {
    std::vector<int64_t> all;
    if (axes) return *axes;
    for (int64_t k = 0; k < rank; ++k) all.push_back(k);
    return all;
  }();
  if (pads.size() != 2 * which.size()) return none_because(why, "malformed pads");
  DimPads out{std::vector<int64_t>(static_cast<size_t>(rank), 0),
              std::vector<int64_t>(static_cast<size_t>(rank), 0)};
  for (size_t i = 0; i < which.size(); ++i) {
    int64_t a = which[i] < 0 ? which[i] + rank : which[i];
    if (a < 0 || a >= rank) return none_because(why, "Pad axis out of range");
    out.begin[static_cast<size_t>(a)] += pads[i];
    out.end[static_cast<size_t>(a)] += pads[which.size() + i];
  }
  for (int64_t k = 0; k < rank; ++k) {
    const int64_t b = out.begin[static_cast<size_t>(k)], e = out.end[static_cast<size_t>(k)];
    if (b < 0 || e < 0) return none_because(why, "negative pads crop");
    if (k < 2 && (b != 0 || e != 0))
      return none_because(why, "the Pad pads the batch or channel dim");
  }
  if (rank < 3) return none_because(why, "no spatial dims");
  return out;
}

bool fold(ir::Node& consumer, Editor& edit, PassContext& ctx, std::string* why) {
  const std::string& op = consumer.op_type();
  if (!consumer.domain().empty() || (op != "Conv" && op != "AveragePool")) return false;
  ir::Value* padded = consumer.input(0);
  ir::Node* pad = padded != nullptr ? padded->producer() : nullptr;
  if (pad == nullptr || pad->op_type() != "Pad" || !pad->domain().empty()) return false;
  if (!single_consumer(padded)) return no_because(why, "the padded tensor has other readers");
  const ir::Attribute* auto_pad = consumer.attr("auto_pad");
  if (auto_pad != nullptr && auto_pad->s != "NOTSET" && auto_pad->s != "VALID")
    return no_because(why, "auto_pad " + auto_pad->s + " pads by the input size");
  if (op == "AveragePool") {
    if (attr_int(consumer, "count_include_pad", 0) != 1)
      return no_because(why,
                        "AveragePool excludes padding from its divisor (count_include_pad = 0)");
    if (attr_int(consumer, "ceil_mode", 0) != 0)
      return no_because(why, "AveragePool with ceil_mode = 1 (windows may pass the padding)");
  }
  std::optional<DimPads> p = zero_pads(*pad, ctx, why);
  if (!p) return false;
  const size_t spatial = p->begin.size() - 2;
  std::vector<int64_t> pads = attr_ints(consumer, "pads", std::vector<int64_t>(2 * spatial, 0));
  if (auto_pad != nullptr && auto_pad->s == "VALID") pads.assign(2 * spatial, 0);
  if (pads.size() != 2 * spatial)
    return no_because(why, "the consumer's pads do not match the rank");
  for (size_t k = 0; k < spatial; ++k) {
    pads[k] += p->begin[k + 2];
    pads[spatial + k] += p->end[k + 2];
  }
  if (op == "AveragePool") {
    // Pool padding must stay inside one window (ONNX Runtime and kiln's kernel refuse more).
    const std::vector<int64_t> kernel = attr_ints(consumer, "kernel_shape");
    const std::vector<int64_t> dilations =
        attr_ints(consumer, "dilations", std::vector<int64_t>(spatial, 1));
    if (kernel.size() != spatial || dilations.size() != spatial)
      return no_because(why, "AveragePool kernel_shape/dilations do not match the rank");
    for (size_t k = 0; k < spatial; ++k) {
      const int64_t extent = (kernel[k] - 1) * dilations[k] + 1;
      if (pads[k] >= extent || pads[spatial + k] >= extent)
        return no_because(why, "the pool's padding would reach a whole window");
    }
  }
  std::vector<ir::Attribute> attrs = copy_attrs(consumer, {"pads", "auto_pad"});
  attrs.push_back(ir::Attribute::make_ints("pads", pads));
  std::vector<ir::Value*> inputs = consumer.inputs();
  inputs[0] = pad->input(0);
  edit.replace({pad, &consumer}, &consumer, op, "", std::move(inputs), std::move(attrs),
               consumer.opset());
  return true;
}

}  // namespace

std::unique_ptr<Pass> make_pad_folding() {
  return std::make_unique<RewritePass>("pad_folding",
                                       std::vector<Rewrite>{{"Pad+Conv/AveragePool", 1, fold}});
}

}  // namespace kiln::passes
