#include "builder/requantize.h"

#include <map>
#include <set>
#include <vector>

#include "builder/quantize.h"
#include "ops/op_schema.h"

namespace kiln::builder {
namespace {

bool is_fused_conv(const ir::Node& n) {
  return n.domain() == ops::kKilnDomain && n.op_type() == "FusedConv";
}

float float_attr(const ir::Node& n, std::string_view name) {
  const ir::Attribute* a = n.attr(name);
  return a != nullptr && a->type == ir::AttrType::kFloat ? a->f : 0.f;
}

int64_t int_attr(const ir::Node& n, std::string_view name) {
  const ir::Attribute* a = n.attr(name);
  return a != nullptr && a->type == ir::AttrType::kInt ? a->i : 0;
}

const ir::Value* residual(const ir::Node& n) {
  return n.inputs().size() > 3 ? n.input(3) : nullptr;
}

// How a tensor would be handed over: its consumers' common scale and signedness.
struct Link {
  ir::Node* producer;
  float scale = 0;
  bool is_unsigned = true;
};

// The scale every consumer of `y` reads it at, quantized: as X (unsigned int8 input, no zero
// point) or as the residual Z (its calibrated int8_z_scale). Unset scale when they disagree or
// one cannot.
Link link_for(ir::Node& p) {
  Link l{&p};
  const ir::Value& y = *p.output(0);
  if (y.consumers().empty()) return l;
  float scale = 0;
  bool is_unsigned = true;
  for (const ir::Node* c : y.consumers()) {
    if (!is_fused_conv(*c) || !(float_attr(*c, "int8_x_scale") > 0)) return l;
    int slots = 0;
    for (const ir::Value* in : c->inputs()) slots += in == &y ? 1 : 0;
    if (slots != 1) return l;
    float s = 0;
    bool u = true;
    if (c->input(0) == &y) {
      if (int_attr(*c, "int8_x_unsigned") != 1 || int_attr(*c, "int8_x_zero_point") != 0) return l;
      s = float_attr(*c, "int8_x_scale");
    } else if (residual(*c) == &y) {
      s = float_attr(*c, "int8_z_scale");
      u = int_attr(*c, "int8_z_unsigned") == 1;
    }
    if (!(s > 0) || (scale != 0 && (s != scale || u != is_unsigned))) return l;
    scale = s;
    is_unsigned = u;
  }
  l.scale = scale;
  l.is_unsigned = is_unsigned;
  return l;
}

void set_link(ir::Node& p, float scale, bool is_unsigned) {
  p.set_attr(ir::Attribute::make_float("int8_y_scale", scale));
  p.set_attr(ir::Attribute::make_int("int8_y_signed", scale > 0 && !is_unsigned ? 1 : 0));
  p.output(0)->type.dtype = scale == 0    ? DataType::kFloat32
                            : is_unsigned ? DataType::kUInt8
                                          : DataType::kInt8;
}

}  // namespace

int chain_int8(ir::Graph& graph, const std::function<bool(const ir::Node&)>& runs_int8) {
  std::map<const ir::Value*, Link> links;  // by the tensor handed over
  for (ir::Node* p : graph.nodes()) {
    if (!is_fused_conv(*p) || p->outputs().size() != 1 || p->output(0) == nullptr) continue;
    const ir::Value& y = *p->output(0);
    if (!(float_attr(*p, "int8_x_scale") > 0) || y.is_graph_output() ||
        y.type.dtype != DataType::kFloat32)
      continue;
    const Link l = link_for(*p);
    if (l.scale == 0 || (l.is_unsigned && !non_negative(y))) continue;
    if (!runs_int8(*p)) continue;
    bool ok = true;
    for (const ir::Node* c : y.consumers()) ok = ok && runs_int8(*c);
    if (ok) links.emplace(&y, l);
  }
  // A quantized residual is summed into a quantized output, and a layer with a residual can
  // quantize its output only if the residual arrives quantized: drop links until both hold.
  for (bool changed = true; changed;) {
    changed = false;
    for (auto it = links.begin(); it != links.end();) {
      const ir::Node& p = *it->second.producer;
      bool ok = residual(p) == nullptr || links.count(residual(p)) != 0;
      for (const ir::Node* c : it->first->consumers())
        if (residual(*c) == it->first) ok = ok && links.count(c->output(0)) != 0;
      if (ok) {
        ++it;
      } else {
        it = links.erase(it);
        changed = true;
      }
    }
  }
  for (const auto& [y, l] : links) set_link(*l.producer, l.scale, l.is_unsigned);
  // The rewritten layers must still have an INT8 kernel (8-bit in or out); otherwise the whole
  // rewrite is undone (links depend on each other).
  bool ok = true;
  for (const auto& [y, l] : links) {
    ok = ok && runs_int8(*l.producer);
    for (const ir::Node* c : y->consumers()) ok = ok && runs_int8(*c);
  }
  if (!ok) {
    for (const auto& [y, l] : links) set_link(*l.producer, 0, true);
    return 0;
  }
  return static_cast<int>(links.size());
}

}  // namespace kiln::builder
