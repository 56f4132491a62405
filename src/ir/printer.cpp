#include "ir/printer.h"

#include <algorithm>
#include <charconv>

namespace kiln::ir {
namespace {

// The text must parse back (src/ir/parser.h), so anything the grammar could misread is quoted
// or tagged. Ordinary names, floats with a fractional part and non-empty lists print exactly as
// before; only the exotic cases pay for the extra syntax.

// Characters a name may hold unquoted. ':' is allowed because exporters use it everywhere
// ("onnx::Conv_12", "input:0"), but not as the last character, where it would run into the
// ": type" that follows a name in graph headers.
bool plain_name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '/' || c == '-' || c == '+' || c == '@' || c == '$' || c == ':' ||
         c >= 0x80;
}

// Op types and domains sit next to "::" and "(", so they get the stricter identifier set.
bool op_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

std::string quote(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    if (c == '\n') {
      r += "\\n";
      continue;
    }
    r += c;
  }
  return r + "\"";
}

std::string name_text(const std::string& s) {
  bool plain = !s.empty() && s.back() != ':';
  for (unsigned char c : s) plain = plain && plain_name_char(c);
  return plain ? s : quote(s);
}

std::string op_text(const std::string& s) {
  bool plain = !s.empty();
  for (unsigned char c : s) plain = plain && op_char(c);
  return plain ? s : quote(s);
}

// A symbol that looks like a number or "?", or holds shape punctuation, would read back as
// something else.
std::string symbol_text(const std::string& s) {
  bool digits = true;
  bool plain = !s.empty() && s != "?";
  for (unsigned char c : s) {
    digits = digits && c >= '0' && c <= '9';
    plain =
        plain && c > 0x20 && c != 0x7f && c != ',' && c != '[' && c != ']' && c != '"' && c != '\\';
  }
  return plain && !digits ? s : quote(s);
}

std::string dims_text(const Dims& d) {
  if (!d.rank_known()) return "?";
  std::string s = "[";
  for (size_t i = 0; i < d.rank(); ++i) {
    if (i) s += ",";
    const Dim& dim = d[i];
    s += dim.is_symbolic() ? symbol_text(dim.symbol) : dim.to_string();
  }
  return s + "]";
}

// Same rendering as ValueType::to_string except for symbol quoting.
std::string type_text(const ValueType& t) {
  if (t.kind == ValueKind::kUnknown) return "?";
  std::string s = t.known() ? std::string(data_type_name(t.dtype)) : "?";
  s += dims_text(t.shape);
  if (t.kind == ValueKind::kTensor) return s;
  return std::string(value_kind_name(t.kind)) + "(" + s + ")";
}

// Shortest text that reads back to the same float, always with a '.', exponent, "inf" or
// "nan" so that a float attribute never looks like an int one ("1.0", not "1").
std::string float_text(float f) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  std::string s = ec == std::errc() ? std::string(buf, end) : std::string("nan");
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

template <typename T, typename F>
std::string list_text(const char* type_name, const std::vector<T>& v, F fmt) {
  // "[]" alone would not say which list type it is.
  if (v.empty()) return std::string(type_name) + "[]";
  std::string r = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) r += ",";
    r += fmt(v[i]);
  }
  return r + "]";
}

std::string attr_text(const Attribute& a) {
  switch (a.type) {
    case AttrType::kFloat:
      return float_text(a.f);
    case AttrType::kFloats:
      return list_text("floats", a.floats, float_text);
    case AttrType::kInts:
      return list_text("ints", a.ints, [](int64_t v) { return std::to_string(v); });
    case AttrType::kStrings:
      return list_text("strings", a.strings, quote);
    case AttrType::kTensors:
      return list_text("tensors", a.tensors, str_tensor_header);
    // Reached only when no graph is left to print inline.
    case AttrType::kGraphs:
      return "graphs[]";
    default:
      return a.value_string();
  }
}

std::string value_ref(const Value* v) {
  return v ? "%" + name_text(v->name()) : "_";
}

std::string typed(const Value* v) {
  return value_ref(v) + ": " + type_text(v->type);
}

void print_graph(const Graph& g, int indent, std::string& out);

void print_node(const Node& n, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  out += pad;
  for (size_t i = 0; i < n.outputs().size(); ++i)
    out += (i ? ", " : "") + value_ref(n.outputs()[i]);
  if (!n.outputs().empty()) out += " = ";
  if (!n.domain().empty()) out += op_text(n.domain()) + "::";
  out += op_text(n.op_type()) + "(";
  for (size_t i = 0; i < n.inputs().size(); ++i) out += (i ? ", " : "") + value_ref(n.inputs()[i]);
  out += ")";
  if (!n.attributes().empty()) {
    out += " {";
    bool first = true;
    for (const Attribute& a : n.attributes()) {
      out += (first ? "" : ", ") + name_text(a.name) + "=";
      first = false;
      if (a.type == AttrType::kGraph && a.g) {
        out += "\n";
        print_graph(*a.g, indent + 4, out);
        out += pad + "  ";
      } else if (a.type == AttrType::kGraphs &&
                 std::any_of(a.graphs.begin(), a.graphs.end(),
                             [](const auto& sg) { return sg != nullptr; })) {
        out += "[\n";
        for (const auto& sg : a.graphs)
          if (sg) print_graph(*sg, indent + 4, out);
        out += pad + "  ]";
      } else {
        out += attr_text(a);
      }
    }
    out += "}";
  }
  if (n.index() >= 0) out += " #" + std::to_string(n.index());
  if (!n.name().empty()) out += " " + quote(n.name());
  out += "\n";
}

void print_graph(const Graph& g, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  out += pad + "graph " + name_text(g.name()) + " (";
  bool first = true;
  for (const Value* v : g.inputs()) {
    out += (first ? "" : ", ") + typed(v);
    first = false;
  }
  out += ") -> (";
  first = true;
  for (const Value* v : g.outputs()) {
    out += (first ? "" : ", ") + typed(v);
    first = false;
  }
  out += ") {\n";
  for (const Value* v : g.initializers()) out += pad + "  init " + typed(v) + "\n";
  for (const Node* n : g.nodes()) print_node(*n, indent + 2, out);
  out += pad + "}\n";
}

}  // namespace

std::string print(const Graph& graph) {
  std::string out;
  print_graph(graph, 0, out);
  return out;
}

std::string print(const Model& model) {
  std::string out = "model ir_version=" + std::to_string(model.ir_version) + " opsets={";
  bool first = true;
  for (const auto& [domain, version] : model.opsets) {
    out += (first ? "" : ", ") + (domain.empty() ? std::string("ai.onnx") : domain) + ":" +
           std::to_string(version);
    first = false;
  }
  out += "}\n";
  if (model.graph) out += print(*model.graph);
  return out;
}

}  // namespace kiln::ir
