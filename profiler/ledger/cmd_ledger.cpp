// `goodput ledger`: infra x framework x model goodput of a whole training job from its event log.
#include <cstdio>
#include <fstream>
#include <memory>

#include "harness/cli/commands.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "profiler/ledger/google.hpp"
#include "profiler/ledger/ledger.hpp"

namespace goodput::cli {
namespace {

struct LedgerArgs {
  std::vector<std::string> files;
  std::string json, from, to, mfu, analysis, svg, convention = "goodput";
  bool lenient = false;
  int rank = 0;
};

int run_ledger(const LedgerArgs& a, const Invocation& inv) {
  ResultsWriter out(a.json, "ledger", inv.argv);
  try {
    ledger::ReadOptions ro;
    ro.lenient = a.lenient;
    ro.reference_rank = a.rank;
    const ledger::EventLog log = ledger::read_event_logs(a.files, ro);
    nlohmann::json section;
    if (a.convention == "google") {
      if (!a.from.empty() || !a.to.empty())
        throw InputError("--from/--to are not part of the google convention's job goodput");
      const auto g = ledger::compute_google(log);
      std::fputs(ledger::format_report(g, log).c_str(), stdout);
      section = ledger::to_json(g, log);
    } else {
      ledger::LedgerOptions lo;
      if (!a.from.empty()) lo.from = ledger::parse_time(a.from, "--from");
      if (!a.to.empty()) lo.to = ledger::parse_time(a.to, "--to");
      if (!a.mfu.empty() && !a.analysis.empty())
        throw InputError("give either --mfu or --analysis, not both");
      if (!a.mfu.empty()) lo.model = {ledger::parse_mfu(a.mfu), "--mfu " + a.mfu};
      if (!a.analysis.empty())
        lo.model = ledger::model_layer_from_analysis(read_json_file(a.analysis), a.analysis);
      const auto l = ledger::compute_ledger(log, lo);
      std::fputs(ledger::format_report(l, log).c_str(), stdout);
      section = ledger::to_json(l, log);
      if (!a.svg.empty()) {
        std::ofstream svg(a.svg);
        svg << ledger::render_svg(l);
        if (!svg) throw RuntimeFailure(a.svg + ": cannot write the timeline picture");
        section["timeline_svg"] = a.svg;
      }
    }
    out.set("ledger", section);
    out.finish("complete");
    return kExitOk;
  } catch (const Error& e) {
    out.finish("failed", e.what());
    throw;
  }
}

}  // namespace

Command ledger_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "ledger",
      "Job goodput (infra x framework x model) from an event log, every loss tied to its cause");
  auto args = std::make_shared<LedgerArgs>();
  sub->add_option("logs", args->files, "Event log files (JSON Lines); several are merged")
      ->required()
      ->check(CLI::ExistingFile);
  add_json_option(sub, args->json);
  sub->add_option("--from", args->from,
                  "Window start: unix seconds or ISO 8601 (default: job start)");
  sub->add_option("--to", args->to, "Window end: unix seconds or ISO 8601 (default: job end)");
  sub->add_option("--mfu", args->mfu, "Model layer: MFU of the steady-state steps (0.42 or 42%)");
  sub->add_option("--analysis", args->analysis,
                  "Model layer from a `goodput analyze --json` results file")
      ->check(CLI::ExistingFile);
  sub->add_option("--convention", args->convention,
                  "goodput (three layers) or google (ml-goodput-measurement buckets)")
      ->check(CLI::IsMember({"goodput", "google"}));
  sub->add_option("--rank", args->rank, "Reference rank whose steps time the job (default 0)");
  sub->add_flag("--lenient", args->lenient,
                "Skip malformed lines with a warning instead of exit 2");
  sub->add_option("--svg", args->svg, "Write a timeline picture (SVG) coloured by category");
  return {sub, [args](const Invocation& inv) { return run_ledger(*args, inv); }};
}

}  // namespace goodput::cli
