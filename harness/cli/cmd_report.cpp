// `goodput report`: one self-contained HTML page from results files (and, with a baseline, the
// comparison): tables plus the pictures scripts/plot_results.py draws.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "harness/cli/commands.hpp"
#include "harness/compare/compare.hpp"
#include "harness/compare/format.hpp"
#include "harness/compare/report.hpp"
#include "harness/core/data_dir.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::cli {

namespace {

namespace fs = std::filesystem;

struct ReportArgs {
  std::vector<std::string> files;
  std::string output;
  std::string baseline, baseline_dir;
  std::string title = "goodput report";
  std::string plot_script;
  bool no_pictures = false;
  std::string json;
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The plotting script: --plot-script, else next to the spec data (installed), else the source tree.
std::string find_plot_script(const std::string& given) {
  if (!given.empty()) return given;
  const fs::path data = data_dir();
  for (const fs::path& p : {data / "plot_results.py", data / ".." / "scripts" / "plot_results.py"})
    if (fs::exists(p)) return p.lexically_normal().string();
  return "";
}

// Runs the plotting script into a scratch folder; pictures in its manifest order, or a note why
// none.
void draw_pictures(const ReportArgs& a, const nlohmann::json* comparison_doc,
                   compare::ReportInput& in) {
  const std::string script = find_plot_script(a.plot_script);
  if (script.empty()) {
    in.pictures_note = "Pictures unavailable: scripts/plot_results.py was not found.";
    return;
  }
  const fs::path dir = fs::temp_directory_path() / ("goodput-report-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string cmd = shell_quote(std::getenv("PYTHON") ? std::getenv("PYTHON") : "python3") + " " +
                    shell_quote(script) + " --out " + shell_quote(dir.string()) + " --formats svg";
  if (comparison_doc) {
    write_json_atomic((dir / "compare.json").string(), *comparison_doc);
    cmd += " --compare " + shell_quote((dir / "compare.json").string());
  }
  for (const auto& f : a.files) cmd += " " + shell_quote(f);
  cmd += " >" + shell_quote((dir / "plot.log").string()) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  if (rc != 0 || !fs::exists(dir / "manifest.json")) {
    std::string log = read_text(dir / "plot.log");
    if (log.size() > 600) log = "..." + log.substr(log.size() - 600);
    in.pictures_note = "Pictures unavailable: the plotting script failed (exit " +
                       std::to_string(WIFEXITED(rc) ? WEXITSTATUS(rc) : rc) + "): " + log;
    std::fprintf(stderr, "goodput report: %s\n", in.pictures_note.c_str());
  } else {
    const auto manifest = read_json_file((dir / "manifest.json").string());
    for (const auto& p : manifest.value("pictures", nlohmann::json::array())) {
      const fs::path svg = dir / (p.value("name", "") + ".svg");
      in.pictures.push_back(
          {p.value("title", ""), compare::inline_svg(read_text(svg), svg.string())});
    }
    if (in.pictures.empty()) in.pictures_note = "No pictures: the results hold nothing to plot.";
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace

Command report_command(CLI::App& app) {
  auto* sub = app.add_subcommand("report", "Write a self-contained HTML report of results files");
  auto a = std::make_shared<ReportArgs>();
  sub->add_option("files", a->files, "Results files (goodput JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("-o,--output", a->output, "HTML file to write")->required();
  sub->add_option("--baseline", a->baseline, "Compare with this baseline results file")
      ->check(CLI::ExistingFile);
  sub->add_option("--baseline-dir", a->baseline_dir,
                  "Compare with the current device's SKU baseline in DIR/<sku>/")
      ->check(CLI::ExistingDirectory)
      ->excludes("--baseline");
  sub->add_option("--title", a->title, "Page title")->capture_default_str();
  sub->add_option("--plot-script", a->plot_script, "Path of plot_results.py (found by default)");
  sub->add_flag("--no-pictures", a->no_pictures, "Tables only; do not run the plotting script");
  add_json_option(sub, a->json);
  return {sub, [a](const Invocation& inv) {
            ResultsWriter out(a->json, "report", inv.argv);
            try {
              const auto db = compare::spec_db_or_warn();
              compare::ReportInput in;
              in.title = a->title;
              for (const auto& f : a->files) in.files.push_back(compare::load_results(f));
              std::optional<compare::Comparison> cmp;
              nlohmann::json cmp_doc;
              if (!a->baseline.empty() || !a->baseline_dir.empty()) {
                std::vector<std::string> paths = a->files;
                if (!a->baseline.empty()) paths.insert(paths.begin(), a->baseline);
                cmp = compare::compare_inputs(compare::load_inputs(paths, a->baseline_dir), {},
                                              db.get());
                in.comparison = &*cmp;
                ResultsWriter mem("", "compare", inv.argv);
                mem.set("comparison", compare::to_json(*cmp));
                cmp_doc = mem.document();
              }
              if (a->no_pictures)
                in.pictures_note = "Pictures left out (--no-pictures).";
              else
                draw_pictures(*a, cmp ? &cmp_doc : nullptr, in);
              compare::write_text_file(a->output, compare::render_html(in, db.get()));
              out.set("report", {{"html", a->output},
                                 {"pictures", in.pictures.size()},
                                 {"comparison", cmp ? compare::to_json(*cmp) : nlohmann::json()}});
              out.finish("complete");
              std::printf("wrote %s (%zu pictures%s)\n", a->output.c_str(), in.pictures.size(),
                          cmp ? (cmp->regressed() ? ", regression found" : ", no regression") : "");
              return 0;
            } catch (const Error& e) {
              out.finish("failed", e.what());
              throw;
            }
          }};
}

}  // namespace goodput::cli
