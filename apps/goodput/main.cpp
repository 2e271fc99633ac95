// The `goodput` command line. Parses, runs one subcommand, and maps errors to exit codes.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <new>
#include <string>
#include <system_error>
#include <utility>
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

  using Factory = cli::Command (*)(CLI::App&);
  const std::pair<const char*, Factory> all[] = {
      {"devices", cli::devices_command}, {"calibrate", cli::calibrate_command},
      {"bench", cli::bench_command},     {"collectives", cli::collectives_command},
      {"profile", cli::profile_command}, {"analyze", cli::analyze_command},
      {"ledger", cli::ledger_command},   {"compare", cli::compare_command},
      {"report", cli::report_command}};
  // Only the subcommand named first is built (building all of their options costs about
  // 0.3 ms, a tenth of a small trace's analysis); anything else (--help, a typo) gets them all.
  const std::string first = argc > 1 ? argv[1] : "";
  const bool named =
      std::any_of(std::begin(all), std::end(all), [&](const auto& c) { return first == c.first; });
  std::vector<cli::Command> commands;
  for (const auto& [name, make] : all)
    if (!named || first == name) commands.push_back(make(app));

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
    } catch (const std::system_error& e) {  // e.g. a thread that could not start
      std::fprintf(stderr, "goodput %s: system error: %s (%s %d)\n", c.app->get_name().c_str(),
                   e.what(), e.code().category().name(), e.code().value());
      return kExitRuntime;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "goodput %s: %s\n", c.app->get_name().c_str(), e.what());
      return kExitRuntime;
    }
  }
  return kExitUsage;
}
