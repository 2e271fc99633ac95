// How subcommands plug into the `goodput` command line: each part registers its subcommands and
// returns the function to run once parsing succeeded. Only main() turns errors into exit codes.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace goodput::cli {

struct Invocation {
  std::vector<std::string> argv;  // the whole command line, for the results' meta block
};

struct Command {
  CLI::App* app = nullptr;
  std::function<int(const Invocation&)> run;
};

// The flag every command has: where to write the results JSON ("" = do not write).
inline CLI::Option* add_json_option(CLI::App* app, std::string& path) {
  return app->add_option("--json", path, "Write results to this JSON file (results schema)");
}

}  // namespace goodput::cli
