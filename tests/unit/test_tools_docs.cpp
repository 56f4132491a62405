// Generated documentation must match the catalog it is generated from.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "tools/commands.h"

namespace kiln {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Docs, ErrorsMarkdownIsInSyncWithCatalog) {
  const std::string path = std::string(KILN_SOURCE_DIR) + "/docs/errors.md";
  const std::string committed = read_text(path);
  ASSERT_FALSE(committed.empty()) << path << " is missing";
  EXPECT_EQ(committed, tools::errors_markdown())
      << "docs/errors.md is stale: regenerate it with "
         "`build/src/tools/kiln explain --markdown > docs/errors.md`";
}

TEST(Docs, ErrorsMarkdownHasEveryCode) {
  const std::string md = tools::errors_markdown();
  for (const ErrorInfo& e : error_catalog()) {
    EXPECT_NE(md.find("## " + format_code(e.number)), std::string::npos) << e.id;
    EXPECT_NE(md.find(e.fix), std::string::npos) << e.id;
  }
}

}  // namespace
}  // namespace kiln
