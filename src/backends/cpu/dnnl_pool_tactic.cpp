// "cpu.dnnl.pool": MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (NCHW) and
// kiln.PoolNhwc (channels-last, as the layout pass writes them) as oneDNN pooling primitives,
// 1-D and 2-D, fp32. ceil_mode is expressed as extra right padding (max pooling only: for
// averages ONNX's divisor there differs from oneDNN's); MaxPool's Indices output and
// storage_order stay with the reference kernel.
#include <map>
#include <memory>
#include <mutex>

#include "backends/cpu/cpu_kernel_util.h"
#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/dnnl_util.h"
#include "core/errors.h"
#include "ops/nn_kernels.h"

namespace kiln::backends {
namespace {

using cpu::to_dims;
using dnnl::memory;
using Tag = dnnl::memory::format_tag;

struct PoolSpec {
  std::string mode;  // MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool
  bool channels_last = false;
  bool ceil = false;
  bool count_include_pad = false;
};

std::optional<PoolSpec> read_spec(const ir::Node& n, const ops::OpSchema& schema) {
  PoolSpec s;
  ops::NodeAttrs attrs(n, schema);
  if (n.domain() == ops::kKilnDomain && n.op_type() == "PoolNhwc") {
    s.mode = attrs.attr_string("mode", "MaxPool");
    s.channels_last = true;
  } else if (n.domain().empty() &&
             (n.op_type() == "MaxPool" || n.op_type() == "AveragePool" ||
              n.op_type() == "GlobalAveragePool" || n.op_type() == "GlobalMaxPool")) {
    s.mode = n.op_type();
  } else {
    return std::nullopt;
  }
  if (!cpu::is_f32(n.input(0)) || n.outputs().size() != 1 || n.output(0) == nullptr)
    return std::nullopt;
  const ir::Value* x = n.input(0);
  if (!x->type.shape.rank_known() || (x->type.shape.rank() != 3 && x->type.shape.rank() != 4))
    return std::nullopt;
  if (attrs.attr_int("storage_order", 0) != 0) return std::nullopt;
  s.ceil = attrs.attr_int("ceil_mode", 0) != 0;
  s.count_include_pad = attrs.attr_int("count_include_pad", 0) != 0;
  if (s.ceil && s.mode == "AveragePool") return std::nullopt;
  return s;
}

struct Plan {
  dnnl::pooling_v2_forward prim;
  memory::desc src, dst, scratch;
  std::vector<int64_t> y_shape;  // as the tensor stores it
};

class DnnlPoolKernel final : public Kernel {
 public:
  DnnlPoolKernel(const ir::Node& node, const ops::OpSchema& schema, PoolSpec spec)
      : node_(node), schema_(schema), spec_(std::move(spec)) {}

  Status run(ops::KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (x == nullptr || x->dtype() != DataType::kFloat32 || (x->rank() != 3 && x->rank() != 4) ||
        x->numel() == 0)
      return fallback(ctx);
    Result<std::shared_ptr<const Plan>> plan = plan_for(x->shape());
    if (!plan.ok()) return fallback(ctx);
    const Plan& p = **plan;
    KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output_uninit(0, DataType::kFloat32, p.y_shape));
    auto& eng = cpu::dnnl_engine();
    try {
      p.prim.execute(cpu::dnnl_thread_stream(),
                     {{DNNL_ARG_SRC, memory(p.src, eng, const_cast<void*>(x->data()))},
                      {DNNL_ARG_DST, memory(p.dst, eng, y->data())},
                      {DNNL_ARG_SCRATCHPAD, cpu::dnnl_scratchpad(p.scratch)}});
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN pooling failed: ", e.what());
    }
    return Status::Ok();
  }

 private:
  Status fallback(ops::KernelContext& ctx) const { return schema_.reference_kernel()(ctx); }

  Result<std::shared_ptr<const Plan>> plan_for(const std::vector<int64_t>& shape) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(shape);
    if (it != plans_.end()) return it->second;
    KILN_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> p, make_plan(shape));
    plans_.emplace(shape, p);
    return p;
  }

  Result<std::shared_ptr<const Plan>> make_plan(const std::vector<int64_t>& shape) const {
    const size_t rank = shape.size(), nd = rank - 2;
    // [N, C, spatial...] whatever the storage order.
    std::vector<int64_t> xs = shape;
    if (spec_.channels_last) {
      xs = {shape[0], shape[rank - 1]};
      xs.insert(xs.end(), shape.begin() + 1, shape.end() - 1);
    }
    const std::vector<int64_t> in(xs.begin() + 2, xs.end());
    ops::Window win;
    std::vector<int64_t> out;
    if (spec_.mode.rfind("Global", 0) == 0) {
      win.kernel = in;
      win.strides.assign(nd, 1);
      win.dilations.assign(nd, 1);
      win.pad_begin.assign(nd, 0);
      win.pad_end.assign(nd, 0);
      out.assign(nd, 1);
    } else {
      const ops::NodeAttrs attrs(node_, schema_);
      KILN_ASSIGN_OR_RETURN(
          win, ops::read_window(attrs, spec_.mode, attrs.attr_ints("kernel_shape"), true));
      KILN_ASSIGN_OR_RETURN(out, ops::window_output_sizes(attrs, spec_.mode, in, win, spec_.ceil));
    }
    if (win.kernel.size() != nd) return err(Code::kKernelFailed, "pool kernel rank");
    std::vector<int64_t> dil(nd), pad_r(nd);
    for (size_t d = 0; d < nd; ++d) {
      dil[d] = win.dilations[d] - 1;
      // Whatever right padding makes oneDNN's floor formula give ONNX's size (ceil_mode).
      pad_r[d] = (out[d] - 1) * win.strides[d] + win.dilated(d) - in[d] - win.pad_begin[d];
      if (pad_r[d] < 0) pad_r[d] = 0;
    }
    std::vector<int64_t> ys = {xs[0], xs[1]};
    ys.insert(ys.end(), out.begin(), out.end());
    const Tag tag = nd == 1 ? (spec_.channels_last ? Tag::nwc : Tag::ncw)
                            : (spec_.channels_last ? Tag::nhwc : Tag::nchw);
    const auto f = memory::data_type::f32;
    auto plan = std::make_shared<Plan>();
    plan->src = memory::desc(to_dims(xs), f, tag);
    plan->dst = memory::desc(to_dims(ys), f, tag);
    const dnnl::algorithm alg =
        spec_.mode.find("Max") != std::string::npos ? dnnl::algorithm::pooling_max
        : spec_.count_include_pad                   ? dnnl::algorithm::pooling_avg_include_padding
                                                    : dnnl::algorithm::pooling_avg_exclude_padding;
    try {
      dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg, plan->src,
                                       plan->dst, to_dims(win.strides), to_dims(win.kernel),
                                       to_dims(dil), to_dims(win.pad_begin), to_dims(pad_r));
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::pooling_v2_forward::primitive_desc pd(d, attr, cpu::dnnl_engine());
      plan->prim = dnnl::pooling_v2_forward(pd);
      plan->scratch = pd.scratchpad_desc();
    } catch (const dnnl::error& e) {
      return err(Code::kKernelFailed, "oneDNN rejects the pooling: ", e.what());
    }
    plan->y_shape = ys;
    if (spec_.channels_last) {
      plan->y_shape = {ys[0]};
      plan->y_shape.insert(plan->y_shape.end(), ys.begin() + 2, ys.end());
      plan->y_shape.push_back(ys[1]);
    }
    return std::shared_ptr<const Plan>(std::move(plan));
  }

  const ir::Node& node_;
  const ops::OpSchema& schema_;
  PoolSpec spec_;
  mutable std::mutex mu_;
  mutable std::map<std::vector<int64_t>, std::shared_ptr<const Plan>> plans_;
};

class DnnlPoolTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.dnnl.pool"; }
  bool supports(const ir::Node& node, const ops::OpSchema& schema) const override {
    return read_spec(node, schema).has_value() && schema.reference_kernel();
  }
  Result<std::unique_ptr<Kernel>> prepare(const ir::Node& node, const ops::OpSchema& schema,
                                          const std::vector<uint8_t>& params) const override {
    std::optional<PoolSpec> s = read_spec(node, schema);
    if (!s)
      return err(Code::kNoKernel, name(), " cannot run this ", node.op_type())
          .with_node(node.ref());
    return std::unique_ptr<Kernel>(new DnnlPoolKernel(node, schema, *s));
  }
};

}  // namespace

const Tactic& cpu_dnnl_pool_tactic() {
  static const DnnlPoolTactic t;
  return t;
}

}  // namespace kiln::backends
