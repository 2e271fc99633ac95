#include "harness/compare/report.hpp"

#include <cstdio>
#include <map>
#include <sstream>

#include "harness/compare/format.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "harness/core/version.hpp"

namespace goodput::compare {
namespace {

using nlohmann::json;

std::string esc(const std::string& s) {
  return xml_escape(s);
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string str_at(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::optional<double> num_at(const json& j, const std::string& pointer) {
  const auto p = json::json_pointer(pointer);
  if (!j.is_object() || !j.contains(p) || !j[p].is_number()) return std::nullopt;
  return j[p].get<double>();
}

const char* kCss = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1400px;
color:#1b1f24;padding:0 1em;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #d0d7de;
padding-bottom:.2em}h3{font-size:1.05em}
.meta{color:#57606a;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.slower td{background:#ffebe9}tr.faster td{background:#dafbe1}tr.inconclusive td{background:#fff8c5}
.banner{padding:.7em 1em;border-radius:6px;font-weight:600;margin:1em 0}
.bad{background:#ffebe9;border:1px solid #ff8182}.good{background:#dafbe1;border:1px solid #4ac26b}
.flag{color:#9a6700}.note{color:#57606a;font-size:.85em}
figure{margin:1.2em 0}figure svg{max-width:100%;height:auto}figcaption{font-weight:600;margin-bottom:.3em}
code{font-size:.9em;background:#f6f8fa;padding:0 .2em;border-radius:3px}
)";

std::string verdict_row_class(Verdict v) {
  switch (v) {
    case Verdict::kSlower:
      return "slower";
    case Verdict::kFaster:
      return "faster";
    case Verdict::kInconclusive:
      return "inconclusive";
    case Verdict::kSame:
      return "same";
  }
  return "";
}

void comparison_section(std::ostringstream& h, const Comparison& c) {
  const std::size_t slower = c.count(Verdict::kSlower);
  h << "<h2 id=\"comparison\">Comparison with the baseline</h2>\n";
  h << "<div class=\"banner " << (slower ? "bad" : "good") << "\">"
    << (slower ? std::to_string(slower) + " regression" + (slower > 1 ? "s" : "") + " found"
               : std::string("No regression"))
    << "</div>\n<p>" << c.entries.size() << " compared: " << slower << " slower, "
    << c.count(Verdict::kFaster) << " faster, " << c.count(Verdict::kSame) << " same, "
    << c.count(Verdict::kInconclusive) << " inconclusive; " << c.only_baseline.size()
    << " only in the baseline, " << c.only_current.size() << " only in the current results, "
    << c.not_measured.size() << " not measured.</p>\n";
  h << "<p class=\"note\">Baseline: ";
  for (const auto& f : c.baseline_files) h << "<code>" << esc(f) << "</code> ";
  h << "</p>\n";
  if (!c.flags.empty()) {
    h << "<ul>";
    for (const auto& f : c.flags) h << "<li class=\"flag\">" << esc(f) << "</li>";
    h << "</ul>\n";
  }
  // Parameters only where the name alone is ambiguous: names usually spell them out already.
  std::map<std::string, int> name_count;
  for (const auto& e : c.entries) ++name_count[e.current.name];
  h << "<table><tr><th>benchmark</th><th>baseline</th><th>current</th><th>change</th><th>"
    << fmt("%.0f", c.options.confidence * 100)
    << "% CI</th><th>p</th><th>threshold</th><th>verdict</th><th>rate now</th>"
    << "<th>of datasheet</th></tr>\n";
  for (const auto& e : c.entries) {
    const bool ambiguous = name_count[e.current.name] > 1;
    h << "<tr class=\"" << verdict_row_class(e.verdict) << "\"><td><code>" << esc(e.current.name)
      << "</code>" << (ambiguous ? " " + esc(e.current.params_text()) : "")
      << "</td><td class=\"num\">" << human_time(e.base_stats.median) << "</td><td class=\"num\">"
      << human_time(e.cur_stats.median) << "</td><td class=\"num\">" << signed_percent(e.change)
      << "</td><td class=\"num\">[" << signed_percent(e.ci_lo) << ", " << signed_percent(e.ci_hi)
      << "]" << (e.ci_bounded ? "" : "*") << "</td><td class=\"num\">"
      << fmt("%.2g", e.test.p_value) << "</td><td class=\"num\">±"
      << fmt("%.1f%%", e.threshold * 100) << "</td><td>" << to_string(e.verdict)
      << (e.flags.empty() ? "" : " <span class=\"flag\">⚑</span>") << "</td><td class=\"num\">"
      << (e.cur_figure ? human_rate(*e.cur_figure) : "-") << "</td><td class=\"num\">"
      << (e.datasheet && e.cur_figure ? fmt("%.1f%%", 100 * e.cur_figure->value / *e.datasheet)
                                      : "-")
      << "</td></tr>\n";
  }
  h << "</table>\n<p class=\"note\">Change of the median time (positive = slower); interval: "
       "Hodges-Lehmann interval of the time ratio (* = too few samples for the level, full "
       "range shown); p: Mann-Whitney U test; ⚑ = ran on a different setup (listed above).</p>\n";
  bool any = false;
  for (const auto& e : c.entries) {
    if (e.verdict == Verdict::kSame) continue;
    if (!any) h << "<h3>Why</h3><ul>";
    any = true;
    h << "<li><code>" << esc(e.current.name) << "</code>: " << esc(e.reason) << "</li>";
  }
  if (any) h << "</ul>\n";
  auto list = [&h](const char* title, const std::vector<Unmatched>& v) {
    if (v.empty()) return;
    h << "<h3>" << title << "</h3><ul>";
    for (const auto& u : v)
      h << "<li><code>" << esc(u.m.name) << "</code> " << esc(u.m.params_text()) << ": "
        << esc(u.why) << "</li>";
    h << "</ul>\n";
  };
  list("Only in the baseline", c.only_baseline);
  list("Only in the current results", c.only_current);
  list("Not measured", c.not_measured);
}

void devices_section(std::ostringstream& h, const std::vector<ResultsFile>& files,
                     const SpecDb* db) {
  h << "<h2 id=\"devices\">Devices</h2>\n<table><tr><th>file</th><th>#</th><th>name</th>"
    << "<th>CC</th><th>SMs</th><th>memory</th><th>driver</th><th>CUDA runtime</th>"
    << "<th>cuBLAS</th><th>NCCL</th><th>spec</th></tr>\n";
  for (const auto& f : files) {
    for (const auto& d : f.devices) {
      std::string spec = "-";
      if (db) {
        const DevicePeaks p = device_peaks(*db, d);
        spec = p.match == SpecMatch::kExact ? p.spec_name : std::string("derived: ") + p.note;
      }
      h << "<tr><td><code>" << esc(f.path) << "</code></td><td>" << d.index << "</td><td>"
        << esc(d.name) << "</td><td>" << d.cc_major << "." << d.cc_minor
        << "</td><td class=\"num\">" << d.sms << "</td><td class=\"num\">"
        << fmt("%.1f GiB", static_cast<double>(d.memory_bytes) / (1u << 30)) << "</td><td>"
        << esc(d.driver_release.empty() ? std::to_string(d.driver_version) : d.driver_release)
        << "</td><td>" << d.runtime_version << "</td><td>" << d.cublas_version << "</td><td>"
        << d.nccl_version << "</td><td>" << esc(spec) << "</td></tr>\n";
    }
  }
  h << "</table>\n";
}

void results_section(std::ostringstream& h, const ResultsFile& f, const SpecDb* db) {
  const auto& meta = f.doc.value("meta", json::object());
  h << "<h2>Results: <code>" << esc(f.path) << "</code></h2>\n<p class=\"meta\">command "
    << esc(str_at(meta, "command")) << ", status " << esc(str_at(meta, "status")) << ", started "
    << esc(str_at(meta, "start_time")) << ", goodput " << esc(str_at(meta, "tool_version"))
    << " (git " << esc(str_at(meta, "git_sha")) << "), schema " << esc(f.schema_version)
    << "</p>\n";
  h << "<table><tr><th>benchmark</th><th>kind</th><th>parameters</th><th>n</th>"
    << "<th>median</th><th>p10 – p90</th><th>spread</th><th>rate</th><th>of datasheet</th>"
    << "<th>status</th></tr>\n";
  for (const auto& m : f.results) {
    h << "<tr><td><code>" << esc(m.name) << "</code></td><td>" << esc(m.kind) << "</td><td>"
      << esc(m.params_text()) << "</td>";
    if (m.measured()) {
      const Stats s = summarize(m.seconds);
      const auto fig = headline_figure(m);
      const auto peak = fig ? datasheet_peak(m, *fig, db) : std::nullopt;
      h << "<td class=\"num\">" << s.n << "</td><td class=\"num\">" << human_time(s.median)
        << "</td><td class=\"num\">" << human_time(s.p10) << " – " << human_time(s.p90)
        << "</td><td class=\"num\">" << fmt("%.2f%%", s.rel_spread * 100)
        << "</td><td class=\"num\">" << (fig ? human_rate(*fig) : "-") << "</td><td class=\"num\">"
        << (fig && peak ? fmt("%.1f%%", 100 * fig->value / *peak) : "-") << "</td>";
    } else {
      h << "<td class=\"num\">0</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td>";
    }
    h << "<td>" << esc(m.status) << (m.reason.empty() ? "" : ": " + esc(m.reason))
      << "</td></tr>\n";
  }
  h << "</table>\n";
}

// The peak profile `goodput calibrate` writes: best reachable figure per data type and memory op.
void peak_profile_section(std::ostringstream& h, const ResultsFile& f) {
  if (!f.doc.contains("peak_profile") || !f.doc["peak_profile"].is_object()) return;
  const auto& pp = f.doc["peak_profile"];
  h << "<h3>Peak profile</h3>\n<table><tr><th>what</th><th>best reachable</th><th>datasheet</th>"
    << "<th>of datasheet</th><th>from</th></tr>\n";
  // One row: what, the best reachable figure, the datasheet figure, and the result it came from.
  auto row = [&h](const std::string& what, std::optional<double> rate, std::optional<double> ds,
                  const char* unit_fmt, const json& e) {
    h << "<tr><td>" << esc(what) << "</td><td class=\"num\">"
      << (rate ? fmt(unit_fmt, *rate / 1e12) : "-") << "</td><td class=\"num\">"
      << (ds ? fmt(unit_fmt, *ds / 1e12) : "-") << "</td><td class=\"num\">"
      << (rate && ds ? fmt("%.1f%%", 100 * *rate / *ds) : "-") << "</td><td><code>"
      << esc(e.contains("best") ? str_at(e["best"], "result") : "") << "</code></td></tr>\n";
  };
  if (pp.contains("gemm") && pp["gemm"].is_object())
    for (const auto& [dt, e] : pp["gemm"].items())
      row("GEMM " + dt, num_at(e, "/best/flops_per_s"), num_at(e, "/peaks/datasheet/value"),
          "%.1f TFLOP/s", e);
  if (pp.contains("memory") && pp["memory"].is_object() && pp["memory"].contains("ops") &&
      pp["memory"]["ops"].is_object())
    for (const auto& [op, e] : pp["memory"]["ops"].items())
      row("memory " + op, num_at(e, "/best/bytes_per_s"),
          num_at(pp["memory"], "/datasheet_bytes_per_s"), "%.3f TB/s", e);
  h << "</table>\n";
}

}  // namespace

std::string inline_svg(const std::string& text, const std::string& origin) {
  const auto start = text.find("<svg");
  const auto end = text.rfind("</svg>");
  if (start == std::string::npos || end == std::string::npos || end < start)
    throw InputError(origin + ": not an SVG picture (no <svg> element)");
  return text.substr(start, end + 6 - start);
}

std::string render_html(const ReportInput& in, const SpecDb* db) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>" << esc(in.title) << "</title>\n<style>" << kCss << "</style></head>\n<body>\n"
    << "<h1>" << esc(in.title) << "</h1>\n<p class=\"meta\">Written " << iso8601_now()
    << " by goodput " << esc(tool_version()) << " (git " << esc(git_sha()) << ") from ";
  for (const auto& f : in.files) h << "<code>" << esc(f.path) << "</code> ";
  h << "</p>\n";
  if (in.comparison) comparison_section(h, *in.comparison);
  devices_section(h, in.files, db);
  for (const auto& f : in.files) {
    results_section(h, f, db);
    peak_profile_section(h, f);
  }
  h << "<h2 id=\"pictures\">Pictures</h2>\n";
  if (!in.pictures_note.empty()) h << "<p class=\"note\">" << esc(in.pictures_note) << "</p>\n";
  for (const auto& p : in.pictures)
    h << "<figure><figcaption>" << esc(p.title) << "</figcaption>\n" << p.svg << "\n</figure>\n";
  h << "</body></html>\n";
  return h.str();
}

}  // namespace goodput::compare
