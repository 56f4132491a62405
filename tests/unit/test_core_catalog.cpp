// Tests for the error catalog (src/core/errors.def): completeness, numbering and lookup.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/errors.h"

namespace kiln {
namespace {

// The category a number must have, from the ranges documented at the top of errors.def.
// kOk stands for "no category owns this number".
Category category_for_number(int n) {
  if (n >= 100 && n <= 199) return Category::kIoError;
  if (n >= 900 && n <= 999) return Category::kInternalError;
  if (n >= 1000 && n <= 1999) return Category::kParseError;
  if (n >= 2000 && n <= 2999) return Category::kUnsupportedNode;
  if (n >= 3000 && n <= 3999) return Category::kInvalidArgument;
  if (n >= 4000 && n <= 4999) return Category::kInvalidConfig;
  if (n >= 5000 && n <= 5999) return Category::kInvalidState;
  if (n >= 6000 && n <= 6999) return Category::kOutOfMemory;
  if (n >= 7000 && n <= 7999) return Category::kExecutionFailed;
  if (n >= 8000 && n <= 8999) return Category::kCalibrationFailed;
  if (n >= 9000 && n <= 9499) return Category::kEngineIncompatible;
  if (n >= 9500 && n <= 9999) return Category::kEngineCorrupt;
  return Category::kOk;
}

TEST(Catalog, IsNotEmpty) {
  EXPECT_GE(error_catalog().size(), 40u);
}

TEST(Catalog, EveryEntryIsComplete) {
  for (const ErrorInfo& e : error_catalog()) {
    SCOPED_TRACE(format_code(e.number));
    ASSERT_NE(e.id, nullptr);
    ASSERT_NE(e.title, nullptr);
    ASSERT_NE(e.causes, nullptr);
    ASSERT_NE(e.fix, nullptr);
    EXPECT_NE(std::string(e.id), "");
    EXPECT_NE(std::string(e.title), "");
    EXPECT_NE(std::string(e.causes), "");
    EXPECT_NE(std::string(e.fix), "");
    EXPECT_NE(e.category, Category::kOk);
  }
}

TEST(Catalog, NumbersAndIdsAreUnique) {
  std::set<int> numbers;
  std::set<std::string> ids;
  for (const ErrorInfo& e : error_catalog()) {
    EXPECT_TRUE(numbers.insert(e.number).second) << "duplicate number " << e.number;
    EXPECT_TRUE(ids.insert(e.id).second) << "duplicate id " << e.id;
  }
}

TEST(Catalog, NumberRangeMatchesCategory) {
  for (const ErrorInfo& e : error_catalog()) {
    EXPECT_EQ(category_name(e.category), std::string(category_name(category_for_number(e.number))))
        << format_code(e.number) << " (" << e.id << ") is in the wrong range for its category";
  }
}

TEST(Catalog, RangeHelperMatchesDocumentedBoundaries) {
  // Guards the helper above: a wrong table would make NumberRangeMatchesCategory vacuous.
  EXPECT_EQ(category_for_number(101), Category::kIoError);
  EXPECT_EQ(category_for_number(901), Category::kInternalError);
  EXPECT_EQ(category_for_number(1004), Category::kParseError);
  EXPECT_EQ(category_for_number(9499), Category::kEngineIncompatible);
  EXPECT_EQ(category_for_number(9500), Category::kEngineCorrupt);
  EXPECT_EQ(category_for_number(500), Category::kOk);
  EXPECT_EQ(category_for_number(10000), Category::kOk);
}

TEST(Catalog, FormatCodePadsToFourDigits) {
  EXPECT_EQ(format_code(101), "K0101");
  EXPECT_EQ(format_code(901), "K0901");
  EXPECT_EQ(format_code(1004), "K1004");
  EXPECT_EQ(format_code(6001), "K6001");
  EXPECT_EQ(format_code(9501), "K9501");
}

TEST(Catalog, FindErrorUnknownNumbers) {
  EXPECT_EQ(find_error(0), nullptr);
  EXPECT_EQ(find_error(-1), nullptr);
  EXPECT_EQ(find_error(1000), nullptr);
  EXPECT_EQ(find_error(99999), nullptr);
}

TEST(Catalog, FindErrorKnownNumber) {
  const ErrorInfo* e = find_error(1007);
  ASSERT_NE(e, nullptr);
  EXPECT_STREQ(e->id, "GraphCycle");
  EXPECT_EQ(e->category, Category::kParseError);
  EXPECT_STREQ(e->title, "graph contains a cycle");
}

struct CodeEntry {
  Code code;
  int number;
  const char* id;
};

// Every Code enumerator, expanded from errors.def independently of the catalog table.
const std::vector<CodeEntry>& all_codes() {
  static const std::vector<CodeEntry> kCodes = {
#define KILN_ERROR(number, id, category, title, causes, fix) {Code::k##id, number, #id},
#include "core/errors.def"
#undef KILN_ERROR
  };
  return kCodes;
}

TEST(Catalog, EveryCodeRoundTripsThroughFindError) {
  ASSERT_EQ(all_codes().size(), error_catalog().size());
  for (const CodeEntry& c : all_codes()) {
    SCOPED_TRACE(c.id);
    EXPECT_EQ(static_cast<int>(c.code), c.number);
    const ErrorInfo* e = find_error(static_cast<int>(c.code));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->number, c.number);
    EXPECT_STREQ(e->id, c.id);
    Status s = err(c.code, "probe");
    EXPECT_EQ(s.code(), c.number);
    EXPECT_EQ(s.code_str(), format_code(c.number));
    EXPECT_EQ(s.category(), e->category);
    EXPECT_STREQ(s.title(), e->title);
    EXPECT_EQ(s.fix(), e->fix);
  }
}

TEST(Catalog, SomeWellKnownCodes) {
  EXPECT_EQ(static_cast<int>(Code::kFileNotFound), 101);
  EXPECT_EQ(static_cast<int>(Code::kOpsetOutOfRange), 1004);
  EXPECT_EQ(static_cast<int>(Code::kGraphCycle), 1007);
  EXPECT_EQ(static_cast<int>(Code::kDuplicateValue), 1009);
  EXPECT_EQ(static_cast<int>(Code::kInvalidShape), 1017);
  EXPECT_EQ(static_cast<int>(Code::kInvalidArgument), 3001);
  EXPECT_EQ(static_cast<int>(Code::kAllocationFailed), 6001);
}

}  // namespace
}  // namespace kiln
