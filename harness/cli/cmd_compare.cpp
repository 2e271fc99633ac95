// `goodput compare`: which benchmarks got slower, with statistics that know about noise. Exit 1
// on a regression, so a CI job fails on it.
#include <cstdio>
#include <memory>

#include "harness/cli/commands.hpp"
#include "harness/compare/compare.hpp"
#include "harness/compare/format.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::cli {
namespace {

struct CompareArgs {
  std::vector<std::string> files;
  std::string baseline_dir;
  std::vector<std::string> thresholds;
  compare::CompareOptions opt;
  std::string format = "terminal";
  std::string json, markdown, junit;
  bool fail_on_missing = false;
};

nlohmann::json devices_json(const std::vector<compare::ResultsFile>& files) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : files)
    for (const auto& d : f.devices) out.push_back(to_json(d));
  return out;
}

}  // namespace

Command compare_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "compare",
      "Compare results with a baseline: per benchmark faster, slower, same or inconclusive");
  auto a = std::make_shared<CompareArgs>();
  sub->add_option("files", a->files,
                  "BASELINE.json CURRENT.json [more current files]; with --baseline-dir only the "
                  "current files")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--baseline-dir", a->baseline_dir,
                  "Folder of per-SKU baselines (DIR/<sku>/*.json); picks the current device's SKU")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--threshold", a->thresholds,
                  "Smallest change that counts: 3% (every kind) or KIND=PCT, e.g. collective=8% "
                  "(repeatable; default 3%)");
  sub->add_option("--alpha", a->opt.alpha, "Significance level of the Mann-Whitney U test")
      ->check(CLI::Range(1e-6, 0.5))
      ->capture_default_str();
  sub->add_option("--confidence", a->opt.confidence, "Level of the change's confidence interval")
      ->check(CLI::Range(0.5, 0.9999))
      ->capture_default_str();
  sub->add_option("--min-samples", a->opt.min_samples,
                  "Fewer samples on either side gives 'inconclusive'")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  sub->add_option("--noise-factor", a->opt.noise_factor,
                  "Noise floor = this x the baseline's robust relative spread (0 turns it off)")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  sub->add_option("--format", a->format, "What to print: terminal, markdown, json or junit")
      ->check(CLI::IsMember({"terminal", "markdown", "json", "junit"}))
      ->capture_default_str();
  add_json_option(sub, a->json);
  sub->add_option("--markdown", a->markdown, "Also write the Markdown table to this file");
  sub->add_option("--junit", a->junit, "Also write JUnit XML (a test case per benchmark) here");
  sub->add_flag("--fail-on-missing", a->fail_on_missing,
                "Exit 1 also when a baseline benchmark is missing, failed or skipped now");
  return {sub, [a](const Invocation& inv) {
            ResultsWriter out(a->json, "compare", inv.argv);
            try {
              compare::CompareOptions opt = a->opt;
              for (const auto& t : a->thresholds) compare::parse_threshold(t, opt.thresholds);
              const auto db = compare::spec_db_or_warn();
              const auto inputs = compare::load_inputs(a->files, a->baseline_dir);
              const compare::Comparison c = compare::compare_inputs(inputs, opt, db.get());
              out.set("devices", devices_json(inputs.current));
              out.set("comparison", compare::to_json(c));
              if (!a->markdown.empty())
                compare::write_text_file(a->markdown, compare::format_markdown(c));
              if (!a->junit.empty()) compare::write_text_file(a->junit, compare::format_junit(c));
              const bool failed = c.regressed() || (a->fail_on_missing && c.missing_now() > 0);
              out.finish("complete");
              if (a->format == "terminal") std::fputs(compare::format_terminal(c).c_str(), stdout);
              if (a->format == "markdown") std::fputs(compare::format_markdown(c).c_str(), stdout);
              if (a->format == "junit") std::fputs(compare::format_junit(c).c_str(), stdout);
              if (a->format == "json")
                std::puts(out.document()
                              .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                              .c_str());
              return failed ? kExitCheckFailed : kExitOk;
            } catch (const Error& e) {
              out.finish("failed", e.what());
              throw;
            }
          }};
}

}  // namespace goodput::cli
