// Compiling an elementwise layer into an EwProgram (see eltwise_program.h).
#include "backends/cpu/eltwise_program.h"

#include <cfloat>
#include <map>
#include <string_view>

#include "backends/cpu/cpu_kernel_util.h"
#include "ops/node_attrs.h"
#include "ops/op_schema.h"

namespace kiln::backends::cpu {
namespace {

bool is_exponent_value(double e) {
  return e == 2.0 || e == 0.5 || e == 3.0;
}

class Compiler {
 public:
  Compiler(const ir::Node& layer, bool require_constants)
      : layer_(layer), require_constants_(require_constants) {}

  std::optional<EwProgram> run() {
    std::vector<const ir::Node*> nodes;
    const ir::Value* out = nullptr;
    if (layer_.domain() == ops::kKilnDomain && layer_.op_type() == "FusedElementwise") {
      const ir::Attribute* a = layer_.attr("body");
      const ir::Graph* body = a != nullptr ? a->g.get() : nullptr;
      if (body == nullptr || body->outputs().size() != 1 ||
          body->inputs().size() != layer_.inputs().size() || !is_f32(layer_.output(0)))
        return std::nullopt;
      for (size_t k = 0; k < body->inputs().size(); ++k) inputs_[body->inputs()[k]] = int(k);
      for (const ir::Node* n : body->nodes()) nodes.push_back(n);
      out = body->outputs()[0];
    } else {
      for (size_t k = 0; k < layer_.inputs().size(); ++k)
        if (layer_.input(k) != nullptr) inputs_.emplace(layer_.input(k), int(k));
      nodes.push_back(&layer_);
      out = layer_.output(0);
    }
    prog_.num_inputs = static_cast<int>(layer_.inputs().size());
    prog_.loaded.assign(static_cast<size_t>(prog_.num_inputs), false);
    for (const auto& [v, k] : inputs_) regs_[v] = k;
    for (const ir::Node* n : nodes)
      if (!add(*n)) return std::nullopt;
    auto it = regs_.find(out);
    if (it == regs_.end() || it->second < prog_.num_inputs) return std::nullopt;
    prog_.result = it->second;
    return std::move(prog_);
  }

 private:
  // A loaded float32 operand.
  int operand(const ir::Value* v) {
    if (!is_f32(v)) return -1;
    auto it = regs_.find(v);
    if (it == regs_.end()) return -1;
    if (it->second < prog_.num_inputs) prog_.loaded[static_cast<size_t>(it->second)] = true;
    return it->second;
  }

  // An input of the layer read as one value per run; -1 when `v` is not one.
  int param_input(const ir::Value* v) const {
    auto it = inputs_.find(v);
    return it == inputs_.end() ? -1 : it->second;
  }

  const Tensor* constant(int input) const {
    const ir::Value* v = layer_.input(static_cast<size_t>(input));
    return v != nullptr ? v->initializer() : nullptr;
  }

  bool add(const ir::Node& n) {
    if (n.outputs().size() != 1 || !is_f32(n.output(0)) || !n.subgraphs().empty()) return false;
    if (!n.domain().empty()) return false;
    const ops::OpSchema* schema = ops::OpRegistry::builtin().find(
        n.domain(), n.op_type(), ops::effective_opset(n.domain(), n.opset()));
    if (schema == nullptr) return false;
    const int64_t since = schema->since();
    const ops::NodeAttrs attrs(n, *schema);
    const std::string_view op = n.op_type();
    EwInstr in;

    static const std::map<std::string_view, std::pair<EwOp, int64_t>> kBinary = {
        {"Add", {EwOp::kAdd, 7}}, {"Sub", {EwOp::kSub, 7}}, {"Mul", {EwOp::kMul, 7}},
        {"Div", {EwOp::kDiv, 7}}, {"Max", {EwOp::kMax, 8}}, {"Min", {EwOp::kMin, 8}}};
    static const std::map<std::string_view, EwOp> kUnary = {{"Relu", EwOp::kRelu},
                                                            {"Sigmoid", EwOp::kSigmoid},
                                                            {"Tanh", EwOp::kTanh},
                                                            {"Erf", EwOp::kErf},
                                                            {"Exp", EwOp::kExp},
                                                            {"Sqrt", EwOp::kSqrt},
                                                            {"Neg", EwOp::kNeg},
                                                            {"Abs", EwOp::kAbs},
                                                            {"HardSigmoid", EwOp::kHardSigmoid},
                                                            {"HardSwish", EwOp::kHardSwish},
                                                            {"LeakyRelu", EwOp::kLeakyRelu},
                                                            {"Gelu", EwOp::kGelu}};

    if (auto b = kBinary.find(op); b != kBinary.end()) {
      // Older revisions broadcast the legacy way (or not at all).
      if (since < b->second.second || n.inputs().size() != 2) return false;
      in.op = b->second.first;
      in.a = operand(n.input(0));
      in.b = operand(n.input(1));
      if (in.a < 0 || in.b < 0) return false;
    } else if (auto u = kUnary.find(op); u != kUnary.end()) {
      if (n.inputs().size() != 1) return false;
      in.op = u->second;
      in.a = operand(n.input(0));
      if (in.a < 0) return false;
      if (in.op == EwOp::kHardSigmoid) {
        in.p0 = attrs.attr_float("alpha", 0.2f);
        in.p1 = attrs.attr_float("beta", 0.5f);
      } else if (in.op == EwOp::kLeakyRelu) {
        in.p0 = attrs.attr_float("alpha", 0.01f);
      } else if (in.op == EwOp::kGelu) {
        const std::string approximate = attrs.attr_string("approximate", "none");
        if (approximate == "tanh")
          in.op = EwOp::kGeluTanh;
        else if (approximate != "none")
          return false;
      }
    } else if (op == "Clip") {
      if (since < 6 || n.inputs().empty()) return false;
      in.op = EwOp::kClip;
      in.a = operand(n.input(0));
      if (in.a < 0) return false;
      in.p0 = -FLT_MAX;
      in.p1 = FLT_MAX;
      if (since < 11) {
        in.p0 = attrs.attr_float("min", -FLT_MAX);
        in.p1 = attrs.attr_float("max", FLT_MAX);
      } else {
        for (size_t k = 1; k <= 2; ++k) {
          const ir::Value* bound = n.input(k);
          if (bound == nullptr) continue;
          in.param[k - 1] = param_input(bound);
          if (in.param[k - 1] < 0 || !is_f32(bound)) return false;
        }
      }
    } else if (op == "Pow") {
      if (since < 7 || n.inputs().size() != 2) return false;
      in.op = EwOp::kPow;
      in.a = operand(n.input(0));
      in.param[0] = param_input(n.input(1));
      if (in.a < 0 || in.param[0] < 0) return false;
      if (require_constants_) {
        const Tensor* e = constant(in.param[0]);
        const std::optional<double> v = e != nullptr ? scalar_value(*e) : std::nullopt;
        if (!v || !is_exponent_value(*v)) return false;
      }
    } else {
      return false;
    }
    regs_[n.output(0)] = prog_.num_inputs + static_cast<int>(prog_.code.size());
    prog_.code.push_back(in);
    return true;
  }

  const ir::Node& layer_;
  bool require_constants_;
  EwProgram prog_;
  std::map<const ir::Value*, int> inputs_;  // layer (or body) inputs -> input index
  std::map<const ir::Value*, int> regs_;
};

}  // namespace

std::optional<EwProgram> compile_eltwise(const ir::Node& node, bool require_constants) {
  return Compiler(node, require_constants).run();
}

std::optional<double> scalar_value(const Tensor& t) {
  if (t.numel() != 1) return std::nullopt;
  switch (t.dtype()) {
    case DataType::kFloat32:
      return t.data_as<float>()[0];
    case DataType::kFloat64:
      return t.data_as<double>()[0];
    case DataType::kInt32:
      return t.data_as<int32_t>()[0];
    case DataType::kInt64:
      return static_cast<double>(t.data_as<int64_t>()[0]);
    default:
      return std::nullopt;
  }
}

}  // namespace kiln::backends::cpu
