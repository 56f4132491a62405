#include "ir/attribute.h"

#include <sstream>

#include "ir/graph.h"

namespace kiln::ir {

const char* attr_type_name(AttrType type) {
  switch (type) {
    case AttrType::kUndefined: return "undefined";
    case AttrType::kFloat: return "float";
    case AttrType::kInt: return "int";
    case AttrType::kString: return "string";
    case AttrType::kTensor: return "tensor";
    case AttrType::kGraph: return "graph";
    case AttrType::kFloats: return "floats";
    case AttrType::kInts: return "ints";
    case AttrType::kStrings: return "strings";
    case AttrType::kTensors: return "tensors";
    case AttrType::kGraphs: return "graphs";
    case AttrType::kSparseTensor: return "sparse_tensor";
    case AttrType::kSparseTensors: return "sparse_tensors";
    case AttrType::kTypeProto: return "type_proto";
    case AttrType::kTypeProtos: return "type_protos";
  }
  return "undefined";
}

Attribute::Attribute() = default;
Attribute::Attribute(Attribute&&) noexcept = default;
Attribute& Attribute::operator=(Attribute&&) noexcept = default;
Attribute::~Attribute() = default;

Attribute Attribute::make_int(std::string name, int64_t v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}
Attribute Attribute::make_float(std::string name, float v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloat;
  a.f = v;
  return a;
}
Attribute Attribute::make_string(std::string name, std::string v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kString;
  a.s = std::move(v);
  return a;
}
Attribute Attribute::make_ints(std::string name, std::vector<int64_t> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  return a;
}
Attribute Attribute::make_floats(std::string name, std::vector<float> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloats;
  a.floats = std::move(v);
  return a;
}

namespace {

std::string quoted(const std::string& s) {
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

template <typename T, typename F>
std::string list(const std::vector<T>& v, F fmt) {
  std::string r = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) r += ",";
    r += fmt(v[i]);
  }
  return r + "]";
}

std::string float_str(float f) {
  std::ostringstream os;
  os << f;
  return os.str();
}

std::string tensor_str(const Tensor& t) {
  return str_tensor_header(t);
}

}  // namespace

std::string str_tensor_header(const Tensor& t) {
  return std::string("tensor<") + data_type_name(t.dtype()) + Dims::of(t.shape()).to_string() +
         ">";
}

std::string Attribute::value_string() const {
  switch (type) {
    case AttrType::kFloat: return float_str(f);
    case AttrType::kInt: return std::to_string(i);
    case AttrType::kString: return quoted(s);
    case AttrType::kTensor: return tensor_str(t);
    case AttrType::kGraph: return g ? "<graph " + g->name() + ">" : "<graph>";
    case AttrType::kFloats: return list(floats, float_str);
    case AttrType::kInts: return list(ints, [](int64_t v) { return std::to_string(v); });
    case AttrType::kStrings: return list(strings, quoted);
    case AttrType::kTensors: return list(tensors, tensor_str);
    case AttrType::kGraphs:
      return list(graphs, [](const std::unique_ptr<Graph>& sg) {
        return "<graph " + (sg ? sg->name() : std::string()) + ">";
      });
    default: return std::string("<") + attr_type_name(type) + ">";
  }
}

}  // namespace kiln::ir
