// Tests for the IR text form: the printer (src/ir/printer.h) and its reader (src/ir/parser.h).
// Golden texts must survive print(parse(text)) unchanged; graphs built through the API must
// survive parse(print(g)) with the same print output and the same structure.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "ir/graph.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

constexpr int kInvalidArgument = static_cast<int>(Code::kInvalidArgument);

// ---- helpers

ValueType type_of(DataType dt, Dims dims, ValueKind kind = ValueKind::kTensor) {
  ValueType t;
  t.kind = kind;
  t.dtype = dt;
  t.shape = std::move(dims);
  return t;
}

Value* value(Graph& g, const std::string& name) {
  Result<Value*> v = g.add_value(name);
  EXPECT_TRUE(v.ok()) << v.status().to_string();
  return v.ok() ? *v : nullptr;
}

Value* input(Graph& g, const std::string& name, ValueType t) {
  Result<Value*> v = g.add_input(name, std::move(t));
  EXPECT_TRUE(v.ok()) << v.status().to_string();
  return v.ok() ? *v : nullptr;
}

Tensor tensor(DataType dt, std::vector<int64_t> shape) {
  Result<Tensor> t = Tensor::allocate(dt, std::move(shape));
  EXPECT_TRUE(t.ok());
  return t.ok() ? std::move(t).value() : Tensor();
}

Graph* add_branch(Node* n, const std::string& name) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kGraph;
  a.g = std::make_unique<Graph>(name, n->graph());
  Graph* g = a.g.get();
  n->set_attr(std::move(a));
  return g;
}

std::unique_ptr<Graph> parse_ok(const std::string& text) {
  Result<std::unique_ptr<Graph>> r = parse_graph(text);
  EXPECT_TRUE(r.ok()) << r.status().to_string() << "\n--- text:\n" << text;
  return r.ok() ? std::move(r).value() : nullptr;
}

Status parse_error(const std::string& text) {
  Result<std::unique_ptr<Graph>> r = parse_graph(text);
  EXPECT_FALSE(r.ok()) << "parsed unexpectedly:\n" << text;
  return r.ok() ? Status() : std::move(r).take_status();
}

void expect_golden(const std::string& text) {
  std::unique_ptr<Graph> g = parse_ok(text);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(print(*g), text);
}

// ---- printer basics

TEST(Printer, StraightLineFromApi) {
  Graph g("main");
  Value* x =
      input(g, "x", type_of(DataType::kFloat32, Dims({Dim::symbolic("batch"), Dim::fixed(3)})));
  Result<Value*> w = g.add_initializer("w", tensor(DataType::kFloat32, {3, 3}));
  ASSERT_TRUE(w.ok());
  Value* t = value(g, "t");
  Value* y = value(g, "y");
  y->type = x->type;
  g.add_node("MatMul", "", "mm", {x, *w}, {t}, {}, 17, 0);
  g.add_node("Relu", "", "relu", {t}, {y}, {}, 17, 1);
  g.add_output(y);
  EXPECT_EQ(print(g),
            "graph main (%x: float32[batch,3]) -> (%y: float32[batch,3]) {\n"
            "  init %w: float32[3,3]\n"
            "  %t = MatMul(%x, %w) #0 \"mm\"\n"
            "  %y = Relu(%t) #1 \"relu\"\n"
            "}\n");
}

TEST(Printer, Model) {
  Model m;
  m.ir_version = 8;
  m.opsets[""] = 17;
  m.opsets["com.microsoft"] = 1;
  m.graph = std::make_unique<Graph>("g");
  EXPECT_EQ(print(m),
            "model ir_version=8 opsets={ai.onnx:17, com.microsoft:1}\n"
            "graph g () -> () {\n"
            "}\n");
}

TEST(Printer, FloatAttributesNeverLookLikeInts) {
  Graph g("g");
  Node* n = g.add_node("Op", "", "", {}, {});
  n->set_attr(Attribute::make_float("one", 1.0f));
  n->set_attr(Attribute::make_int("int_one", 1));
  n->set_attr(Attribute::make_floats("fs", {2.0f, 0.5f}));
  n->set_attr(Attribute::make_ints("is", {2, 5}));
  EXPECT_EQ(print(g),
            "graph g () -> () {\n"
            "  Op() {one=1.0, int_one=1, fs=[2.0,0.5], is=[2,5]}\n"
            "}\n");
}

TEST(Printer, EmptyListsAreTyped) {
  Graph g("g");
  Node* n = g.add_node("Op", "", "", {}, {});
  n->set_attr(Attribute::make_ints("a", {}));
  n->set_attr(Attribute::make_floats("b", {}));
  Attribute s;
  s.name = "c";
  s.type = AttrType::kStrings;
  n->set_attr(std::move(s));
  Attribute gs;
  gs.name = "d";
  gs.type = AttrType::kGraphs;
  n->set_attr(std::move(gs));
  EXPECT_EQ(print(g),
            "graph g () -> () {\n"
            "  Op() {a=ints[], b=floats[], c=strings[], d=graphs[]}\n"
            "}\n");
}

TEST(Printer, UnusualNamesAreQuoted) {
  Graph g("my model");
  Value* a = input(g, "input 0",
                   type_of(DataType::kFloat32, Dims({Dim::symbolic("3"), Dim::symbolic("a,b")})));
  Value* b = input(g, "onnx::Conv_12", type_of(DataType::kFloat32, Dims::of({1})));
  Value* c = input(g, "ends:", type_of(DataType::kFloat32, Dims::of({1})));
  g.add_node("my op", "my domain", "say \"hi\"", {a, b, c}, {});
  EXPECT_EQ(
      print(g),
      "graph \"my model\" (%\"input 0\": float32[\"3\",\"a,b\"], %onnx::Conv_12: "
      "float32[1], %\"ends:\": float32[1]) -> () {\n"
      "  \"my domain\"::\"my op\"(%\"input 0\", %onnx::Conv_12, %\"ends:\") \"say \\\"hi\\\"\"\n"
      "}\n");
}

// ---- golden round trips: print(parse(text)) == text

TEST(ParserGolden, StraightLine) {
  expect_golden(
      "graph main (%x: float32[batch,3]) -> (%y: float32[batch,3]) {\n"
      "  init %w: float32[3,3]\n"
      "  %t = MatMul(%x, %w) #0 \"mm\"\n"
      "  %y = Relu(%t) #1 \"relu\"\n"
      "}\n");
}

TEST(ParserGolden, MultiOutputAndOptionalValues) {
  expect_golden(
      "graph split (%x: float32[6,4], %min: float32[]) -> (%a: float32[2,4], %b: float32[4,4]) {\n"
      "  %a, %b = Split(%x) {axis=0, split=[2,4]} #0\n"
      "  %c, _ = com.microsoft::Fused(%a, _, %min) #1\n"
      "  _, %d = Pair(_) #2\n"
      "  Print(%c, %d) \"sink\"\n"
      "}\n");
}

TEST(ParserGolden, AttributesOfEveryKind) {
  expect_golden(
      "graph attrs () -> () {\n"
      "  Op() {i=-3, big=9223372036854775807, f=0.5, one=1.0, e=1e+10, tiny=1e-05, "
      "ninf=-inf, nan=nan, s=\"a \\\"quoted\\\" \\\\ line\\nnext\", empty=\"\", "
      "ints=[1,-2,3], floats=[0.25,-1.0,3.5], strings=[\"x\",\"y, z\",\"\"], "
      "t=tensor<float32[2,3]>, scalar=tensor<int64[]>, ts=[tensor<int8[4]>,tensor<bool[1,1]>], "
      "e1=ints[], e2=floats[], e3=strings[], e4=tensors[], e5=graphs[], "
      "nothing=<graph>, sp=<sparse_tensor>, tp=<type_proto>}\n"
      "}\n");
}

TEST(ParserGolden, NestedIfWithOuterReference) {
  expect_golden(
      "graph main (%c: bool[], %x: float32[2]) -> (%y: float32[2]) {\n"
      "  %t = Relu(%x) #0\n"
      "  %y = If(%c) {else_branch=\n"
      "      graph else_branch () -> (%t: float32[2]) {\n"
      "      }\n"
      "    , then_branch=\n"
      "      graph then_branch () -> (%n: float32[2]) {\n"
      "        %n = Neg(%t) #0\n"
      "      }\n"
      "    } #1 \"if\"\n"
      "}\n");
}

TEST(ParserGolden, LoopBodiesAndDeepNesting) {
  expect_golden(
      "graph main (%n: int64[], %c: bool[], %v: float32[?]) -> (%out: float32[?]) {\n"
      "  %out = Loop(%n, %c, %v) {body=\n"
      "      graph body (%i: int64[], %cond: bool[], %acc: float32[?]) -> (%cond: bool[], %r: "
      "float32[?]) {\n"
      "        %r = If(%cond) {then_branch=\n"
      "            graph inner () -> (%s: float32[?]) {\n"
      "              %s = Add(%acc, %v) #0\n"
      "            }\n"
      "          } #0\n"
      "      }\n"
      "    , branches=[\n"
      "      graph b0 () -> () {\n"
      "      }\n"
      "      graph b1 (%q: seq(float32[?])) -> (%q: seq(float32[?])) {\n"
      "      }\n"
      "    ]} #0\n"
      "}\n");
}

TEST(ParserGolden, TypesOfEveryShape) {
  expect_golden(
      "graph types (%a: ??, %b: ?[2], %c: float16?, %d: ?, %e: optional(int64[]), "
      "%f: map(string[?]), %g: sparse(float32[n,m]), %h: int4[2,\"7\",\"a b\",?]) -> () {\n"
      "}\n");
}

TEST(ParserGolden, QuotedNamesAndOps) {
  expect_golden(
      "graph \"my model\" (%\"input 0\": float32[1], %onnx::Conv_12: float32[1], "
      "%input:0: float32[1]) -> (%\"a,b\": float32[1]) {\n"
      "  %\"a,b\" = \"my op\"(%\"input 0\", %onnx::Conv_12) {\"odd name\"=1} #0 \"q\\\"uote\"\n"
      "  Relu(%input:0)\n"
      "  \"my domain\"::Relu(%/layer1/conv/Conv_output_0)\n"
      "  _Internal(%\"ends:\")\n"
      "  init(%x)\n"
      "}\n");
}

TEST(ParserGolden, UnsortedAndInvalidGraphsRoundTrip) {
  // The parser builds structure only; the verifier judges it.
  const std::string text =
      "graph bad (%x: float32[2]) -> (%y: ??, %never: float32[1]) {\n"
      "  %y = Neg(%a) #0\n"
      "  %a = Relu(%x) #1\n"
      "  %z = Abs(%ghost) #2\n"
      "  %x = Identity(%a) #3\n"
      "}\n";
  expect_golden(text);
  std::unique_ptr<Graph> g = parse_ok(text);
  ASSERT_NE(g, nullptr);
  std::vector<Status> problems;
  verify(*g, problems);
  std::vector<int> codes;
  for (const Status& s : problems) codes.push_back(s.code());
  // #0 reads %a of #1, #1 reads %x which #3 redefines: two order problems.
  EXPECT_EQ(codes,
            (std::vector<int>{
                static_cast<int>(Code::kGraphCycle), static_cast<int>(Code::kGraphCycle),
                static_cast<int>(Code::kUndefinedValue), static_cast<int>(Code::kDuplicateValue),
                static_cast<int>(Code::kGraphOutputUndefined)}));
}

TEST(ParserGolden, FloatsRoundTripExactly) {
  const float values[] = {0.1f,
                          1.0f / 3.0f,
                          -0.0f,
                          1e-45f,
                          std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::lowest(),
                          std::numeric_limits<float>::min(),
                          16777217.0f,
                          std::numeric_limits<float>::infinity()};
  Graph g("g");
  Node* n = g.add_node("Op", "", "", {}, {});
  n->set_attr(
      Attribute::make_floats("fs", std::vector<float>(std::begin(values), std::end(values))));
  for (size_t i = 0; i < std::size(values); ++i)
    n->set_attr(Attribute::make_float("f" + std::to_string(i), values[i]));
  std::unique_ptr<Graph> p = parse_ok(print(g));
  ASSERT_NE(p, nullptr);
  const Node* pn = p->nodes().at(0);
  ASSERT_EQ(pn->attr("fs")->type, AttrType::kFloats);
  ASSERT_EQ(pn->attr("fs")->floats.size(), std::size(values));
  for (size_t i = 0; i < std::size(values); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(std::bit_cast<uint32_t>(pn->attr("fs")->floats[i]),
              std::bit_cast<uint32_t>(values[i]));
    const Attribute* f = pn->attr("f" + std::to_string(i));
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->type, AttrType::kFloat);
    EXPECT_EQ(std::bit_cast<uint32_t>(f->f), std::bit_cast<uint32_t>(values[i]));
  }
}

// ---- parse(print(g)) for graphs built through the API

std::unique_ptr<Graph> api_graph() {
  auto g = std::make_unique<Graph>("main_graph");
  Value* x =
      input(*g, "x", type_of(DataType::kFloat32, Dims({Dim::symbolic("batch"), Dim::fixed(3)})));
  Value* c = input(*g, "cond", type_of(DataType::kBool, Dims::of({})));
  Value* s = input(*g, "names", type_of(DataType::kString, Dims::of({2})));
  Value* w = *g->add_initializer("fc.weight", tensor(DataType::kFloat32, {3, 3}));
  Value* k = *g->add_initializer("k", *Tensor::strings({2}, {"p", "q"}));
  Value* mm = value(*g, "/fc/MatMul_output_0");
  Value* y = value(*g, "y");
  Value* z = value(*g, "z");
  Value* seq = value(*g, "seq");
  y->type = x->type;
  z->type = x->type;
  seq->type = type_of(DataType::kFloat32, Dims::unknown_rank(), ValueKind::kSequence);

  std::vector<Attribute> attrs;
  attrs.push_back(Attribute::make_int("transA", 0));
  attrs.push_back(Attribute::make_float("alpha", 0.75f));
  attrs.push_back(Attribute::make_string("mode", "tab\tand \"quote\"\n"));
  attrs.push_back(Attribute::make_ints("perm", {0, 2, 1}));
  attrs.push_back(Attribute::make_floats("scales", {1.0f, 2.5f}));
  Attribute strs;
  strs.name = "labels";
  strs.type = AttrType::kStrings;
  strs.strings = {"a", "b,c", "é"};
  attrs.push_back(std::move(strs));
  Attribute t;
  t.name = "value";
  t.type = AttrType::kTensor;
  t.t = tensor(DataType::kInt64, {4});
  attrs.push_back(std::move(t));
  Attribute ts;
  ts.name = "tensors";
  ts.type = AttrType::kTensors;
  ts.tensors.push_back(tensor(DataType::kUInt8, {2, 2}));
  attrs.push_back(std::move(ts));
  g->add_node("Gemm", "", "fc/Gemm", {x, w, nullptr}, {mm}, std::move(attrs), 17, 0);
  g->add_node("com.microsoft", "ai.onnx.contrib", "", {s, k}, {seq, nullptr}, {}, 1, 1);

  Node* if_node = g->add_node("If", "", "if", {c}, {y, z}, {}, 17, 2);
  Graph* then_g = add_branch(if_node, "then_branch");
  Value* r = value(*then_g, "r");
  r->type = x->type;
  then_g->add_node("Relu", "", "", {mm}, {r}, {}, 17, 0);  // outer-scope read
  then_g->add_output(r);
  then_g->add_output(mm);  // outer value returned directly
  Graph* else_g = add_branch(if_node, "else_branch");
  Value* e = value(*else_g, "r");  // same name as the sibling's value: separate scopes
  e->type = x->type;
  Node* inner_if = else_g->add_node("If", "", "nested", {c}, {e}, {}, 17, 0);
  Graph* deep = add_branch(inner_if, "then_branch");
  Value* d = value(*deep, "d");
  d->type = x->type;
  deep->add_node("Neg", "", "", {x}, {d}, {}, 17, 0);  // reads two levels up
  deep->add_output(d);
  else_g->add_output(e);
  else_g->add_output(x);
  g->add_output(y);
  g->add_output(z);
  g->add_output(seq);
  return g;
}

TEST(ParserApi, PrintParsePrintIsStable) {
  std::unique_ptr<Graph> g = api_graph();
  ASSERT_TRUE(verify(*g).ok()) << verify(*g).to_string();
  const std::string text = print(*g);
  std::unique_ptr<Graph> p = parse_ok(text);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(print(*p), text);
  EXPECT_TRUE(verify(*p).ok()) << verify(*p).to_string();
  EXPECT_EQ(p->total_nodes(), g->total_nodes());
}

TEST(ParserApi, StructureIsRebuilt) {
  std::unique_ptr<Graph> p = parse_ok(print(*api_graph()));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->name(), "main_graph");
  ASSERT_EQ(p->inputs().size(), 3u);
  ASSERT_EQ(p->outputs().size(), 3u);
  ASSERT_EQ(p->num_nodes(), 3u);
  const std::vector<Node*> nodes = p->nodes();

  // Wiring.
  Value* mm = p->find("/fc/MatMul_output_0");
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->producer(), nodes[0]);
  EXPECT_EQ(nodes[0]->input(1), p->find("fc.weight"));
  EXPECT_EQ(nodes[0]->input(2), nullptr);
  EXPECT_EQ(nodes[0]->inputs().size(), 3u);
  EXPECT_EQ(nodes[0]->name(), "fc/Gemm");
  EXPECT_EQ(nodes[0]->index(), 0);
  EXPECT_EQ(nodes[1]->domain(), "ai.onnx.contrib");
  EXPECT_EQ(nodes[1]->op_type(), "com.microsoft");
  EXPECT_EQ(nodes[1]->output(1), nullptr);
  EXPECT_EQ(p->find("seq")->type.kind, ValueKind::kSequence);

  // Attributes.
  const Node* gemm = nodes[0];
  EXPECT_EQ(gemm->attr("transA")->type, AttrType::kInt);
  EXPECT_EQ(gemm->attr("alpha")->f, 0.75f);
  EXPECT_EQ(gemm->attr("mode")->s, "tab\tand \"quote\"\n");
  EXPECT_EQ(gemm->attr("perm")->ints, (std::vector<int64_t>{0, 2, 1}));
  EXPECT_EQ(gemm->attr("scales")->floats, (std::vector<float>{1.0f, 2.5f}));
  EXPECT_EQ(gemm->attr("labels")->strings, (std::vector<std::string>{"a", "b,c", "é"}));
  const Tensor& tv = gemm->attr("value")->t;
  EXPECT_EQ(tv.dtype(), DataType::kInt64);
  EXPECT_EQ(tv.shape(), (std::vector<int64_t>{4}));
  ASSERT_NE(tv.data(), nullptr);  // small tensors come back zero-filled
  EXPECT_EQ(tv.data_as<int64_t>()[3], 0);
  ASSERT_EQ(gemm->attr("tensors")->tensors.size(), 1u);
  EXPECT_EQ(gemm->attr("tensors")->tensors[0].dtype(), DataType::kUInt8);

  // Initializers.
  const Tensor* w = p->find("fc.weight")->initializer();
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype(), DataType::kFloat32);
  EXPECT_EQ(w->shape(), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(w->nbytes(), 36u);
  const Tensor* k = p->find("k")->initializer();
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->dtype(), DataType::kString);
  EXPECT_EQ(k->string_data(), std::vector<std::string>(2));  // data is not in the text

  // Scopes: subgraph reads resolve to the outer Value objects.
  const std::vector<Graph*> branches = nodes[2]->subgraphs();
  ASSERT_EQ(branches.size(), 2u);
  Graph* then_g = branches[0];
  EXPECT_EQ(then_g->parent(), p.get());
  EXPECT_EQ(then_g->nodes().at(0)->input(0), mm);
  EXPECT_EQ(then_g->outputs().at(1), mm);
  EXPECT_EQ(then_g->find("/fc/MatMul_output_0"), nullptr);  // not copied into the branch
  Graph* else_g = branches[1];
  EXPECT_NE(else_g->find("r"), then_g->find("r"));
  Graph* deep = else_g->nodes().at(0)->subgraphs().at(0);
  EXPECT_EQ(deep->parent(), else_g);
  EXPECT_EQ(deep->path(), "main_graph/else_branch/then_branch");
  EXPECT_EQ(deep->nodes().at(0)->input(0), p->find("x"));
  EXPECT_EQ(p->find("x")->consumers().size(), 2u);  // Gemm and the deep Neg
}

TEST(ParserApi, UnsortedCaptureCanBeSortedAfterParsing) {
  const std::string text =
      "graph main (%c: bool[], %x: float32[2]) -> (%y: float32[2]) {\n"
      "  %y = If(%c) {then_branch=\n"
      "      graph then_branch () -> (%n: float32[2]) {\n"
      "        %n = Neg(%v) #0\n"
      "      }\n"
      "    } #0 \"if\"\n"
      "  %v = Relu(%x) #1 \"producer\"\n"
      "}\n";
  std::unique_ptr<Graph> g = parse_ok(text);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(print(*g), text);
  // %v inside the branch is the outer value, defined later in the text.
  Value* v = g->find("v");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(g->nodes()[0]->subgraphs()[0]->nodes()[0]->input(0), v);
  ASSERT_TRUE(g->sort_topologically().ok());
  EXPECT_EQ(g->nodes()[0]->name(), "producer");
  EXPECT_EQ(g->nodes()[1]->name(), "if");
}

TEST(ParserApi, ColonDirectlyAfterPlainNameBelongsToTheName) {
  // "x:float32" is a legal value name, so a declaration needs the space the printer writes.
  Status s = parse_error("graph g (%x:float32[2]) -> () {\n}\n");
  EXPECT_NE(s.message().find("line 1, column 20: expected ':'"), std::string::npos) << s.message();
}

TEST(ParserApi, WhitespaceIsInsignificant) {
  std::unique_ptr<Graph> g = parse_ok(
      "  graph   main(%x: float32[2])->(%y: float32[2]){%y=Relu(%x)#0\"r\"  Print(%y)}  \n\n");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(print(*g),
            "graph main (%x: float32[2]) -> (%y: float32[2]) {\n"
            "  %y = Relu(%x) #0 \"r\"\n"
            "  Print(%y)\n"
            "}\n");
}

TEST(ParserApi, QuotedOpAfterUnnamedNodeIsNotItsName) {
  std::unique_ptr<Graph> g = parse_ok(
      "graph g (%x: float32[1]) -> () {\n"
      "  Relu(%x) #0\n"
      "  \"my op\"(%x)\n"
      "  \"d\"::\"e\"(%x) \"named\"\n"
      "}\n");
  ASSERT_NE(g, nullptr);
  ASSERT_EQ(g->num_nodes(), 3u);
  EXPECT_EQ(g->nodes()[0]->name(), "");
  EXPECT_EQ(g->nodes()[1]->op_type(), "my op");
  EXPECT_EQ(g->nodes()[2]->domain(), "d");
  EXPECT_EQ(g->nodes()[2]->name(), "named");
}

TEST(ParserApi, HugeAndUnknownTensorsAreHeaderOnly) {
  std::unique_ptr<Graph> g = parse_ok(
      "graph g () -> () {\n"
      "  init %huge: float32[100000,100000,100000]\n"
      "  init %dyn: float32[n,3]\n"
      "  init %small: int4[3]\n"
      "  Op() {t=tensor<float64[1000000000]>, u=tensor<float32[?,2]>, z=tensor<undefined[]>}\n"
      "}\n");
  ASSERT_NE(g, nullptr);
  const Tensor* huge = g->find("huge")->initializer();
  ASSERT_NE(huge, nullptr);
  EXPECT_EQ(huge->data(), nullptr);
  EXPECT_EQ(huge->shape(), (std::vector<int64_t>{100000, 100000, 100000}));
  EXPECT_EQ(huge->dtype(), DataType::kFloat32);
  const Tensor* dyn = g->find("dyn")->initializer();
  EXPECT_EQ(dyn->data(), nullptr);
  EXPECT_EQ(g->find("dyn")->type.to_string(), "float32[n,3]");
  const Tensor* small = g->find("small")->initializer();
  ASSERT_NE(small->data(), nullptr);
  EXPECT_EQ(small->nbytes(), 2u);
  const Node* n = g->nodes()[0];
  EXPECT_EQ(n->attr("t")->t.data(), nullptr);
  EXPECT_EQ(n->attr("t")->t.shape(), (std::vector<int64_t>{1000000000}));
  EXPECT_EQ(n->attr("u")->t.data(), nullptr);
  EXPECT_TRUE(n->attr("z")->t.empty());
}

// ---- errors: InvalidArgument naming line and column

void expect_error(const std::string& text, const std::string& where, const std::string& what) {
  Status s = parse_error(text);
  EXPECT_EQ(s.code(), kInvalidArgument) << s.to_string();
  EXPECT_NE(s.message().find(where), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
}

TEST(ParserErrors, MissingParenthesis) {
  expect_error("graph main (%x: float32[2]) -> () {\n  %y = Relu(%x\n}\n", "line 3, column 1",
               "expected ')', found '}'");
}

TEST(ParserErrors, UnknownElementType) {
  expect_error("graph main (%x: float33[2]) -> () {\n}\n", "line 1, column 17",
               "unknown element type 'float33'");
}

TEST(ParserErrors, EmptyTextAndWrongStart) {
  expect_error("", "line 1, column 1", "expected 'graph', found end of text");
  expect_error("model ir_version=8", "line 1, column 1", "expected 'graph'");
}

TEST(ParserErrors, TrailingText) {
  expect_error("graph g () -> () {\n}\ngraph h () -> () {\n}\n", "line 3, column 1",
               "expected end of text");
}

TEST(ParserErrors, UnterminatedGraphAndString) {
  expect_error("graph g () -> () {\n  Relu()\n", "line 3, column 1",
               "expected '}' closing graph 'g'");
  expect_error("graph g () -> () {\n  Op() {s=\"abc}\n}\n", "line 2, column 11",
               "string is not terminated");
}

TEST(ParserErrors, BadEscape) {
  expect_error("graph g () -> () {\n  Op() {s=\"a\\qb\"}\n}\n", "line 2, column 13",
               "unknown escape '\\q'");
}

TEST(ParserErrors, BadNumbers) {
  expect_error("graph g () -> () {\n  Op() {i=99999999999999999999}\n}\n", "line 2, column 11",
               "'99999999999999999999' is not an int64 value");
  expect_error("graph g () -> () {\n  Op() {f=1e99}\n}\n", "line 2, column 11",
               "'1e99' is not a float value");
  expect_error("graph g () -> () {\n  Op() {i=12abc}\n}\n", "line 2, column 11", "'12abc'");
  expect_error("graph g (%x: float32[99999999999999999999]) -> () {\n}\n", "line 1, column 22",
               "is not an int64 value");
}

TEST(ParserErrors, UntypedEmptyList) {
  expect_error("graph g () -> () {\n  Op() {a=[]}\n}\n", "line 2, column 11",
               "an empty list needs its type");
}

TEST(ParserErrors, UnknownPlaceholderAttribute) {
  expect_error("graph g () -> () {\n  Op() {a=<blob>}\n}\n", "line 2, column 11",
               "expected an attribute type");
}

TEST(ParserErrors, DuplicateInputAndInitializer) {
  expect_error("graph g (%x: float32[1], %x: float32[1]) -> () {\n}\n", "line 1, column 26",
               "graph input '%x' is listed twice");
  expect_error("graph g () -> () {\n  init %w: float32[1]\n  init %w: float32[1]\n}\n",
               "line 3, column 8", "initializer '%w' is listed twice");
}

TEST(ParserErrors, ConflictingDeclarations) {
  expect_error("graph g (%x: float32[1]) -> (%x: float32[2]) {\n}\n", "line 1, column 30",
               "'%x' is declared as float32[2] here but as float32[1] before");
}

TEST(ParserErrors, MissingValueName) {
  expect_error("graph g () -> () {\n  Op(%)\n}\n", "line 2, column 7",
               "expected a value name after '%'");
}

TEST(ParserErrors, DeepNestingIsRefusedNotCrashing) {
  std::string text;
  const int depth = 200;
  for (int i = 0; i < depth; ++i) text += "graph g () -> () {\n If() {b=\n";
  for (int i = 0; i < depth; ++i) text += "}}\n";
  Status s = parse_error(text);
  EXPECT_EQ(s.code(), kInvalidArgument);
  EXPECT_NE(s.message().find("nested at most 64 deep"), std::string::npos) << s.message();
}

TEST(ParserErrors, TruncatedTextNeverCrashes) {
  // Every prefix of a valid text either parses or fails with InvalidArgument.
  const std::string text = print(*api_graph());
  for (size_t n = 0; n < text.size(); ++n) {
    Result<std::unique_ptr<Graph>> r = parse_graph(std::string_view(text).substr(0, n));
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), kInvalidArgument) << n;
    }
  }
}

}  // namespace
}  // namespace kiln::ir
