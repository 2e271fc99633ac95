// Registration functions of every subcommand; main() calls each once.
#pragma once
#include "harness/cli/command.hpp"

namespace goodput::cli {
Command devices_command(CLI::App& app);
Command analyze_command(CLI::App& app);
Command compare_command(CLI::App& app);
Command report_command(CLI::App& app);
Command calibrate_command(CLI::App& app);
Command bench_command(CLI::App& app);
Command ledger_command(CLI::App& app);
Command profile_command(CLI::App& app);
Command collectives_command(CLI::App& app);
}  // namespace goodput::cli
