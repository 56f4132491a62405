// TfIdfVectorizer: counts the pool's n-grams (optionally with skips between their items) in
// each row of a token tensor and weights the counts (TF, IDF or TF-IDF).
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using D = DataType;
using ir::AttrType;

enum class Weighting { kTf, kIdf, kTfIdf };

// The pool as n-gram -> output coordinate, for the n-gram sizes in [min_n, max_n].
template <typename Key>
struct Pool {
  std::map<std::vector<Key>, int64_t> coord;
  int64_t output_size = 0;
  std::vector<double> weight;  // per output coordinate (1 where none is given)
};

template <typename Key>
Result<Pool<Key>> build_pool(const KernelContext& ctx, const std::vector<Key>& items, int64_t min_n,
                             int64_t max_n) {
  constexpr std::string_view op = "TfIdfVectorizer";
  const std::vector<int64_t> counts = ctx.attr_ints("ngram_counts");
  const std::vector<int64_t> indexes = ctx.attr_ints("ngram_indexes");
  const std::vector<float> weights = ctx.attr_floats("weights");
  const int64_t total = static_cast<int64_t>(items.size());
  // ngram_counts[i] is where the (i+1)-grams start in the pool (CSR row starts).
  std::vector<std::pair<int64_t, int64_t>> ranges;  // (start, end) of the (i+1)-grams
  for (size_t i = 0; i < counts.size(); ++i) {
    const int64_t start = counts[i], end = i + 1 < counts.size() ? counts[i + 1] : total;
    if (start < 0 || start > end || end > total)
      return err(Code::kInvalidArgument, op, " ngram_counts ", shape_str(counts),
                 " must be non-decreasing offsets within the pool of ", total, " items");
    const int64_t n = static_cast<int64_t>(i) + 1;
    if ((end - start) % n != 0)
      return err(Code::kInvalidArgument, op, " pool items ", start, "..", end - 1, " hold ", n,
                 "-grams but their count ", end - start, " is not a multiple of ", n);
    ranges.emplace_back(start, end);
  }
  if (!counts.empty() && counts[0] != 0)
    return err(Code::kInvalidArgument, op, " ngram_counts ", shape_str(counts), " must start at 0");
  int64_t ngrams = 0;
  for (size_t i = 0; i < ranges.size(); ++i)
    ngrams += (ranges[i].second - ranges[i].first) / static_cast<int64_t>(i + 1);
  if (static_cast<int64_t>(indexes.size()) != ngrams)
    return err(Code::kInvalidArgument, op, " ngram_indexes has ", indexes.size(),
               " entries but the pool holds ", ngrams, " n-grams");
  if (!weights.empty() && weights.size() != indexes.size())
    return err(Code::kInvalidArgument, op, " weights has ", weights.size(),
               " entries but the pool holds ", ngrams, " n-grams");
  Pool<Key> pool;
  for (int64_t c : indexes) {
    if (c < 0 || c >= kMaxOutputElements)
      return err(Code::kInvalidArgument, op, " ngram_indexes holds the coordinate ", c,
                 ", outside 0..", kMaxOutputElements - 1);
    pool.output_size = std::max(pool.output_size, c + 1);
  }
  pool.weight.assign(static_cast<size_t>(pool.output_size), 1.0);
  size_t g = 0;  // n-gram number in pool order
  for (size_t i = 0; i < ranges.size(); ++i) {
    const int64_t n = static_cast<int64_t>(i) + 1;
    for (int64_t p = ranges[i].first; p < ranges[i].second; p += n, ++g) {
      const int64_t c = indexes[g];
      if (!weights.empty()) pool.weight[static_cast<size_t>(c)] = weights[g];
      if (n < min_n || n > max_n) continue;
      std::vector<Key> key(items.begin() + p, items.begin() + p + n);
      pool.coord.emplace(std::move(key), c);  // a repeated n-gram keeps its first coordinate
    }
  }
  return pool;
}

// Counts every n-gram of sizes [min_n, max_n] whose consecutive items are `skip + 1` apart,
// for skip in 0..max_skip. Unigrams have no gaps, so they are counted once (at skip 0).
template <typename Key>
void count_row(const Pool<Key>& pool, const std::vector<Key>& row, int64_t min_n, int64_t max_n,
               int64_t max_skip, double* counts) {
  const int64_t c = static_cast<int64_t>(row.size());
  // A distance of c or more leaves no room for a second item.
  const int64_t max_dist = std::min(max_skip + 1, std::max<int64_t>(c, 1));
  std::vector<Key> key;
  for (int64_t dist = 1; dist <= max_dist; ++dist) {
    const int64_t lo = dist == 1 ? min_n : std::max<int64_t>(min_n, 2);
    for (int64_t start = 0; start < c; ++start) {
      key.clear();
      for (int64_t n = 1; n <= max_n; ++n) {
        const int64_t at = start + (n - 1) * dist;
        if (at >= c) break;
        key.push_back(row[static_cast<size_t>(at)]);
        if (n < lo) continue;
        auto it = pool.coord.find(key);
        if (it != pool.coord.end()) counts[it->second] += 1.0;
      }
    }
  }
}

template <typename Key>
Status tfidf_run(KernelContext& ctx, const std::vector<Key>& tokens, const std::vector<Key>& items,
                 int64_t rows, int64_t cols, bool batched, Weighting how) {
  constexpr std::string_view op = "TfIdfVectorizer";
  const int64_t min_n = ctx.attr_int("min_gram_length"), max_n = ctx.attr_int("max_gram_length");
  const int64_t max_skip = ctx.attr_int("max_skip_count");
  if (min_n < 1 || max_n < min_n)
    return err(Code::kInvalidArgument, op, " needs 1 <= min_gram_length <= max_gram_length, got ",
               min_n, " and ", max_n);
  if (max_skip < 0)
    return err(Code::kInvalidArgument, op, " max_skip_count ", max_skip, " must be >= 0");
  KILN_ASSIGN_OR_RETURN(const Pool<Key> pool, build_pool(ctx, items, min_n, max_n));
  std::vector<int64_t> out_shape = batched ? std::vector<int64_t>{rows, pool.output_size}
                                           : std::vector<int64_t>{pool.output_size};
  KILN_RETURN_IF_ERROR(check_output_shape(out_shape, op));
  KILN_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, D::kFloat32, std::move(out_shape)));
  float* dst = y->data_as<float>();
  std::vector<double> counts(static_cast<size_t>(pool.output_size));
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(counts.begin(), counts.end(), 0.0);
    const std::vector<Key> row(tokens.begin() + r * cols, tokens.begin() + (r + 1) * cols);
    count_row(pool, row, min_n, max_n, max_skip, counts.data());
    for (int64_t k = 0; k < pool.output_size; ++k) {
      const double n = counts[static_cast<size_t>(k)], w = pool.weight[static_cast<size_t>(k)];
      double v = n;
      if (how == Weighting::kIdf) v = n > 0 ? w : 0.0;
      if (how == Weighting::kTfIdf) v = n * w;
      dst[r * pool.output_size + k] = static_cast<float>(v);
    }
  }
  return Status::Ok();
}

Status tfidf_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "TfIdfVectorizer";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "X"));
  const std::string mode = ctx.attr_string("mode");
  Weighting how;
  if (mode == "TF") {
    how = Weighting::kTf;
  } else if (mode == "IDF") {
    how = Weighting::kIdf;
  } else if (mode == "TFIDF") {
    how = Weighting::kTfIdf;
  } else {
    return err(Code::kAttributeValueUnsupported, op, " mode '", mode,
               "' is not one of TF, IDF, TFIDF");
  }
  const std::vector<int64_t>& shape = x->shape();
  if (shape.size() != 1 && shape.size() != 2)
    return err(Code::kInvalidArgument, op, " input ", shape_str(shape),
               " must have shape [C] or [N, C]");
  const bool batched = shape.size() == 2;
  const int64_t rows = batched ? shape[0] : 1, cols = shape.back();
  const bool has_ints = ctx.has_attr("pool_int64s"), has_strings = ctx.has_attr("pool_strings");
  if (has_ints == has_strings)
    return err(Code::kInvalidArgument, op,
               " needs exactly one of pool_int64s and pool_strings, got ",
               has_ints ? "both" : "neither");
  if (x->dtype() == D::kString) {
    if (!has_strings) return err(Code::kTypeUnsupported, op, " string input needs pool_strings");
    return tfidf_run(ctx, x->string_data(), ctx.attr_strings("pool_strings"), rows, cols, batched,
                     how);
  }
  if (!has_ints)
    return err(Code::kTypeUnsupported, op, " ", data_type_name(x->dtype()),
               " input needs pool_int64s");
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> tokens,
                        read_int_values(*x, "TfIdfVectorizer X"));
  return tfidf_run(ctx, tokens, ctx.attr_ints("pool_int64s"), rows, cols, batched, how);
}

void check_mode(const ir::Node& node, const OpSchema&, std::vector<Status>& problems) {
  const ir::Attribute* a = node.attr("mode");
  if (a != nullptr && a->s != "TF" && a->s != "IDF" && a->s != "TFIDF")
    problems.push_back(err(Code::kAttributeValueUnsupported, "attribute 'mode' = '", a->s,
                           "' (allowed: TF, IDF, TFIDF)"));
}

}  // namespace

void register_tfidf_vectorizer(OpRegistry& registry) {
  registry.add(OpSchema("TfIdfVectorizer", 9)
                   .input("X", "T")
                   .output("Y", "T1")
                   .types("T", {D::kString, D::kInt32, D::kInt64})
                   .types("T1", {D::kFloat32})
                   .required_attr("mode", AttrType::kString)
                   .required_attr("min_gram_length", AttrType::kInt)
                   .required_attr("max_gram_length", AttrType::kInt)
                   .required_attr("max_skip_count", AttrType::kInt)
                   .required_attr("ngram_counts", AttrType::kInts)
                   .required_attr("ngram_indexes", AttrType::kInts)
                   .attr("pool_int64s", AttrType::kInts)
                   .attr("pool_strings", AttrType::kStrings)
                   .attr("weights", AttrType::kFloats)
                   .check(check_mode)
                   .fusion(FusionKind::kOpaque)
                   .kernel(tfidf_kernel));
}

}  // namespace kiln::ops
