// The layer loop. Activations go where the memory plan says (the context's arena), graph
// outputs into the caller's bound buffers; a kernel that returns a view of some other arena
// slot gets its result copied into its own slot, so memory reuse can never be observed.
#include "runtime/executor.h"

#include <chrono>
#include <cstring>

#include "core/errors.h"
#include "interp/interpreter.h"

namespace kiln::runtime {

RunState::RunState(const Program& p)
    : program(p),
      input_shapes(p.inputs.size()),
      bindings(p.io.size()),
      kept_inputs(p.inputs.size()),
      results(p.outputs.size()),
      values(p.values.size()),
      ptrs(p.values.size(), nullptr) {}

Status RunState::use_profile(int profile) {
  const uint64_t need = program.profiles[profile].arena_bytes;
  if (arena && arena->size() >= need) return Status::Ok();
  arena.reset();
  KILN_ASSIGN_OR_RETURN(arena, program.device->allocate(need));
  return Status::Ok();
}

namespace {

Result<Tensor> deep_copy(const Tensor& t) {
  if (t.dtype() == DataType::kString) return Tensor::strings(t.shape(), t.string_data());
  KILN_ASSIGN_OR_RETURN(Tensor c, Tensor::allocate(t.dtype(), t.shape()));
  if (t.nbytes() > 0) std::memcpy(c.data(), t.data(), t.nbytes());
  return c;
}

std::string shape_str(const std::vector<int64_t>& s) {
  return Dims::of(s).to_string();
}

class Run {
 public:
  Run(const Program& p, int profile, RunState& st) : p_(p), prof_(p.profiles[profile]), st_(st) {
    base_ = st.arena ? static_cast<uint8_t*>(st.arena->data()) : nullptr;
    arena_size_ = st.arena ? st.arena->size() : 0;
  }

  Status go() {
    KILN_RETURN_IF_ERROR(bind_inputs());
    if (st_.observer)
      for (int id : p_.inputs)
        KILN_RETURN_IF_ERROR(st_.observer(p_.values[id].value->name(), *st_.ptrs[id], -1));
    const bool profiling = !st_.layer_ms.empty();
    if (profiling) ++st_.profiled_runs;
    for (size_t i = 0; i < p_.steps.size(); ++i) {
      if (!st_.saturation_index.empty() && st_.saturation_index[i] >= 0)
        count_saturation(p_.steps[i], st_.saturation[st_.saturation_index[i]]);
      const auto t0 =
          profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      Status s = run_step(p_.steps[i]);
      if (profiling)
        st_.layer_ms[i] +=
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
      if (!s.ok()) {
        if (s.node() == nullptr) s.with_node(p_.steps[i].node->ref());
        return s;
      }
      for (int id : p_.steps[i].release) {
        st_.values[id] = Tensor();
        st_.ptrs[id] = nullptr;
      }
    }
    return collect_outputs();
  }

 private:
  bool in_arena(const void* q) const {
    auto* b = static_cast<const uint8_t*>(q);
    return base_ != nullptr && b >= base_ && b < base_ + arena_size_;
  }

  Status bind_inputs() {
    std::string missing;
    for (size_t k = 0; k < p_.inputs.size(); ++k) {
      const ValueInfo& v = p_.values[p_.inputs[k]];
      const Binding& b = st_.bindings[v.io_index];
      if (!st_.input_shapes[k] || (b.data == nullptr && b.tensor == nullptr))
        missing += str(missing.empty() ? "" : ", ", "'", v.value->name(), "' (",
                       !st_.input_shapes[k] ? "shape" : "buffer", ")");
    }
    if (!missing.empty())
      return err(Code::kInputShapeNotSet, "inputs not ready: ", missing,
                 "; set every dynamic input's shape and bind every input before running");
    st_.last_run_shapes.clear();
    for (size_t k = 0; k < p_.inputs.size(); ++k) {
      const int id = p_.inputs[k];
      const ValueInfo& v = p_.values[id];
      const Binding& b = st_.bindings[v.io_index];
      const std::vector<int64_t>& shape = *st_.input_shapes[k];
      st_.last_run_shapes.push_back(shape);
      if (b.tensor != nullptr) {
        if (b.tensor->shape() != shape)
          return err(Code::kInputShapeMismatch, "input '", v.value->name(), "' tensor is ",
                     shape_str(b.tensor->shape()), " but its shape was set to ", shape_str(shape));
        st_.values[id] = b.tensor->view();
      } else {
        const DataType dt = v.value->type.dtype;
        const std::optional<int64_t> n = checked_numel(shape);
        const std::optional<size_t> need = n ? data_type_bytes(dt, *n) : std::nullopt;
        if (!need)
          return err(Code::kInvalidArgument, "input '", v.value->name(), "' shape ",
                     shape_str(shape), " is too large");
        if (*need > b.bytes)
          return err(Code::kBufferTooSmall, "buffer bound to input '", v.value->name(), "' holds ",
                     b.bytes, " bytes but ", data_type_name(dt), shape_str(shape), " needs ",
                     *need);
        st_.values[id] = Tensor::borrow(dt, shape, b.data);
      }
      st_.ptrs[id] = &st_.values[id];
    }
    for (size_t id = 0; id < p_.values.size(); ++id)
      if (p_.values[id].role == ValueRole::kWeight)
        st_.ptrs[id] = p_.values[id].value->initializer();
    return Status::Ok();
  }

  // Memory for output `i` of `step`, zeroed unless the layer computes it in place.
  Result<Tensor> allocate(const Step& step, size_t i, DataType dt, std::vector<int64_t> shape,
                          bool zero) {
    const int id = i < step.outputs.size() ? step.outputs[i] : -1;
    const std::optional<int64_t> n = checked_numel(shape);
    const std::optional<size_t> bytes = n ? data_type_bytes(dt, *n) : std::nullopt;
    if (id < 0 || !bytes) return Tensor::allocate(dt, std::move(shape));
    const ValueInfo& v = p_.values[id];
    if (v.is_output) {
      const Binding& b = st_.bindings[v.io_index];
      if (b.data != nullptr && *bytes <= b.bytes) {
        if (zero) std::memset(b.data, 0, *bytes);
        return Tensor::borrow(dt, std::move(shape), b.data);
      }
      return Tensor::allocate(dt, std::move(shape));
    }
    const Slot& s = prof_.slots[id];
    // A size above the plan (shapes that shrink as inputs grow) falls back to the heap.
    if (!s.planned || *bytes > s.bytes) return Tensor::allocate(dt, std::move(shape));
    uint8_t* where = base_ + s.offset;
    if (s.inplace_of >= 0) {
      const Tensor* src = st_.ptrs[s.inplace_of];
      // Truly in place only when the input sits in the shared slot with the same type and size;
      // otherwise the slot still holds a live input, so go to the heap.
      if (src == nullptr || src->data() != where || src->dtype() != dt || src->nbytes() != *bytes)
        return Tensor::allocate(dt, std::move(shape));
      return Tensor::borrow(dt, std::move(shape), where);
    }
    if (zero) std::memset(where, 0, *bytes);
    return Tensor::borrow(dt, std::move(shape), where);
  }

  // The monitored INT8 layer's input values outside its calibrated range.
  void count_saturation(const Step& step, RunState::Saturation& s) const {
    const int id = step.inputs.empty() ? -1 : step.inputs[0];
    const Tensor* x = id >= 0 ? st_.ptrs[id] : nullptr;
    if (x == nullptr) return;
    const int64_t n = x->numel();
    int64_t out = 0;
    if (x->dtype() == DataType::kFloat32) {
      const float* v = x->data_as<float>();
      for (int64_t k = 0; k < n; ++k) out += (v[k] < s.lo) | (v[k] > s.hi);
    } else if (x->dtype() == DataType::kUInt8) {
      // An INT8 chain's input arrives quantized: the producer's epilogue clipped what lay above
      // the range to 255 (values that merely round to 255 count too: a slight overcount).
      const uint8_t* v = x->data_as<uint8_t>();
      for (int64_t k = 0; k < n; ++k) out += v[k] == 255;
    } else {
      return;
    }
    s.values += n;
    s.saturated += out;
  }

  // What the observer sees of output `t` of `step`: an INT8 chain's 8-bit tensor as the float32
  // values it stands for (y_q * int8_y_scale), so taps compare with a float reference.
  static Result<Tensor> observed(const Step& step, const Tensor& t) {
    const ir::Attribute* a = step.node->attr("int8_y_scale");
    const bool u8 = t.dtype() == DataType::kUInt8, s8 = t.dtype() == DataType::kInt8;
    if ((!u8 && !s8) || a == nullptr || a->type != ir::AttrType::kFloat || !(a->f > 0))
      return t.view();
    KILN_ASSIGN_OR_RETURN(Tensor f, Tensor::allocate(DataType::kFloat32, t.shape()));
    float* v = f.data_as<float>();
    for (int64_t k = 0; k < t.numel(); ++k)
      v[k] = (u8 ? static_cast<float>(t.data_as<uint8_t>()[k])
                 : static_cast<float>(t.data_as<int8_t>()[k])) *
             a->f;
    return f;
  }

  Status run_step(const Step& step) {
    std::vector<const Tensor*> inputs;
    inputs.reserve(step.inputs.size());
    for (int id : step.inputs) {
      const Tensor* t = id >= 0 ? st_.ptrs[id] : nullptr;
      if (id >= 0 && t == nullptr)
        return err(Code::kInternal, "value '", p_.values[id].value->name(),
                   "' has no data when its layer runs");
      inputs.push_back(t);
    }
    ops::SubgraphRunner sub = [this](const ir::Graph& g, std::vector<Tensor> in) {
      interp::OuterLookup outer = [this](const ir::Value* v) -> const Tensor* {
        const int id = p_.value_id(v);
        return id >= 0 ? st_.ptrs[id] : nullptr;
      };
      return interp::run_subgraph(g, std::move(in), outer);
    };
    ops::KernelContext ctx(*step.node, *step.schema, std::move(inputs), std::move(sub));
    const ops::OutputAllocator alloc = [this, &step](size_t i, DataType dt,
                                                     std::vector<int64_t> shape, bool zero) {
      return allocate(step, i, dt, std::move(shape), zero);
    };
    ctx.set_output_allocator(&alloc);
    KILN_RETURN_IF_ERROR(step.kernel->run(ctx));
    for (size_t i = 0; i < step.outputs.size(); ++i) {
      const int id = step.outputs[i];
      if (id < 0) continue;
      Tensor& t = ctx.outputs()[i];
      if (t.empty())
        return err(Code::kInternal, step.node->op_type(), " kernel did not produce output ", i,
                   " '", p_.values[id].value->name(), "'");
      KILN_RETURN_IF_ERROR(place(id, std::move(t)));
      if (st_.observer) {
        KILN_ASSIGN_OR_RETURN(Tensor seen, observed(step, st_.values[id]));
        KILN_RETURN_IF_ERROR(st_.observer(p_.values[id].value->name(), seen,
                                          static_cast<int>(&step - p_.steps.data())));
      }
    }
    return Status::Ok();
  }

  // Stores a layer's output, copying it where a view would alias memory that gets reused.
  Status place(int id, Tensor t) {
    const ValueInfo& v = p_.values[id];
    if (v.is_output) {
      const Binding& b = st_.bindings[v.io_index];
      if (b.data != nullptr && t.dtype() != DataType::kString && t.data() != b.data) {
        if (t.nbytes() > b.bytes)
          return err(Code::kBufferTooSmall, "buffer bound to output '", v.value->name(), "' holds ",
                     b.bytes, " bytes but the result ", data_type_name(t.dtype()),
                     shape_str(t.shape()), " needs ", t.nbytes())
              .with_fix(str("bind at least ", t.nbytes(),
                            " bytes (size output buffers for the "
                            "profile's max shapes, or query tensor_shape first)"));
        if (t.nbytes() > 0) std::memmove(b.data, t.data(), t.nbytes());
        t = Tensor::borrow(t.dtype(), t.shape(), b.data);
      } else if (b.data == nullptr && !t.owns_data()) {
        KILN_ASSIGN_OR_RETURN(t, deep_copy(t));
      }
    } else if (t.dtype() != DataType::kString && in_arena(t.data())) {
      const Slot& s = prof_.slots[id];
      uint8_t* own = s.planned ? base_ + s.offset : nullptr;
      if (t.data() != own) {
        if (own != nullptr && t.nbytes() <= s.bytes) {
          std::memmove(own, t.data(), t.nbytes());
          t = Tensor::borrow(t.dtype(), t.shape(), own);
        } else {
          KILN_ASSIGN_OR_RETURN(t, deep_copy(t));
        }
      }
    }
    st_.values[id] = std::move(t);
    st_.ptrs[id] = &st_.values[id];
    return Status::Ok();
  }

  Status collect_outputs() {
    for (size_t k = 0; k < p_.outputs.size(); ++k) {
      const int id = p_.outputs[k];
      const ValueInfo& v = p_.values[id];
      if (v.role != ValueRole::kActivation) {  // an input or weight passed straight through
        const Tensor* src = st_.ptrs[id];
        if (src == nullptr) return err(Code::kInternal, "output '", v.value->name(), "' missing");
        KILN_RETURN_IF_ERROR(place(id, src->view()));
        if (!st_.values[id].owns_data() && st_.bindings[v.io_index].data == nullptr) {
          KILN_ASSIGN_OR_RETURN(st_.values[id], deep_copy(st_.values[id]));
        }
      }
      st_.results[k] = st_.values[id].view();
    }
    // Drop this run's references (the results above keep what they need).
    for (size_t id = 0; id < st_.values.size(); ++id) {
      st_.values[id] = Tensor();
      st_.ptrs[id] = nullptr;
    }
    return Status::Ok();
  }

  const Program& p_;
  const ProfileInfo& prof_;
  RunState& st_;
  uint8_t* base_ = nullptr;
  uint64_t arena_size_ = 0;
};

}  // namespace

Status run_program(const Program& p, int profile, RunState& state) {
  p.device->set_intra_op_threads(p.threads.load(std::memory_order_relaxed));
  Status s = Run(p, profile, state).go();
  p.device->run_finished();
  return s;
}

}  // namespace kiln::runtime
