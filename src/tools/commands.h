// CLI subcommands. Each cmd_<name>.cpp adds its options to the app and returns the function
// that runs it once parsing succeeded; the function returns the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "kiln/status.h"

namespace kiln::tools {

using Runner = std::function<int()>;

Runner add_check(CLI::App& app);
Runner add_explain(CLI::App& app);
Runner add_ops(CLI::App& app);
Runner add_run(CLI::App& app);
Runner add_build(CLI::App& app);
Runner add_bench(CLI::App& app);
Runner add_inspect(CLI::App& app);
Runner add_passes(CLI::App& app);
Runner add_compare(CLI::App& app);

// The Markdown catalog written to docs/errors.md.
std::string errors_markdown();

// Exit codes shared by subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitWarnings = 1;  // `check --strict` with warnings only
inline constexpr int kExitError = 2;

// Prints "K3001 INVALID_ARGUMENT: …\n  fix: …" on stderr and returns kExitError.
int fail(const Status& status);

}  // namespace kiln::tools
