// The `goodput` command line. Parses, runs one subcommand, and maps errors to exit codes.
#include <cstdio>
#include <new>
#include <string>
#include <vector>

#include "harness/cli/commands.hpp"
#include "harness/core/error.hpp"
#include "harness/core/signals.hpp"
#include "harness/core/version.hpp"

namespace {

std::string version_string() {
  return std::string("goodput ") + goodput::tool_version() + " (git " + goodput::git_sha() +
         (goodput::git_dirty() ? ", dirty" : "") + ")";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace goodput;
  CLI::App app{"goodput: how much of your GPUs becomes training progress", "goodput"};
  app.set_version_flag("--version", version_string());
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 check failed or regression, 2 usage or input error, 3 no usable GPU, "
      "4 runtime failure, 130 interrupted.");

  std::vector<cli::Command> commands;
  commands.push_back(cli::devices_command(app));
  commands.push_back(cli::calibrate_command(app));
  commands.push_back(cli::bench_command(app));
  commands.push_back(cli::collectives_command(app));
  commands.push_back(cli::profile_command(app));
  commands.push_back(cli::analyze_command(app));
  commands.push_back(cli::ledger_command(app));
  commands.push_back(cli::compare_command(app));
  commands.push_back(cli::report_command(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  cli::Invocation inv;
  inv.argv.assign(argv, argv + argc);
  install_interrupt_handler();
  for (const auto& c : commands) {
    if (!c.app->parsed()) continue;
    try {
      return c.run(inv);
    } catch (const Error& e) {
      std::fprintf(stderr, "goodput %s: %s\n", c.app->get_name().c_str(), e.what());
      return e.exit_code();
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "goodput %s: out of host memory\n", c.app->get_name().c_str());
      return kExitRuntime;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "goodput %s: %s\n", c.app->get_name().c_str(), e.what());
      return kExitRuntime;
    }
  }
  return kExitUsage;
}
