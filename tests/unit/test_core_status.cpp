// Tests for kiln::Status / kiln::Result and the error-propagation macros.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "core/errors.h"
#include "kiln/status.h"

namespace kiln {
namespace {

constexpr int kOpsetOutOfRange = static_cast<int>(Code::kOpsetOutOfRange);
constexpr int kInvalidArgument = static_cast<int>(Code::kInvalidArgument);

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), 0);
  EXPECT_EQ(s.code_str(), "OK");
  EXPECT_EQ(s.category(), Category::kOk);
  EXPECT_STREQ(category_name(s.category()), "OK");
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.fix(), "");
  EXPECT_STREQ(s.title(), "ok");
  EXPECT_EQ(s.node(), nullptr);
  EXPECT_EQ(s.to_string(), "OK");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(Status, ModifiersOnOkStatusAreNoOps) {
  Status s;
  s.with_node(NodeRef{3, "conv1", "Conv", "", 17, ""})
      .with_fix("x")
      .with_severity(Severity::kWarning);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.node(), nullptr);
  EXPECT_EQ(s.fix(), "");
  EXPECT_EQ(s.to_string(), "OK");
}

TEST(Status, CarriesCatalogEntry) {
  Status s(kOpsetOutOfRange, "model uses opset 99");
  const ErrorInfo* info = find_error(kOpsetOutOfRange);
  ASSERT_NE(info, nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), 1004);
  EXPECT_EQ(s.code_str(), "K1004");
  EXPECT_EQ(s.category(), Category::kParseError);
  EXPECT_STREQ(s.title(), info->title);
  EXPECT_STREQ(s.title(), "model opset outside the supported range");
  EXPECT_EQ(s.fix(), info->fix);
  EXPECT_EQ(s.message(), "model uses opset 99");
  EXPECT_EQ(s.severity(), Severity::kError);
  EXPECT_EQ(s.node(), nullptr);
}

TEST(Status, ErrBuildsMessageFromParts) {
  Status s = err(Code::kInvalidArgument, "flag --n=", 42, " out of range [", 1, ", ", 8, "]");
  EXPECT_EQ(s.code(), kInvalidArgument);
  EXPECT_EQ(s.category(), Category::kInvalidArgument);
  EXPECT_EQ(s.message(), "flag --n=42 out of range [1, 8]");
}

TEST(Status, WithNodeFixSeverity) {
  Status s(kOpsetOutOfRange, "msg");
  s.with_node(NodeRef{3, "conv1", "Conv", "", 17, ""})
      .with_fix("use opset 17")
      .with_severity(Severity::kWarning);
  ASSERT_NE(s.node(), nullptr);
  EXPECT_EQ(s.node()->index, 3);
  EXPECT_EQ(s.node()->name, "conv1");
  EXPECT_EQ(s.node()->op_type, "Conv");
  EXPECT_EQ(s.node()->opset, 17);
  EXPECT_EQ(s.fix(), "use opset 17");
  EXPECT_EQ(s.severity(), Severity::kWarning);
  EXPECT_STREQ(severity_name(s.severity()), "warning");
  // The catalog fix is untouched for other statuses.
  EXPECT_EQ(Status(kOpsetOutOfRange, "m").fix(), find_error(kOpsetOutOfRange)->fix);
}

TEST(Status, ToStringWithNode) {
  Status s(kOpsetOutOfRange, "msg");
  s.with_node(NodeRef{3, "conv1", "Conv", "", 17, ""}).with_fix("do this");
  EXPECT_EQ(s.to_string(),
            "K1004 PARSE_ERROR: msg [node #3 'conv1' (Conv, opset 17)]\n  fix: do this");
}

TEST(Status, ToStringWithoutNodeUsesCatalogFix) {
  Status s(kInvalidArgument, "bad flag");
  EXPECT_EQ(s.to_string(),
            std::string("K3001 INVALID_ARGUMENT: bad flag\n  fix: ") + find_error(3001)->fix);
}

TEST(Status, ToStringNodeOptionalParts) {
  // No index, no opset, a domain and a subgraph path.
  Status s(kOpsetOutOfRange, "m");
  s.with_node(NodeRef{-1, "g", "Gelu", "com.microsoft", 0, "main/If_0:then"}).with_fix("f");
  EXPECT_EQ(s.to_string(),
            "K1004 PARSE_ERROR: m [node 'g' (com.microsoft::Gelu) in graph 'main/If_0:then']\n"
            "  fix: f");
  Status unnamed(kOpsetOutOfRange, "m");
  unnamed.with_node(NodeRef{0, "", "Relu", "", 13, ""}).with_fix("f");
  EXPECT_EQ(unnamed.to_string(), "K1004 PARSE_ERROR: m [node #0 (Relu, opset 13)]\n  fix: f");
}

TEST(Status, ToStringLeadingZeroCode) {
  Status s(static_cast<int>(Code::kFileNotFound), "no such file: a.onnx");
  EXPECT_EQ(s.code_str(), "K0101");
  EXPECT_EQ(s.to_string().rfind("K0101 IO_ERROR: no such file: a.onnx\n  fix: ", 0), 0u)
      << s.to_string();
}

TEST(Status, CopyIsDeep) {
  Status a(kOpsetOutOfRange, "original");
  a.with_node(NodeRef{1, "n", "Add", "", 13, ""});
  Status b = a;
  EXPECT_EQ(b.to_string(), a.to_string());
  b.with_fix("changed").with_node(NodeRef{2, "m", "Mul", "", 13, ""});
  EXPECT_NE(a.fix(), "changed");
  EXPECT_EQ(a.node()->name, "n");
  EXPECT_EQ(b.node()->name, "m");

  Status c;
  c = a;
  EXPECT_EQ(c.code(), 1004);
  EXPECT_EQ(c.message(), "original");
  c = Status();  // assigning OK clears
  EXPECT_TRUE(c.ok());
  Status& self = a;
  a = self;  // self-assignment keeps the contents
  EXPECT_EQ(a.message(), "original");
}

TEST(Status, MoveTransfersContents) {
  Status a(kInvalidArgument, "moved");
  Status b = std::move(a);
  EXPECT_EQ(b.code(), kInvalidArgument);
  EXPECT_EQ(b.message(), "moved");
  Status c;
  c = std::move(b);
  EXPECT_EQ(c.code(), kInvalidArgument);
  EXPECT_EQ(c.message(), "moved");
  static_assert(std::is_nothrow_move_constructible_v<Status>);
  static_assert(std::is_nothrow_move_assignable_v<Status>);
}

TEST(Status, CategoryAndSeverityNames) {
  EXPECT_STREQ(category_name(Category::kParseError), "PARSE_ERROR");
  EXPECT_STREQ(category_name(Category::kUnsupportedNode), "UNSUPPORTED_NODE");
  EXPECT_STREQ(category_name(Category::kInvalidArgument), "INVALID_ARGUMENT");
  EXPECT_STREQ(category_name(Category::kInvalidConfig), "INVALID_CONFIG");
  EXPECT_STREQ(category_name(Category::kInvalidState), "INVALID_STATE");
  EXPECT_STREQ(category_name(Category::kOutOfMemory), "OUT_OF_MEMORY");
  EXPECT_STREQ(category_name(Category::kInternalError), "INTERNAL_ERROR");
  EXPECT_STREQ(category_name(Category::kExecutionFailed), "EXECUTION_FAILED");
  EXPECT_STREQ(category_name(Category::kCalibrationFailed), "CALIBRATION_FAILED");
  EXPECT_STREQ(category_name(Category::kEngineIncompatible), "ENGINE_INCOMPATIBLE");
  EXPECT_STREQ(category_name(Category::kEngineCorrupt), "ENGINE_CORRUPT");
  EXPECT_STREQ(category_name(Category::kIoError), "IO_ERROR");
  EXPECT_STREQ(severity_name(Severity::kError), "error");
  EXPECT_STREQ(severity_name(Severity::kWarning), "warning");
  EXPECT_STREQ(severity_name(Severity::kInfo), "info");
}

// ---- Result

TEST(Result, HoldsValue) {
  Result<int> r = 7;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(*r, 7);
  EXPECT_TRUE(r.status().ok());
  *r = 8;
  EXPECT_EQ(r.value(), 8);
  EXPECT_TRUE(std::move(r).take_status().ok());
}

TEST(Result, HoldsError) {
  Result<std::string> r = err(Code::kInvalidArgument, "bad value 'x'");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kInvalidArgument);
  EXPECT_EQ(r.status().message(), "bad value 'x'");
  Status taken = std::move(r).take_status();
  EXPECT_EQ(taken.code(), kInvalidArgument);
  EXPECT_EQ(taken.message(), "bad value 'x'");
}

TEST(Result, MoveOnlyValueAndArrow) {
  Result<std::unique_ptr<std::string>> r = std::make_unique<std::string>("abc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->size(), 3u);
  std::unique_ptr<std::string> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, "abc");

  Result<std::string> s = std::string("hello");
  EXPECT_EQ(s->size(), 5u);
  const Result<std::string>& cs = s;
  EXPECT_EQ(cs.value(), "hello");
  EXPECT_EQ(cs->front(), 'h');
}

// ---- macros

Status fail_if(bool fail) {
  if (fail) return err(Code::kInvalidArgument, "asked to fail");
  return Status::Ok();
}

int g_steps = 0;

Status two_steps(bool fail_first) {
  g_steps = 0;
  KILN_RETURN_IF_ERROR(fail_if(fail_first));
  ++g_steps;
  KILN_RETURN_IF_ERROR(fail_if(false));
  ++g_steps;
  return Status::Ok();
}

TEST(Macros, ReturnIfError) {
  EXPECT_TRUE(two_steps(false).ok());
  EXPECT_EQ(g_steps, 2);
  Status s = two_steps(true);
  EXPECT_EQ(s.code(), kInvalidArgument);
  EXPECT_EQ(s.message(), "asked to fail");
  EXPECT_EQ(g_steps, 0);  // returned before the first increment
}

Result<int> parse_positive(int v) {
  if (v <= 0) return err(Code::kInvalidArgument, "value ", v, " is not positive");
  return v;
}

Result<int> sum_positive(int a, int b) {
  KILN_ASSIGN_OR_RETURN(int x, parse_positive(a));
  KILN_ASSIGN_OR_RETURN(int y, parse_positive(b));  // two uses in one scope must not clash
  return x + y;
}

Status assign_existing(int v, std::unique_ptr<int>& out) {
  KILN_ASSIGN_OR_RETURN(int x, parse_positive(v));
  KILN_ASSIGN_OR_RETURN(out, Result<std::unique_ptr<int>>(std::make_unique<int>(x * 10)));
  return Status::Ok();
}

TEST(Macros, AssignOrReturn) {
  Result<int> ok = sum_positive(2, 3);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 5);
  Result<int> bad = sum_positive(2, -4);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "value -4 is not positive");

  std::unique_ptr<int> out;
  EXPECT_TRUE(assign_existing(4, out).ok());
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(*out, 40);
  std::unique_ptr<int> untouched;
  EXPECT_EQ(assign_existing(0, untouched).code(), kInvalidArgument);
  EXPECT_EQ(untouched, nullptr);
}

// ---- broken invariants abort

TEST(StatusDeathTest, UncataloguedCodeAborts) {
  EXPECT_DEATH(Status(12345, "whatever"), "uncatalogued error code 12345");
  EXPECT_DEATH(Status(0, "zero is OK, not an error"), "uncatalogued error code 0");
}

TEST(ResultDeathTest, ValueOnErrorAborts) {
  Result<int> r = err(Code::kInvalidArgument, "no value here");
  EXPECT_DEATH((void)r.value(),
               "Result::value\\(\\) called on an error: K3001 INVALID_ARGUMENT: "
               "no value here");
  EXPECT_DEATH((void)*r, "called on an error");
}

TEST(ResultDeathTest, OkStatusAborts) {
  EXPECT_DEATH(Result<int>{Status::Ok()}, "Result constructed from an OK Status");
}

}  // namespace
}  // namespace kiln
