#include "calib/calib_cache.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "core/errors.h"
#include "kiln/kiln.h"

namespace kiln::calib {
namespace {

constexpr std::string_view kMagic = "kiln-calibration-cache";
constexpr size_t kMaxMissingListed = 5;

std::string one_line(std::string_view s) {
  std::string out(s);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return out;
}

std::string format_float(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 9);
  return std::string(buf, r.ptr);
}

std::string format_double(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip
  return std::string(buf, r.ptr);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Shown in messages: a line cut to 80 characters.
std::string excerpt(std::string_view line) {
  return line.size() <= 80 ? std::string(line) : std::string(line.substr(0, 77)) + "...";
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view what) : text_(text), what_(what) {}

  Result<CacheData> parse() {
    CacheData d;
    std::string_view line;
    // Header: five lines in a fixed order.
    if (!next_content_line(line))
      return err(Code::kCalibCacheMalformed, "calibration cache '", what_, "' is empty");
    if (line.substr(0, kMagic.size()) != kMagic)
      return malformed("is not a kiln calibration cache (the first line should be '", kMagic, " ",
                       kCacheFormatVersion, "', it is '", excerpt(line), "')");
    {
      const std::string_view ver = trim(line.substr(kMagic.size()));
      if (ver != std::to_string(kCacheFormatVersion))
        return malformed("has cache format version '", excerpt(ver), "'; this kiln reads version ",
                         kCacheFormatVersion);
    }
    std::string_view value;
    KILN_RETURN_IF_ERROR(header_field("kiln-version", value));
    d.kiln_version = std::string(value);
    KILN_RETURN_IF_ERROR(header_field("algorithm", value));
    {
      const size_t space = value.find(' ');
      const std::string_view name = value.substr(0, space);
      Result<Algorithm> a = parse_algorithm(name);
      if (!a.ok())
        return malformed("unknown algorithm '", excerpt(name),
                         "' (expected entropy, minmax or percentile)");
      d.algorithm = *a;
      const std::string_view arg =
          space == std::string_view::npos ? std::string_view() : trim(value.substr(space + 1));
      if (d.algorithm == Algorithm::kPercentile) {
        double p = 0;
        if (!parse_number(arg, p) || !(p > 0.0 && p <= 100.0))
          return malformed("percentile '", excerpt(arg), "' is not a number in (0, 100]");
        d.percentile = p;
      } else if (!arg.empty()) {
        return malformed("algorithm '", name, "' takes no argument, got '", excerpt(arg), "'");
      }
    }
    KILN_RETURN_IF_ERROR(header_field("model", value));
    d.model_key = std::string(value);
    KILN_RETURN_IF_ERROR(header_field("samples", value));
    if (!parse_number(value, d.samples))
      return malformed("sample count '", excerpt(value), "' is not a non-negative integer");

    // Tensor lines.
    while (next_content_line(line)) {
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos)
        return malformed("expected '<tensor name>: <scale>', got '", excerpt(line), "'");
      if (line.find(':', colon + 1) != std::string_view::npos)
        return malformed("holds more than one ':' (a ':' in a tensor name is written %3A): '",
                         excerpt(line), "'");
      std::string name;
      KILN_RETURN_IF_ERROR(unescape(line.substr(0, colon), name));
      if (name.empty()) return malformed("has an empty tensor name");
      const std::string_view text = trim(line.substr(colon + 1));
      float scale = 0;
      if (!parse_number(text, scale))
        return malformed("scale '", excerpt(text), "' of tensor '", escape_name(name),
                         "' is not a number");
      if (!std::isfinite(scale) || scale <= 0.0f)
        return malformed("scale ", excerpt(text), " of tensor '", escape_name(name),
                         "' is not a positive finite number");
      if (!d.scales.emplace(name, scale).second)
        return malformed("lists tensor '", escape_name(name), "' a second time");
    }
    return d;
  }

 private:
  // The next line that is not blank; false at the end of the text.
  bool next_content_line(std::string_view& line) {
    while (pos_ < text_.size()) {
      const size_t end = std::min(text_.find('\n', pos_), text_.size());
      line = text_.substr(pos_, end - pos_);
      pos_ = end + 1;
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!trim(line).empty()) return true;
    }
    return false;
  }

  Status header_field(std::string_view key, std::string_view& value) {
    std::string_view line;
    if (!next_content_line(line))
      return malformed_at_end("ends before its '", key, ":' header line");
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':')
      return malformed("expected the header line '", key, ": ...', got '", excerpt(line), "'");
    value = trim(line.substr(key.size() + 1));
    return Status::Ok();
  }

  Status unescape(std::string_view in, std::string& out) {
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] != '%') {
        out += in[i];
        continue;
      }
      const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
      const int c = hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
      if (c != '%' && c != '\n' && c != '\r' && c != ':')
        return malformed("has an invalid escape '", excerpt(in.substr(i, 3)), "' in tensor name '",
                         excerpt(in), "' (names use only %25, %0A, %0D and %3A)");
      out += static_cast<char>(c);
      i += 2;
    }
    return Status::Ok();
  }

  template <typename T>
  static bool parse_number(std::string_view s, T& v) {
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
  }

  template <typename... Args>
  Status malformed(const Args&... args) const {
    return err(Code::kCalibCacheMalformed, "calibration cache '", what_, "' line ", line_no_, ": ",
               args...);
  }
  template <typename... Args>
  Status malformed_at_end(const Args&... args) const {
    return err(Code::kCalibCacheMalformed, "calibration cache '", what_, "' ", args..., " (it has ",
               line_no_, " lines)");
  }

  std::string_view text_;
  std::string_view what_;
  size_t pos_ = 0;
  size_t line_no_ = 0;
};

}  // namespace

std::string escape_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '\n':
        out += "%0A";
        break;
      case '\r':
        out += "%0D";
        break;
      case ':':
        out += "%3A";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string write_cache(const CacheData& data) {
  std::string out = str(kMagic, " ", kCacheFormatVersion, "\n");
  out += "kiln-version: " + one_line(data.kiln_version) + "\n";
  out += str("algorithm: ", algorithm_name(data.algorithm));
  if (data.algorithm == Algorithm::kPercentile) out += " " + format_double(data.percentile);
  out += "\nmodel: " + one_line(data.model_key) + "\n";
  out += str("samples: ", data.samples, "\n");
  for (const auto& [name, scale] : data.scales)  // std::map: sorted by name
    out += escape_name(name) + ": " + format_float(scale) + "\n";
  return out;
}

Status save_cache(const std::string& path, const CacheData& data) {
  namespace fs = std::filesystem;
  const std::string text = write_cache(data);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      return err(Code::kFileWriteFailed, "calibration cache '", path, "': cannot create '", tmp,
                 "': ", std::strerror(errno));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      const int saved = errno;
      std::error_code ec;
      fs::remove(tmp, ec);
      return err(Code::kFileWriteFailed, "calibration cache '", path, "': writing ", text.size(),
                 " bytes failed: ", std::strerror(saved));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return err(Code::kFileWriteFailed, "calibration cache '", path, "': cannot move '", tmp,
               "' into place: ", ec.message());
  }
  return Status::Ok();
}

Result<CacheData> parse_cache(std::string_view text, std::string_view what) {
  try {
    return Parser(text, what).parse();
  } catch (const std::bad_alloc&) {
    return err(Code::kAllocationFailed, "calibration cache '", what,
               "': out of memory while reading it");
  }
}

Result<CacheData> load_cache(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found)
    return err(Code::kFileNotFound, "calibration cache '", path, "': no such file");
  if (ec) return err(Code::kFileUnreadable, "calibration cache '", path, "': ", ec.message());
  if (st.type() != fs::file_type::regular)
    return err(Code::kFileUnreadable, "calibration cache '", path, "' is not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return err(Code::kFileUnreadable, "calibration cache '", path,
               "': cannot open: ", std::strerror(errno));
  std::string text;
  try {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::bad_alloc&) {
    return err(Code::kAllocationFailed, "calibration cache '", path,
               "': out of memory while reading it");
  }
  if (in.bad()) return err(Code::kFileUnreadable, "calibration cache '", path, "': reading failed");
  return parse_cache(text, path);
}

Status check_cache(const CacheData& data, std::string_view model_key,
                   const std::vector<std::string>& needed_tensors) {
  const std::string_view here = version();
  std::string differs;
  if (data.model_key != model_key)
    differs += str("it was made for model '", data.model_key, "', this model is '", model_key, "'");
  if (data.kiln_version != here)
    differs += str(differs.empty() ? "" : "; ", "kiln ", data.kiln_version,
                   " wrote it, this is kiln ", here);
  if (!differs.empty())
    return err(Code::kCalibCacheMismatch, "calibration cache does not fit this build: ", differs);

  std::vector<std::string_view> missing;
  for (const std::string& name : needed_tensors)
    if (data.scales.find(name) == data.scales.end()) missing.push_back(name);
  if (missing.empty()) return Status::Ok();
  std::string listed;
  for (size_t i = 0; i < missing.size() && i < kMaxMissingListed; ++i)
    listed += str(i ? ", " : "", "'", missing[i], "'");
  if (missing.size() > kMaxMissingListed)
    listed += str(", ... (", missing.size() - kMaxMissingListed, " more)");
  return err(Code::kCalibCacheIncomplete, "calibration cache has no scale for ", missing.size(),
             " of the ", needed_tensors.size(), " tensors this build quantizes: ", listed);
}

}  // namespace kiln::calib
