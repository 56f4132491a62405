// Tests for ir::verify (src/ir/verifier.h): one graph per listed violation, a clean graph, and
// violations inside subgraphs.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "ir/graph.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

constexpr int kUndefinedValue = static_cast<int>(Code::kUndefinedValue);
constexpr int kGraphCycle = static_cast<int>(Code::kGraphCycle);
constexpr int kDuplicateValue = static_cast<int>(Code::kDuplicateValue);
constexpr int kGraphOutputUndefined = static_cast<int>(Code::kGraphOutputUndefined);
constexpr int kTypeMismatch = static_cast<int>(Code::kTypeMismatch);

ValueType f32(std::vector<int64_t> shape) {
  ValueType t;
  t.dtype = DataType::kFloat32;
  t.shape = Dims::of(shape);
  return t;
}

Value* value(Graph& g, const std::string& name) {
  Result<Value*> v = g.add_value(name);
  EXPECT_TRUE(v.ok()) << v.status().to_string();
  return v.ok() ? *v : nullptr;
}

Value* input(Graph& g, const std::string& name) {
  Result<Value*> v = g.add_input(name, f32({2}));
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

std::vector<Status> problems_of(const Graph& g) {
  std::vector<Status> problems;
  verify(g, problems);
  return problems;
}

std::vector<int> codes(const std::vector<Status>& problems) {
  std::vector<int> c;
  for (const Status& s : problems) c.push_back(s.code());
  return c;
}

std::string dump(const std::vector<Status>& problems) {
  std::string s;
  for (const Status& p : problems) s += p.to_string() + "\n";
  return s;
}

// x -> Relu -> t -> Add(t, w) -> y, with an If whose branch reads the outer %t.
std::unique_ptr<Graph> clean_graph() {
  auto g = std::make_unique<Graph>("main");
  Value* x = input(*g, "x");
  Value* c = *g->add_input("c", ValueType{ValueKind::kTensor, DataType::kBool, Dims::of({})});
  Value* w = *g->add_initializer("w", tensor(DataType::kFloat32, {2}));
  Value* t = value(*g, "t");
  Value* y = value(*g, "y");
  Value* z = value(*g, "z");
  g->add_node("Relu", "", "relu", {x}, {t}, {}, 13, 0);
  g->add_node("Add", "", "add", {t, w}, {y}, {}, 13, 1);
  Node* if_node = g->add_node("If", "", "if", {c}, {z}, {}, 13, 2);
  Graph* then_g = add_branch(if_node, "then_branch");
  Value* r = value(*then_g, "r");
  then_g->add_node("Neg", "", "neg", {t}, {r});
  then_g->add_output(r);
  Graph* else_g = add_branch(if_node, "else_branch");
  else_g->add_output(t);  // a branch may return an outer value directly
  g->add_output(y);
  g->add_output(z);
  return g;
}

TEST(Verifier, CleanGraphHasNoProblems) {
  auto g = clean_graph();
  std::vector<Status> problems = problems_of(*g);
  EXPECT_TRUE(problems.empty()) << dump(problems);
  EXPECT_TRUE(verify(*g).ok());
}

TEST(Verifier, CleanGraphWithOptionalInputsAndOutputs) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* y = value(g, "y");
  g.add_node("Clip", "", "clip", {x, nullptr, nullptr}, {y, nullptr});
  g.add_output(y);
  EXPECT_TRUE(problems_of(g).empty()) << dump(problems_of(g));
}

TEST(Verifier, UndefinedInput) {
  Graph g("main");
  Value* ghost = value(g, "ghost");  // no producer, not an input or initializer
  Value* y = value(g, "y");
  g.add_node("Relu", "", "relu", {ghost}, {y}, {}, 13, 5);
  g.add_output(y);
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kUndefinedValue})) << dump(p);
  EXPECT_NE(p[0].message().find("'ghost'"), std::string::npos) << p[0].message();
  ASSERT_NE(p[0].node(), nullptr);
  EXPECT_EQ(p[0].node()->name, "relu");
  EXPECT_EQ(p[0].node()->index, 5);
}

TEST(Verifier, InputFromAnotherGraphIsNotInScope) {
  // A value of a sibling branch is defined, but not visible from here.
  Graph g("main");
  Value* c = input(g, "c");
  Node* if_node = g.add_node("If", "", "if", {c}, {});
  Graph* then_g = add_branch(if_node, "then_branch");
  Graph* else_g = add_branch(if_node, "else_branch");
  Value* private_value = *then_g->add_input("p", f32({2}));
  Value* out = value(*else_g, "out");
  else_g->add_node("Neg", "", "reads_sibling", {private_value}, {out});
  else_g->add_output(out);
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kUndefinedValue})) << dump(p);
  EXPECT_NE(p[0].message().find("'p'"), std::string::npos);
  EXPECT_EQ(p[0].node()->graph, "main/else_branch");
}

TEST(Verifier, UnsortedGraphIsGraphCycle) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* a = value(g, "a");
  Value* b = value(g, "b");
  g.add_node("Neg", "", "consumer", {a}, {b}, {}, 0, 0);
  g.add_node("Relu", "", "producer", {x}, {a}, {}, 0, 1);
  g.add_output(b);
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kGraphCycle})) << dump(p);
  EXPECT_NE(p[0].message().find("node #1 'producer'"), std::string::npos) << p[0].message();
  EXPECT_EQ(p[0].node()->name, "consumer");
  ASSERT_TRUE(g.sort_topologically().ok());
  EXPECT_TRUE(problems_of(g).empty());
}

TEST(Verifier, RealCycleIsGraphCycle) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* a = value(g, "a");
  Value* b = value(g, "b");
  g.add_node("Add", "", "p", {x, b}, {a});
  g.add_node("Neg", "", "q", {a}, {b});
  g.add_output(b);
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kGraphCycle})) << dump(p);
  EXPECT_NE(p[0].message().find("'b'"), std::string::npos);
}

TEST(Verifier, SelfLoopIsGraphCycle) {
  Graph g("main");
  Value* a = value(g, "a");
  g.add_node("Identity", "", "self", {a}, {a});
  g.add_output(a);
  EXPECT_EQ(codes(problems_of(g)), (std::vector<int>{kGraphCycle})) << dump(problems_of(g));
}

// Disabled: product gap (see report). sort_topologically() treats a value captured by a subgraph
// as a dependency of the node owning the subgraph, but verify() only checks the order of direct
// inputs, so an If placed before the producer of a value its branch reads passes verification.
TEST(Verifier, CaptureOfLaterOuterValueIsGraphCycle) {
  Graph g("main");
  Value* c = input(g, "c");
  Value* x = input(g, "x");
  Value* v = value(g, "v");
  Node* if_node = g.add_node("If", "", "if", {c}, {});
  Graph* then_g = add_branch(if_node, "then_branch");
  Value* t = value(*then_g, "t");
  then_g->add_node("Neg", "", "inner", {v}, {t});
  then_g->add_output(t);
  g.add_node("Relu", "", "producer", {x}, {v});
  EXPECT_EQ(codes(problems_of(g)), (std::vector<int>{kGraphCycle})) << dump(problems_of(g));
}

TEST(Verifier, OutputTwiceInOneNode) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* a = value(g, "a");
  g.add_node("Split", "", "split", {x}, {a, a});
  g.add_output(a);
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kDuplicateValue})) << dump(p);
  EXPECT_NE(p[0].message().find("'a'"), std::string::npos);
}

TEST(Verifier, OutputIsGraphInput) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* y = input(g, "y");
  g.add_node("Relu", "", "overwrites_input", {x}, {y});
  g.add_output(y);
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kDuplicateValue})) << dump(p);
  EXPECT_NE(p[0].message().find("'y'"), std::string::npos);
  EXPECT_EQ(p[0].node()->name, "overwrites_input");
}

TEST(Verifier, OutputIsInitializer) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* w = *g.add_initializer("w", tensor(DataType::kFloat32, {2}));
  g.add_node("Relu", "", "overwrites_weight", {x}, {w});
  g.add_output(w);
  EXPECT_EQ(codes(problems_of(g)), (std::vector<int>{kDuplicateValue})) << dump(problems_of(g));
}

TEST(Verifier, TwoNodesProduceOneValue) {
  Graph g("main");
  Value* x = input(g, "x");
  Value* a = value(g, "a");
  g.add_node("Relu", "", "first", {x}, {a});
  g.add_node("Neg", "", "second", {x}, {a});  // takes over as producer
  g.add_output(a);
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kDuplicateValue})) << dump(p);
  EXPECT_EQ(p[0].node()->name, "first");
}

TEST(Verifier, SubgraphDefinesOuterValue) {
  Graph g("main");
  Value* c = input(g, "c");
  Value* outer = value(g, "outer");
  Node* if_node = g.add_node("If", "", "if", {c}, {});
  Graph* then_g = add_branch(if_node, "then_branch");
  then_g->add_node("Relu", "", "writes_outer", {c}, {outer});
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kDuplicateValue})) << dump(p);
  EXPECT_NE(p[0].message().find("enclosing graph"), std::string::npos) << p[0].message();
  EXPECT_EQ(p[0].node()->graph, "main/then_branch");
}

TEST(Verifier, GraphOutputUndefined) {
  Graph g("main");
  Value* x = input(g, "x");
  g.add_output(x);
  Value* missing = value(g, "missing");
  g.add_output(missing);
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kGraphOutputUndefined})) << dump(p);
  EXPECT_NE(p[0].message().find("'missing'"), std::string::npos);
  EXPECT_NE(p[0].message().find("'main'"), std::string::npos);
}

TEST(Verifier, InitializerDtypeMismatch) {
  Graph g("main");
  Value* x = *g.add_input("x", f32({2}));
  g.set_initializer(x, tensor(DataType::kInt64, {2}));
  g.add_output(x);
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kTypeMismatch})) << dump(p);
  EXPECT_NE(p[0].message().find("float32"), std::string::npos) << p[0].message();
  EXPECT_NE(p[0].message().find("int64"), std::string::npos) << p[0].message();
}

TEST(Verifier, InitializerShapeMismatch) {
  Graph g("main");
  Value* x = *g.add_input("x", f32({2, 3}));
  g.set_initializer(x, tensor(DataType::kFloat32, {3, 2}));
  g.add_output(x);
  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kTypeMismatch})) << dump(p);
  EXPECT_NE(p[0].message().find("[2,3]"), std::string::npos) << p[0].message();
  EXPECT_NE(p[0].message().find("[3,2]"), std::string::npos) << p[0].message();
}

TEST(Verifier, InitializerWithSymbolicDeclarationIsAccepted) {
  Graph g("main");
  Value* x = *g.add_input("x", ValueType{ValueKind::kTensor, DataType::kFloat32,
                                         Dims({Dim::symbolic("n"), Dim::fixed(2)})});
  g.set_initializer(x, tensor(DataType::kFloat32, {5, 2}));
  g.add_output(x);
  EXPECT_TRUE(problems_of(g).empty()) << dump(problems_of(g));
}

TEST(Verifier, ProblemsInsideSubgraphs) {
  Graph g("main");
  Value* c = input(g, "c");
  Node* if_node = g.add_node("If", "", "if", {c}, {});
  Graph* then_g = add_branch(if_node, "then_branch");
  Value* ghost = value(*then_g, "ghost");
  Value* a = value(*then_g, "a");
  Value* b = value(*then_g, "b");
  then_g->add_node("Neg", "", "reads_ghost", {ghost}, {a});
  Graph* else_g = add_branch(if_node, "else_branch");
  Value* m = value(*else_g, "m");
  else_g->add_output(m);  // never produced
  // Order problem two levels down.
  Node* loop = then_g->add_node("Loop", "", "loop", {}, {b});
  Graph* body = add_branch(loop, "body");
  Value* p1 = value(*body, "p1");
  Value* p2 = value(*body, "p2");
  body->add_node("Neg", "", "too_early", {p1}, {p2});
  body->add_node("Relu", "", "late", {c}, {p1});

  std::vector<Status> p = problems_of(g);
  ASSERT_EQ(codes(p), (std::vector<int>{kUndefinedValue, kGraphCycle, kGraphOutputUndefined}))
      << dump(p);
  EXPECT_EQ(p[0].node()->graph, "main/then_branch");
  EXPECT_EQ(p[1].node()->graph, "main/then_branch/body");
  EXPECT_NE(p[2].message().find("'main/else_branch'"), std::string::npos) << p[2].message();
  // The convenience overload returns the first one.
  EXPECT_EQ(verify(g).code(), kUndefinedValue);
}

TEST(Verifier, ReportsEveryProblem) {
  Graph g("main");
  Value* ghost = value(g, "ghost");
  Value* x = *g.add_input("x", f32({2}));
  g.set_initializer(x, tensor(DataType::kInt32, {2}));
  Value* y = value(g, "y");
  g.add_node("Add", "", "add", {ghost, x}, {y});
  g.add_output(value(g, "never"));
  std::vector<Status> p = problems_of(g);
  EXPECT_EQ(codes(p), (std::vector<int>{kUndefinedValue, kGraphOutputUndefined, kTypeMismatch}))
      << dump(p);
}

}  // namespace
}  // namespace kiln::ir
