#include "ir/parser.h"

#include <charconv>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/errors.h"

namespace kiln::ir {
namespace {

// Subgraph nesting deeper than any real model; bounds the parser's recursion on hostile text.
constexpr int kMaxDepth = 64;
// Larger tensors come back header-only (see parser.h).
constexpr uint64_t kMaxTensorBytes = uint64_t{64} << 20;
// Rough per-element cost of a string tensor, for the same bound.
constexpr uint64_t kStringElementBytes = 32;

bool is_name_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '/' || c == '-' || c == '+' || c == '@' || c == '$' || c == ':' ||
         c >= 0x80;
}

bool is_op_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool is_alnum(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// ---- syntax tree: names are resolved only once a whole graph is read, because a node may
// mention a value defined further down (unsorted graphs, captures of later outer values).

struct Decl {
  std::string name;
  ValueType type;
  size_t pos = 0;
};

struct PGraph;

struct PAttr {
  Attribute attr;  // complete except for g / graphs
  std::vector<std::unique_ptr<PGraph>> graphs;
};

struct PNode {
  std::vector<std::optional<std::string>> outputs, inputs;  // nullopt = "_"
  std::string domain, op_type, name;
  std::vector<PAttr> attrs;
  int64_t index = -1;
};

struct PGraph {
  std::string name;
  std::vector<Decl> inputs, outputs, inits;
  std::vector<PNode> nodes;
};

std::optional<DataType> dtype_by_name(std::string_view name) {
  for (int32_t i = 0; i <= kMaxDataType; ++i) {
    const DataTypeInfo* info = data_type_info(i);
    if (name == info->name) return info->type;
  }
  return std::nullopt;
}

// Stand-in for tensor data the text does not carry.
Result<Tensor> placeholder_tensor(DataType dtype, const std::vector<int64_t>& shape) {
  if (dtype == DataType::kUndefined && shape.empty()) return Tensor();
  std::optional<int64_t> numel = checked_numel(shape);  // nullopt for unknown (-1) dims
  std::optional<uint64_t> bytes;
  if (numel && dtype == DataType::kString) {
    if (static_cast<uint64_t>(*numel) <= kMaxTensorBytes / kStringElementBytes)
      bytes = static_cast<uint64_t>(*numel) * kStringElementBytes;
  } else if (numel) {
    if (auto b = data_type_bytes(dtype, *numel)) bytes = *b;
  }
  if (!bytes || *bytes > kMaxTensorBytes) return Tensor::borrow(dtype, shape, nullptr);
  return Tensor::allocate(dtype, shape);
}

bool same_type(const ValueType& a, const ValueType& b) {
  return a.kind == b.kind && a.dtype == b.dtype && a.shape == b.shape;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::unique_ptr<Graph>> run() {
    skip_ws();
    auto root = std::make_unique<PGraph>();
    if (!at_keyword("graph")) return error("expected 'graph'");
    KILN_RETURN_IF_ERROR(parse_graph(*root, 0));
    skip_ws();
    if (pos_ < text_.size()) return error("expected end of text after the graph");
    return build(*root, nullptr);
  }

 private:
  // ---- errors

  std::string where(size_t pos) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return str("line ", line, ", column ", col);
  }

  std::string found(size_t pos) const {
    if (pos >= text_.size()) return "end of text";
    size_t end = pos;
    while (end < text_.size() && end - pos < 20 && text_[end] != '\n') ++end;
    if (end == pos) return "end of line";
    return "'" + std::string(text_.substr(pos, end - pos)) + "'";
  }

  template <typename... Args>
  Status error_at(size_t pos, const Args&... args) const {
    return err(Code::kInvalidArgument, "IR text ", where(pos), ": ", args...);
  }

  // "expected X" at the current position, quoting what is there instead.
  Status error(std::string_view expected) const {
    return error_at(pos_, expected, ", found ", found(pos_));
  }

  // ---- lexing

  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  void skip_ws() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  bool starts_with(std::string_view s) const { return text_.substr(pos_).starts_with(s); }

  // Skips whitespace, then consumes `s` if it comes next.
  bool accept(std::string_view s) {
    skip_ws();
    if (!starts_with(s)) return false;
    pos_ += s.size();
    return true;
  }

  Status expect(std::string_view s) {
    if (accept(s)) return Status::Ok();
    return error(str("expected '", s, "'"));
  }

  // A keyword is a word not followed by more name characters ("graph" but not "graphs").
  bool at_keyword(std::string_view kw) const {
    return starts_with(kw) && !is_op_char(peek(kw.size()));
  }

  Result<std::string> parse_string() {
    const size_t start = pos_;
    if (peek() != '"') return error("expected '\"'");
    ++pos_;
    std::string s;
    while (true) {
      if (pos_ >= text_.size()) return error_at(start, "string is not terminated");
      char c = text_[pos_++];
      if (c == '"') return s;
      if (c != '\\') {
        s += c;
        continue;
      }
      if (pos_ >= text_.size()) return error_at(start, "string is not terminated");
      char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
          s += e;
          break;
        case 'n':
          s += '\n';
          break;
        case 't':
          s += '\t';
          break;
        case 'r':
          s += '\r';
          break;
        default:
          return error_at(pos_ - 2, "unknown escape '\\", e, "' (known: \\\" \\\\ \\n \\t \\r)");
      }
    }
  }

  // A value, graph or attribute name: plain characters or a quoted string.
  Result<std::string> parse_name(const char* what) {
    skip_ws();
    if (peek() == '"') return parse_string();
    const size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    // A plain name never ends in ':' (the printer quotes those); a trailing ':' is the one of
    // "%x: type".
    while (pos_ > start && text_[pos_ - 1] == ':') --pos_;
    if (pos_ == start) return error(str("expected ", what));
    return std::string(text_.substr(start, pos_ - start));
  }

  Result<std::string> parse_op_word(const char* what) {
    skip_ws();
    if (peek() == '"') return parse_string();
    const size_t start = pos_;
    while (pos_ < text_.size() && is_op_char(text_[pos_])) ++pos_;
    if (pos_ == start) return error(str("expected ", what));
    return std::string(text_.substr(start, pos_ - start));
  }

  // A run of characters that can make up a number, incl. "inf", "nan", "1e-05".
  std::string_view number_token() {
    skip_ws();
    const size_t start = pos_;
    while (pos_ < text_.size() && (is_alnum(text_[pos_]) || text_[pos_] == '.' ||
                                   text_[pos_] == '-' || text_[pos_] == '+'))
      ++pos_;
    return text_.substr(start, pos_ - start);
  }

  static bool looks_float(std::string_view t) {
    // Ints are plain digits; the printer gives every float a '.', an exponent, inf or nan.
    return t.find_first_of(".eEnN") != std::string_view::npos;
  }

  Result<int64_t> to_int(std::string_view t, size_t at) const {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || p != t.data() + t.size())
      return error_at(at, "'", t, "' is not an int64 value");
    return v;
  }

  Result<float> to_float(std::string_view t, size_t at) const {
    float v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || p != t.data() + t.size())
      return error_at(at, "'", t, "' is not a float value");
    return v;
  }

  Result<int64_t> parse_int(const char* what) {
    skip_ws();
    const size_t at = pos_;
    std::string_view t = number_token();
    if (t.empty()) return error(str("expected ", what));
    return to_int(t, at);
  }

  // ---- types

  Result<DataType> parse_dtype(bool allow_undefined) {
    const size_t start = pos_;
    while (pos_ < text_.size() && is_alnum(text_[pos_])) ++pos_;
    std::string_view word = text_.substr(start, pos_ - start);
    if (word.empty()) {
      pos_ = start;
      return error("expected an element type (float32, int64, …)");
    }
    std::optional<DataType> t = dtype_by_name(word);
    if (!t || (*t == DataType::kUndefined && !allow_undefined))
      return error_at(start, "unknown element type '", word, "'");
    return *t;
  }

  Result<Dims> parse_dims() {
    if (peek() == '?') {
      ++pos_;
      return Dims::unknown_rank();
    }
    if (peek() != '[') return error("expected '[' or '?' for a shape");
    ++pos_;
    std::vector<Dim> dims;
    if (peek() == ']') {
      ++pos_;
      return Dims(std::move(dims));
    }
    while (true) {
      const size_t start = pos_;
      if (peek() == '"') {
        KILN_ASSIGN_OR_RETURN(std::string sym, parse_string());
        dims.push_back(Dim::symbolic(std::move(sym)));
      } else {
        while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != ']' &&
               static_cast<unsigned char>(text_[pos_]) > 0x20)
          ++pos_;
        std::string_view word = text_.substr(start, pos_ - start);
        bool digits = !word.empty();
        for (char c : word) digits = digits && c >= '0' && c <= '9';
        if (word.empty()) return error("expected a dimension");
        if (word == "?") {
          dims.push_back(Dim::unknown());
        } else if (digits) {
          KILN_ASSIGN_OR_RETURN(int64_t v, to_int(word, start));
          dims.push_back(Dim::fixed(v));
        } else {
          dims.push_back(Dim::symbolic(std::string(word)));
        }
      }
      if (peek() == ']') {
        ++pos_;
        return Dims(std::move(dims));
      }
      if (peek() != ',') return error("expected ',' or ']' in a shape");
      ++pos_;
    }
  }

  Result<ValueType> parse_tensor_type() {
    ValueType t;
    if (peek() == '?') {
      ++pos_;
    } else {
      KILN_ASSIGN_OR_RETURN(t.dtype, parse_dtype(false));
    }
    KILN_ASSIGN_OR_RETURN(t.shape, parse_dims());
    return t;
  }

  Result<ValueType> parse_type() {
    skip_ws();
    if (peek() == '?' && peek(1) != '?' && peek(1) != '[') {
      ++pos_;
      ValueType t;
      t.kind = ValueKind::kUnknown;
      return t;
    }
    for (ValueKind kind :
         {ValueKind::kSequence, ValueKind::kOptional, ValueKind::kMap, ValueKind::kSparseTensor}) {
      const std::string prefix = std::string(value_kind_name(kind)) + "(";
      if (!starts_with(prefix)) continue;
      pos_ += prefix.size();
      KILN_ASSIGN_OR_RETURN(ValueType t, parse_tensor_type());
      t.kind = kind;
      if (peek() != ')') return error("expected ')' after the element type");
      ++pos_;
      return t;
    }
    return parse_tensor_type();
  }

  // "tensor<float32[3,4]>" → a placeholder tensor of that type.
  Result<Tensor> parse_tensor_header() {
    const size_t start = pos_;
    KILN_RETURN_IF_ERROR(expect("tensor<"));
    KILN_ASSIGN_OR_RETURN(DataType dtype, parse_dtype(true));
    KILN_ASSIGN_OR_RETURN(Dims dims, parse_dims());
    if (peek() != '>') return error("expected '>' after the tensor shape");
    ++pos_;
    if (!dims.rank_known()) return error_at(start, "a tensor attribute needs a known rank");
    std::vector<int64_t> shape;
    for (const Dim& d : dims.dims()) {
      if (d.is_symbolic())
        return error_at(start, "tensor shape dimension '", d.symbol, "' must be a number or '?'");
      shape.push_back(d.value);
    }
    Result<Tensor> t = placeholder_tensor(dtype, shape);
    if (!t.ok()) return error_at(start, "cannot make the tensor: ", t.status().message());
    return std::move(t).value();
  }

  // ---- graphs

  Result<Decl> parse_decl() {
    skip_ws();
    Decl d;
    d.pos = pos_;
    KILN_RETURN_IF_ERROR(expect("%"));
    KILN_ASSIGN_OR_RETURN(d.name, parse_name("a value name"));
    KILN_RETURN_IF_ERROR(expect(":"));
    KILN_ASSIGN_OR_RETURN(d.type, parse_type());
    return d;
  }

  Status parse_decls(std::vector<Decl>& out) {
    KILN_RETURN_IF_ERROR(expect("("));
    if (accept(")")) return Status::Ok();
    do {
      KILN_ASSIGN_OR_RETURN(Decl d, parse_decl());
      out.push_back(std::move(d));
    } while (accept(","));
    return expect(")");
  }

  Result<std::optional<std::string>> parse_ref() {
    skip_ws();
    if (peek() == '_' && !is_name_char(peek(1))) {
      ++pos_;
      return std::optional<std::string>();
    }
    if (peek() != '%') return error("expected '%name' or '_'");
    ++pos_;
    KILN_ASSIGN_OR_RETURN(std::string name, parse_name("a value name after '%'"));
    return std::optional<std::string>(std::move(name));
  }

  Status parse_graph(PGraph& g, int depth) {
    if (depth > kMaxDepth) return error(str("subgraphs nested at most ", kMaxDepth, " deep"));
    skip_ws();
    KILN_RETURN_IF_ERROR(expect("graph"));
    KILN_ASSIGN_OR_RETURN(g.name, parse_name("a graph name"));
    KILN_RETURN_IF_ERROR(parse_decls(g.inputs));
    KILN_RETURN_IF_ERROR(expect("->"));
    KILN_RETURN_IF_ERROR(parse_decls(g.outputs));
    KILN_RETURN_IF_ERROR(expect("{"));
    while (true) {
      skip_ws();
      if (pos_ >= text_.size()) return error("expected '}' closing graph '" + g.name + "'");
      if (peek() == '}') {
        ++pos_;
        return Status::Ok();
      }
      if (at_keyword("init")) {
        // "init(" would be a node of op type init.
        const size_t save = pos_;
        pos_ += 4;
        skip_ws();
        if (peek() == '%') {
          KILN_ASSIGN_OR_RETURN(Decl d, parse_decl());
          g.inits.push_back(std::move(d));
          continue;
        }
        pos_ = save;
      }
      g.nodes.emplace_back();
      KILN_RETURN_IF_ERROR(parse_node(g.nodes.back(), depth));
    }
  }

  bool at_output_list() {
    if (peek() == '%') return true;
    if (peek() != '_') return false;
    // "_ = Op(...)" or "_, %y = ..." versus an op type starting with '_'.
    size_t p = pos_ + 1;
    while (p < text_.size() && is_space(text_[p])) ++p;
    return p < text_.size() && (text_[p] == ',' || text_[p] == '=');
  }

  Status parse_node(PNode& n, int depth) {
    skip_ws();
    if (at_output_list()) {
      do {
        KILN_ASSIGN_OR_RETURN(auto ref, parse_ref());
        n.outputs.push_back(std::move(ref));
      } while (accept(","));
      KILN_RETURN_IF_ERROR(expect("="));
    }
    KILN_ASSIGN_OR_RETURN(n.op_type, parse_op_word("an op type"));
    if (accept("::")) {
      n.domain = std::move(n.op_type);
      KILN_ASSIGN_OR_RETURN(n.op_type, parse_op_word("an op type after '::'"));
    }
    KILN_RETURN_IF_ERROR(expect("("));
    if (!accept(")")) {
      do {
        KILN_ASSIGN_OR_RETURN(auto ref, parse_ref());
        n.inputs.push_back(std::move(ref));
      } while (accept(","));
      KILN_RETURN_IF_ERROR(expect(")"));
    }
    if (accept("{")) {
      do {
        n.attrs.emplace_back();
        KILN_RETURN_IF_ERROR(parse_attr(n.attrs.back(), depth));
      } while (accept(","));
      KILN_RETURN_IF_ERROR(expect("}"));
    }
    // KILN_ASSIGN_OR_RETURN expands to several statements, hence the braces.
    if (accept("#")) {
      KILN_ASSIGN_OR_RETURN(n.index, parse_int("a node index after '#'"));
    }
    skip_ws();
    if (peek() == '"') {
      const size_t save = pos_;
      KILN_ASSIGN_OR_RETURN(std::string name, parse_string());
      skip_ws();
      // A quoted word followed by '(' or "::" is the op type of the next, output-less node.
      if (starts_with("(") || starts_with("::"))
        pos_ = save;
      else
        n.name = std::move(name);
    }
    return Status::Ok();
  }

  Status parse_attr(PAttr& pa, int depth) {
    Attribute& a = pa.attr;
    KILN_ASSIGN_OR_RETURN(a.name, parse_name("an attribute name"));
    KILN_RETURN_IF_ERROR(expect("="));
    skip_ws();
    const size_t start = pos_;

    if (peek() == '"') {
      a.type = AttrType::kString;
      KILN_ASSIGN_OR_RETURN(a.s, parse_string());
      return Status::Ok();
    }
    if (at_keyword("graph")) {
      a.type = AttrType::kGraph;
      pa.graphs.push_back(std::make_unique<PGraph>());
      return parse_graph(*pa.graphs.back(), depth + 1);
    }
    if (starts_with("tensor<")) {
      a.type = AttrType::kTensor;
      KILN_ASSIGN_OR_RETURN(a.t, parse_tensor_header());
      return Status::Ok();
    }
    if (peek() == '<') {
      // "<graph>" (a graph attribute without a graph) or "<sparse_tensor>"-style placeholders
      // for attribute types the printer does not render.
      const size_t close = text_.find('>', pos_);
      std::string_view word =
          close == std::string_view::npos ? "" : text_.substr(pos_ + 1, close - pos_ - 1);
      for (int i = 0; i <= static_cast<int>(AttrType::kTypeProtos); ++i) {
        const auto t = static_cast<AttrType>(i);
        if (word != attr_type_name(t)) continue;
        a.type = t;
        pos_ = close + 1;
        return Status::Ok();
      }
      return error("expected an attribute type in '<…>'");
    }
    static constexpr std::pair<std::string_view, AttrType> kEmptyLists[] = {
        {"ints[]", AttrType::kInts},
        {"floats[]", AttrType::kFloats},
        {"strings[]", AttrType::kStrings},
        {"tensors[]", AttrType::kTensors},
        {"graphs[]", AttrType::kGraphs}};
    for (const auto& [text, type] : kEmptyLists) {
      if (starts_with(text)) {
        pos_ += text.size();
        a.type = type;
        return Status::Ok();
      }
    }
    if (peek() == '[') {
      ++pos_;
      skip_ws();
      if (peek() == ']')
        return error_at(start,
                        "an empty list needs its type: ints[], floats[], strings[], "
                        "tensors[] or graphs[]");
      if (peek() == '"') {
        a.type = AttrType::kStrings;
        do {
          skip_ws();
          KILN_ASSIGN_OR_RETURN(std::string s, parse_string());
          a.strings.push_back(std::move(s));
        } while (accept(","));
      } else if (starts_with("tensor<")) {
        a.type = AttrType::kTensors;
        do {
          skip_ws();
          KILN_ASSIGN_OR_RETURN(Tensor t, parse_tensor_header());
          a.tensors.push_back(std::move(t));
        } while (accept(","));
      } else if (at_keyword("graph")) {
        a.type = AttrType::kGraphs;
        do {
          pa.graphs.push_back(std::make_unique<PGraph>());
          KILN_RETURN_IF_ERROR(parse_graph(*pa.graphs.back(), depth + 1));
          accept(",");
          skip_ws();
        } while (at_keyword("graph"));
      } else {
        std::vector<std::pair<std::string_view, size_t>> tokens;
        bool any_float = false;
        do {
          skip_ws();
          const size_t at = pos_;
          std::string_view t = number_token();
          if (t.empty()) return error("expected a number in the list");
          any_float = any_float || looks_float(t);
          tokens.emplace_back(t, at);
        } while (accept(","));
        a.type = any_float ? AttrType::kFloats : AttrType::kInts;
        for (const auto& [t, at] : tokens) {
          if (any_float) {
            KILN_ASSIGN_OR_RETURN(float f, to_float(t, at));
            a.floats.push_back(f);
          } else {
            KILN_ASSIGN_OR_RETURN(int64_t i, to_int(t, at));
            a.ints.push_back(i);
          }
        }
      }
      return expect("]");
    }
    std::string_view t = number_token();
    if (t.empty()) return error("expected an attribute value");
    if (looks_float(t)) {
      a.type = AttrType::kFloat;
      KILN_ASSIGN_OR_RETURN(a.f, to_float(t, start));
    } else {
      a.type = AttrType::kInt;
      KILN_ASSIGN_OR_RETURN(a.i, to_int(t, start));
    }
    return Status::Ok();
  }

  // ---- building

  Status declare(Value* v, const ValueType& type, size_t pos) {
    if (declared_.insert(v).second) {
      v->type = type;
      return Status::Ok();
    }
    if (!same_type(v->type, type))
      return error_at(pos, "'%", v->name(), "' is declared as ", type.to_string(), " here but as ",
                      v->type.to_string(), " before");
    return Status::Ok();
  }

  Result<std::unique_ptr<Graph>> build(PGraph& pg, Graph* parent) {
    auto g = std::make_unique<Graph>(pg.name, parent);
    for (const Decl& d : pg.inputs) {
      Result<Value*> v = g->add_input(d.name, d.type);
      if (!v.ok()) return error_at(d.pos, "graph input '%", d.name, "' is listed twice");
      declared_.insert(*v);
    }
    for (const Decl& d : pg.inits) {
      Value* v = g->find(d.name);
      if (v == nullptr) {
        KILN_ASSIGN_OR_RETURN(v, g->add_value(d.name));
      } else if (v->is_initializer()) {
        return error_at(d.pos, "initializer '%", d.name, "' is listed twice");
      }
      KILN_RETURN_IF_ERROR(declare(v, d.type, d.pos));
      std::vector<int64_t> shape;
      for (const Dim& dim : d.type.shape.dims()) shape.push_back(dim.is_static() ? dim.value : -1);
      Result<Tensor> t = placeholder_tensor(d.type.dtype, shape);
      if (!t.ok())
        return error_at(d.pos, "cannot make initializer '", d.name, "': ", t.status().message());
      g->set_initializer(v, std::move(t).value());
    }
    // Every definition of this graph exists before any node or subgraph refers to it.
    for (const PNode& n : pg.nodes)
      for (const auto& out : n.outputs)
        if (out && g->find(*out) == nullptr) KILN_RETURN_IF_ERROR(g->add_value(*out).status());
    for (const Decl& d : pg.outputs) {
      Value* v = g->lookup(d.name);
      if (v == nullptr) {
        KILN_ASSIGN_OR_RETURN(v, g->add_value(d.name));
      }
      KILN_RETURN_IF_ERROR(declare(v, d.type, d.pos));
      g->add_output(v);
    }
    for (PNode& n : pg.nodes) {
      std::vector<Value*> inputs, outputs;
      for (const auto& in : n.inputs) {
        Value* v = nullptr;
        if (in) {
          v = g->lookup(*in);
          if (v == nullptr) {
            KILN_ASSIGN_OR_RETURN(v, g->add_value(*in));
          }
        }
        inputs.push_back(v);
      }
      for (const auto& out : n.outputs) outputs.push_back(out ? g->find(*out) : nullptr);
      std::vector<Attribute> attrs;
      for (PAttr& pa : n.attrs) {
        Attribute a = std::move(pa.attr);
        for (auto& sub : pa.graphs) {
          KILN_ASSIGN_OR_RETURN(std::unique_ptr<Graph> sg, build(*sub, g.get()));
          if (a.type == AttrType::kGraph)
            a.g = std::move(sg);
          else
            a.graphs.push_back(std::move(sg));
        }
        attrs.push_back(std::move(a));
      }
      g->add_node(std::move(n.op_type), std::move(n.domain), std::move(n.name), std::move(inputs),
                  std::move(outputs), std::move(attrs), 0, n.index);
    }
    return g;
  }

  std::string_view text_;
  size_t pos_ = 0;
  // Values whose type a header or init line has stated; a second statement must agree.
  std::unordered_set<const Value*> declared_;
};

}  // namespace

Result<std::unique_ptr<Graph>> parse_graph(std::string_view text) {
  return Parser(text).run();
}

}  // namespace kiln::ir
