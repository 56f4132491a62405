#include "ir/printer.h"

namespace kiln::ir {
namespace {

std::string value_ref(const Value* v) { return v ? "%" + v->name() : "_"; }

std::string typed(const Value* v) { return value_ref(v) + ": " + v->type.to_string(); }

void print_graph(const Graph& g, int indent, std::string& out);

void print_node(const Node& n, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  out += pad;
  for (size_t i = 0; i < n.outputs().size(); ++i) out += (i ? ", " : "") + value_ref(n.outputs()[i]);
  if (!n.outputs().empty()) out += " = ";
  if (!n.domain().empty()) out += n.domain() + "::";
  out += n.op_type() + "(";
  for (size_t i = 0; i < n.inputs().size(); ++i) out += (i ? ", " : "") + value_ref(n.inputs()[i]);
  out += ")";
  if (!n.attributes().empty()) {
    out += " {";
    bool first = true;
    for (const Attribute& a : n.attributes()) {
      out += (first ? "" : ", ") + a.name + "=";
      first = false;
      if (a.type == AttrType::kGraph && a.g) {
        out += "\n";
        print_graph(*a.g, indent + 4, out);
        out += pad + "  ";
      } else if (a.type == AttrType::kGraphs) {
        out += "[\n";
        for (const auto& sg : a.graphs)
          if (sg) print_graph(*sg, indent + 4, out);
        out += pad + "  ]";
      } else {
        out += a.value_string();
      }
    }
    out += "}";
  }
  if (n.index() >= 0) out += " #" + std::to_string(n.index());
  if (!n.name().empty()) out += " \"" + n.name() + "\"";
  out += "\n";
}

void print_graph(const Graph& g, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  out += pad + "graph " + g.name() + " (";
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
