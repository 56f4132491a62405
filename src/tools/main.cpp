// kiln command-line entry point: parses, dispatches to one subcommand, maps errors to exit codes.
#include <cstdio>
#include <vector>

#include "core/errors.h"
#include "kiln/kiln.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  using namespace kiln::tools;
  CLI::App app{"kiln — an inference compiler and runtime for ONNX models.\n"
               "Every failure is a catalogued error code; `kiln explain CODE` describes it."};
  app.set_version_flag("--version", std::string("kiln ") + kiln::version());
  app.require_subcommand(1);
  app.fallthrough(false);

  // Each add_* creates exactly one subcommand; pair it with its runner.
  std::vector<std::pair<CLI::App*, Runner>> commands;
  for (Runner (*add)(CLI::App&) : {add_check, add_build, add_run, add_bench, add_compare, add_inspect, add_passes, add_explain, add_ops}) {
    Runner run = add(app);
    commands.emplace_back(app.get_subcommands([](CLI::App*) { return true; }).back(), std::move(run));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(kiln::err(kiln::Code::kInvalidArgument, e.what())
                    .with_fix("Run `kiln --help` or `kiln <subcommand> --help` for usage."));
  }
  for (auto& [sub, run] : commands)
    if (sub->parsed()) return run();
  return kExitError;
}
