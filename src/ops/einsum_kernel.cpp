// Reference kernel for Einsum: parses the equation (explicit or implicit output, ellipsis,
// repeated labels = diagonals), then runs one naive loop over every label combination, summing
// products into the output. Slow but obviously right; optimized backends lower Einsum to
// Transpose/MatMul/ReduceSum instead.
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/reduction_util.h"
#include "ops/tensor_misc_kernels.h"

namespace kiln::ops::tensor_misc {

namespace {

// Labels 0..25 are 'A'..'Z' and 26..51 'a'..'z', so sorting ids sorts in ASCII order (the
// implicit output's order, as in NumPy). Ellipsis dims get ids from kEllipsis on, aligned
// right like broadcasting.
constexpr int kLetters = 52;
constexpr int64_t kMaxEinsumSteps = int64_t{1} << 34;

int letter_id(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  return -1;
}

struct Term {
  std::vector<int> letters;  // in order; -1 marks where the ellipsis sits
  bool ellipsis = false;
};

Result<Term> parse_term(std::string_view text, const std::string& equation) {
  Term term;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 3) == "...") {
      if (term.ellipsis)
        return err(Code::kInvalidArgument, "Einsum equation '", equation, "': term '", text,
                   "' has more than one ellipsis");
      term.ellipsis = true;
      term.letters.push_back(-1);
      i += 2;
      continue;
    }
    const int id = letter_id(text[i]);
    if (id < 0)
      return err(Code::kInvalidArgument, "Einsum equation '", equation, "' has invalid character '",
                 text[i], "' (labels are letters a-z, A-Z)");
    term.letters.push_back(id);
  }
  return term;
}

struct Plan {
  std::vector<int64_t> dims;                  // loop extent per loop label
  std::vector<std::vector<int64_t>> strides;  // per input, per loop label
  std::vector<int64_t> out_strides;           // per loop label (0 for summed labels)
  std::vector<int64_t> out_shape;
};

Result<Plan> plan_einsum(const std::string& raw, const std::vector<const Tensor*>& inputs) {
  std::string eq;
  for (char c : raw)
    if (c != ' ') eq += c;
  const size_t arrow = eq.find("->");
  const bool explicit_output = arrow != std::string::npos;
  const std::string lhs = eq.substr(0, arrow);
  std::vector<Term> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    KILN_ASSIGN_OR_RETURN(Term t,
                          parse_term(std::string_view(lhs).substr(start, comma - start), raw));
    terms.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != inputs.size())
    return err(Code::kInvalidArgument, "Einsum equation '", raw, "' has ", terms.size(),
               " input terms but the node has ", inputs.size(), " inputs");
  // Expand each term to one label per input dim.
  int64_t ellipsis_rank = 0;
  std::vector<int64_t> term_ellipsis(terms.size(), 0);
  for (size_t t = 0; t < terms.size(); ++t) {
    const int64_t named =
        static_cast<int64_t>(terms[t].letters.size()) - (terms[t].ellipsis ? 1 : 0);
    const int64_t rank = static_cast<int64_t>(inputs[t]->rank());
    if ((terms[t].ellipsis && named > rank) || (!terms[t].ellipsis && named != rank))
      return err(Code::kIncompatibleShapes, "Einsum equation '", raw, "': term ", t, " has ", named,
                 " labels but input ", t, " has shape ", shape_string(inputs[t]->shape()));
    term_ellipsis[t] = rank - named;
    ellipsis_rank = std::max(ellipsis_rank, term_ellipsis[t]);
  }
  const int num_labels = kLetters + static_cast<int>(ellipsis_rank);
  std::vector<int64_t> size(static_cast<size_t>(num_labels), -1);
  std::vector<int> uses(static_cast<size_t>(num_labels), 0);
  std::vector<std::vector<int>> dim_labels(terms.size());
  for (size_t t = 0; t < terms.size(); ++t) {
    for (int id : terms[t].letters) {
      if (id >= 0) {
        dim_labels[t].push_back(id);
        continue;
      }
      for (int64_t j = 0; j < term_ellipsis[t]; ++j)
        dim_labels[t].push_back(kLetters + static_cast<int>(ellipsis_rank - term_ellipsis[t] + j));
    }
    const auto& shape = inputs[t]->shape();
    for (size_t d = 0; d < shape.size(); ++d) {
      const int id = dim_labels[t][d];
      ++uses[static_cast<size_t>(id)];
      int64_t& s = size[static_cast<size_t>(id)];
      // Size-1 dims broadcast (NumPy); a repeated label within one input must match exactly.
      bool repeated = false;
      for (size_t e = 0; e < d; ++e) repeated |= dim_labels[t][e] == id;
      if (s == -1 || (s == 1 && !repeated)) {
        s = shape[d];
      } else if (shape[d] != s && (repeated || shape[d] != 1)) {
        return err(Code::kIncompatibleShapes, "Einsum equation '", raw, "': dimension ", d,
                   " of input ", t, " ", shape_string(shape), " has size ", shape[d],
                   " but its label already has size ", s);
      }
    }
  }
  std::vector<int> out_labels;
  if (explicit_output) {
    KILN_ASSIGN_OR_RETURN(const Term out, parse_term(std::string_view(eq).substr(arrow + 2), raw));
    if (!out.ellipsis && ellipsis_rank > 0)
      return err(Code::kInvalidArgument, "Einsum equation '", raw,
                 "': the inputs' ellipsis covers ", ellipsis_rank,
                 " dims but the output has no '...' to place them");
    for (int id : out.letters) {
      if (id < 0) {
        for (int j = 0; j < ellipsis_rank; ++j) out_labels.push_back(kLetters + j);
        continue;
      }
      if (uses[static_cast<size_t>(id)] == 0)
        return err(Code::kInvalidArgument, "Einsum equation '", raw, "': output label '",
                   id < 26 ? static_cast<char>('A' + id) : static_cast<char>('a' + id - 26),
                   "' appears in no input");
      for (int seen : out_labels)
        if (seen == id)
          return err(Code::kInvalidArgument, "Einsum equation '", raw, "': output repeats a label");
      out_labels.push_back(id);
    }
  } else {
    for (int j = 0; j < ellipsis_rank; ++j) out_labels.push_back(kLetters + j);
    for (int id = 0; id < kLetters; ++id)
      if (uses[static_cast<size_t>(id)] == 1) out_labels.push_back(id);
  }
  // Loop labels: the output's, then every other used label (summed over).
  std::vector<int> loop = out_labels;
  for (int id = 0; id < num_labels; ++id) {
    bool in_out = false;
    for (int o : out_labels) in_out |= o == id;
    if (!in_out && uses[static_cast<size_t>(id)] > 0) loop.push_back(id);
  }
  Plan plan;
  for (int id : out_labels) plan.out_shape.push_back(size[static_cast<size_t>(id)]);
  const std::vector<int64_t> out_strides = strides_of(plan.out_shape);
  for (size_t l = 0; l < loop.size(); ++l) {
    plan.dims.push_back(size[static_cast<size_t>(loop[l])]);
    plan.out_strides.push_back(l < out_labels.size() ? out_strides[l] : 0);
  }
  for (size_t t = 0; t < inputs.size(); ++t) {
    const auto& shape = inputs[t]->shape();
    const std::vector<int64_t> in_strides = strides_of(shape);
    std::vector<int64_t> s(loop.size(), 0);
    for (size_t l = 0; l < loop.size(); ++l)
      for (size_t d = 0; d < shape.size(); ++d)
        if (dim_labels[t][d] == loop[l] && shape[d] != 1) s[l] += in_strides[d];
    plan.strides.push_back(std::move(s));
  }
  return plan;
}

}  // namespace

Status einsum(KernelContext& ctx) {
  const char* op = "Einsum";
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (t == nullptr) return err(Code::kInvalidArgument, op, " input ", i, " is missing");
    if (t->dtype() != ctx.input(0)->dtype())
      return err(Code::kInvalidArgument, op, " inputs must share one type: input 0 is ",
                 data_type_name(ctx.input(0)->dtype()), ", input ", i, " is ",
                 data_type_name(t->dtype()));
    inputs.push_back(t);
  }
  if (inputs.empty()) return err(Code::kInvalidArgument, op, " needs at least one input");
  if (!ctx.has_attr("equation"))
    return err(Code::kInvalidArgument, op, " needs the equation attribute");
  KILN_ASSIGN_OR_RETURN(const Plan plan, plan_einsum(ctx.attr_string("equation"), inputs));
  KILN_ASSIGN_OR_RETURN(const int64_t out_numel, checked_output_numel(plan.out_shape, op));
  // The loop visits every label combination once; refuse counts that overflow or could not
  // finish (an equation multiplying many unrelated inputs) instead of looping on a wrapped count.
  std::optional<int64_t> total = checked_numel(plan.dims);
  if (!total || *total > kMaxEinsumSteps)
    return err(Code::kInvalidArgument, op, " equation '", ctx.attr_string("equation"),
               "' over inputs needs more than ", kMaxEinsumSteps, " multiply-adds (label sizes ",
               shape_string(plan.dims), ")");
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, inputs[0]->dtype(), plan.out_shape));
  return dispatch_numeric(inputs[0]->dtype(), op, [&]<typename T>() -> Status {
    // Floats accumulate in double; integers in uint64 so products and sums wrap like T.
    using Acc = wrap_acc_t<T>;
    using S = std::conditional_t<std::is_signed_v<T> || is_float_v<T>, int64_t, uint64_t>;
    auto widen = [](T v) -> Acc {
      if constexpr (is_float_v<T>)
        return to_double(v);
      else
        return static_cast<uint64_t>(static_cast<S>(v));
    };
    std::vector<Acc> acc(static_cast<size_t>(out_numel), Acc{0});
    const size_t num_in = inputs.size(), num_loop = plan.dims.size();
    std::vector<const T*> data(num_in);
    for (size_t t = 0; t < num_in; ++t) data[t] = inputs[t]->data_as<T>();
    std::vector<int64_t> idx(num_loop, 0), offset(num_in, 0);
    int64_t out_offset = 0;
    for (int64_t step = 0; step < *total; ++step) {
      Acc product = Acc{1};
      for (size_t t = 0; t < num_in; ++t) product *= widen(data[t][offset[t]]);
      acc[static_cast<size_t>(out_offset)] += product;
      for (size_t l = num_loop; l-- > 0;) {
        for (size_t t = 0; t < num_in; ++t) offset[t] += plan.strides[t][l];
        out_offset += plan.out_strides[l];
        if (++idx[l] < plan.dims[l]) break;
        for (size_t t = 0; t < num_in; ++t) offset[t] -= plan.strides[t][l] * plan.dims[l];
        out_offset -= plan.out_strides[l] * plan.dims[l];
        idx[l] = 0;
      }
    }
    T* out = y->data_as<T>();
    for (size_t i = 0; i < acc.size(); ++i) {
      if constexpr (is_float_v<T>)
        out[i] = from_double<T>(acc[i]);
      else
        out[i] = static_cast<T>(acc[i]);
    }
    return Status::Ok();
  });
}

}  // namespace kiln::ops::tensor_misc
