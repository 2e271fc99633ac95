// The ledger's outputs: the results-JSON section, the terminal report and the SVG timeline.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "profiler/ledger/ledger.hpp"

namespace goodput::ledger {

namespace {

const char* layer_name(Layer l) {
  switch (l) {
    case Layer::kInfra:
      return "infra";
    case Layer::kFramework:
      return "framework";
    default:
      return "productive";
  }
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// Seconds in the unit a reader of this window wants.
std::string fmts(const char* f, const std::string& v) {
  char b[256];
  std::snprintf(b, sizeof b, f, v.c_str());
  return b;
}

std::string dur(double s, double scale) {
  if (scale >= 4 * 3600) return fmt("%.2f h", s / 3600);
  if (scale >= 300) return fmt("%.1f min", s / 60);
  return fmt("%.2f s", s);
}

std::string pct(double frac) {
  return fmt("%.2f %%", 100 * frac);
}

nlohmann::json cause_json(const Cause& c) {
  nlohmann::json j = {{"type", c.type}, {"description", c.description}};
  if (!c.where.empty()) j["where"] = c.where;
  if (c.t > 0) j["t"] = c.t;
  if (c.attempt) j["attempt"] = c.attempt;
  if (c.fault >= 0) j["fault"] = c.fault;
  if (!c.checkpoint.empty()) {
    j["checkpoint"] = c.checkpoint;
    j["checkpoint_step"] = c.checkpoint_step;
  }
  return j;
}

const char* color_of(const std::string& cat) {
  static const std::pair<const char*, const char*> colors[] = {
      {"productive", "#2e9e44"},
      {"queueing", "#9e9e9e"},
      {"infra_fault", "#c62828"},
      {"restart", "#ef6c00"},
      {"orchestration", "#bdbdbd"},
      {"teardown", "#757575"},
      {"startup", "#7e57c2"},
      {"init", "#5e35b1"},
      {"checkpoint_restore", "#0277bd"},
      {"checkpoint_save", "#29b6f6"},
      {"data_stall", "#fdd835"},
      {"lost_progress", "#e53935"},
      {"unfinished_step", "#880e4f"},
      {"step_gap", "#a5d6a7"},
      {"shutdown", "#8d6e63"},
  };
  for (const auto& [name, color] : colors)
    if (cat == name) return color;
  return "#26a69a";  // custom phases
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

}  // namespace

nlohmann::json to_json(const Ledger& l, const EventLog& log) {
  using nlohmann::json;
  json j;
  j["convention"] = "goodput";
  j["window"] = {{"start", l.window_start},
                 {"end", l.window_end},
                 {"start_utc", format_utc(l.window_start)},
                 {"end_utc", format_utc(l.window_end)},
                 {"seconds", l.window_s},
                 {"job_start_inferred", l.job_start_inferred},
                 {"job_end_inferred", l.job_end_inferred},
                 {"job_status", l.job_status}};
  if (l.gpus >= 0) {
    j["window"]["gpus"] = l.gpus;
    j["window"]["gpu_hours"] = l.window_s * static_cast<double>(l.gpus) / 3600.0;
  }
  json model = {{"mfu", nullptr}, {"source", l.model.source}, {"known", l.model.mfu.has_value()}};
  if (l.model.mfu) model["mfu"] = *l.model.mfu;
  j["layers"] = {{"infra",
                  {{"goodput", l.infra_goodput},
                   {"available_s", l.available_s},
                   {"lost_s", l.window_s - l.available_s}}},
                 {"framework",
                  {{"goodput", l.framework_goodput},
                   {"productive_s", l.productive_s},
                   {"lost_s", l.available_s - l.productive_s}}},
                 {"model", model}};
  j["goodput"] = l.goodput ? json(*l.goodput) : json(nullptr);
  j["infra_x_framework"] = l.infra_goodput * l.framework_goodput;
  json cats = json::array();
  for (const auto& t : l.totals)
    cats.push_back({{"category", t.category},
                    {"layer", layer_name(t.layer)},
                    {"seconds", t.seconds},
                    {"percent", 100 * t.share_of_window}});
  j["categories"] = cats;
  json causes = json::array();
  for (const auto& c : l.causes) causes.push_back(cause_json(c));
  json losses = json::array();
  for (const auto& loss : l.losses)
    losses.push_back({{"category", loss.category},
                      {"layer", layer_name(category_layer(loss.category))},
                      {"seconds", loss.seconds},
                      {"percent", 100 * loss.seconds / l.window_s},
                      {"intervals", loss.intervals},
                      {"cause", cause_json(l.causes[loss.cause])}});
  j["losses"] = losses;
  json faults = json::array();
  for (const auto& f : l.faults)
    faults.push_back({{"t", f.t},
                      {"utc", format_utc(f.t)},
                      {"cause", f.cause},
                      {"layer", f.layer},
                      {"ranks", f.ranks},
                      {"where", f.where},
                      {"attempt", f.attempt},
                      {"cost_s", f.cost_s}});
  j["faults"] = faults;
  json attempts = json::array();
  for (const auto& a : l.attempts)
    attempts.push_back({{"attempt", a.attempt},
                        {"start", a.start},
                        {"end", a.end},
                        {"end_inferred", a.end_inferred},
                        {"first_step", a.first_step},
                        {"last_step", a.last_step},
                        {"resumed_from_step", a.resumed_from},
                        {"steps_run", a.steps_run},
                        {"steps_kept", a.steps_kept},
                        {"steps_lost", a.steps_lost},
                        {"steps_unfinished", a.unfinished},
                        {"productive_s", a.productive_s},
                        {"ended_by", a.ended_by}});
  j["attempts"] = attempts;
  json steps = {{"count", 0}};
  if (l.step_stats) {
    steps = {{"count", l.step_stats->n},
             {"stats_s", goodput::to_json(*l.step_stats)},
             {"slow_rule", "step time > median + 3 x MAD"},
             {"slow_threshold_s", l.slow_threshold_s},
             {"slow_steps", l.slow_steps},
             {"slow_excess_s", l.slow_excess_s}};
    json slow = json::array();
    for (const auto& s : l.slowest)
      slow.push_back({{"step", s.step},
                      {"attempt", s.attempt},
                      {"seconds", s.seconds},
                      {"excess_s", s.excess_s},
                      {"where", s.where}});
    steps["slowest"] = slow;
  }
  j["steps"] = steps;
  json skew = json::array();
  for (const auto& s : log.skew)
    skew.push_back(
        {{"rank", s.rank}, {"offset_s", s.offset_s}, {"matched_steps", s.matched_steps}});
  j["log"] = {{"files", log.files},
              {"lines", log.lines},
              {"events", log.events_total},
              {"events_used", log.events_kept},
              {"skipped_lines", log.skipped_lines},
              {"ranks", log.ranks_seen},
              {"reference_rank", log.reference_rank},
              {"clock_skew", skew},
              {"unknown_kinds", log.unknown_kinds},
              {"format_version", kEventFormatVersion}};
  json warnings = json::array();
  for (const auto* list : {&log.warnings, &l.warnings})
    for (const auto& w : *list) warnings.push_back({{"where", w.where}, {"message", w.message}});
  j["warnings"] = warnings;
  j["warnings_total"] = log.warnings_total + l.warnings.size();
  return j;
}

std::string format_report(const Ledger& l, const EventLog& log) {
  std::ostringstream o;
  const double W = l.window_s;
  o << "goodput ledger: " << log.files.size() << " file(s), " << log.events_total << " events, "
    << log.ranks_seen.size() << " rank(s) (reference rank " << log.reference_rank << ")\n";
  o << "window " << format_utc(l.window_start) << " .. " << format_utc(l.window_end) << "  ("
    << dur(W, W);
  if (l.gpus >= 0)
    o << ", " << l.gpus << " GPUs = " << fmt("%.1f", W * static_cast<double>(l.gpus) / 3600)
      << " GPU-hours";
  o << ")" << (l.job_end_inferred ? "  [no job_end: ends at the last event]" : "") << "\n\n";
  o << "  infra goodput      " << fmt("%7.2f %%", 100 * l.infra_goodput) << "   available "
    << dur(l.available_s, W) << " of " << dur(W, W) << "\n";
  o << "  framework goodput  " << fmt("%7.2f %%", 100 * l.framework_goodput) << "   kept steps "
    << dur(l.productive_s, W) << " of " << dur(l.available_s, W) << "\n";
  if (l.model.mfu)
    o << "  model goodput      " << fmt("%7.2f %%", 100 * *l.model.mfu) << "   MFU from "
      << l.model.source << "\n";
  else
    o << "  model goodput      unknown    (give --analysis analyze.json or --mfu X)\n";
  if (l.goodput)
    o << "  goodput            " << fmt("%7.2f %%", 100 * *l.goodput) << "\n";
  else
    o << "  goodput            unknown    (infra x framework = "
      << pct(l.infra_goodput * l.framework_goodput) << ")\n";
  o << "\nwhere the window went\n";
  for (const auto& t : l.totals) {
    if (t.seconds < 0.5 && t.share_of_window < 1e-4) continue;  // rounding dust; kept in --json
    o << "  " << fmts("%-20s", t.category) << fmts("%-11s", layer_name(t.layer))
      << fmts("%14s", dur(t.seconds, W)) << fmt("%9.2f %%", 100 * t.share_of_window) << "\n";
  }
  o << "\nlargest losses and their causes\n";
  std::size_t shown = 0;
  for (const auto& loss : l.losses) {
    if (shown++ == 12) break;
    const Cause& c = l.causes[loss.cause];
    o << "  " << fmts("%14s", dur(loss.seconds, W)) << "  " << fmts("%-20s", loss.category)
      << c.description;
    if (!c.where.empty()) o << "  [" << c.where << "]";
    if (!c.checkpoint.empty()) o << "; resumed from checkpoint " << c.checkpoint;
    o << "\n";
  }
  if (l.losses.size() > 12) o << "  ... " << l.losses.size() - 12 << " more in --json\n";
  if (!l.faults.empty()) {
    o << "\nfaults\n";
    for (const auto& f : l.faults)
      o << "  " << format_utc(f.t) << "  attempt " << f.attempt << "  " << f.cause << " ("
        << f.layer << ")" << (f.ranks.empty() ? "" : " ranks " + f.ranks) << "  cost "
        << dur(f.cost_s, W) << "  [" << f.where << "]\n";
  }
  o << "\nattempts\n  #  start                     duration    steps         kept   lost  resumed  "
       "ended by\n";
  for (const auto& a : l.attempts) {
    char b[256];
    const std::string steps =
        a.first_step < 0 ? "-" : std::to_string(a.first_step) + "-" + std::to_string(a.last_step);
    std::snprintf(b, sizeof b, "  %-2d %s  %10s  %-12s %6zu %6zu  %7s  ", a.attempt,
                  format_utc(a.start).c_str(), dur(a.end - a.start, W).c_str(), steps.c_str(),
                  a.steps_kept, a.steps_lost + a.unfinished,
                  a.resumed_from < 0 ? "-" : std::to_string(a.resumed_from).c_str());
    o << b << a.ended_by << "\n";
  }
  if (l.step_stats) {
    const auto& s = *l.step_stats;
    o << "\nstep time: " << s.n << " steps, median " << fmt("%.4g s", s.median) << ", p90 "
      << fmt("%.4g s", s.p90) << ", MAD " << fmt("%.3g s", s.mad) << "; " << l.slow_steps
      << " slow (> median + 3 MAD = " << fmt("%.4g s", l.slow_threshold_s) << "), excess "
      << dur(l.slow_excess_s, W) << "\n";
    for (const auto& sl : l.slowest)
      o << "    step " << sl.step << " (attempt " << sl.attempt << ") " << fmt("%.4g s", sl.seconds)
        << "  +" << fmt("%.4g s", sl.excess_s) << "  [" << sl.where << "]\n";
  }
  for (const auto& sk : log.skew)
    if (std::abs(sk.offset_s) > 1e-3)
      o << "clock: rank " << sk.rank << " is " << fmt("%+.3f s", sk.offset_s)
        << " off the reference rank (" << sk.matched_steps << " steps)\n";
  const std::size_t nw = log.warnings_total + l.warnings.size();
  if (nw) {
    o << "\nwarnings (" << nw << ")\n";
    std::size_t k = 0;
    for (const auto* list : {&log.warnings, &l.warnings})
      for (const auto& w : *list)
        if (k++ < 20) o << "  " << (w.where.empty() ? "" : w.where + ": ") << w.message << "\n";
    if (nw > 20) o << "  ... " << nw - 20 << " more in --json\n";
  }
  return o.str();
}

std::string render_svg(const Ledger& l) {
  const int width = 1200, left = 10, bar_y = 40, bar_h = 60;
  const int bins = width - 2 * left;
  const std::size_t ncat = l.category_names.size();
  std::vector<double> acc(static_cast<std::size_t>(bins) * ncat, 0.0);
  const double W = l.window_s, per_bin = W / bins;
  for (const auto& s : l.timeline) {
    double a = s.start - l.window_start, b = s.end - l.window_start;
    int i0 = std::clamp(static_cast<int>(a / per_bin), 0, bins - 1);
    const int i1 = std::clamp(static_cast<int>(b / per_bin), 0, bins - 1);
    for (int i = i0; i <= i1; ++i) {
      const double lo = std::max(a, i * per_bin), hi = std::min(b, (i + 1) * per_bin);
      if (hi > lo) acc[static_cast<std::size_t>(i) * ncat + s.category] += hi - lo;
    }
  }
  std::ostringstream o;
  const int legend_rows = static_cast<int>((l.totals.size() + 3) / 4);
  const int height = bar_y + bar_h + 40 + legend_rows * 18;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<text x=\"" << left << "\" y=\"18\">goodput ledger "
    << xml_escape(format_utc(l.window_start)) << " .. " << xml_escape(format_utc(l.window_end))
    << "  infra " << pct(l.infra_goodput) << " x framework " << pct(l.framework_goodput)
    << " x model " << (l.model.mfu ? pct(*l.model.mfu) : std::string("unknown")) << "</text>\n";
  // Each pixel column gets the colour of the category that owns most of it; runs are merged.
  int run_start = 0;
  std::size_t run_cat = ncat;
  auto flush = [&](int end) {
    if (run_cat < ncat)
      o << "<rect x=\"" << left + run_start << "\" y=\"" << bar_y << "\" width=\""
        << end - run_start << "\" height=\"" << bar_h << "\" fill=\""
        << color_of(l.category_names[run_cat]) << "\"><title>"
        << xml_escape(l.category_names[run_cat]) << "</title></rect>\n";
  };
  for (int i = 0; i < bins; ++i) {
    std::size_t best = ncat;
    double best_s = 0;
    for (std::size_t c = 0; c < ncat; ++c)
      if (acc[static_cast<std::size_t>(i) * ncat + c] > best_s) {
        best_s = acc[static_cast<std::size_t>(i) * ncat + c];
        best = c;
      }
    if (best != run_cat) {
      flush(i);
      run_start = i;
      run_cat = best;
    }
  }
  flush(bins);
  auto xpos = [&](double t) {
    return left + std::clamp((t - l.window_start) / W, 0.0, 1.0) * bins;
  };
  for (const auto& a : l.attempts) {
    o << "<line x1=\"" << xpos(a.start) << "\" x2=\"" << xpos(a.start) << "\" y1=\"" << bar_y - 8
      << "\" y2=\"" << bar_y + bar_h << "\" stroke=\"black\"/>\n";
    o << "<text x=\"" << xpos(a.start) + 2 << "\" y=\"" << bar_y - 2 << "\" font-size=\"10\">#"
      << a.attempt << "</text>\n";
  }
  for (const auto& f : l.faults) {
    const double x = xpos(f.t);
    o << "<path d=\"M" << x - 5 << "," << bar_y + bar_h + 12 << " L" << x + 5 << ","
      << bar_y + bar_h + 12 << " L" << x << "," << bar_y + bar_h + 2
      << " Z\" fill=\"#b71c1c\"><title>" << xml_escape(f.cause + " (" + f.layer + ") " + f.where)
      << "</title></path>\n";
  }
  int k = 0;
  for (const auto& t : l.totals) {
    const int x = left + (k % 4) * 290, y = bar_y + bar_h + 30 + (k / 4) * 18;
    o << "<rect x=\"" << x << "\" y=\"" << y - 10 << "\" width=\"12\" height=\"12\" fill=\""
      << color_of(t.category) << "\"/><text x=\"" << x + 16 << "\" y=\"" << y << "\">"
      << xml_escape(t.category) << " " << pct(t.share_of_window) << "</text>\n";
    ++k;
  }
  o << "</svg>\n";
  return o.str();
}

ModelLayer model_layer_from_analysis(const nlohmann::json& doc, const std::string& path) {
  auto valid = [](const nlohmann::json& v) {
    return v.is_number() && v.get<double>() > 0 && v.get<double>() <= 1;
  };
  if (!doc.is_object() || !doc.contains("analysis") || !doc["analysis"].is_object())
    throw InputError(path +
                     ": no 'analysis' section (expected the --json output of goodput analyze)");
  const auto& a = doc["analysis"];
  if (a.contains("summary") && a["summary"].is_object() && a["summary"].contains("mfu")) {
    if (!valid(a["summary"]["mfu"]))
      throw InputError(path + ": analysis.summary.mfu must be a fraction in (0, 1]");
    return {a["summary"]["mfu"].get<double>(), path + " (analysis.summary.mfu)"};
  }
  if (a.contains("mfu")) {
    if (!valid(a["mfu"])) throw InputError(path + ": analysis.mfu must be a fraction in (0, 1]");
    return {a["mfu"].get<double>(), path + " (analysis.mfu)"};
  }
  // `goodput analyze` today: one entry per rank with its steady-state median MFU.
  if (a.contains("ranks") && a["ranks"].is_array()) {
    std::vector<double> v;
    for (std::size_t i = 0; i < a["ranks"].size(); ++i) {
      const auto& r = a["ranks"][i];
      if (!r.is_object() || !r.contains("steady_state") || !r["steady_state"].is_object() ||
          !r["steady_state"].contains("mfu_median"))
        continue;
      if (!valid(r["steady_state"]["mfu_median"]))
        throw InputError(path + ": analysis.ranks[" + std::to_string(i) +
                         "].steady_state.mfu_median must be a fraction in (0, 1]");
      v.push_back(r["steady_state"]["mfu_median"].get<double>());
    }
    if (!v.empty())
      return {median(v), path + " (median over ranks of analysis.ranks[].steady_state.mfu_median)"};
  }
  if (a.contains("steps") && a["steps"].is_array()) {
    std::vector<double> v;
    for (std::size_t i = 0; i < a["steps"].size(); ++i) {
      const auto& s = a["steps"][i];
      if (!s.is_object() || !s.contains("mfu") || !s["mfu"].is_number()) continue;
      if (!valid(s["mfu"]))
        throw InputError(path + ": analysis.steps[" + std::to_string(i) +
                         "].mfu must be a fraction in (0, 1]");
      v.push_back(s["mfu"].get<double>());
    }
    if (!v.empty()) return {median(v), path + " (median of analysis.steps[].mfu)"};
  }
  throw InputError(path +
                   ": found no MFU (looked for analysis.summary.mfu, analysis.mfu, "
                   "analysis.ranks[].steady_state.mfu_median, analysis.steps[].mfu); was the "
                   "trace analyzed with --model?");
}

}  // namespace goodput::ledger
