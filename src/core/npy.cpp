#include "core/npy.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <optional>
#include <string_view>

#include "core/errors.h"

namespace kiln::npy {
namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);
constexpr size_t kPreambleV1 = 10;  // magic, version, uint16 length
constexpr size_t kPreambleV2 = 12;  // magic, version, uint32 length
constexpr size_t kAlign = 64;       // numpy.lib.format.ARRAY_ALIGN
// numpy pads the header after the dict so the first axis can grow in place up to this many
// digits (GROWTH_AXIS_MAX_DIGITS); matching it keeps our files byte-identical to numpy's.
constexpr size_t kGrowthAxisMaxDigits = 21;
// A real header is a few hundred bytes (numpy arrays have at most 64 dimensions). The cap bounds
// the parser's memory on hostile files (~100 bytes of Value per 2 bytes of "1,") while leaving
// room for the 2.0 headers the writer produces for very high ranks; the writer enforces it too.
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;
// Structured descrs nest a few levels; deeper input is an attack on the recursive parser.
constexpr int kMaxNesting = 32;

constexpr bool kNativeLittle = std::endian::native == std::endian::little;

// ---- shape and descr spelling -------------------------------------------------------------

// Python's repr of a tuple of ints, as numpy writes and users read it: "(2, 3)", "(5,)", "()".
std::string shape_repr(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

struct NpyType {
  char kind;
  int itemsize;
  DataType dtype;
};
constexpr NpyType kTypes[] = {
    {'b', 1, DataType::kBool},      {'i', 1, DataType::kInt8},        {'i', 2, DataType::kInt16},
    {'i', 4, DataType::kInt32},     {'i', 8, DataType::kInt64},       {'u', 1, DataType::kUInt8},
    {'u', 2, DataType::kUInt16},    {'u', 4, DataType::kUInt32},      {'u', 8, DataType::kUInt64},
    {'f', 2, DataType::kFloat16},   {'f', 4, DataType::kFloat32},     {'f', 8, DataType::kFloat64},
    {'c', 8, DataType::kComplex64}, {'c', 16, DataType::kComplex128},
};

// Words for the dtype kinds kiln refuses, so the message says what the array holds.
const char* kind_words(char kind) {
  switch (kind) {
    case 'U':
      return "unicode strings";
    case 'S':
    case 'a':
      return "byte strings";
    case 'V':
      return "raw void records (ml_dtypes saves bfloat16/float8 this way)";
    case 'M':
      return "datetime64 values";
    case 'm':
      return "timedelta64 values";
    case 'f':
    case 'g':
      return "floats of a width kiln has no type for (long double?)";
    case 'c':
    case 'G':
      return "complex numbers of a width kiln has no type for";
    case 'i':
    case 'u':
      return "integers of a width kiln has no type for";
    default:
      return "a dtype numpy.lib.format does not write";
  }
}

// Where the data lies and how to turn it into a tensor.
struct Layout {
  DataType dtype = DataType::kUndefined;
  std::vector<int64_t> shape;
  size_t data_offset = 0;
  size_t data_bytes = 0;
  size_t swap_unit = 0;  // bytes per byte-swapped unit; 0 when the data is already native
};

// ---- header dictionary parser -------------------------------------------------------------

// The subset of Python literals a .npy header uses.
struct Value {
  enum class Kind { kString, kBool, kInt, kTuple, kList };
  Kind kind = Kind::kString;
  size_t begin = 0, end = 0;  // span in the header text, for messages
  std::string text;           // kString
  bool boolean = false;       // kBool
  bool negative = false;      // kInt: sign and magnitude, so an overlong number is reported, not
  uint64_t magnitude = 0;     //   silently wrapped
  bool overflow = false;
  std::vector<Value> items;  // kTuple, kList
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, size_t file_offset, bool allow_long_suffix,
               const std::string& what)
      : text_(text), base_(file_offset), allow_long_(allow_long_suffix), what_(what) {}

  // Parses `{key: value, ...}` followed only by whitespace.
  Status parse_dict(std::vector<std::pair<Value, Value>>* entries) {
    skip_space();
    if (!eat('{')) return expected("'{' opening the header dictionary");
    skip_space();
    while (!eat('}')) {
      Value key, value;
      if (peek() != '\'' && peek() != '"') return expected("a quoted key or '}'");
      KILN_RETURN_IF_ERROR(parse_value(&key, 1));
      skip_space();
      if (!eat(':')) return expected(str("':' after key '", key.text, "'"));
      skip_space();
      KILN_RETURN_IF_ERROR(parse_value(&value, 1));
      entries->emplace_back(std::move(key), std::move(value));
      skip_space();
      if (eat(',')) {
        skip_space();
      } else if (peek() != '}') {
        return expected("',' or '}' after a dictionary entry");
      }
    }
    skip_space();
    if (pos_ != text_.size())
      return fail(str("unexpected ", shown(pos_), " after the header dictionary at byte ", at(pos_),
                      " (only spaces and a newline may follow '}')"));
    return Status();
  }

  size_t at(size_t pos) const { return base_ + pos; }
  std::string_view slice(const Value& v) const { return text_.substr(v.begin, v.end - v.begin); }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool eat(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }
  std::string shown(size_t pos) const {
    if (pos >= text_.size()) return "end of header";
    const auto c = static_cast<unsigned char>(text_[pos]);
    if (c >= 0x20 && c < 0x7f) return str("'", static_cast<char>(c), "'");
    return str("byte 0x", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]);
  }
  Status fail(const std::string& message) const {
    return err(Code::kNpyInvalid, what_, ": header dictionary: ", message);
  }
  Status expected(const std::string& thing) const {
    return fail(str("expected ", thing, " at byte ", at(pos_), ", found ", shown(pos_)));
  }

  Status parse_value(Value* v, int depth) {
    if (depth > kMaxNesting)
      return fail(str("values nest deeper than ", kMaxNesting, " levels at byte ", at(pos_)));
    const size_t begin = pos_;
    const char c = peek();
    Status s;
    if (c == '\'' || c == '"') {
      s = parse_string(v);
    } else if (c == '(' || c == '[') {
      s = parse_sequence(v, depth);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      s = parse_int(v);
    } else if (text_.substr(pos_, 4) == "True" || text_.substr(pos_, 5) == "False") {
      v->kind = Value::Kind::kBool;
      v->boolean = c == 'T';
      pos_ += v->boolean ? 4 : 5;
    } else {
      return expected("a string, number, True, False, tuple or list");
    }
    // Set after parsing: a parenthesised value `(x)` takes x's fields but keeps its parentheses.
    v->begin = begin;
    v->end = pos_;
    return s;
  }

  Status parse_string(Value* v) {
    const size_t begin = pos_;
    const char quote = text_[pos_++];
    v->kind = Value::Kind::kString;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      char c = text_[pos_++];
      if (c == '\n') return fail(str("string starting at byte ", at(begin), " spans a line"));
      // Escapes only occur in structured-dtype field names, which are refused later anyway;
      // keeping the escaped character is enough to find the closing quote.
      if (c == '\\' && pos_ < text_.size()) c = text_[pos_++];
      v->text += c;
    }
    if (!eat(quote)) return fail(str("string starting at byte ", at(begin), " is not closed"));
    return Status();
  }

  // Python tuple/list syntax: () [] (x,) (x, y) (x, y,) [x]; (x) is just x, as in Python.
  Status parse_sequence(Value* v, int depth) {
    const char open = text_[pos_++];
    const char close = open == '(' ? ')' : ']';
    v->kind = open == '(' ? Value::Kind::kTuple : Value::Kind::kList;
    bool saw_comma = false;
    skip_space();
    while (!eat(close)) {
      Value item;
      KILN_RETURN_IF_ERROR(parse_value(&item, depth + 1));
      v->items.push_back(std::move(item));
      skip_space();
      if (eat(',')) {
        saw_comma = true;
        skip_space();
      } else if (peek() != close) {
        return expected(str("',' or '", close, "'"));
      }
    }
    if (open == '(' && v->items.size() == 1 && !saw_comma) {
      Value inner = std::move(v->items[0]);
      *v = std::move(inner);
    }
    return Status();
  }

  Status parse_int(Value* v) {
    v->kind = Value::Kind::kInt;
    v->negative = eat('-');
    const size_t digits = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const uint64_t d = static_cast<uint64_t>(text_[pos_++] - '0');
      if (v->magnitude > (std::numeric_limits<uint64_t>::max() - d) / 10) v->overflow = true;
      v->magnitude = v->magnitude * 10 + d;
    }
    if (pos_ == digits) return expected("a digit");
    if (text_[digits] == '0' && pos_ - digits > 1)
      return fail(str("number with a leading zero at byte ", at(digits)));
    // Python 2 wrote longs as 3L; numpy still reads those headers in format 1.0 and 2.0.
    if (allow_long_ && (peek() == 'L' || peek() == 'l')) ++pos_;
    const char next = peek();
    if (next == '.' || next == '_' || next == 'e' || next == 'E' || next == 'x' || next == 'j' ||
        (next >= 'A' && next <= 'Z') || (next >= 'a' && next <= 'z'))
      return fail(
          str("expected an integer at byte ", at(digits), ", found ", shown(pos_), " inside it"));
    return Status();
  }

  std::string_view text_;
  size_t base_;
  bool allow_long_;
  const std::string& what_;
  size_t pos_ = 0;
};

// ---- header interpretation ----------------------------------------------------------------

struct Preamble {
  int major = 0;
  size_t header_begin = 0;
  size_t header_len = 0;
};

uint32_t load_le(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// `head` holds the first min(total, 12) bytes of a `total`-byte file.
Result<Preamble> parse_preamble(const uint8_t* head, size_t n, uint64_t total,
                                const std::string& what) {
  if (total == 0)
    return err(Code::kNpyInvalid, what, ": file is empty (0 bytes); a .npy file starts with the ",
               "magic \\x93NUMPY");
  const size_t m = std::min(n, kMagic.size());
  if (std::memcmp(head, kMagic.data(), m) != 0) {
    std::string first;
    for (size_t i = 0; i < m; ++i) first += str(i ? " " : "", static_cast<int>(head[i]));
    return err(Code::kNpyInvalid, what, ": not a .npy file: it does not start with the magic ",
               "\\x93NUMPY (first bytes: ", first, ")");
  }
  if (total < kPreambleV1)
    return err(Code::kNpyTruncated, what, ": file ends after ", total,
               " bytes, inside the 10-byte .npy preamble");
  Preamble p;
  p.major = head[6];
  const int minor = head[7];
  if (p.major < 1 || p.major > 3 || minor != 0)
    return err(Code::kNpyInvalid, what, ": .npy format version ", p.major, ".", minor,
               " (byte 6) is not supported; kiln reads 1.0, 2.0 and 3.0");
  const int len_bytes = p.major == 1 ? 2 : 4;
  p.header_begin = 8 + static_cast<size_t>(len_bytes);
  if (total < p.header_begin)
    return err(Code::kNpyTruncated, what, ": file ends after ", total, " bytes, inside the ",
               p.header_begin, "-byte preamble of format ", p.major, ".0");
  p.header_len = load_le(head + 8, len_bytes);
  if (p.header_len > total - p.header_begin)
    return err(Code::kNpyTruncated, what, ": header length ", p.header_len, " (bytes 8..",
               p.header_begin - 1, ") runs past the end of the file: only ", total - p.header_begin,
               " bytes follow the preamble");
  if (p.header_len > kMaxHeaderBytes)
    return err(Code::kNpyInvalid, what, ": header length ", p.header_len,
               " exceeds kiln's limit of ", kMaxHeaderBytes, " bytes");
  return p;
}

Status parse_descr(const Value& v, const HeaderParser& parser, Layout* layout,
                   const std::string& what) {
  if (v.kind == Value::Kind::kList || v.kind == Value::Kind::kTuple)
    return err(Code::kNpyUnsupportedDtype, what, ": dtype ", parser.slice(v), " is a ",
               v.kind == Value::Kind::kList ? "structured (record)" : "sub-array",
               " dtype; kiln reads plain numeric and bool arrays");
  if (v.kind != Value::Kind::kString)
    return err(Code::kNpyInvalid, what, ": 'descr' at byte ", parser.at(v.begin),
               " must be a dtype string such as '<f4', found ", parser.slice(v));
  const std::string& d = v.text;
  size_t i = 0;
  char order = '=';
  if (!d.empty() && std::string_view("<>|=").find(d[0]) != std::string_view::npos) order = d[i++];
  if (i >= d.size())
    return err(Code::kNpyUnsupportedDtype, what, ": dtype '", d, "' names no type");
  const char kind = d[i];
  const std::string size = d.substr(i + 1);
  if (kind == 'O')
    return err(Code::kNpyObjectArray, what, ": dtype '", d,
               "' is an object array (pickled Python objects)");
  for (const NpyType& t : kTypes) {
    if (t.kind != kind || size != std::to_string(t.itemsize)) continue;
    layout->dtype = t.dtype;
    const bool big = order == '>';
    const bool little = order == '<';
    if (t.itemsize > 1 && ((big && kNativeLittle) || (little && !kNativeLittle)))
      layout->swap_unit = static_cast<size_t>(kind == 'c' ? t.itemsize / 2 : t.itemsize);
    return Status();
  }
  // Sizes start with digits ('<U3', '<M8[ns]'); anything else is a spelling numpy never writes.
  const bool sized = !size.empty() && size[0] >= '0' && size[0] <= '9';
  return err(Code::kNpyUnsupportedDtype, what, ": dtype '", d, "' (",
             sized ? kind_words(kind) : "not a numpy array-protocol type string",
             ") has no kiln tensor type");
}

Result<Layout> parse_header(std::string_view text, const Preamble& pre, uint64_t total,
                            const std::string& what) {
  HeaderParser parser(text, pre.header_begin, pre.major <= 2, what);
  std::vector<std::pair<Value, Value>> entries;
  KILN_RETURN_IF_ERROR(parser.parse_dict(&entries));

  const Value* descr = nullptr;
  const Value* fortran = nullptr;
  const Value* shape = nullptr;
  for (const auto& [key, value] : entries) {
    const Value** slot = key.text == "descr"           ? &descr
                         : key.text == "fortran_order" ? &fortran
                         : key.text == "shape"         ? &shape
                                                       : nullptr;
    if (slot == nullptr)
      return err(Code::kNpyInvalid, what, ": header has unexpected key ", parser.slice(key),
                 " at byte ", parser.at(key.begin),
                 "; a .npy header holds exactly 'descr', 'fortran_order' and 'shape'");
    if (*slot != nullptr)
      return err(Code::kNpyInvalid, what, ": header repeats key '", key.text, "' at byte ",
                 parser.at(key.begin));
    *slot = &value;
  }
  for (const auto& [name, slot] :
       {std::pair{"descr", descr}, std::pair{"fortran_order", fortran}, std::pair{"shape", shape}})
    if (slot == nullptr) return err(Code::kNpyInvalid, what, ": header lacks the '", name, "' key");

  Layout layout;
  KILN_RETURN_IF_ERROR(parse_descr(*descr, parser, &layout, what));
  if (fortran->kind != Value::Kind::kBool)
    return err(Code::kNpyInvalid, what, ": 'fortran_order' at byte ", parser.at(fortran->begin),
               " must be True or False, found ", parser.slice(*fortran));
  if (fortran->boolean)
    return err(Code::kNpyFortranOrder, what, ": array of shape ", parser.slice(*shape),
               " is stored in Fortran (column-major) order; save numpy.ascontiguousarray(a)",
               " instead");
  if (shape->kind != Value::Kind::kTuple)
    return err(Code::kNpyInvalid, what, ": 'shape' at byte ", parser.at(shape->begin),
               " must be a tuple of ints, found ", parser.slice(*shape),
               shape->kind == Value::Kind::kInt ? " (a 1-D shape is written (n,))" : "");
  for (size_t i = 0; i < shape->items.size(); ++i) {
    const Value& d = shape->items[i];
    if (d.kind != Value::Kind::kInt)
      return err(Code::kNpyInvalid, what, ": 'shape' ", parser.slice(*shape), " has non-integer ",
                 "dimension ", i, " = ", parser.slice(d), " at byte ", parser.at(d.begin));
    if (d.negative && d.magnitude != 0)
      return err(Code::kInvalidShape, what, ": 'shape' ", parser.slice(*shape), " has negative ",
                 "dimension ", i, " = ", parser.slice(d));
    if (d.overflow || d.magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return err(Code::kInvalidShape, what, ": 'shape' dimension ", i, " = ", parser.slice(d),
                 " does not fit in 64 bits");
    layout.shape.push_back(static_cast<int64_t>(d.magnitude));
  }
  const std::string shape_text = shape_repr(layout.shape);
  const auto numel = checked_numel(layout.shape);
  if (!numel)
    return err(Code::kInvalidShape, what, ": 'shape' ", shape_text,
               " has more elements than fit in 64 bits");
  const auto bytes = data_type_bytes(layout.dtype, *numel);
  if (!bytes)
    return err(Code::kInvalidShape, what, ": 'shape' ", shape_text, " of '", descr->text,
               "' needs more than 2^63 bytes");

  layout.data_offset = pre.header_begin + pre.header_len;
  layout.data_bytes = *bytes;
  const uint64_t available = total - layout.data_offset;
  if (available < *bytes)
    return err(Code::kNpyTruncated, what, ": header declares shape ", shape_text, " of ",
               descr->text, " = ", *bytes, " bytes but only ", available,
               " bytes follow the header");
  if (available > *bytes)
    return err(Code::kNpyInvalid, what, ": header declares shape ", shape_text, " of ", descr->text,
               " = ", *bytes, " bytes but ", available, " bytes follow the header (",
               available - *bytes, " unexpected trailing bytes)");
  return layout;
}

// Puts freshly copied file bytes into kiln's in-memory form.
void finish(Tensor& t, const Layout& layout) {
  auto* p = static_cast<uint8_t*>(t.data());
  if (layout.swap_unit > 1)
    for (size_t off = 0; off + layout.swap_unit <= layout.data_bytes; off += layout.swap_unit)
      std::reverse(p + off, p + off + layout.swap_unit);
  // numpy reads any nonzero byte as True; kiln kernels assume bools are exactly 0 or 1.
  if (layout.dtype == DataType::kBool)
    for (size_t i = 0; i < layout.data_bytes; ++i) p[i] = p[i] != 0;
}

Result<Tensor> read_memory_impl(const void* data, size_t size, const std::string& what) {
  if (data == nullptr && size > 0)
    return err(Code::kInvalidArgument, what, ": null buffer of ", size, " bytes");
  const auto* bytes = static_cast<const uint8_t*>(data);
  KILN_ASSIGN_OR_RETURN(Preamble pre,
                        parse_preamble(bytes, std::min(size, kPreambleV2), size, what));
  const std::string_view text(reinterpret_cast<const char*>(bytes) + pre.header_begin,
                              pre.header_len);
  KILN_ASSIGN_OR_RETURN(Layout layout, parse_header(text, pre, size, what));
  KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(layout.dtype, layout.shape));
  if (layout.data_bytes > 0) std::memcpy(t.data(), bytes + layout.data_offset, layout.data_bytes);
  finish(t, layout);
  return t;
}

Result<Tensor> read_file_impl(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found)
    return err(Code::kFileNotFound, path, ": no such file");
  if (ec) return err(Code::kFileUnreadable, path, ": ", ec.message());
  if (st.type() == fs::file_type::directory)
    return err(Code::kFileUnreadable, path, ": is a directory, not a .npy file");
  if (st.type() != fs::file_type::regular)
    return err(Code::kFileUnreadable, path, ": is not a regular file");
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return err(Code::kFileUnreadable, path, ": cannot get its size: ", ec.message());

  std::ifstream in(path, std::ios::binary);
  if (!in) return err(Code::kFileUnreadable, path, ": cannot open: ", std::strerror(errno));
  auto read = [&](void* dst, size_t n, const char* part) -> Status {
    in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (static_cast<size_t>(in.gcount()) != n)
      return err(Code::kFileUnreadable, path, ": reading the ", part, " stopped after ",
                 in.gcount(), " of ", n, " bytes");
    return Status();
  };

  uint8_t head[kPreambleV2] = {};
  const size_t head_size = static_cast<size_t>(std::min<uintmax_t>(size, kPreambleV2));
  KILN_RETURN_IF_ERROR(read(head, head_size, "preamble"));
  KILN_ASSIGN_OR_RETURN(Preamble pre, parse_preamble(head, head_size, size, path));
  // The header was partly read with the preamble; re-read it whole from its start.
  std::string text(pre.header_len, '\0');
  in.seekg(static_cast<std::streamoff>(pre.header_begin));
  KILN_RETURN_IF_ERROR(read(text.data(), text.size(), "header"));
  KILN_ASSIGN_OR_RETURN(Layout layout, parse_header(text, pre, size, path));
  // Only now, with the byte count checked against the file size, is the data allocated.
  KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(layout.dtype, layout.shape));
  KILN_RETURN_IF_ERROR(read(t.data(), layout.data_bytes, "data"));
  finish(t, layout);
  return t;
}

// ---- writing ------------------------------------------------------------------------------

std::string unsupported_reason(DataType dtype) {
  switch (dtype) {
    case DataType::kBFloat16:
      return "bfloat16 has no standard .npy descr (ml_dtypes saves it as raw '<V2' records that "
             "plain numpy cannot interpret)";
    case DataType::kFloat8E4M3FN:
    case DataType::kFloat8E4M3FNUZ:
    case DataType::kFloat8E5M2:
    case DataType::kFloat8E5M2FNUZ:
    case DataType::kFloat4E2M1:
      return str(data_type_name(dtype), " has no standard .npy descr");
    case DataType::kInt4:
    case DataType::kUInt4:
      return str(data_type_name(dtype), " is packed two elements per byte and .npy has no ",
                 "sub-byte dtype");
    case DataType::kString:
      return "string tensors would need numpy's fixed-width '<U' dtype, which kiln does not read";
    default:
      return str(data_type_name(dtype), " has no .npy descr");
  }
}

Result<std::string> encode_header(const Tensor& t, const std::string& what) {
  if (t.empty())
    return err(Code::kInvalidArgument, what, ": cannot write an empty tensor (no dtype) to .npy");
  std::string descr;
  for (const NpyType& n : kTypes) {
    if (n.dtype != t.dtype()) continue;
    descr = str(n.itemsize == 1 ? '|' : (kNativeLittle ? '<' : '>'), n.kind, n.itemsize);
  }
  if (descr.empty()) {
    Status s = err(Code::kNpyUnsupportedDtype, what, ": cannot write ", data_type_name(t.dtype()),
                   " tensor of shape ", shape_repr(t.shape()),
                   " to .npy: ", unsupported_reason(t.dtype()));
    if (t.dtype() == DataType::kBFloat16) s.with_fix("Convert the tensor to float32 first.");
    if (t.dtype() == DataType::kInt4 || t.dtype() == DataType::kUInt4)
      s.with_fix("Unpack the tensor to int8 / uint8 first.");
    return s;
  }
  const auto numel = checked_numel(t.shape());
  const auto bytes = numel ? data_type_bytes(t.dtype(), *numel) : std::nullopt;
  if (!bytes || *bytes != t.nbytes() || (t.nbytes() > 0 && t.data() == nullptr))
    return err(Code::kInvalidArgument, what, ": tensor of shape ", shape_repr(t.shape()), " and ",
               data_type_name(t.dtype()), " holds ", t.nbytes(), " bytes",
               t.data() == nullptr ? " at a null pointer" : "", "; its data is inconsistent");

  // Same text, key order and growth padding as numpy.lib.format._write_array_header.
  std::string dict = str("{'descr': '", descr,
                         "', 'fortran_order': False, 'shape': ", shape_repr(t.shape()), ", }");
  if (!t.shape().empty())
    dict.append(
        kGrowthAxisMaxDigits - std::min(kGrowthAxisMaxDigits, std::to_string(t.shape()[0]).size()),
        ' ');
  // numpy pads by a full 64 bytes rather than 0 when already aligned; copy that too.
  const size_t hlen = dict.size() + 1;  // + the final '\n'
  auto padded = [&](size_t prefix) { return hlen + kAlign - (prefix + hlen) % kAlign; };
  int major = 1;
  size_t len = padded(kPreambleV1);
  if (len > 0xffff) {
    major = 2;
    len = padded(kPreambleV2);
  }
  if (len > kMaxHeaderBytes)
    return err(Code::kInvalidShape, what, ": the rank-", t.rank(), " shape needs a ", len,
               "-byte .npy header, over the ", kMaxHeaderBytes, "-byte limit kiln reads back");
  std::string out(kMagic);
  out += static_cast<char>(major);
  out += '\0';
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  out += dict;
  out.append(len - hlen, ' ');
  out += '\n';
  return out;
}

Result<std::vector<uint8_t>> write_memory_impl(const Tensor& t) {
  KILN_ASSIGN_OR_RETURN(std::string header, encode_header(t, "tensor"));
  std::vector<uint8_t> out;
  out.reserve(header.size() + t.nbytes());
  out.insert(out.end(), header.begin(), header.end());
  const auto* data = static_cast<const uint8_t*>(t.data());
  if (t.nbytes() > 0) out.insert(out.end(), data, data + t.nbytes());
  return out;
}

Status write_file_impl(const std::string& path, const Tensor& t) {
  KILN_ASSIGN_OR_RETURN(std::string header, encode_header(t, path));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return err(Code::kFileWriteFailed, path, ": cannot create: ", std::strerror(errno));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  if (t.nbytes() > 0)
    out.write(static_cast<const char*>(t.data()), static_cast<std::streamsize>(t.nbytes()));
  out.close();
  if (!out) {
    const int saved = errno;
    std::error_code ec;
    std::filesystem::remove(path, ec);  // a truncated .npy would only fail later, further away
    return err(Code::kFileWriteFailed, path, ": writing ", header.size() + t.nbytes(),
               " bytes failed: ", std::strerror(saved));
  }
  return Status();
}

Status out_of_memory(const std::string& what) {
  return err(Code::kAllocationFailed, what, ": out of memory while handling a .npy image");
}

}  // namespace

// The public entry points turn the allocation failures of std containers into Status, so no
// exception leaves the API.
Result<Tensor> read_file(const std::string& path) {
  try {
    return read_file_impl(path);
  } catch (const std::bad_alloc&) {
    return out_of_memory(path);
  }
}

Result<Tensor> read_memory(const void* data, size_t size, const std::string& what) {
  try {
    return read_memory_impl(data, size, what);
  } catch (const std::bad_alloc&) {
    return out_of_memory(what);
  }
}

Status write_file(const std::string& path, const Tensor& tensor) {
  try {
    return write_file_impl(path, tensor);
  } catch (const std::bad_alloc&) {
    return out_of_memory(path);
  }
}

Result<std::vector<uint8_t>> write_memory(const Tensor& tensor) {
  try {
    return write_memory_impl(tensor);
  } catch (const std::bad_alloc&) {
    return out_of_memory("tensor");
  }
}

}  // namespace kiln::npy
