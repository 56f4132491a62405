// Reference kernels for If, Loop and Scan.
//
// Subgraphs run through KernelContext::run_subgraph, which binds the given tensors to the
// subgraph's inputs by position and resolves outer-scope names through the calling frame. The
// kernels only move values: views where a value passes through unchanged, copies where slices
// are cut (Scan inputs) or stacked (Loop and Scan outputs). Copies work for every fixed-width
// type and for strings; the packed 4-bit types cannot be sliced element-wise and are refused.
//
// Loop follows ONNX Runtime and the onnx reference implementation: the body's condition output
// decides whether another iteration runs even when the Loop's cond input is omitted (the spec
// calls it ignored in that form, where bodies pass it through unchanged anyway).
#include "ops/control_flow_kernels.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "ops/kernel_util.h"

namespace kiln::ops {

namespace {

std::atomic<int64_t> g_loop_cap{kDefaultLoopIterationCap};

constexpr int64_t kMaxElements = int64_t{1} << 33;

std::string shape_str(const std::vector<int64_t>& s) {
  return Dims::of(s).to_string();
}

int64_t product(const std::vector<int64_t>& s, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; ++i) n *= s[i];
  return n;
}

// Slicing and stacking copy whole elements; packed sub-byte types have no element address.
Status check_copyable(DataType dt, std::string_view what) {
  if (dt == DataType::kString) return Status::Ok();
  const int bits = data_type_info(dt).bits;
  if (bits > 0 && bits % 8 == 0) return Status::Ok();
  return err(Code::kTypeUnsupported, what, " cannot slice or stack ", data_type_name(dt),
             " values");
}

// Copies `count` elements of `src` (from element `from`) into `dst` (at element `to`).
void copy_elements(const Tensor& src, int64_t from, Tensor& dst, int64_t to, int64_t count) {
  if (count == 0) return;
  if (src.dtype() == DataType::kString) {
    const std::vector<std::string>& s = src.string_data();
    std::copy_n(s.begin() + from, count, dst.mutable_string_data().begin() + to);
    return;
  }
  const size_t elem = static_cast<size_t>(data_type_info(src.dtype()).bits / 8);
  std::memcpy(static_cast<char*>(dst.data()) + static_cast<size_t>(to) * elem,
              static_cast<const char*>(src.data()) + static_cast<size_t>(from) * elem,
              static_cast<size_t>(count) * elem);
}

// t[..., index, ...] along `axis`, as a new tensor without that axis.
Result<Tensor> slice_along(const Tensor& t, size_t axis, int64_t index) {
  std::vector<int64_t> shape = t.shape();
  const int64_t n = shape[axis];
  const int64_t outer = product(shape, 0, axis), inner = product(shape, axis + 1, shape.size());
  shape.erase(shape.begin() + static_cast<ptrdiff_t>(axis));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::allocate(t.dtype(), shape));
  for (int64_t o = 0; o < outer; ++o)
    copy_elements(t, (o * n + index) * inner, out, o * inner, inner);
  return out;
}

// Stacks per-iteration values (all of dtype `dt`, shape `elem`) along a new axis `axis` of the
// result; item i lands at position i, or n-1-i when `reverse`. A null item leaves its position
// zero (Scan-8 rows shorter than the sequence).
Result<Tensor> stack_along(const std::vector<const Tensor*>& items, DataType dt,
                           const std::vector<int64_t>& elem, size_t axis, bool reverse,
                           std::string_view what) {
  const int64_t n = static_cast<int64_t>(items.size());
  std::vector<int64_t> shape = elem;
  shape.insert(shape.begin() + static_cast<ptrdiff_t>(axis), n);
  const std::optional<int64_t> numel = checked_numel(shape);
  if (!numel || *numel > kMaxElements)
    return err(Code::kInvalidArgument, what, " of shape ", shape_str(shape),
               " exceeds kiln's limit of 2^33 elements");
  KILN_RETURN_IF_ERROR(check_copyable(dt, what));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::allocate(dt, shape));
  const int64_t outer = product(elem, 0, axis), inner = product(elem, axis, elem.size());
  for (int64_t i = 0; i < n; ++i) {
    if (items[i] == nullptr) continue;
    const int64_t pos = reverse ? n - 1 - i : i;
    for (int64_t o = 0; o < outer; ++o)
      copy_elements(*items[i], o * inner, out, (o * n + pos) * inner, inner);
  }
  return out;
}

// Per-iteration values of one scan output; every iteration must give the same type and shape.
struct Stacker {
  std::string what;  // "Loop scan output 0"
  std::vector<Tensor> items;

  Status add(Tensor t, int64_t iteration) {
    if (!items.empty()) {
      const Tensor& first = items.front();
      if (t.dtype() != first.dtype())
        return err(Code::kInvalidArgument, what, " is ", data_type_name(t.dtype()),
                   " at iteration ", iteration, " but ", data_type_name(first.dtype()),
                   " at iteration 0");
      if (t.shape() != first.shape())
        return err(Code::kIncompatibleShapes, what, " has shape ", shape_str(t.shape()),
                   " at iteration ", iteration, " but ", shape_str(first.shape()),
                   " at iteration 0; scan outputs must keep one shape");
    }
    items.push_back(std::move(t));
    return Status::Ok();
  }
  std::vector<const Tensor*> pointers() const {
    std::vector<const Tensor*> p;
    for (const Tensor& t : items) p.push_back(&t);
    return p;
  }
};

// Type and shape of a body output that never ran, from its declaration: unknown dims become 0
// so the result is empty with the declared rank.
Status declared_elem(const ir::Value* v, std::string_view what, DataType& dt,
                     std::vector<int64_t>& shape) {
  if (!v->type.known())
    return err(Code::kKernelFailed, what,
               " ran zero iterations and the body does not declare "
               "the type of output '",
               v->name(), "'");
  dt = v->type.dtype;
  shape.clear();
  const Dims& d = v->type.shape;
  if (!d.rank_known()) return Status::Ok();
  for (size_t i = 0; i < d.rank(); ++i) shape.push_back(d[i].is_static() ? d[i].value : 0);
  return Status::Ok();
}

// Stacks a scan output; with no iterations the shape comes from the body's declaration.
Result<Tensor> finish_scan_output(const Stacker& s, const ir::Value* decl, int64_t axis,
                                  bool reverse) {
  DataType dt;
  std::vector<int64_t> elem;
  if (s.items.empty()) {
    KILN_RETURN_IF_ERROR(declared_elem(decl, s.what, dt, elem));
  } else {
    dt = s.items.front().dtype();
    elem = s.items.front().shape();
  }
  const int64_t rank = static_cast<int64_t>(elem.size()) + 1;
  if (axis < -rank || axis >= rank)
    return err(Code::kInvalidArgument, s.what, " axis ", axis, " is out of range for rank ", rank,
               " (valid: ", -rank, "..", rank - 1, ")");
  return stack_along(s.pointers(), dt, elem, static_cast<size_t>(axis < 0 ? axis + rank : axis),
                     reverse, s.what);
}

Result<bool> read_cond(const Tensor& t, std::string_view what) {
  if (t.dtype() != DataType::kBool)
    return err(Code::kTypeUnsupported, what, " must be bool, not ", data_type_name(t.dtype()));
  if (t.numel() != 1)
    return err(Code::kInvalidArgument, what, " must hold one value, not ", t.numel(), " (shape ",
               shape_str(t.shape()), ")");
  return t.data_as<bool>()[0];
}

template <typename T>
Result<Tensor> scalar(DataType dt, T value) {
  KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dt, {}));
  t.data_as<T>()[0] = value;
  return t;
}

// Every node input a control-flow op passes on must be present (kiln has no optional values).
Status require_inputs(const KernelContext& ctx, size_t first) {
  for (size_t i = first; i < ctx.num_inputs(); ++i)
    if (ctx.input(i) == nullptr)
      return err(Code::kInvalidArgument, ctx.node().op_type(), " input ", i,
                 " is omitted; its values must all be present");
  return Status::Ok();
}

Status check_io_counts(const KernelContext& ctx, const ir::Graph& body, size_t inputs,
                       size_t outputs, std::string_view expected) {
  if (body.inputs().size() == inputs && body.outputs().size() == outputs) return Status::Ok();
  return err(Code::kInvalidArgument, ctx.node().op_type(), " body has ", body.inputs().size(),
             " inputs and ", body.outputs().size(), " outputs but this node needs ", inputs,
             " and ", outputs, " (", expected, ")");
}

// Attribute list of per-value flags or axes: absent means all `fallback`; else exactly `count`.
Result<std::vector<int64_t>> per_value_attr(const KernelContext& ctx, std::string_view name,
                                            size_t count, int64_t fallback, bool is_direction) {
  if (!ctx.has_attr(name)) return std::vector<int64_t>(count, fallback);
  std::vector<int64_t> v = ctx.attr_ints(name);
  if (v.size() != count)
    return err(Code::kInvalidArgument, ctx.node().op_type(), " attribute '", name, "' has ",
               v.size(), " entries but the node has ", count, " such values");
  if (is_direction)
    for (int64_t d : v)
      if (d != 0 && d != 1)
        return err(Code::kInvalidArgument, ctx.node().op_type(), " attribute '", name,
                   "' has direction ", d, " (allowed: 0 forward, 1 reverse)");
  return v;
}

}  // namespace

int64_t loop_iteration_cap() {
  return g_loop_cap.load();
}
void set_loop_iteration_cap(int64_t cap) {
  g_loop_cap.store(cap);
}

Status if_reference_kernel(KernelContext& ctx) {
  if (ctx.input(0) == nullptr) return err(Code::kInvalidArgument, "If needs its cond input");
  KILN_ASSIGN_OR_RETURN(bool cond, read_cond(*ctx.input(0), "If cond"));
  const char* name = cond ? "then_branch" : "else_branch";
  const ir::Graph* branch = ctx.attr_graph(name);
  if (branch == nullptr) return err(Code::kInvalidArgument, "If has no ", name, " graph");
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> out, ctx.run_subgraph(*branch, {}));
  if (out.size() != ctx.num_outputs())
    return err(Code::kInvalidArgument, "If ", name, " returns ", out.size(),
               " values but the node has ", ctx.num_outputs(), " outputs");
  for (size_t i = 0; i < out.size(); ++i) ctx.set_output(i, std::move(out[i]));
  return Status::Ok();
}

Status loop_reference_kernel(KernelContext& ctx) {
  const ir::Graph* body = ctx.attr_graph("body");
  if (body == nullptr) return err(Code::kInvalidArgument, "Loop has no body graph");
  const size_t carried = ctx.num_inputs() > 2 ? ctx.num_inputs() - 2 : 0;
  if (ctx.num_outputs() < carried)
    return err(Code::kInvalidArgument, "Loop has ", carried, " loop-carried inputs but only ",
               ctx.num_outputs(), " outputs");
  const size_t scans = ctx.num_outputs() - carried;
  KILN_RETURN_IF_ERROR(
      check_io_counts(ctx, *body, 2 + carried, 1 + carried + scans,
                      str("inputs: iteration_num, cond, ", carried, " carried; outputs: cond, ",
                          carried, " carried, ", scans, " scan")));
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 2));

  int64_t trips = std::numeric_limits<int64_t>::max();
  const bool has_trips = ctx.input(0) != nullptr;
  if (has_trips) {
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> m, read_int_values(*ctx.input(0), "Loop M"));
    if (m.size() != 1)
      return err(Code::kInvalidArgument, "Loop M must hold one value, not ", m.size());
    trips = m[0];
  }
  bool cond = true;
  if (ctx.input(1) != nullptr) {
    KILN_ASSIGN_OR_RETURN(cond, read_cond(*ctx.input(1), "Loop cond"));
  }

  std::vector<Tensor> values;
  for (size_t i = 0; i < carried; ++i) values.push_back(ctx.input(2 + i)->view());
  std::vector<Stacker> stackers(scans);
  for (size_t k = 0; k < scans; ++k) stackers[k].what = str("Loop scan output ", k);

  const int64_t cap = loop_iteration_cap();
  int64_t scanned = 0;  // elements held by scan outputs so far
  int64_t it = 0;
  for (; it < trips && cond; ++it) {
    if (it >= cap)
      return err(Code::kKernelFailed, "Loop ran ", cap, " iterations and would run more (M ",
                 has_trips ? str(trips) : std::string("absent"),
                 ", cond still true); kiln "
                 "stops loops at ",
                 cap, " iterations");
    std::vector<Tensor> in;
    KILN_ASSIGN_OR_RETURN(Tensor iter, scalar<int64_t>(DataType::kInt64, it));
    KILN_ASSIGN_OR_RETURN(Tensor c, scalar<bool>(DataType::kBool, cond));
    in.push_back(std::move(iter));
    in.push_back(std::move(c));
    for (Tensor& v : values) in.push_back(std::move(v));
    KILN_ASSIGN_OR_RETURN(std::vector<Tensor> out, ctx.run_subgraph(*body, std::move(in)));
    KILN_ASSIGN_OR_RETURN(cond, read_cond(out[0], "Loop body cond output"));
    for (size_t i = 0; i < carried; ++i) values[i] = std::move(out[1 + i]);
    for (size_t k = 0; k < scans; ++k) {
      scanned += out[1 + carried + k].numel();
      if (scanned > kMaxElements)
        return err(Code::kInvalidArgument,
                   "Loop scan outputs exceed kiln's limit of 2^33 "
                   "elements after ",
                   it + 1, " iterations");
      KILN_RETURN_IF_ERROR(stackers[k].add(std::move(out[1 + carried + k]), it));
    }
  }
  for (size_t i = 0; i < carried; ++i) ctx.set_output(i, std::move(values[i]));
  for (size_t k = 0; k < scans; ++k) {
    if (!ctx.wants_output(carried + k)) continue;
    KILN_ASSIGN_OR_RETURN(
        Tensor t, finish_scan_output(stackers[k], body->outputs()[1 + carried + k], 0, false));
    ctx.set_output(carried + k, std::move(t));
  }
  return Status::Ok();
}

namespace {

// Scan runs its body once per step (per batch row for Scan-8); the Loop cap bounds that too.
Status check_step_count(int64_t seq, int64_t batch) {
  const int64_t cap = loop_iteration_cap();
  // A zero-length row still costs a state slice, so rows count at least one step.
  if (seq <= cap && batch <= cap / std::max<int64_t>(seq, 1)) return Status::Ok();
  return err(Code::kKernelFailed, "Scan would run its body ", seq, " times",
             batch == 1 ? "" : str(" for each of ", batch, " batch rows"), "; kiln stops loops at ",
             cap, " iterations");
}

// Scan-8: every state and scan input has a leading batch axis; scan inputs scan their axis 1,
// each batch row for its own sequence_lens entry. Scan outputs are [batch, seq, ...], zero past
// a row's length.
Status scan8(KernelContext& ctx, const ir::Graph& body, int64_t m) {
  const int64_t total = static_cast<int64_t>(ctx.num_inputs()) - 1;
  if (m < 1 || m > total)
    return err(Code::kInvalidArgument, "Scan num_scan_inputs ", m, " is outside [1, ", total,
               "] (the node has ", total, " state and scan inputs)");
  const size_t n = static_cast<size_t>(total - m), ms = static_cast<size_t>(m);
  if (ctx.num_outputs() < n)
    return err(Code::kInvalidArgument, "Scan has ", n, " state inputs but only ", ctx.num_outputs(),
               " outputs");
  const size_t k = ctx.num_outputs() - n;
  KILN_RETURN_IF_ERROR(check_io_counts(
      ctx, body, n + ms, n + k,
      str(n, " states + ", m, " scan inputs; ", n, " states + ", k, " scan outputs")));
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 1));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> dirs, per_value_attr(ctx, "directions", ms, 0, true));

  // Batch and sequence sizes must agree across all inputs.
  int64_t batch = -1, seq = -1;
  for (size_t i = 0; i < n + ms; ++i) {
    const Tensor& t = *ctx.input(1 + i);
    const bool is_scan = i >= n;
    if (t.rank() < (is_scan ? 2u : 1u))
      return err(Code::kIncompatibleShapes, "Scan input ", 1 + i, " has shape ",
                 shape_str(t.shape()), " but Scan-8 ", is_scan ? "scan inputs" : "states",
                 " need rank >= ", is_scan ? 2 : 1, " (batch axis first)");
    if (batch >= 0 && t.shape()[0] != batch)
      return err(Code::kIncompatibleShapes, "Scan input ", 1 + i, " has shape ",
                 shape_str(t.shape()), " but the batch size is ", batch);
    batch = t.shape()[0];
    if (is_scan) {
      if (seq >= 0 && t.shape()[1] != seq)
        return err(Code::kIncompatibleShapes, "Scan input ", 1 + i, " has shape ",
                   shape_str(t.shape()), " but the sequence length is ", seq);
      seq = t.shape()[1];
    }
  }
  KILN_RETURN_IF_ERROR(check_step_count(seq, batch));
  std::vector<int64_t> lens(static_cast<size_t>(batch), seq);
  if (const Tensor* sl = ctx.input(0)) {
    if (sl->shape() != std::vector<int64_t>{batch})
      return err(Code::kIncompatibleShapes, "Scan sequence_lens has shape ", shape_str(sl->shape()),
                 " but must be [", batch, "]");
    KILN_ASSIGN_OR_RETURN(lens, read_int_values(*sl, "Scan sequence_lens"));
    for (size_t b = 0; b < lens.size(); ++b)
      if (lens[b] < 0 || lens[b] > seq)
        return err(Code::kInvalidArgument, "Scan sequence_lens[", b, "] = ", lens[b],
                   " is outside [0, ", seq, "]");
  }
  for (size_t i = 0; i < n + ms; ++i)
    KILN_RETURN_IF_ERROR(check_copyable(ctx.input(1 + i)->dtype(), "Scan"));

  std::vector<Stacker> finals(n);  // one item per batch row
  for (size_t i = 0; i < n; ++i) finals[i].what = str("Scan final state ", i);
  std::vector<std::vector<Stacker>> rows(k);  // [output][batch row], one item per step
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Tensor> states, scan_rows;
    for (size_t i = 0; i < n; ++i) {
      KILN_ASSIGN_OR_RETURN(Tensor s, slice_along(*ctx.input(1 + i), 0, b));
      states.push_back(std::move(s));
    }
    for (size_t j = 0; j < ms; ++j) {
      KILN_ASSIGN_OR_RETURN(Tensor r, slice_along(*ctx.input(1 + n + j), 0, b));
      scan_rows.push_back(std::move(r));
    }
    for (size_t o = 0; o < k; ++o) rows[o].push_back(Stacker{str("Scan scan output ", o), {}});
    const int64_t len = lens[static_cast<size_t>(b)];
    for (int64_t t = 0; t < len; ++t) {
      std::vector<Tensor> in = std::move(states);
      for (size_t j = 0; j < ms; ++j) {
        KILN_ASSIGN_OR_RETURN(Tensor s, slice_along(scan_rows[j], 0, dirs[j] ? len - 1 - t : t));
        in.push_back(std::move(s));
      }
      KILN_ASSIGN_OR_RETURN(std::vector<Tensor> out, ctx.run_subgraph(body, std::move(in)));
      states.assign(std::make_move_iterator(out.begin()),
                    std::make_move_iterator(out.begin() + static_cast<ptrdiff_t>(n)));
      for (size_t o = 0; o < k; ++o) KILN_RETURN_IF_ERROR(rows[o][b].add(std::move(out[n + o]), t));
    }
    for (size_t i = 0; i < n; ++i) KILN_RETURN_IF_ERROR(finals[i].add(std::move(states[i]), b));
  }

  for (size_t i = 0; i < n; ++i) {
    if (batch == 0) {  // no rows ran: the (empty) initial state is the final state
      ctx.set_output(i, ctx.input(1 + i)->view());
      continue;
    }
    const Tensor& first = finals[i].items.front();
    KILN_ASSIGN_OR_RETURN(Tensor t, stack_along(finals[i].pointers(), first.dtype(), first.shape(),
                                                0, false, finals[i].what));
    ctx.set_output(i, std::move(t));
  }
  for (size_t o = 0; o < k; ++o) {
    if (!ctx.wants_output(n + o)) continue;
    // Rows must agree with each other too; the first row that ran fixes type and shape.
    const Tensor* proto = nullptr;
    for (const Stacker& r : rows[o])
      if (!r.items.empty() && proto == nullptr) proto = &r.items.front();
    DataType dt;
    std::vector<int64_t> elem;
    if (proto != nullptr) {
      dt = proto->dtype();
      elem = proto->shape();
    } else {
      KILN_RETURN_IF_ERROR(declared_elem(body.outputs()[n + o], "Scan", dt, elem));
    }
    std::vector<Tensor> per_row;
    for (int64_t b = 0; b < batch; ++b) {
      const Stacker& r = rows[o][static_cast<size_t>(b)];
      if (!r.items.empty() && (r.items.front().dtype() != dt || r.items.front().shape() != elem))
        return err(Code::kIncompatibleShapes, "Scan scan output ", o, " has shape ",
                   shape_str(r.items.front().shape()), " in batch row ", b, " but ",
                   shape_str(elem), " in an earlier row");
      std::vector<const Tensor*> slots(static_cast<size_t>(seq), nullptr);
      for (size_t t = 0; t < r.items.size(); ++t) slots[t] = &r.items[t];
      KILN_ASSIGN_OR_RETURN(Tensor row, stack_along(slots, dt, elem, 0, false, r.what));
      per_row.push_back(std::move(row));
    }
    std::vector<const Tensor*> ptrs;
    for (const Tensor& t : per_row) ptrs.push_back(&t);
    std::vector<int64_t> row_shape = elem;
    row_shape.insert(row_shape.begin(), seq);
    KILN_ASSIGN_OR_RETURN(Tensor t, stack_along(ptrs, dt, row_shape, 0, false, "Scan scan output"));
    ctx.set_output(n + o, std::move(t));
  }
  return Status::Ok();
}

// Scan-9 and later: no batch axis; each scan input has its own axis and direction, each scan
// output its own axis and direction.
Status scan9(KernelContext& ctx, const ir::Graph& body, int64_t m) {
  const int64_t total = static_cast<int64_t>(ctx.num_inputs());
  if (m < 1 || m > total)
    return err(Code::kInvalidArgument, "Scan num_scan_inputs ", m, " is outside [1, ", total,
               "] (the node has ", total, " inputs)");
  const size_t n = static_cast<size_t>(total - m), ms = static_cast<size_t>(m);
  if (ctx.num_outputs() < n)
    return err(Code::kInvalidArgument, "Scan has ", n, " state inputs but only ", ctx.num_outputs(),
               " outputs");
  const size_t k = ctx.num_outputs() - n;
  KILN_RETURN_IF_ERROR(check_io_counts(
      ctx, body, n + ms, n + k,
      str(n, " states + ", m, " scan inputs; ", n, " states + ", k, " scan outputs")));
  KILN_RETURN_IF_ERROR(require_inputs(ctx, 0));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> in_axes,
                        per_value_attr(ctx, "scan_input_axes", ms, 0, false));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> in_dirs,
                        per_value_attr(ctx, "scan_input_directions", ms, 0, true));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> out_axes,
                        per_value_attr(ctx, "scan_output_axes", k, 0, false));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> out_dirs,
                        per_value_attr(ctx, "scan_output_directions", k, 0, true));

  int64_t seq = -1;
  for (size_t j = 0; j < ms; ++j) {
    const Tensor& t = *ctx.input(n + j);
    if (t.rank() == 0)
      return err(Code::kIncompatibleShapes, "Scan scan input ", j,
                 " is a scalar; scan inputs need an axis to scan");
    KILN_ASSIGN_OR_RETURN(in_axes[j], normalize_axis(in_axes[j], static_cast<int64_t>(t.rank()),
                                                     "Scan scan_input_axes"));
    KILN_RETURN_IF_ERROR(check_copyable(t.dtype(), "Scan"));
    const int64_t len = t.shape()[static_cast<size_t>(in_axes[j])];
    if (seq >= 0 && len != seq)
      return err(Code::kIncompatibleShapes, "Scan scan input ", j, " of shape ",
                 shape_str(t.shape()), " has ", len, " steps along axis ", in_axes[j],
                 " but earlier scan inputs have ", seq);
    seq = len;
  }

  // A scan input with an empty slice shape can claim any number of steps without holding data.
  KILN_RETURN_IF_ERROR(check_step_count(seq, 1));
  std::vector<Tensor> states;
  for (size_t i = 0; i < n; ++i) states.push_back(ctx.input(i)->view());
  std::vector<Stacker> stackers(k);
  for (size_t o = 0; o < k; ++o) stackers[o].what = str("Scan scan output ", o);
  for (int64_t t = 0; t < seq; ++t) {
    std::vector<Tensor> in = std::move(states);
    for (size_t j = 0; j < ms; ++j) {
      KILN_ASSIGN_OR_RETURN(Tensor s,
                            slice_along(*ctx.input(n + j), static_cast<size_t>(in_axes[j]),
                                        in_dirs[j] ? seq - 1 - t : t));
      in.push_back(std::move(s));
    }
    KILN_ASSIGN_OR_RETURN(std::vector<Tensor> out, ctx.run_subgraph(body, std::move(in)));
    states.assign(std::make_move_iterator(out.begin()),
                  std::make_move_iterator(out.begin() + static_cast<ptrdiff_t>(n)));
    for (size_t o = 0; o < k; ++o) KILN_RETURN_IF_ERROR(stackers[o].add(std::move(out[n + o]), t));
  }
  for (size_t i = 0; i < n; ++i) ctx.set_output(i, std::move(states[i]));
  for (size_t o = 0; o < k; ++o) {
    if (!ctx.wants_output(n + o)) continue;
    KILN_ASSIGN_OR_RETURN(Tensor t, finish_scan_output(stackers[o], body.outputs()[n + o],
                                                       out_axes[o], out_dirs[o] != 0));
    ctx.set_output(n + o, std::move(t));
  }
  return Status::Ok();
}

}  // namespace

Status scan_reference_kernel(KernelContext& ctx) {
  const ir::Graph* body = ctx.attr_graph("body");
  if (body == nullptr) return err(Code::kInvalidArgument, "Scan has no body graph");
  if (!ctx.has_attr("num_scan_inputs"))
    return err(Code::kInvalidArgument, "Scan needs the num_scan_inputs attribute");
  const int64_t m = ctx.attr_int("num_scan_inputs");
  return ctx.since() == 8 ? scan8(ctx, *body, m) : scan9(ctx, *body, m);
}

}  // namespace kiln::ops
