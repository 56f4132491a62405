// Execution contexts: profile selection, input shapes checked against the profile, buffer
// bindings, and runs (synchronous or queued on a stream). See executor.cpp for the run itself.
#include "runtime/context.h"

#include <atomic>
#include <cstring>

#include "core/errors.h"
#include "ops/fused_kernels.h"
#include "ops/shape_inference.h"
#include "runtime/executor.h"
#include "runtime/stream_impl.h"

namespace kiln::runtime {

Status check_profile_index(const Program& p, int profile) {
  if (profile >= 0 && static_cast<size_t>(profile) < p.profiles.size()) return Status::Ok();
  return err(Code::kProfileIndexOutOfRange, "profile ", profile, " does not exist: the engine has ",
             p.profiles.size(), " optimization profile(s), 0..", p.profiles.size() - 1);
}

Status unknown_name(const Program& p, const std::string& name, TensorIOMode wanted) {
  std::string names;
  for (const TensorInfo& t : p.io)
    if (t.mode == wanted) names += (names.empty() ? "'" : ", '") + t.name + "'";
  return err(Code::kUnknownTensorName, "'", name, "' is not an ",
             wanted == TensorIOMode::kInput ? "input" : "input or output", " of the engine (its ",
             wanted == TensorIOMode::kInput ? "inputs" : "tensors", ": ",
             names.empty() ? "none" : names, ")");
}

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  return Dims::of(s).to_string();
}

std::string dims_x(const std::vector<int64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

class Context final : public ExecutionContext {
 public:
  explicit Context(std::shared_ptr<const Program> p) : p_(std::move(p)), state_(*p_) {}

  Status init() { return set_profile(0); }

  Status set_profile(int profile) override {
    KILN_RETURN_IF_ERROR(not_busy());
    KILN_RETURN_IF_ERROR(check_profile_index(*p_, profile));
    KILN_RETURN_IF_ERROR(state_.use_profile(profile));
    profile_ = profile;
    // Inputs that the profile fixes to one shape need no set_input_shape.
    const ProfileInfo& info = p_->profiles[profile];
    for (size_t k = 0; k < p_->inputs.size(); ++k) {
      const engine::ShapeRange& r = info.ranges[k];
      if (r.min == r.max)
        state_.input_shapes[k] = r.min;
      else
        state_.input_shapes[k].reset();
    }
    inferred_for_.reset();
    return Status::Ok();
  }
  int profile() const override { return profile_; }

  Status set_input_shape(const std::string& name, const std::vector<int64_t>& shape) override {
    KILN_RETURN_IF_ERROR(not_busy());
    const int k = input_index(name);
    if (k < 0) return unknown_name(*p_, name, TensorIOMode::kInput);
    const engine::ShapeRange& r = p_->profiles[profile_].ranges[k];
    auto fix = [&](size_t d, int64_t v) {
      std::vector<int64_t> wider = r.max;
      if (d < wider.size()) wider[d] = std::max(wider[d], v);
      std::vector<int64_t> lower = r.min;
      if (d < lower.size()) lower[d] = std::min(lower[d], v);
      return str(
          "send a shape inside the range, switch to a profile that covers it, or rebuild "
          "with --min-shapes ",
          name, ":", dims_x(lower), " --max-shapes ", name, ":", dims_x(wider));
    };
    if (shape.size() != r.min.size())
      return err(Code::kShapeOutsideProfile, "input '", name, "' has rank ", shape.size(), " (",
                 shape_str(shape), ") but profile ", profile_, " is for rank ", r.min.size(),
                 " shapes ", shape_str(r.min), "..", shape_str(r.max))
          .with_fix(str("send a rank-", r.min.size(), " tensor"));
    for (size_t d = 0; d < shape.size(); ++d)
      if (shape[d] < r.min[d] || shape[d] > r.max[d])
        return err(Code::kShapeOutsideProfile, "input '", name, "' dim ", d, " = ", shape[d],
                   " is outside profile ", profile_, " range [", r.min[d], ", ", r.max[d],
                   "] (shape ", shape_str(shape), ", profile ", shape_str(r.min), "..",
                   shape_str(r.max), ")")
            .with_fix(fix(d, shape[d]));
    state_.input_shapes[k] = shape;
    inferred_for_.reset();
    return Status::Ok();
  }

  Result<std::vector<int64_t>> tensor_shape(const std::string& name) override {
    const int k = input_index(name);
    if (k >= 0) {
      if (state_.input_shapes[k]) return *state_.input_shapes[k];
      return p_->io[p_->values[p_->inputs[k]].io_index].shape;
    }
    const int o = output_index(name);
    if (o < 0) return unknown_name(*p_, name, TensorIOMode::kOutput);
    KILN_RETURN_IF_ERROR(infer_output_shapes());
    return inferred_[o];
  }

  Status bind(const std::string& name, void* data, size_t bytes) override {
    KILN_RETURN_IF_ERROR(not_busy());
    const TensorInfo* t = nullptr;
    int io = -1;
    for (size_t i = 0; i < p_->io.size(); ++i)
      if (p_->io[i].name == name) {
        t = &p_->io[i];
        io = static_cast<int>(i);
      }
    if (t == nullptr) return unknown_name(*p_, name, TensorIOMode::kOutput);
    if (t->dtype == DataType::kString)
      return err(Code::kInvalidArgument, "'", name,
                 "' holds strings, which cannot live in a "
                 "bound buffer; use set_input (inputs) or output() (outputs)");
    if (data == nullptr && bytes > 0)
      return err(Code::kInvalidArgument, "buffer for '", name, "' is null");
    state_.bindings[io] = {data, bytes, nullptr};
    if (t->mode == TensorIOMode::kInput) state_.kept_inputs[input_index(name)] = Tensor();
    return Status::Ok();
  }

  Status set_input(const std::string& name, const Tensor& tensor) override {
    const int k = input_index(name);
    if (k < 0) return unknown_name(*p_, name, TensorIOMode::kInput);
    const TensorInfo& info = p_->io[p_->values[p_->inputs[k]].io_index];
    if (tensor.dtype() != info.dtype)
      return err(Code::kInputTypeMismatch, "input '", name, "' is ", data_type_name(tensor.dtype()),
                 " but the engine expects ", data_type_name(info.dtype));
    KILN_RETURN_IF_ERROR(set_input_shape(name, tensor.shape()));
    // The view keeps owned storage alive; string tensors are read through it, not the pointer.
    state_.kept_inputs[k] = tensor.view();
    state_.bindings[p_->values[p_->inputs[k]].io_index] = {
        const_cast<void*>(state_.kept_inputs[k].data()), tensor.nbytes(), &state_.kept_inputs[k]};
    return Status::Ok();
  }

  Status execute() override {
    KILN_RETURN_IF_ERROR(not_busy());
    busy_ = true;
    Status s = run_program(*p_, profile_, state_);
    busy_ = false;
    return s;
  }

  Status enqueue(Stream& stream) override {
    KILN_RETURN_IF_ERROR(not_busy());
    backends::Queue* q = queue_of(stream);
    if (q == nullptr)
      return err(Code::kInvalidArgument, "stream belongs to another device than the engine's");
    busy_ = true;
    q->submit([this] {
      Status s = run_program(*p_, profile_, state_);
      busy_ = false;
      return s;
    });
    return Status::Ok();
  }

  void set_tensor_observer(TensorObserver observer) override {
    state_.observer = std::move(observer);
  }

  void set_saturation_monitor(bool on) override {
    state_.saturation.clear();
    state_.saturation_index.assign(on ? p_->steps.size() : 0, -1);
    for (size_t i = 0; on && i < p_->steps.size(); ++i) {
      // INT8 layers: the builder's annotation (x_q = round(x / scale) in uint8 or int8) gives
      // the range of x that quantizes without clipping.
      const Step& s = p_->steps[i];
      if (p_->data.layers[i].precision != "int8") continue;
      const std::optional<ops::fused::Int8Input> q =
          ops::fused::read_int8(ops::NodeAttrs(*s.node, *s.schema));
      if (!q) continue;
      state_.saturation_index[i] = static_cast<int>(state_.saturation.size());
      state_.saturation.push_back({static_cast<int>(i), q->lo(), q->hi(), 0, 0});
    }
    if (state_.saturation.empty()) state_.saturation_index.clear();
  }
  std::vector<SaturationStat> saturation() const override {
    std::vector<SaturationStat> out;
    for (const RunState::Saturation& s : state_.saturation) {
      const ir::Node& n = *p_->steps[s.step].node;
      const ir::Value* x = n.inputs().empty() ? nullptr : n.input(0);
      out.push_back({n.name(), x ? x->name() : "", s.lo, s.hi, s.values, s.saturated});
    }
    return out;
  }

  void set_profiling(bool on) override {
    state_.layer_ms.assign(on ? p_->steps.size() : 0, 0.0);
    state_.profiled_runs = 0;
  }
  std::vector<LayerTime> layer_profile() const override {
    std::vector<LayerTime> out;
    for (size_t i = 0; i < state_.layer_ms.size(); ++i) {
      const Step& s = p_->steps[i];
      out.push_back(
          {s.node->name(), s.node->op_type(), s.tactic, state_.layer_ms[i], state_.profiled_runs});
    }
    return out;
  }

  Result<Tensor> output(const std::string& name) const override {
    const int o = output_index(name);
    if (o < 0) return unknown_name(*p_, name, TensorIOMode::kOutput);
    if (busy_) return err(Code::kContextBusy, "the context is still running; synchronize first");
    const Tensor& t = state_.results[o];
    if (t.empty())
      return err(Code::kInputShapeNotSet, "output '", name,
                 "' has not been computed yet: run the "
                 "context (execute or enqueue + synchronize) first");
    return t.view();
  }

 private:
  Status not_busy() const {
    if (!busy_) return Status::Ok();
    return err(Code::kContextBusy,
               "execution context is running an enqueued inference; call "
               "stream.synchronize() before changing or running it again");
  }
  int input_index(const std::string& name) const {
    for (size_t k = 0; k < p_->inputs.size(); ++k)
      if (p_->values[p_->inputs[k]].value->name() == name) return static_cast<int>(k);
    return -1;
  }
  int output_index(const std::string& name) const {
    for (size_t k = 0; k < p_->outputs.size(); ++k)
      if (p_->values[p_->outputs[k]].value->name() == name) return static_cast<int>(k);
    return -1;
  }

  // Shape inference on a private copy of the graph (the shared one is never annotated), once
  // per set of input shapes.
  Status infer_output_shapes() {
    std::vector<std::vector<int64_t>> key;
    for (const auto& s : state_.input_shapes) key.push_back(s.value_or(std::vector<int64_t>{-2}));
    if (inferred_for_ && *inferred_for_ == key) return Status::Ok();
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<ir::Model> copy, engine::read_engine_model(p_->bytes));
    ir::Graph& g = *copy->graph;
    for (size_t k = 0; k < p_->inputs.size(); ++k) {
      if (!state_.input_shapes[k]) continue;
      ir::Value* v = g.find(p_->values[p_->inputs[k]].value->name());
      if (v != nullptr) v->type.shape = Dims::of(*state_.input_shapes[k]);
    }
    std::vector<Status> problems;
    ops::infer_shapes(g, {}, problems);
    for (const Status& s : problems)
      if (s.severity() == Severity::kError) return s;
    inferred_.clear();
    for (size_t o = 0; o < p_->outputs.size(); ++o) {
      const ir::Value* v = g.find(p_->values[p_->outputs[o]].value->name());
      std::vector<int64_t> shape;
      if (v != nullptr && v->type.shape.rank_known())
        for (size_t d = 0; d < v->type.shape.rank(); ++d)
          shape.push_back(v->type.shape[d].is_static() ? v->type.shape[d].value : -1);
      // Data-dependent dims: the last run's, when it had these input shapes.
      const Tensor& last = state_.results[o];
      if (!last.empty() && state_.last_run_shapes == key && last.rank() == shape.size())
        for (size_t d = 0; d < shape.size(); ++d)
          if (shape[d] < 0) shape[d] = last.shape()[d];
      inferred_.push_back(std::move(shape));
    }
    inferred_for_ = key;
    return Status::Ok();
  }

  std::shared_ptr<const Program> p_;
  RunState state_;
  int profile_ = 0;
  std::atomic<bool> busy_{false};
  std::optional<std::vector<std::vector<int64_t>>> inferred_for_;
  std::vector<std::vector<int64_t>> inferred_;
};

}  // namespace

Result<std::unique_ptr<ExecutionContext>> make_context(std::shared_ptr<const Program> program) {
  auto ctx = std::make_unique<Context>(std::move(program));
  KILN_RETURN_IF_ERROR(ctx->init());
  return std::unique_ptr<ExecutionContext>(std::move(ctx));
}

}  // namespace kiln::runtime
