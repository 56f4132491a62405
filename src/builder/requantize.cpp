#include "builder/requantize.h"

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

// The scale every consumer of `y` reads it at as its unsigned quantized X; 0 when they do not
// all qualify.
float chain_scale(const ir::Value& y) {
  if (y.consumers().empty()) return 0;
  float scale = 0;
  for (const ir::Node* c : y.consumers()) {
    if (!is_fused_conv(*c) || c->input(0) != &y) return 0;
    for (size_t i = 1; i < c->inputs().size(); ++i)
      if (c->input(i) == &y) return 0;
    const float s = float_attr(*c, "int8_x_scale");
    if (!(s > 0) || int_attr(*c, "int8_x_unsigned") != 1 || int_attr(*c, "int8_x_zero_point") != 0)
      return 0;
    if (scale != 0 && s != scale) return 0;
    scale = s;
  }
  return scale;
}

void set_chain(ir::Node& p, float scale) {
  p.set_attr(ir::Attribute::make_float("int8_y_scale", scale));
  p.output(0)->type.dtype = scale > 0 ? DataType::kUInt8 : DataType::kFloat32;
}

}  // namespace

int chain_int8(ir::Graph& graph, const std::function<bool(const ir::Node&)>& runs_int8) {
  struct Link {
    ir::Node* producer;
    float scale;
  };
  std::vector<Link> links;
  for (ir::Node* p : graph.nodes()) {
    if (!is_fused_conv(*p) || p->outputs().size() != 1 || p->output(0) == nullptr) continue;
    const ir::Value& y = *p->output(0);
    if (!(float_attr(*p, "int8_x_scale") > 0) || y.is_graph_output() ||
        y.type.dtype != DataType::kFloat32 || !non_negative(y))
      continue;
    if (p->inputs().size() > 3 && p->input(3) != nullptr) continue;  // the residual sums in f32
    const float scale = chain_scale(y);
    if (scale == 0 || !runs_int8(*p)) continue;
    bool ok = true;
    for (const ir::Node* c : y.consumers()) ok = ok && runs_int8(*c);
    if (ok) links.push_back({p, scale});
  }
  for (const Link& l : links) set_chain(*l.producer, l.scale);
  // The rewritten layers must still have an INT8 kernel (uint8 in or out): a chain one refuses
  // goes back to float32 at that tensor.
  int chained = 0;
  for (const Link& l : links) {
    bool ok = runs_int8(*l.producer);
    for (const ir::Node* c : l.producer->output(0)->consumers()) ok = ok && runs_int8(*c);
    if (ok) {
      ++chained;
    } else {
      set_chain(*l.producer, 0);
    }
  }
  return chained;
}

}  // namespace kiln::builder
