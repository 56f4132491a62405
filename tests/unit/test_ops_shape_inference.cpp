// Static type and shape inference (src/ops/shape_infer.h, src/ops/shape_inference.h): graphs in
// the IR text form, expected shapes worked out by hand from the ONNX operator definitions.
// The conformance runner additionally checks every inferred shape against execution.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "ir/graph.h"
#include "ir/parser.h"
#include "ops/shape_inference.h"

namespace kiln::ops {
namespace {

struct Inferred {
  std::unique_ptr<ir::Graph> graph;
  std::vector<Status> problems;
  ShapeInferenceStats stats;

  std::string type(const std::string& name) const {
    const ir::Value* v = graph->lookup(name);
    return v ? v->type.to_string() : "<no value " + name + ">";
  }
  std::string problem_text() const {
    std::string s;
    for (const Status& p : problems) s += p.to_string() + "\n";
    return s;
  }
};

// Parses `text`, gives the named initializers their int64 data, infers at `opset`.
Inferred infer(const std::string& text,
               const std::vector<std::pair<std::string, std::vector<int64_t>>>& ints = {},
               int64_t opset = 17) {
  Inferred r;
  Result<std::unique_ptr<ir::Graph>> g = ir::parse_graph(text);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return r;
  r.graph = std::move(g).value();
  for (const auto& [name, values] : ints) {
    ir::Value* v = r.graph->find(name);
    EXPECT_NE(v, nullptr) << name;
    if (v == nullptr) continue;
    std::vector<int64_t> shape =
        v->initializer() ? v->initializer()->shape() : std::vector<int64_t>{};
    Result<Tensor> t = Tensor::allocate(DataType::kInt64, shape);
    EXPECT_TRUE(t.ok());
    EXPECT_EQ(t->numel(), static_cast<int64_t>(values.size())) << name;
    std::copy(values.begin(), values.end(), t->data_as<int64_t>());
    r.graph->set_initializer(v, std::move(t).value());
  }
  ShapeInferenceOptions options;
  options.fallback_opset = opset;
  infer_shapes(*r.graph, options, r.problems, &r.stats);
  return r;
}

TEST(ShapeInference, BroadcastKeepsSymbols) {
  Inferred r = infer(R"(graph g (%x: float32[batch,1,768], %y: float32[seq,1]) -> (%z: ?) {
    %z = Add(%x, %y)
    %c = Less(%x, %y)
  })");
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  EXPECT_EQ(r.type("z"), "float32[batch,seq,768]");
  EXPECT_EQ(r.type("c"), "bool[batch,seq,768]");
}

TEST(ShapeInference, BroadcastContradictionNamesTheNode) {
  Inferred r = infer(R"(graph g (%x: float32[2,3], %y: float32[4]) -> (%z: ?) {
    %z = Add(%x, %y) #7 "bad_add"
  })");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].code(), static_cast<int>(Code::kIncompatibleShapes));
  const std::string text = r.problems[0].to_string();
  EXPECT_NE(text.find("bad_add"), std::string::npos) << text;
  EXPECT_NE(text.find("[2,3]"), std::string::npos) << text;
  EXPECT_NE(text.find("[4]"), std::string::npos) << text;
}

TEST(ShapeInference, ConvPoolAndGlobalPool) {
  // ResNet stem: 7x7/2 pad 3 on 224 -> floor((224 + 6 - 7) / 2) + 1 = 112; 3x3/2 pad 1 max pool
  // -> floor((112 + 2 - 3) / 2) + 1 = 56; ceil_mode on 5 with 2/2 -> ceil(3 / 2) + 1 = 3.
  Inferred r = infer(R"(graph g (%x: float32[N,3,224,224], %p: float32[1,1,5,5]) -> () {
    init %w: float32[64,3,7,7]
    %c = Conv(%x, %w) {pads=[3,3,3,3], strides=[2,2]}
    %m = MaxPool(%c) {kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]}
    %g = GlobalAveragePool(%m)
    %q = AveragePool(%p) {ceil_mode=1, kernel_shape=[2,2], strides=[2,2]}
    %s = Conv(%x, %w) {auto_pad="SAME_UPPER"}
  })");
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  EXPECT_EQ(r.type("c"), "float32[N,64,112,112]");
  EXPECT_EQ(r.type("m"), "float32[N,64,56,56]");
  EXPECT_EQ(r.type("g"), "float32[N,64,1,1]");
  EXPECT_EQ(r.type("q"), "float32[1,1,3,3]");
  EXPECT_EQ(r.type("s"), "float32[N,64,224,224]");
}

TEST(ShapeInference, ConvChannelMismatch) {
  Inferred r = infer(R"(graph g (%x: float32[1,4,8,8]) -> () {
    init %w: float32[8,3,3,3]
    %c = Conv(%x, %w)
  })");
  ASSERT_EQ(r.problems.size(), 1u) << r.problem_text();
  EXPECT_EQ(r.problems[0].code(), static_cast<int>(Code::kIncompatibleShapes));
}

TEST(ShapeInference, MatMulBatchesAndVectors) {
  Inferred r = infer(R"(graph g (%a: float32[B,S,64], %b: float32[64,10], %v: float32[64],
                                  %h: float32[B,12,S,64], %k: float32[B,12,64,T]) -> () {
    %y = MatMul(%a, %b)
    %u = MatMul(%a, %v)
    %w = MatMul(%v, %b)
    %s = MatMul(%h, %k)
    %bad = MatMul(%b, %b)
  })");
  EXPECT_EQ(r.type("y"), "float32[B,S,10]");
  EXPECT_EQ(r.type("u"), "float32[B,S]");
  EXPECT_EQ(r.type("w"), "float32[10]");
  EXPECT_EQ(r.type("s"), "float32[B,12,S,T]");
  ASSERT_EQ(r.problems.size(), 1u) << r.problem_text();
  EXPECT_NE(r.problems[0].to_string().find("inner dimensions"), std::string::npos);
}

TEST(ShapeInference, GemmTransposes) {
  Inferred r = infer(R"(graph g (%a: float32[K,M], %b: float32[N,K], %c: float32[N]) -> () {
    %y = Gemm(%a, %b, %c) {transA=1, transB=1}
  })");
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  EXPECT_EQ(r.type("y"), "float32[M,N]");
}

// The attention reshape chain of a transformer export: the target shape is computed from the
// input's own shape, so only symbolic propagation through Shape/Gather/Concat resolves it.
TEST(ShapeInference, TransformerReshapeChainKeepsSymbols) {
  Inferred r = infer(
      R"(graph g (%x: float32[batch,seq,768]) -> () {
    init %zero: int64[]
    init %one: int64[]
    init %axes: int64[1]
    init %heads: int64[2]
    init %merge: int64[3]
    %s = Shape(%x)
    %b = Gather(%s, %zero) {axis=0}
    %t = Gather(%s, %one) {axis=0}
    %b1 = Unsqueeze(%b, %axes)
    %t1 = Unsqueeze(%t, %axes)
    %target = Concat(%b1, %t1, %heads) {axis=0}
    %split = Reshape(%x, %target)
    %perm = Transpose(%split) {perm=[0,2,1,3]}
    %back = Transpose(%perm) {perm=[0,2,1,3]}
    %merged = Reshape(%back, %merge)
  })",
      {{"zero", {0}}, {"one", {1}}, {"axes", {0}}, {"heads", {12, -1}}, {"merge", {0, 0, -1}}});
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  EXPECT_EQ(r.type("s"), "int64[3]");
  EXPECT_EQ(r.type("b"), "int64[]");
  EXPECT_EQ(r.type("target"), "int64[4]");
  EXPECT_EQ(r.type("split"), "float32[batch,seq,12,64]");
  EXPECT_EQ(r.type("perm"), "float32[batch,12,seq,64]");
  EXPECT_EQ(r.type("merged"), "float32[batch,seq,768]");
}

// Position ids in BERT/GPT-2 exports: table[:, :seq] and Range(0, seq, 1) with seq from Shape.
TEST(ShapeInference, SymbolicSliceEndAndRangeLimit) {
  Inferred r = infer(R"(graph g (%x: float32[batch,seq,768]) -> () {
    init %table: int64[1,512]
    init %zero: int64[]
    init %one: int64[]
    init %zeros: int64[1]
    init %ones: int64[1]
    %s = Shape(%x)
    %n = Gather(%s, %one) {axis=0}
    %end = Unsqueeze(%n, %zeros)
    %ids = Slice(%table, %zeros, %end, %ones, %ones)
    %pos = Range(%zero, %n, %one)
  })",
                     {{"zero", {0}}, {"one", {1}}, {"zeros", {0}}, {"ones", {1}}});
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  EXPECT_EQ(r.type("ids"), "int64[1,seq]");
  EXPECT_EQ(r.type("pos"), "int64[seq]");
}

TEST(ShapeInference, ReshapeElementCountMismatch) {
  Inferred r = infer(R"(graph g (%x: float32[2,3]) -> () {
    init %shape: int64[2]
    %y = Reshape(%x, %shape)
  })",
                     {{"shape", {4, 2}}});
  ASSERT_EQ(r.problems.size(), 1u) << r.problem_text();
  EXPECT_EQ(r.problems[0].code(), static_cast<int>(Code::kIncompatibleShapes));
  EXPECT_NE(r.problems[0].to_string().find("8 elements"), std::string::npos)
      << r.problems[0].to_string();
}

TEST(ShapeInference, DeclaredShapeContradictionIsShapeConflict) {
  Inferred r = infer(R"(graph g (%x: float32[2,3]) -> (%y: float32[2,5]) {
    %y = Relu(%x) #3 "relu"
  })");
  ASSERT_EQ(r.problems.size(), 1u) << r.problem_text();
  EXPECT_EQ(r.problems[0].code(), static_cast<int>(Code::kShapeConflict));
  const std::string text = r.problems[0].to_string();
  EXPECT_NE(text.find("float32[2,5]"), std::string::npos) << text;
  EXPECT_NE(text.find("float32[2,3]"), std::string::npos) << text;
  EXPECT_NE(text.find("relu"), std::string::npos) << text;
}

TEST(ShapeInference, DeclaredSymbolIsRefinedByStaticSize) {
  Inferred r = infer(R"(graph g (%x: float32[2,3]) -> (%y: float32[batch,3]) {
    %y = Relu(%x)
  })");
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  EXPECT_EQ(r.type("y"), "float32[2,3]");
}

TEST(ShapeInference, ConstantSubexpressionsFold) {
  // Range(0, 10, 3) has ceil(10 / 3) = 4 elements; ConstantOfShape of Shape([2,5]) is [2,5].
  Inferred r = infer(R"(graph g (%x: float32[2,5]) -> () {
    init %start: int64[]
    init %limit: int64[]
    init %delta: int64[]
    %r = Range(%start, %limit, %delta)
    %s = Shape(%x)
    %z = ConstantOfShape(%s)
    %n = Size(%x)
  })",
                     {{"start", {0}}, {"limit", {10}}, {"delta", {3}}});
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  EXPECT_EQ(r.type("r"), "int64[4]");
  EXPECT_EQ(r.type("z"), "float32[2,5]");
  EXPECT_EQ(r.type("n"), "int64[]");
  EXPECT_GE(r.stats.folded, 2);
}

TEST(ShapeInference, SliceSplitConcatSqueeze) {
  // Slice [1:-1] of 10 -> 8 and [::-2] of 7 -> 4; Split 10 into 3 + 7; Concat 7 + 3 on axis 0.
  Inferred r = infer(R"(graph g (%x: float32[10,7,1]) -> () {
    init %starts: int64[2]
    init %ends: int64[2]
    init %axes: int64[2]
    init %steps: int64[2]
    init %parts: int64[2]
    init %sq: int64[1]
    %s = Slice(%x, %starts, %ends, %axes, %steps)
    %a, %b = Split(%x, %parts) {axis=0}
    %c = Concat(%b, %a) {axis=0}
    %q = Squeeze(%x, %sq)
    %u = Unsqueeze(%q, %sq)
  })",
                     {{"starts", {1, -1}},
                      {"ends", {-1, INT64_MIN}},
                      {"axes", {0, 1}},
                      {"steps", {1, -2}},
                      {"parts", {3, 7}},
                      {"sq", {-1}}});
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  EXPECT_EQ(r.type("s"), "float32[8,4,1]");
  EXPECT_EQ(r.type("a"), "float32[3,7,1]");
  EXPECT_EQ(r.type("b"), "float32[7,7,1]");
  EXPECT_EQ(r.type("c"), "float32[10,7,1]");
  EXPECT_EQ(r.type("q"), "float32[10,7]");
  EXPECT_EQ(r.type("u"), "float32[10,7,1]");
}

TEST(ShapeInference, ReductionsAndArgMax) {
  Inferred r = infer(R"(graph g (%x: float32[B,4,6]) -> () {
    init %axes: int64[1]
    %m = ReduceMean(%x, %axes) {keepdims=1}
    %s = ReduceSum(%x, %axes) {keepdims=0}
    %a = ArgMax(%x) {axis=2, keepdims=0}
  })",
                     {{"axes", {1}}}, 18);
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  EXPECT_EQ(r.type("m"), "float32[B,1,6]");
  EXPECT_EQ(r.type("s"), "float32[B,6]");
  EXPECT_EQ(r.type("a"), "int64[B,4]");
}

TEST(ShapeInference, IfBranchesGeneralize) {
  Inferred r = infer(R"(graph g (%c: bool[], %x: float32[2,3], %y: float32[2,4]) -> () {
    %o = If(%c) {then_branch=
        graph then_branch () -> (%t: ?) {
          %t = Relu(%x)
        }
      , else_branch=
        graph else_branch () -> (%e: ?) {
          %e = Relu(%y)
        }
      }
  })");
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  EXPECT_EQ(r.type("o"), "float32[2,?]");
}

// A branch that cannot take these shapes may simply not run for them: warning, not error.
TEST(ShapeInference, ProblemsInsideIfBranchesAreWarnings) {
  Inferred r = infer(R"(graph g (%c: bool[], %x: float32[2,3], %y: float32[4]) -> () {
    %o = If(%c) {then_branch=
        graph then_branch () -> (%t: ?) {
          %t = Relu(%x)
        }
      , else_branch=
        graph else_branch () -> (%e: ?) {
          %e = Add(%x, %y) #0 "dead_add"
        }
      }
  })");
  ASSERT_EQ(r.problems.size(), 1u) << r.problem_text();
  EXPECT_EQ(r.problems[0].severity(), Severity::kWarning);
  EXPECT_EQ(r.problems[0].code(), static_cast<int>(Code::kIncompatibleShapes));
  EXPECT_NE(r.problems[0].to_string().find("dead_add"), std::string::npos);
}

TEST(ShapeInference, UnknownInputsStayUnknown) {
  Inferred r = infer(R"(graph g (%x: ?) -> () {
    %y = Relu(%x)
    %t = Transpose(%y)
  })");
  EXPECT_TRUE(r.problems.empty()) << r.problem_text();
  const ir::Value* t = r.graph->find("t");
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->type.known());
  EXPECT_FALSE(t->type.shape.rank_known());
}

}  // namespace
}  // namespace kiln::ops
