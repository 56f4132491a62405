// Reference kernels for LSTM, GRU and RNN (every revision: 7 and 14, which adds `layout`).
//
// Straight from the ONNX equations: one batch row at a time, one time step at a time, each gate
// a row-by-vector dot product over contiguous weight rows. Inputs are widened to compute_t<T>
// once up front so 16-bit floats are computed in float, as ONNX Runtime does.
//
// Where the spec is silent, kiln follows ONNX Runtime so real-model parity holds:
//  - a batch row whose sequence_lens entry is 0 gets zero Y_h / Y_c (not its initial state);
//  - `clip` bounds the pre-activation of every gate, never the cell state fed to h();
//  - RNN's default activations [Tanh, Tanh] on a one-direction layer use the first entry.
// Activation parameters missing from activation_alpha/activation_beta take the defaults of the
// ONNX operator of the same name (Affine 1/0, LeakyRelu 0.01, ThresholdedRelu 1, ScaledTanh 1/1,
// HardSigmoid 0.2/0.5, Elu 1).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.h"
#include "ops/kernel.h"
#include "ops/kernel_util.h"

namespace kiln::ops {

namespace {

enum class Cell { kLstm, kGru, kRnn };

enum class Act {
  kRelu,
  kTanh,
  kSigmoid,
  kAffine,
  kLeakyRelu,
  kThresholdedRelu,
  kScaledTanh,
  kHardSigmoid,
  kElu,
  kSoftsign,
  kSoftplus
};

struct ActInfo {
  const char* name;
  Act act;
  bool takes_alpha, takes_beta;
  float default_alpha, default_beta;
};

constexpr ActInfo kActInfo[] = {
    {"Relu", Act::kRelu, false, false, 0, 0},
    {"Tanh", Act::kTanh, false, false, 0, 0},
    {"Sigmoid", Act::kSigmoid, false, false, 0, 0},
    {"Affine", Act::kAffine, true, true, 1.0f, 0.0f},
    {"LeakyRelu", Act::kLeakyRelu, true, false, 0.01f, 0},
    {"ThresholdedRelu", Act::kThresholdedRelu, true, false, 1.0f, 0},
    {"ScaledTanh", Act::kScaledTanh, true, true, 1.0f, 1.0f},
    {"HardSigmoid", Act::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"Elu", Act::kElu, true, false, 1.0f, 0},
    {"Softsign", Act::kSoftsign, false, false, 0, 0},
    {"Softplus", Act::kSoftplus, false, false, 0, 0},
};

struct Activation {
  Act act = Act::kTanh;
  double alpha = 0, beta = 0;
};

// The switch sits outside the element loop, so each function is a plain loop.
template <typename C>
void apply(const Activation& f, C* v, int64_t n) {
  const C a = static_cast<C>(f.alpha), b = static_cast<C>(f.beta);
  switch (f.act) {
    case Act::kRelu:
      for (int64_t i = 0; i < n; ++i) v[i] = std::max(v[i], C(0));
      break;
    case Act::kTanh:
      for (int64_t i = 0; i < n; ++i) v[i] = std::tanh(v[i]);
      break;
    case Act::kSigmoid:  // split by sign so exp never overflows
      for (int64_t i = 0; i < n; ++i) {
        const C x = v[i];
        v[i] = x >= 0 ? C(1) / (C(1) + std::exp(-x)) : std::exp(x) / (C(1) + std::exp(x));
      }
      break;
    case Act::kAffine:
      for (int64_t i = 0; i < n; ++i) v[i] = a * v[i] + b;
      break;
    case Act::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] >= 0 ? v[i] : a * v[i];
      break;
    case Act::kThresholdedRelu:  // the RNN spec's wording: x if x >= alpha
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] >= a ? v[i] : C(0);
      break;
    case Act::kScaledTanh:
      for (int64_t i = 0; i < n; ++i) v[i] = a * std::tanh(b * v[i]);
      break;
    case Act::kHardSigmoid:
      for (int64_t i = 0; i < n; ++i) v[i] = std::min(std::max(a * v[i] + b, C(0)), C(1));
      break;
    case Act::kElu:
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] >= 0 ? v[i] : a * (std::exp(v[i]) - C(1));
      break;
    case Act::kSoftsign:
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] / (C(1) + std::abs(v[i]));
      break;
    case Act::kSoftplus:  // log(1 + e^x) without overflow for large x
      for (int64_t i = 0; i < n; ++i) {
        const C x = v[i];
        v[i] = x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
      }
      break;
  }
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string shape_str(const std::vector<int64_t>& s) {
  return Dims::of(s).to_string();
}

// Everything the compute loop needs, validated against the actual inputs.
struct Config {
  Cell cell = Cell::kLstm;
  int64_t gates = 4;     // gate blocks stacked in W/R: LSTM 4 (iofc), GRU 3 (zrh), RNN 1
  int64_t per_dir = 3;   // activation functions per direction
  int64_t dirs = 1;      // num_directions
  bool reverse = false;  // direction == "reverse"
  int64_t seq = 0, batch = 0, input = 0, hidden = 0;
  bool batch_first = false;      // layout == 1
  std::vector<Activation> acts;  // per_dir entries for each direction
  std::optional<double> clip;
  bool input_forget = false;
  bool linear_before_reset = false;
  std::vector<int64_t> lens;  // per batch row
};

Status expect_shape(const char* op, const char* what, const Tensor& t,
                    const std::vector<int64_t>& want) {
  if (t.shape() == want) return Status::Ok();
  return err(Code::kIncompatibleShapes, op, " input ", what, " has shape ", shape_str(t.shape()),
             " but must be ", shape_str(want));
}

Result<std::vector<Activation>> parse_activations(const KernelContext& ctx, const Config& cfg) {
  std::vector<std::string> names = ctx.attr_strings("activations");
  if (names.empty()) {
    const std::vector<std::string> defaults =
        cfg.cell == Cell::kLstm  ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
        : cfg.cell == Cell::kGru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                 : std::vector<std::string>{"Tanh"};
    for (int64_t d = 0; d < cfg.dirs; ++d)
      names.insert(names.end(), defaults.begin(), defaults.end());
  }
  const int64_t want = cfg.per_dir * cfg.dirs;
  const int64_t count = static_cast<int64_t>(names.size());
  if (count != want && !(cfg.cell == Cell::kRnn && cfg.dirs == 1 && count == 2))
    return err(Code::kInvalidArgument, ctx.node().op_type(), " attribute 'activations' has ", count,
               " entries but needs ", want, " (", cfg.per_dir, " per direction, ", cfg.dirs,
               " direction", cfg.dirs == 1 ? "" : "s", ")");
  // Parameters are consumed in order by the functions that take them, across all directions.
  const std::vector<float> alphas = ctx.attr_floats("activation_alpha");
  const std::vector<float> betas = ctx.attr_floats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  std::vector<Activation> acts;
  for (const std::string& name : names) {
    const ActInfo* info = nullptr;
    for (const ActInfo& a : kActInfo)
      if (same_name(a.name, name)) info = &a;
    if (info == nullptr)
      return err(Code::kInvalidArgument, ctx.node().op_type(), " activation \"", name,
                 "\" is not one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, "
                 "ScaledTanh, HardSigmoid, Elu, Softsign, Softplus");
    Activation f;
    f.act = info->act;
    f.alpha = info->default_alpha;
    f.beta = info->default_beta;
    if (info->takes_alpha && next_alpha < alphas.size()) f.alpha = alphas[next_alpha++];
    if (info->takes_beta && next_beta < betas.size()) f.beta = betas[next_beta++];
    acts.push_back(f);
  }
  if (count != want) acts.resize(static_cast<size_t>(want));  // RNN default on one direction
  return acts;
}

Result<Config> configure(const KernelContext& ctx, Cell cell) {
  const std::string& op = ctx.node().op_type();
  Config cfg;
  cfg.cell = cell;
  cfg.gates = cell == Cell::kLstm ? 4 : cell == Cell::kGru ? 3 : 1;
  cfg.per_dir = cell == Cell::kLstm ? 3 : cell == Cell::kGru ? 2 : 1;

  std::string direction = ctx.attr_string("direction", "forward");
  // GRU-1's schema spells its default "foward"; that default means forward.
  if (cell == Cell::kGru && ctx.since() < 3 && direction == "foward") direction = "forward";
  if (direction == "bidirectional") {
    cfg.dirs = 2;
  } else if (direction == "reverse") {
    cfg.reverse = true;
  } else if (direction != "forward") {
    return err(Code::kInvalidArgument, op, " direction \"", direction,
               "\" is not forward, reverse or bidirectional");
  }
  if (ctx.since() >= 14) {
    const int64_t layout = ctx.attr_int("layout", 0);
    if (layout != 0 && layout != 1)
      return err(Code::kInvalidArgument, op, " layout ", layout, " is not 0 or 1");
    cfg.batch_first = layout == 1;
  }

  const Tensor* x = ctx.input(0);
  const Tensor* w = ctx.input(1);
  const Tensor* r = ctx.input(2);
  if (x == nullptr || w == nullptr || r == nullptr)
    return err(Code::kInvalidArgument, op, " needs inputs X, W and R");
  if (x->rank() != 3)
    return err(Code::kIncompatibleShapes, op, " input X has shape ", shape_str(x->shape()),
               " but must have rank 3");
  if (r->rank() != 3)
    return err(Code::kIncompatibleShapes, op, " input R has shape ", shape_str(r->shape()),
               " but must have rank 3 [num_directions, ", cfg.gates, "*hidden_size, hidden_size]");
  cfg.seq = x->shape()[cfg.batch_first ? 1 : 0];
  cfg.batch = x->shape()[cfg.batch_first ? 0 : 1];
  cfg.input = x->shape()[2];
  cfg.hidden = r->shape()[2];
  if (ctx.has_attr("hidden_size")) {
    const int64_t h = ctx.attr_int("hidden_size");
    if (h <= 0) return err(Code::kInvalidArgument, op, " hidden_size ", h, " must be positive");
    cfg.hidden = h;
  }
  // Bounded before any size arithmetic: an R of shape [1, 0, huge] holds no data.
  if (cfg.hidden > (int64_t{1} << 31))
    return err(Code::kInvalidArgument, op, " hidden size ", cfg.hidden,
               " exceeds kiln's limit of 2^31");
  const int64_t gh = cfg.gates * cfg.hidden;
  KILN_RETURN_IF_ERROR(expect_shape(op.c_str(), "W", *w, {cfg.dirs, gh, cfg.input}));
  KILN_RETURN_IF_ERROR(expect_shape(op.c_str(), "R", *r, {cfg.dirs, gh, cfg.hidden}));
  if (const Tensor* b = ctx.input(3))
    KILN_RETURN_IF_ERROR(expect_shape(op.c_str(), "B", *b, {cfg.dirs, 2 * gh}));
  const std::vector<int64_t> state_shape =
      cfg.batch_first ? std::vector<int64_t>{cfg.batch, cfg.dirs, cfg.hidden}
                      : std::vector<int64_t>{cfg.dirs, cfg.batch, cfg.hidden};
  if (const Tensor* h0 = ctx.input(5))
    KILN_RETURN_IF_ERROR(expect_shape(op.c_str(), "initial_h", *h0, state_shape));
  if (cell == Cell::kLstm) {
    if (const Tensor* c0 = ctx.input(6))
      KILN_RETURN_IF_ERROR(expect_shape(op.c_str(), "initial_c", *c0, state_shape));
    if (const Tensor* p = ctx.input(7))
      KILN_RETURN_IF_ERROR(expect_shape(op.c_str(), "P", *p, {cfg.dirs, 3 * cfg.hidden}));
  }
  const size_t last = cell == Cell::kLstm ? 8 : 6;
  for (size_t i = 1; i < std::min(ctx.num_inputs(), last); ++i) {
    const Tensor* t = ctx.input(i);
    if (i == 4 || t == nullptr || t->dtype() == x->dtype()) continue;
    return err(Code::kInvalidArgument, op, " input ", i, " is ", data_type_name(t->dtype()),
               " but X is ", data_type_name(x->dtype()));
  }

  // X may be empty through input_size 0 while Y is not; refuse absurd outputs before allocating.
  // Counting hidden as at least 1 also bounds the step loops when every size but one is 0.
  const std::vector<int64_t> work = {cfg.seq, cfg.dirs, cfg.batch,
                                     std::max<int64_t>(cfg.hidden, 1)};
  const std::optional<int64_t> work_numel = checked_numel(work);
  const std::optional<int64_t> state_numel = checked_numel({work[1], work[2], work[3]});
  if (!work_numel || !state_numel || std::max(*work_numel, *state_numel) > (int64_t{1} << 33))
    return err(Code::kInvalidArgument, op, " outputs Y ",
               shape_str({cfg.seq, cfg.dirs, cfg.batch, cfg.hidden}), " and Y_h ",
               shape_str({cfg.dirs, cfg.batch, cfg.hidden}),
               " exceed kiln's limit of 2^33 elements");

  cfg.lens.assign(static_cast<size_t>(cfg.batch), cfg.seq);
  if (const Tensor* sl = ctx.input(4)) {
    KILN_RETURN_IF_ERROR(expect_shape(op.c_str(), "sequence_lens", *sl, {cfg.batch}));
    KILN_ASSIGN_OR_RETURN(cfg.lens, read_int_values(*sl, op + " sequence_lens"));
    for (size_t b = 0; b < cfg.lens.size(); ++b)
      if (cfg.lens[b] < 0 || cfg.lens[b] > cfg.seq)
        return err(Code::kInvalidArgument, op, " sequence_lens[", b, "] = ", cfg.lens[b],
                   " is outside [0, ", cfg.seq, "] (the sequence length of X)");
  }

  if (ctx.has_attr("clip")) {
    const double clip = ctx.attr_float("clip");
    if (!(clip >= 0))
      return err(Code::kInvalidArgument, op, " clip ", clip, " must be a non-negative threshold");
    cfg.clip = clip;
  }
  if (cell == Cell::kLstm) cfg.input_forget = ctx.attr_int("input_forget", 0) != 0;
  if (cell == Cell::kGru) cfg.linear_before_reset = ctx.attr_int("linear_before_reset", 0) != 0;
  KILN_ASSIGN_OR_RETURN(cfg.acts, parse_activations(ctx, cfg));
  return cfg;
}

template <typename T>
std::vector<compute_t<T>> widen(const Tensor* t) {
  using C = compute_t<T>;
  if (t == nullptr) return {};
  const T* p = t->data_as<T>();
  std::vector<C> out(static_cast<size_t>(t->numel()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<C>(p[i]);
  return out;
}

// out[i] = M[i, :] · v for a row-major [rows, cols] matrix.
template <typename C>
void matvec(const C* m, const C* v, int64_t rows, int64_t cols, C* out) {
  for (int64_t i = 0; i < rows; ++i) {
    const C* row = m + i * cols;
    C acc = 0;
    for (int64_t k = 0; k < cols; ++k) acc += row[k] * v[k];
    out[i] = acc;
  }
}

template <typename C>
void clip_to(std::optional<double> clip, C* v, int64_t n) {
  if (!clip) return;
  const C c = static_cast<C>(*clip);
  for (int64_t i = 0; i < n; ++i) v[i] = std::min(std::max(v[i], -c), c);
}

// One direction's parameters, already offset to that direction.
template <typename C>
struct DirParams {
  const C* w;           // [gates*H, I]
  const C* r;           // [gates*H, H]
  const C* wb;          // [gates*H] or nullptr
  const C* rb;          // [gates*H] or nullptr
  const C* p;           // [3*H] (i, o, f) or nullptr
  const Activation* f;  // per_dir activations of this direction
};

// Scratch buffers reused across steps.
template <typename C>
struct Scratch {
  std::vector<C> gx, gh, tmp, tmp2;
};

// One time step of one batch row: updates h (and c for LSTM) in place. On entry s.gx holds
// W · x_t.
template <typename C>
void step(const Config& cfg, const DirParams<C>& d, std::vector<C>& h, std::vector<C>& c,
          Scratch<C>& s) {
  const int64_t H = cfg.hidden, GH = cfg.gates * H;
  C* gx = s.gx.data();
  if (cfg.cell == Cell::kLstm || cfg.cell == Cell::kRnn) {
    matvec(d.r, h.data(), GH, H, s.gh.data());
    for (int64_t j = 0; j < GH; ++j) gx[j] += s.gh[j] + (d.wb ? d.wb[j] + d.rb[j] : C(0));
  }
  if (cfg.cell == Cell::kRnn) {
    clip_to(cfg.clip, gx, H);
    apply(d.f[0], gx, H);
    std::copy(gx, gx + H, h.begin());
    return;
  }
  if (cfg.cell == Cell::kLstm) {
    C *gi = gx, *go = gx + H, *gf = gx + 2 * H, *gc = gx + 3 * H;
    if (d.p)
      for (int64_t j = 0; j < H; ++j) gi[j] += d.p[j] * c[j];
    clip_to(cfg.clip, gi, H);
    apply(d.f[0], gi, H);
    if (cfg.input_forget) {
      for (int64_t j = 0; j < H; ++j) gf[j] = C(1) - gi[j];
    } else {
      if (d.p)
        for (int64_t j = 0; j < H; ++j) gf[j] += d.p[2 * H + j] * c[j];
      clip_to(cfg.clip, gf, H);
      apply(d.f[0], gf, H);
    }
    clip_to(cfg.clip, gc, H);
    apply(d.f[1], gc, H);
    for (int64_t j = 0; j < H; ++j) c[j] = gf[j] * c[j] + gi[j] * gc[j];
    if (d.p)
      for (int64_t j = 0; j < H; ++j) go[j] += d.p[H + j] * c[j];
    clip_to(cfg.clip, go, H);
    apply(d.f[0], go, H);
    std::copy(c.begin(), c.end(), s.tmp.begin());
    apply(d.f[2], s.tmp.data(), H);
    for (int64_t j = 0; j < H; ++j) h[j] = go[j] * s.tmp[j];
    return;
  }
  // GRU: z and r see R · h; the candidate sees R_h applied before or after the reset gate.
  C *gz = gx, *gr = gx + H, *gn = gx + 2 * H;
  matvec(d.r, h.data(), 2 * H, H, s.gh.data());
  for (int64_t j = 0; j < 2 * H; ++j) gx[j] += s.gh[j] + (d.wb ? d.wb[j] + d.rb[j] : C(0));
  clip_to(cfg.clip, gx, 2 * H);
  apply(d.f[0], gz, H);
  apply(d.f[0], gr, H);
  const C* rh = d.r + 2 * H * H;
  const C* wbh = d.wb ? d.wb + 2 * H : nullptr;
  const C* rbh = d.rb ? d.rb + 2 * H : nullptr;
  if (cfg.linear_before_reset) {
    matvec(rh, h.data(), H, H, s.tmp.data());
    for (int64_t j = 0; j < H; ++j)
      gn[j] += (wbh ? wbh[j] : C(0)) + gr[j] * (s.tmp[j] + (rbh ? rbh[j] : C(0)));
  } else {
    for (int64_t j = 0; j < H; ++j) s.tmp2[j] = gr[j] * h[j];
    matvec(rh, s.tmp2.data(), H, H, s.tmp.data());
    for (int64_t j = 0; j < H; ++j)
      gn[j] += s.tmp[j] + (wbh ? wbh[j] : C(0)) + (rbh ? rbh[j] : C(0));
  }
  clip_to(cfg.clip, gn, H);
  apply(d.f[1], gn, H);
  for (int64_t j = 0; j < H; ++j) h[j] = (C(1) - gz[j]) * gn[j] + gz[j] * h[j];
}

template <typename T>
Status compute(KernelContext& ctx, const Config& cfg) {
  using C = compute_t<T>;
  const bool lstm = cfg.cell == Cell::kLstm;
  const std::vector<C> x = widen<T>(ctx.input(0)), w = widen<T>(ctx.input(1)),
                       r = widen<T>(ctx.input(2)), b = widen<T>(ctx.input(3)),
                       h0 = widen<T>(ctx.input(5)), c0 = widen<T>(lstm ? ctx.input(6) : nullptr),
                       p = widen<T>(lstm ? ctx.input(7) : nullptr);
  const int64_t S = cfg.seq, B = cfg.batch, I = cfg.input, H = cfg.hidden, D = cfg.dirs;
  const int64_t GH = cfg.gates * H;

  const std::vector<int64_t> state_shape =
      cfg.batch_first ? std::vector<int64_t>{B, D, H} : std::vector<int64_t>{D, B, H};
  T* y = nullptr;
  T* yh = nullptr;
  T* yc = nullptr;
  if (ctx.wants_output(0)) {
    KILN_ASSIGN_OR_RETURN(Tensor * t,
                          ctx.allocate_output(0, data_type_of<T>(),
                                              cfg.batch_first ? std::vector<int64_t>{B, S, D, H}
                                                              : std::vector<int64_t>{S, D, B, H}));
    y = t->data_as<T>();
  }
  if (ctx.wants_output(1)) {
    KILN_ASSIGN_OR_RETURN(Tensor * t, ctx.allocate_output(1, data_type_of<T>(), state_shape));
    yh = t->data_as<T>();
  }
  if (lstm && ctx.wants_output(2)) {
    KILN_ASSIGN_OR_RETURN(Tensor * t, ctx.allocate_output(2, data_type_of<T>(), state_shape));
    yc = t->data_as<T>();
  }

  auto x_row = [&](int64_t t, int64_t bi) {
    return (cfg.batch_first ? bi * S + t : t * B + bi) * I;
  };
  auto y_row = [&](int64_t t, int64_t d, int64_t bi) {
    return (cfg.batch_first ? (bi * S + t) * D + d : (t * D + d) * B + bi) * H;
  };
  auto state_row = [&](int64_t d, int64_t bi) {
    return (cfg.batch_first ? bi * D + d : d * B + bi) * H;
  };

  Scratch<C> s;
  s.gx.resize(static_cast<size_t>(GH));
  s.gh.resize(static_cast<size_t>(GH));
  s.tmp.resize(static_cast<size_t>(H));
  s.tmp2.resize(static_cast<size_t>(H));
  std::vector<C> h(static_cast<size_t>(H)), c(static_cast<size_t>(H));
  for (int64_t d = 0; d < D; ++d) {
    DirParams<C> dp;
    dp.w = w.data() + d * GH * I;
    dp.r = r.data() + d * GH * H;
    dp.wb = b.empty() ? nullptr : b.data() + d * 2 * GH;
    dp.rb = b.empty() ? nullptr : dp.wb + GH;
    dp.p = p.empty() ? nullptr : p.data() + d * 3 * H;
    dp.f = cfg.acts.data() + d * cfg.per_dir;
    const bool reverse = cfg.reverse || d == 1;
    for (int64_t bi = 0; bi < B; ++bi) {
      const int64_t st = state_row(d, bi);
      for (int64_t j = 0; j < H; ++j) {
        h[j] = h0.empty() ? C(0) : h0[st + j];
        c[j] = c0.empty() ? C(0) : c0[st + j];
      }
      const int64_t len = cfg.lens[bi];
      // Reverse runs backwards over this row's own length, so padding never enters the state.
      for (int64_t k = 0; k < len; ++k) {
        const int64_t t = reverse ? len - 1 - k : k;
        matvec(dp.w, x.data() + x_row(t, bi), GH, I, s.gx.data());
        step(cfg, dp, h, c, s);
        if (y)
          for (int64_t j = 0; j < H; ++j) y[y_row(t, d, bi) + j] = static_cast<T>(h[j]);
      }
      if (len == 0) {
        std::fill(h.begin(), h.end(), C(0));
        std::fill(c.begin(), c.end(), C(0));
      }
      for (int64_t j = 0; j < H; ++j) {
        if (yh) yh[st + j] = static_cast<T>(h[j]);
        if (yc) yc[st + j] = static_cast<T>(c[j]);
      }
    }
  }
  return Status::Ok();
}

Status run_recurrent(KernelContext& ctx, Cell cell) {
  KILN_ASSIGN_OR_RETURN(Config cfg, configure(ctx, cell));
  const Tensor* x = ctx.input(0);
  if (x->dtype() == DataType::kBFloat16)
    return err(Code::kTypeUnsupported, ctx.node().op_type(),
               " has no reference kernel for bfloat16 (float16, float32 and float64 only)");
  return dispatch_float(x->dtype(), ctx.node().op_type(),
                        [&]<typename T>() -> Status { return compute<T>(ctx, cfg); });
}

}  // namespace

Status lstm_reference_kernel(KernelContext& ctx) {
  return run_recurrent(ctx, Cell::kLstm);
}
Status gru_reference_kernel(KernelContext& ctx) {
  return run_recurrent(ctx, Cell::kGru);
}
Status rnn_reference_kernel(KernelContext& ctx) {
  return run_recurrent(ctx, Cell::kRnn);
}

}  // namespace kiln::ops
