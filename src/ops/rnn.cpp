// Recurrent layers: LSTM, GRU and the simple RNN (one layer, optionally bidirectional).
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/op_schema.h"

namespace kiln::ops {

// Reference kernels, in rnn_kernels.cpp.
Status lstm_reference_kernel(KernelContext& ctx);
Status gru_reference_kernel(KernelContext& ctx);
Status rnn_reference_kernel(KernelContext& ctx);

namespace {

using D = DataType;
using ir::AttrType;

// The activation functions the ONNX RNN family defines (the last eight are "optional" in the
// spec; kiln implements all of them).
const char* const kActivations[] = {
    "Relu",       "Tanh",        "Sigmoid", "Affine",   "LeakyRelu", "ThresholdedRelu",
    "ScaledTanh", "HardSigmoid", "Elu",     "Softsign", "Softplus"};

// Names are matched case-insensitively, as ONNX Runtime does.
bool is_activation(std::string_view name) {
  auto same = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  };
  return std::any_of(std::begin(kActivations), std::end(kActivations), [&](std::string_view a) {
    return a.size() == name.size() && std::equal(a.begin(), a.end(), name.begin(), same);
  });
}

// `activations` holds one function per gate function (RNN 1, GRU 2, LSTM 3) and direction.
void check_activations(const ir::Node& node, const OpSchema& schema, size_t per_direction,
                       std::vector<Status>& problems) {
  const ir::Attribute* activations = node.attr("activations");
  if (activations == nullptr) return;
  for (const std::string& name : activations->strings) {
    if (is_activation(name)) continue;
    std::string allowed;
    for (const char* a : kActivations) allowed += str(allowed.empty() ? "" : ", ", a);
    problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'activations' has \"", name,
                           "\" (allowed: ", allowed, ")"));
  }
  const ir::Attribute* direction = node.attr("direction");
  const bool bidirectional = direction != nullptr && direction->s == "bidirectional";
  const size_t expected = per_direction * (bidirectional ? 2 : 1);
  const size_t count = activations->strings.size();
  // RNN's own default, [Tanh, Tanh], has two entries whatever the direction.
  const bool rnn_default_length = schema.op_type() == "RNN" && count == 2;
  if (count != expected && !rnn_default_length) {
    problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'activations' has ", count,
                           " entries (allowed: ", expected, ", ", per_direction,
                           " per direction)"));
  }
}

NodeCheck activations_check(size_t per_direction) {
  return
      [per_direction](const ir::Node& node, const OpSchema& schema, std::vector<Status>& problems) {
        check_activations(node, schema, per_direction, problems);
      };
}

// The inputs, outputs and attributes the three layers share; `cell` adds LSTM's cell state.
// Before opset 7 they also had output_sequence, which only said whether Y may be left out (it
// is an optional output anyway); GRU-1 makes Y_h a required output, has no linear_before_reset
// (0, the default since) and spells its default direction "foward".
OpSchema recurrent(const char* op, int64_t since, bool cell) {
  OpSchema s(op, since);
  s.input("X", "T")
      .input("W", "T")
      .input("R", "T")
      .input("B", "T", Arity::kOptional)
      .input("sequence_lens", "T1", Arity::kOptional)
      .input("initial_h", "T", Arity::kOptional);
  if (cell) s.input("initial_c", "T", Arity::kOptional).input("P", "T", Arity::kOptional);
  const bool gru1 = std::string_view(op) == "GRU" && since == 1;
  s.output("Y", "T", Arity::kOptional).output("Y_h", "T", gru1 ? Arity::kSingle : Arity::kOptional);
  if (cell) s.output("Y_c", "T", Arity::kOptional);
  s.types("T", {D::kFloat16, D::kFloat32, D::kFloat64})
      .types("T1", {D::kInt32})
      .attr("activation_alpha", AttrType::kFloats)
      .attr("activation_beta", AttrType::kFloats)
      .attr("clip", AttrType::kFloat)
      .attr("hidden_size", AttrType::kInt)
      .fusion(FusionKind::kOpaque);
  if (gru1) {
    s.attr_enum("direction", "foward", {"forward", "reverse", "bidirectional", "foward"});
  } else {
    s.attr_enum("direction", "forward", {"forward", "reverse", "bidirectional"});
  }
  if (since < 7) s.attr("output_sequence", AttrType::kInt, int64_t{0});
  // 14 adds layout: 1 puts the batch before the sequence axis.
  if (since >= 14) s.attr_int_enum("layout", 0, {0, 1});
  return s;
}

// X is [seq, batch, input] ([batch, seq, input] with layout 1); W is [dirs, gates*hidden, input].
// Y: [seq, dirs, batch, hidden] ([batch, seq, dirs, hidden]); Y_h/Y_c: [dirs, batch, hidden]
// ([batch, dirs, hidden]).
Status recurrent_infer(InferContext& ctx) {
  const Dims& x = ctx.input_shape(0);
  const bool batch_first = ctx.attr_int("layout", 0) == 1;
  const std::string dir = ctx.attr_string("direction", "forward");
  const Dim dirs = Dim::fixed(dir == "bidirectional" ? 2 : 1);
  Dim hidden =
      ctx.has_attr("hidden_size") ? Dim::fixed(ctx.attr_int("hidden_size", 0)) : Dim::unknown();
  Dim seq = Dim::unknown(), batch = Dim::unknown();
  if (x.rank_known()) {
    if (x.rank() != 3)
      return err(Code::kIncompatibleShapes, ctx.node().op_type(), " input X ", x.to_string(),
                 " must have rank 3");
    seq = x[batch_first ? 1 : 0];
    batch = x[batch_first ? 0 : 1];
  }
  const Dims y = batch_first ? Dims({batch, seq, dirs, hidden}) : Dims({seq, dirs, batch, hidden});
  const Dims h = batch_first ? Dims({batch, dirs, hidden}) : Dims({dirs, batch, hidden});
  ctx.set_output_shape(0, y);
  for (size_t i = 1; i < ctx.num_outputs(); ++i) ctx.set_output_shape(i, h);
  return Status::Ok();
}

}  // namespace

void register_rnn(OpRegistry& registry) {
  for (int64_t since : {1, 7, 14}) {
    OpSchema lstm = recurrent("LSTM", since, true);
    lstm.attr("activations", AttrType::kStrings)
        .attr_int_enum("input_forget", 0, {0, 1})
        .check(activations_check(3))
        .kernel(lstm_reference_kernel)
        .infer(recurrent_infer);
    registry.add(std::move(lstm));

    OpSchema rnn = recurrent("RNN", since, false);
    rnn.attr("activations", AttrType::kStrings, std::vector<std::string>{"Tanh", "Tanh"})
        .check(activations_check(1))
        .kernel(rnn_reference_kernel)
        .infer(recurrent_infer);
    registry.add(std::move(rnn));
  }
  // GRU-3 adds linear_before_reset (and the "forward" spelling) to GRU-1.
  for (int64_t since : {1, 3, 7, 14}) {
    OpSchema gru = recurrent("GRU", since, false);
    gru.attr("activations", AttrType::kStrings);
    if (since >= 3) gru.attr_int_enum("linear_before_reset", 0, {0, 1});
    gru.check(activations_check(2)).kernel(gru_reference_kernel).infer(recurrent_infer);
    registry.add(std::move(gru));
  }
}

}  // namespace kiln::ops
