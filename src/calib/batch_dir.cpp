#include "calib/batch_dir.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "core/errors.h"
#include "core/npy.h"

namespace kiln::calib {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxListed = 5;

bool hidden(const fs::path& p) {
  return p.filename().string().rfind('.', 0) == 0;
}
bool is_npy(const fs::path& p) {
  return p.extension() == ".npy";
}

// "'a', 'b', 'c', ... (4 more)"
std::string list_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < kMaxListed; ++i)
    out += str(i ? ", " : "", "'", names[i], "'");
  if (names.size() > kMaxListed) out += str(", ... (", names.size() - kMaxListed, " more)");
  return out;
}

struct Listing {
  std::vector<fs::path> npy_files;
  std::vector<fs::path> dirs;
};

// Regular .npy files and directories directly in `dir` (symbolic links followed), sorted.
Result<Listing> list_dir(const fs::path& dir) {
  Listing out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec)
    return err(Code::kFileUnreadable, "calibration directory '", dir.string(), "': ", ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    if (hidden(p)) continue;
    std::error_code type_ec;
    if (it->is_directory(type_ec))
      out.dirs.push_back(p);
    else if (it->is_regular_file(type_ec) && is_npy(p))
      out.npy_files.push_back(p);
  }
  if (ec)
    return err(Code::kFileUnreadable, "calibration directory '", dir.string(), "': ", ec.message());
  std::sort(out.npy_files.begin(), out.npy_files.end());
  std::sort(out.dirs.begin(), out.dirs.end());
  return out;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += str(i ? "," : "", shape[i]);
  return s + "]";
}

std::string spec_dim(int64_t lo, int64_t hi) {
  if (hi == lo) return std::to_string(lo);
  return str(lo, "..", hi < 0 ? std::string() : std::to_string(hi));
}

int64_t max_dim(const InputSpec& spec, size_t d) {
  return spec.max_dims.empty() ? spec.min_dims[d] : spec.max_dims[d];
}

std::string spec_shape(const InputSpec& spec) {
  std::string s = "[";
  for (size_t d = 0; d < spec.min_dims.size(); ++d)
    s += str(d ? "," : "", spec_dim(spec.min_dims[d], max_dim(spec, d)));
  return s + "]";
}

// Count of NaN/Inf elements and the first one's flat index, for the floating-point types whose
// bits say it directly.
struct NonFinite {
  uint64_t count = 0;
  int64_t first = -1;
};

template <typename Bits>
NonFinite count_non_finite(const Tensor& t, Bits exponent_mask) {
  NonFinite nf;
  const Bits* p = static_cast<const Bits*>(t.data());
  for (int64_t i = 0; i < t.numel(); ++i) {
    if ((p[i] & exponent_mask) == exponent_mask) {
      if (nf.count++ == 0) nf.first = i;
    }
  }
  return nf;
}

std::optional<NonFinite> non_finite(const Tensor& t) {
  switch (t.dtype()) {
    case DataType::kFloat32:
      return count_non_finite<uint32_t>(t, 0x7f800000u);
    case DataType::kFloat64:
      return count_non_finite<uint64_t>(t, 0x7ff0000000000000ull);
    case DataType::kFloat16:
      return count_non_finite<uint16_t>(t, uint16_t{0x7c00});
    case DataType::kBFloat16:
      return count_non_finite<uint16_t>(t, uint16_t{0x7f80});
    default:
      return std::nullopt;
  }
}

}  // namespace

// ---- DirCalibrator ----------------------------------------------------------------------------

namespace {

Status path_escape(const std::string& manifest, std::vector<std::string> problems) {
  return err(Code::kCalibPathEscape, "calibration manifest '", manifest, "' names ",
             problems.size(), " file(s) outside its directory: ", [&] {
               std::string s;
               for (size_t i = 0; i < problems.size() && i < kMaxListed; ++i)
                 s += str(i ? "; " : "", problems[i]);
               if (problems.size() > kMaxListed)
                 s += str("; ... (", problems.size() - kMaxListed, " more)");
               return s;
             }());
}

}  // namespace

Result<std::unique_ptr<DirCalibrator>> DirCalibrator::open(const std::string& dir,
                                                           std::vector<std::string> input_names) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found)
    return err(Code::kFileNotFound, "calibration directory '", dir, "': no such directory");
  if (ec) return err(Code::kFileUnreadable, "calibration directory '", dir, "': ", ec.message());
  if (st.type() != fs::file_type::directory)
    return err(Code::kFileUnreadable, "calibration data '", dir,
               "' is not a directory (--calib takes a directory of .npy files)");
  std::unique_ptr<DirCalibrator> cal(new DirCalibrator());
  const fs::path root(dir);
  const fs::path manifest = root / "manifest.json";

  if (fs::exists(manifest, ec)) {
    cal->layout_ = Layout::kManifest;
    const std::string mpath = manifest.string();
    std::ifstream in(manifest, std::ios::binary);
    if (!in) return err(Code::kFileUnreadable, mpath, ": cannot open: ", std::strerror(errno));
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    auto layout_error = [&](const std::string& what) {
      return err(Code::kCalibLayoutInvalid, "calibration manifest '", mpath, "': ", what);
    };
    if (j.is_discarded()) return layout_error("is not valid JSON");
    if (!j.is_object() || !j.contains("batches") || !j["batches"].is_array())
      return layout_error("expected an object with a \"batches\" array");
    const nlohmann::json& batches = j["batches"];
    if (batches.empty())
      return err(Code::kCalibNoData, "no calibration data: manifest '", mpath,
                 "' lists no batches");
    const fs::path canonical_root = fs::weakly_canonical(root, ec);
    if (ec) return err(Code::kFileUnreadable, "calibration directory '", dir, "': ", ec.message());
    std::vector<std::string> escapes;
    for (size_t b = 0; b < batches.size(); ++b) {
      const nlohmann::json& entry = batches[b];
      if (!entry.is_object())
        return layout_error(str("batches[", b, "] is not an object of input name -> file"));
      BatchFiles files;
      files.source = str(mpath, " batch ", b);
      for (const auto& [input, value] : entry.items()) {
        if (!value.is_string())
          return layout_error(str("batches[", b, "][\"", input, "\"] is not a string path"));
        const std::string rel = value.get<std::string>();
        const fs::path rp(rel);
        const std::string where = str("batches[", b, "][\"", input, "\"] = '", rel, "'");
        if (rel.empty()) return layout_error(where + " is an empty path");
        if (rp.is_absolute() || rp.has_root_directory() || rp.has_root_name()) {
          escapes.push_back(where + " is absolute");
          continue;
        }
        if (std::any_of(rp.begin(), rp.end(), [](const fs::path& part) { return part == ".."; })) {
          escapes.push_back(where + " contains '..'");
          continue;
        }
        std::error_code canon_ec;
        const fs::path full = fs::weakly_canonical(canonical_root / rp, canon_ec);
        if (canon_ec)
          return err(Code::kFileUnreadable, mpath, ": ", where, ": ", canon_ec.message());
        const auto [r_end, f_at] =
            std::mismatch(canonical_root.begin(), canonical_root.end(), full.begin(), full.end());
        if (r_end != canonical_root.end() || f_at == full.end()) {
          escapes.push_back(str(where, " resolves to '", full.string(), "'"));
          continue;
        }
        files.files.emplace_back(input, (root / rp).string());
      }
      cal->batches_.push_back(std::move(files));
    }
    if (!escapes.empty())
      return path_escape(mpath, std::move(escapes))
          .with_fix(str("use paths relative to '", dir, "' that stay inside it"));
    return cal;
  }

  KILN_ASSIGN_OR_RETURN(const Listing top, list_dir(root));
  if (!top.npy_files.empty() && !top.dirs.empty())
    return err(Code::kCalibLayoutInvalid, "calibration directory '", dir, "' holds both ",
               top.npy_files.size(), " .npy file(s) (e.g. '",
               top.npy_files.front().filename().string(), "') and ", top.dirs.size(),
               " sub-director(ies) (e.g. '", top.dirs.front().filename().string(),
               "'); use one layout");
  if (!top.npy_files.empty()) {
    if (input_names.size() != 1)
      return err(Code::kCalibLayoutInvalid, "calibration directory '", dir, "' holds ",
                 top.npy_files.size(),
                 " .npy files directly, the layout for single-input models, but the model has ",
                 input_names.size(), " inputs (", list_names(input_names), ")")
          .with_fix(str("put each batch in a sub-directory holding one <input>.npy per input (",
                        dir, "/0000/", input_names.empty() ? "x" : input_names.front(),
                        ".npy, ...), or list the files in ", dir, "/manifest.json"));
    cal->layout_ = Layout::kFiles;
    for (const fs::path& f : top.npy_files)
      cal->batches_.push_back({f.string(), {{input_names.front(), f.string()}}});
    return cal;
  }
  if (!top.dirs.empty()) {
    cal->layout_ = Layout::kSubdirs;
    std::vector<std::string> empty_dirs;
    for (const fs::path& d : top.dirs) {
      KILN_ASSIGN_OR_RETURN(const Listing sub, list_dir(d));
      if (sub.npy_files.empty()) {
        empty_dirs.push_back(d.filename().string());
        continue;
      }
      BatchFiles files;
      files.source = d.string() + "/";
      for (const fs::path& f : sub.npy_files)
        files.files.emplace_back(f.stem().string(), f.string());
      cal->batches_.push_back(std::move(files));
    }
    if (!empty_dirs.empty())
      return err(Code::kCalibLayoutInvalid, "calibration directory '", dir,
                 "': ", empty_dirs.size(),
                 " batch sub-director(ies) hold no .npy file: ", list_names(empty_dirs))
          .with_fix(
              "put <input name>.npy files in every batch sub-directory, or remove the "
              "directories that are not batches");
    return cal;
  }
  return err(Code::kCalibNoData, "no calibration data in '", dir,
             "': it holds no .npy files, batch sub-directories or manifest.json");
}

Result<std::optional<std::vector<std::pair<std::string, Tensor>>>> DirCalibrator::next_batch() {
  using Batch = std::vector<std::pair<std::string, Tensor>>;
  if (next_ >= batches_.size()) return std::optional<Batch>();
  const BatchFiles& files = batches_[next_++];
  Batch batch;
  batch.reserve(files.files.size());
  for (const auto& [input, path] : files.files) {
    Result<Tensor> t = npy::read_file(path);
    if (!t.ok()) return std::move(t).take_status();
    batch.emplace_back(input, std::move(t).value());
  }
  return std::optional<Batch>(std::move(batch));
}

// ---- Batch checks -----------------------------------------------------------------------------

std::vector<Status> batch_problems(const std::vector<std::pair<std::string, Tensor>>& batch,
                                   const std::vector<InputSpec>& inputs, size_t batch_index) {
  std::vector<Status> problems;
  std::vector<std::string> input_names;
  for (const InputSpec& s : inputs) input_names.push_back(s.name);

  std::set<std::string_view> seen;
  for (const auto& entry : batch) {
    const std::string& name = entry.first;
    const bool known = std::any_of(inputs.begin(), inputs.end(),
                                   [&](const InputSpec& s) { return s.name == name; });
    if (!known)
      problems.push_back(
          err(Code::kCalibInputUnknown, "calibration batch ", batch_index, " holds a tensor for '",
              name, "', which is not an input of the model (inputs: ", list_names(input_names), ")")
              .with_fix(str("rename it after one of the model's inputs (", list_names(input_names),
                            ") or remove it")));
    else if (!seen.insert(name).second)
      problems.push_back(err(Code::kCalibInputUnknown, "calibration batch ", batch_index,
                             " gives input '", name, "' twice")
                             .with_fix("give each input once per batch"));
  }
  for (const InputSpec& spec : inputs) {
    if (!seen.count(spec.name))
      problems.push_back(
          err(Code::kCalibInputMissing, "calibration batch ", batch_index,
              " has no tensor for input '", spec.name, "' (", data_type_name(spec.dtype), " ",
              spec_shape(spec), ")")
              .with_fix(str("add '", spec.name, ".npy' (", data_type_name(spec.dtype), " ",
                            spec_shape(spec), ") to batch ", batch_index)));
  }
  for (const InputSpec& spec : inputs) {
    auto it = std::find_if(batch.begin(), batch.end(),
                           [&](const auto& entry) { return entry.first == spec.name; });
    if (it == batch.end()) continue;
    const Tensor& t = it->second;
    if (t.dtype() != spec.dtype) {
      problems.push_back(err(Code::kCalibInputType, "calibration batch ", batch_index, " input '",
                             spec.name, "' is ", data_type_name(t.dtype()), ", the model takes ",
                             data_type_name(spec.dtype))
                             .with_fix(str("save it as ", data_type_name(spec.dtype),
                                           ": numpy.save(path, x.astype(numpy.",
                                           data_type_name(spec.dtype), "))")));
      continue;
    }
    const size_t rank = spec.min_dims.size();
    if (t.rank() != rank) {
      problems.push_back(
          err(Code::kCalibInputShape, "calibration batch ", batch_index, " input '", spec.name,
              "' has rank ", t.rank(), " ", shape_string(t.shape()), ", the model takes rank ",
              rank, " ", spec_shape(spec))
              .with_fix(str(
                  "reshape the array to ", spec_shape(spec),
                  t.rank() + 1 == rank ? " (a missing batch dimension: x[numpy.newaxis])" : "")));
      continue;
    }
    bool shape_ok = true;
    for (size_t d = 0; d < rank; ++d) {
      const int64_t lo = spec.min_dims[d], hi = max_dim(spec, d), v = t.shape()[d];
      if (v >= lo && (hi < 0 || v <= hi)) continue;
      shape_ok = false;
      problems.push_back(
          err(Code::kCalibInputShape, "calibration batch ", batch_index, " input '", spec.name,
              "' dim ", d, " = ", v, " is outside ",
              hi == lo
                  ? str("the model's fixed size ", lo)
                  : str("the built range [", lo, ", ", hi < 0 ? "inf" : std::to_string(hi), "]"),
              " (shape ", shape_string(t.shape()), ", expected ", spec_shape(spec), ")")
              .with_fix(hi == lo ? str("give '", spec.name, "' dim ", d, " = ", lo)
                                 : str("give '", spec.name, "' dim ", d, " within [", lo, ", ",
                                       hi < 0 ? "inf" : std::to_string(hi),
                                       "], or widen the build's --min-shapes/--max-shapes")));
    }
    if (!shape_ok) continue;
    if (std::optional<NonFinite> nf = non_finite(t); nf && nf->count > 0)
      problems.push_back(err(Code::kCalibInputNonFinite, "calibration batch ", batch_index,
                             " input '", spec.name, "' holds ", nf->count, " NaN/Inf values (of ",
                             t.numel(), "), the first at flat index ", nf->first));
  }
  return problems;
}

Status validate_batch(const std::vector<std::pair<std::string, Tensor>>& batch,
                      const std::vector<InputSpec>& inputs, size_t batch_index) {
  std::vector<Status> problems = batch_problems(batch, inputs, batch_index);
  return problems.empty() ? Status::Ok() : std::move(problems.front());
}

uint64_t batch_samples(const std::vector<std::pair<std::string, Tensor>>& batch) {
  if (batch.empty()) return 0;
  uint64_t samples = 0;
  bool any_ranked = false;
  for (const auto& [name, t] : batch) {
    if (t.rank() == 0) continue;
    any_ranked = true;
    samples =
        std::max<uint64_t>(samples, static_cast<uint64_t>(std::max<int64_t>(0, t.shape()[0])));
  }
  return any_ranked ? samples : 1;
}

Result<std::optional<std::string>> check_sample_count(uint64_t samples, uint64_t min_samples,
                                                      bool strict) {
  if (samples >= min_samples) return std::optional<std::string>();
  Status s = err(Code::kCalibTooFewSamples, "calibration saw ", samples,
                 " samples (summed over the batches' first dimension), fewer than the ",
                 min_samples, " required for representative INT8 ranges");
  if (strict) return s;
  s.with_severity(Severity::kWarning);
  return std::optional<std::string>(s.to_string());
}

}  // namespace kiln::calib
