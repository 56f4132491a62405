// identity_elimination and dead_code_elimination: golden IR (fires / does not fire) and
// numeric equality; the pass manager's guarantees (fixed point, subgraphs, interface).
#include <filesystem>

#include "core/errors.h"
#include "unit/pass_test_util.h"

namespace kiln::test {
namespace {

constexpr const char* kIdentities = R"(
graph main (%x: float32[2,3]) -> (%y: float32[2,3], %k: float32[2,3]) {
  %a = Identity(%x) #0 "id"
  %b = Relu(%a) #1 "relu"
  %c, %mask = Dropout(%b) #2 "drop"
  %d = Cast(%c) {to=1} #3 "cast_same"
  %y = Sigmoid(%d) #4 "sig"
  %k = Identity(%b) #5 "kept_output"
}
)";

TEST(PassIdentityElimination, RemovesPassThroughsButKeepsGraphOutputs) {
  auto m = model_from_text(kIdentities);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"identity_elimination"}), canonical(R"(
graph main (%x: float32[2,3]) -> (%y: float32[2,3], %k: float32[2,3]) {
  %b = Relu(%x) #1 "relu"
  %y = Sigmoid(%b) #4 "sig"
  %k = Identity(%b) #5 "kept_output"
}
)"));
  expect_same_outputs([] { return model_from_text(kIdentities); }, {"identity_elimination"});
}

TEST(PassIdentityElimination, KeepsTypeChangingCastsAndUsedDropoutMasks) {
  constexpr const char* text = R"(
graph main (%x: float32[2,3]) -> (%y: float16[2,3], %mask: bool[2,3]) {
  %c, %mask = Dropout(%x) #0 "drop"
  %y = Cast(%c) {to=10} #1 "to_half"
}
)";
  auto m = model_from_text(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(optimized_text(*m, {"identity_elimination"}), canonical(text));
}

TEST(PassDeadCode, RemovesUnreadChainsInMainGraphAndSubgraphs) {
  constexpr const char* text = R"(
graph main (%c: bool[], %x: float32[4]) -> (%y: float32[4]) {
  %unused = Neg(%x) #0 "dead1"
  %unused2 = Exp(%unused) #1 "dead2"
  %y = If(%c) {then_branch=
      graph then_branch () -> (%t: float32[4]) {
        %dead = Abs(%x) #0 "dead_inner"
        %t = Relu(%x) #1 "live_inner"
      }
    , else_branch=
      graph else_branch () -> (%e: float32[4]) {
        %e = Neg(%x) #0
      }
    } #2 "if"
}
)";
  auto m = model_from_text(text);
  ASSERT_TRUE(m);
  auto report = run_passes(*m, {"dead_code_elimination"});
  const std::string out = ir::print(*m->graph);
  EXPECT_EQ(out.find("dead"), std::string::npos) << out;
  EXPECT_NE(out.find("live_inner"), std::string::npos) << out;
  EXPECT_EQ(report.counts["dead_code_elimination"]["removed"], 3);
  EXPECT_EQ(report.nodes_before, 3u);
  EXPECT_EQ(report.nodes_after, 1u);
}

TEST(PassManager, LevelsDisabledPassesAndUnknownNames) {
  EXPECT_TRUE(passes::pipeline_for(0, {}).empty());
  const auto l1 = passes::pipeline_for(1, {});
  EXPECT_NE(std::find(l1.begin(), l1.end(), "dead_code_elimination"), l1.end());
  const auto without = passes::pipeline_for(3, {"dead_code_elimination"});
  EXPECT_EQ(std::find(without.begin(), without.end(), "dead_code_elimination"), without.end());
  auto m = model_from_text(kIdentities);
  passes::OptimizeOptions o;
  o.disabled = {"no_such_pass"};
  auto r = passes::optimize(*m, o);
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kInvalidOption));
  EXPECT_NE(r.status().message().find("dead_code_elimination"), std::string::npos);
  o.disabled = {};
  o.level = 4;
  EXPECT_EQ(passes::optimize(*m, o).status().code(), static_cast<int>(Code::kInvalidOption));
}

// Passes that break the graph, change its interface or fail are named, with the way out.
class BrokenPass final : public passes::Pass {
 public:
  enum Mode { kDanglingInput, kNewOutput, kFails };
  explicit BrokenPass(Mode m) : mode_(m) {}
  std::string_view name() const override { return "broken_pass"; }
  Status run(ir::Graph& g, passes::PassContext&, bool* changed) override {
    if (mode_ == kFails) return err(Code::kInternal, "invariant broken");
    for (ir::Node* n : g.nodes())
      if (n->op_type() == "Relu") {
        if (mode_ == kDanglingInput) {
          auto* ghost = g.add_value("ghost").value();  // read, never defined
          g.replace_input(n, 0, ghost);
        } else {
          g.add_output(n->output(0));
        }
        *changed = true;
        break;
      }
    return Status::Ok();
  }

 private:
  Mode mode_;
};

TEST(PassManager, ABrokenPassIsAnInternalErrorNamingItAndTheWayAround) {
  for (auto mode : {BrokenPass::kDanglingInput, BrokenPass::kNewOutput, BrokenPass::kFails}) {
    auto m = model_from_text(kIdentities);
    passes::OptimizeOptions o;
    o.level = 0;
    o.extra.push_back(std::make_shared<BrokenPass>(mode));
    auto r = passes::optimize(*m, o);
    ASSERT_FALSE(r.ok()) << mode;
    EXPECT_EQ(r.status().code(), static_cast<int>(Code::kInternal)) << r.status().to_string();
    EXPECT_NE(r.status().message().find("'broken_pass'"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().fix().find("--disable-pass broken_pass"), std::string::npos);
  }
}

TEST(PassDeadCode, ResultsUnchanged) {
  expect_same_outputs([] { return model_from_text(R"(
graph main (%x: float32[4]) -> (%y: float32[4]) {
  %u = Neg(%x) #0 "dead"
  %y = Relu(%x) #1 "live"
}
)"); }, {"dead_code_elimination"});
}

TEST(PassManager, DumpsIrPerChangingPass) {
  auto m = model_from_text(kIdentities);
  const std::string dir = ::testing::TempDir() + "/kiln_dump_ir";
  std::filesystem::remove_all(dir);
  passes::OptimizeOptions o;
  o.level = 1;
  o.dump_dir = dir;
  ASSERT_TRUE(passes::optimize(*m, o).ok());
  EXPECT_TRUE(std::filesystem::exists(dir + "/000_input.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/001_identity_elimination.txt"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln::test
