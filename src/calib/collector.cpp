#include "calib/collector.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "core/errors.h"

namespace kiln::calib {
namespace {

// "'a' (12 values), 'b' (0 values)": every entry, as the message must list them all.
std::string list_tensors(const std::vector<std::pair<std::string, uint64_t>>& tensors,
                         const char* unit) {
  std::string out;
  for (const auto& [name, count] : tensors) {
    if (!out.empty()) out += ", ";
    out += str("'", name, "' (", count, " ", unit, ")");
  }
  return out;
}

}  // namespace

Status Collector::add(std::string_view name, const Tensor& tensor, size_t batch_index) {
  if (tensor.dtype() != DataType::kFloat32) {
    skipped_.emplace(std::string(name), tensor.dtype());
    return Status::Ok();
  }
  auto it = stats_.find(name);
  if (it == stats_.end()) it = stats_.emplace(std::string(name), TensorStats()).first;
  TensorStats& stats = it->second;
  const uint64_t before = stats.non_finite();
  stats.add(tensor.data_as<float>(), static_cast<size_t>(tensor.numel()));
  if (const uint64_t bad = stats.non_finite() - before; bad > 0)
    return err(Code::kCalibNonFinite, "tensor '", name, "' holds ", bad, " NaN/Inf values (of ",
               tensor.numel(), ") in calibration batch ", batch_index);
  return Status::Ok();
}

const TensorStats* Collector::find(std::string_view name) const {
  auto it = stats_.find(name);
  return it == stats_.end() ? nullptr : &it->second;
}

Result<std::map<std::string, Range>> Collector::ranges(Algorithm algorithm,
                                                       double percentile) const {
  if (algorithm == Algorithm::kPercentile) KILN_RETURN_IF_ERROR(check_percentile(percentile));
  std::map<std::string, Range> out;
  std::vector<std::pair<std::string, uint64_t>> non_finite, degenerate;
  for (const auto& [name, stats] : stats_) {
    if (stats.non_finite() > 0) {
      non_finite.emplace_back(name, stats.non_finite());
      continue;
    }
    if (stats.abs_max() == 0.0f) {
      degenerate.emplace_back(name, stats.count());
      continue;
    }
    Result<Range> r = choose_range(stats, algorithm, percentile, name);
    if (!r.ok()) return std::move(r).take_status();
    out.emplace(name, *r);
  }
  if (!non_finite.empty())
    return err(Code::kCalibNonFinite, non_finite.size(),
               " tensor(s) held NaN/Inf values during calibration: ",
               list_tensors(non_finite, "non-finite values"));
  if (!degenerate.empty())
    return err(Code::kCalibDegenerateRange, degenerate.size(),
               " tensor(s) have a degenerate range (every calibration value was zero): ",
               list_tensors(degenerate, "values seen"))
        .with_fix(
            "exclude these tensors from INT8 (keep their layers in floating point), or feed "
            "calibration data that exercises them");
  return out;
}

std::vector<SaturatedTensor> most_saturated(const std::map<std::string, Range>& ranges, size_t n) {
  std::vector<SaturatedTensor> all;
  all.reserve(ranges.size());
  for (const auto& [name, range] : ranges) all.push_back({name, range});
  std::stable_sort(all.begin(), all.end(), [](const SaturatedTensor& a, const SaturatedTensor& b) {
    return a.range.saturation > b.range.saturation;
  });
  if (all.size() > n) all.resize(n);
  return all;
}

std::string saturation_report(const std::map<std::string, Range>& ranges, size_t n) {
  const std::vector<SaturatedTensor> top = most_saturated(ranges, n);
  if (top.empty()) return "";
  std::string out =
      str(top.size(), " most saturated of ", ranges.size(),
          " calibrated tensors (share of calibration values beyond the chosen range):\n");
  for (const SaturatedTensor& t : top) {
    char line[64];
    std::snprintf(line, sizeof line, "  %8.4f%%  amax %-12.6g ", 100.0 * t.range.saturation,
                  static_cast<double>(t.range.amax));
    out += line;
    out += "'" + t.name + "'\n";
  }
  return out;
}

}  // namespace kiln::calib
