#include "harness/compare/format.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "harness/core/error.hpp"

namespace goodput::compare {
namespace {

using Row = std::vector<std::string>;

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string ci_text(const Entry& e) {
  return "[" + signed_percent(e.ci_lo) + ", " + signed_percent(e.ci_hi) + "]" +
         (e.ci_bounded ? "" : "*");
}

std::string p_text(const Entry& e) {
  return fmt("%.2g", e.test.p_value);
}

std::string benchmark_label(const Measurement& m) {
  const std::string p = m.params_text();
  return p.empty() ? m.name : m.name + " (" + p + ")";
}

std::string of_datasheet(const Entry& e) {
  if (!e.datasheet || !e.cur_figure) return "-";
  return fmt("%.1f%%", 100.0 * e.cur_figure->value / *e.datasheet);
}

std::string figure_text(const std::optional<Figure>& f) {
  return f ? human_rate(*f) : "-";
}

// Column widths count UTF-8 code points, so "±" aligns.
std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string render(const std::vector<Row>& rows) {
  std::vector<std::size_t> w;
  for (const auto& r : rows) {
    w.resize(std::max(w.size(), r.size()), 0);
    for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  }
  std::string out;
  for (std::size_t ri = 0; ri < rows.size(); ++ri) {
    std::string line;
    for (std::size_t i = 0; i < rows[ri].size(); ++i) {
      if (i) line += "  ";
      line += rows[ri][i] + std::string(w[i] - width(rows[ri][i]), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
    if (ri == 0) {
      std::size_t total = 0;
      for (auto x : w) total += x + 2;
      out += std::string(total > 2 ? total - 2 : 0, '-') + '\n';
    }
  }
  return out;
}

std::string summary_line(const Comparison& c) {
  std::ostringstream s;
  s << c.entries.size() << " compared: " << c.count(Verdict::kSlower) << " slower, "
    << c.count(Verdict::kFaster) << " faster, " << c.count(Verdict::kSame) << " same, "
    << c.count(Verdict::kInconclusive) << " inconclusive; " << c.only_baseline.size()
    << " only in baseline, " << c.only_current.size() << " only in current, "
    << c.not_measured.size() << " not measured";
  return s.str();
}

// Inside a code span only a pipe (which would end the table cell) and line breaks need care.
std::string md_cell(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|')
      out += "\\|";
    else
      out += ch == '\n' || ch == '\r' ? ' ' : ch;
  }
  return out;
}

// Text from the files (reasons, errors, parameters) read as text, never as Markdown or HTML.
std::string md_text(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (std::strchr("\\`*_[]<>|~&#", ch) && ch != '\0') out += '\\';
    out += ch == '\n' || ch == '\r' ? ' ' : ch;
  }
  return out;
}

// "3.0%", or "3.0% (collective 8.0%)" with thresholds per kind.
std::string thresholds_text(const Thresholds& t) {
  std::string kinds;
  for (const auto& [kind, v] : t.by_kind)
    kinds += (kinds.empty() ? "" : ", ") + md_text(kind) + " " + fmt("%.1f%%", v * 100);
  const std::string all = fmt("%.1f%%", t.fallback * 100);
  return kinds.empty() ? all : all + " (" + kinds + ")";
}

}  // namespace

std::string human_time(double s) {
  if (s >= 1) return fmt("%.3f s", s);
  if (s >= 1e-3) return fmt("%.3f ms", s * 1e3);
  if (s >= 1e-6) return fmt("%.3f us", s * 1e6);
  return fmt("%.1f ns", s * 1e9);
}

std::string human_rate(const Figure& f) {
  if (f.metric == "flop_per_s") return fmt("%.1f TFLOP/s", f.value / 1e12);
  std::string suffix;
  if (f.metric.rfind("busbw", 0) == 0) suffix = " busbw";
  if (f.metric.rfind("algbw", 0) == 0) suffix = " algbw";
  if (f.value >= 1e12) return fmt("%.3f TB/s", f.value / 1e12) + suffix;
  return fmt("%.1f GB/s", f.value / 1e9) + suffix;
}

std::string signed_percent(double fraction) {
  return fmt("%+.1f%%", fraction * 100);
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r')
          out += ' ';
        else
          out += c;
    }
  }
  return out;
}

void write_text_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    if (!out) throw RuntimeFailure(path + ": cannot write (" + std::strerror(errno) + ")");
    out << text;
    if (!out) throw RuntimeFailure(path + ": write failed (" + std::strerror(errno) + ")");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw RuntimeFailure(path + ": cannot rename temporary file: " + ec.message());
}

std::string format_terminal(const Comparison& c) {
  std::vector<Row> rows = {{"benchmark", "baseline", "current", "change", "CI", "p", "verdict",
                            "rate now", "of datasheet", "flags"}};
  // Parameters only where the name alone is ambiguous: names usually spell them out already.
  std::map<std::string, int> name_count;
  for (const auto& e : c.entries) ++name_count[e.current.name];
  for (const auto& e : c.entries) {
    std::string flag_refs;
    for (const auto& f : e.flags) {
      const auto idx = std::find(c.flags.begin(), c.flags.end(), f) - c.flags.begin();
      flag_refs += "[" + std::to_string(idx + 1) + "]";
    }
    std::string verdict = to_string(e.verdict);
    if (e.verdict == Verdict::kSlower) verdict = "SLOWER";
    rows.push_back({name_count[e.current.name] > 1 ? benchmark_label(e.current) : e.current.name,
                    human_time(e.base_stats.median), human_time(e.cur_stats.median),
                    signed_percent(e.change), ci_text(e), p_text(e), verdict,
                    figure_text(e.cur_figure), of_datasheet(e), flag_refs});
  }
  std::string out = render(rows);
  out += summary_line(c) + '\n';
  for (const auto& e : c.entries)
    if (e.verdict != Verdict::kSame) out += "  " + e.current.name + ": " + e.reason + '\n';
  for (std::size_t i = 0; i < c.flags.size(); ++i)
    out += "  [" + std::to_string(i + 1) + "] " + c.flags[i] + '\n';
  auto list = [&out](const char* title, const std::vector<Unmatched>& v) {
    if (v.empty()) return;
    out += std::string(title) + ":\n";
    for (const auto& u : v) out += "  " + benchmark_label(u.m) + ": " + u.why + '\n';
  };
  list("Only in the baseline", c.only_baseline);
  list("Only in the current results", c.only_current);
  list("Not measured", c.not_measured);
  const bool any_unbounded =
      std::any_of(c.entries.begin(), c.entries.end(), [](const Entry& e) { return !e.ci_bounded; });
  out += fmt("CI: %.0f%% Hodges-Lehmann interval of the time ratio", c.options.confidence * 100) +
         (any_unbounded ? "; * = too few samples, full range shown" : "") + '\n';
  out += c.regressed() ? "RESULT: regression\n" : "RESULT: no regression\n";
  return out;
}

std::string format_markdown(const Comparison& c) {
  std::ostringstream s;
  const std::size_t slower = c.count(Verdict::kSlower);
  s << "## goodput compare: "
    << (slower ? std::to_string(slower) + " regression" + (slower > 1 ? "s" : "") : "no regression")
    << "\n\n"
    << summary_line(c) << ".\n\n";
  if (!c.flags.empty()) {
    s << "> **Warning** the results ran on different setups:\n";
    for (const auto& f : c.flags) s << "> - " << md_text(f) << '\n';
    s << '\n';
  }
  s << "| benchmark | parameters | baseline | current | change | "
    << fmt("%.0f%%", c.options.confidence * 100) << " CI | p | verdict | of datasheet |\n"
    << "|---|---|--:|--:|--:|--:|--:|---|--:|\n";
  for (const auto& e : c.entries) {
    std::string verdict = to_string(e.verdict);
    if (e.verdict == Verdict::kSlower) verdict = "**slower**";
    if (e.verdict == Verdict::kInconclusive) verdict = "_inconclusive_";
    s << "| `" << md_cell(e.current.name) << "` | " << md_text(e.current.params_text()) << " | "
      << human_time(e.base_stats.median) << " | " << human_time(e.cur_stats.median) << " | "
      << signed_percent(e.change) << " | " << ci_text(e) << " | " << p_text(e) << " | " << verdict
      << " | " << of_datasheet(e) << " |\n";
  }
  bool any_note = false;
  for (const auto& e : c.entries) {
    if (e.verdict == Verdict::kSame) continue;
    if (!any_note) s << "\n**Details**\n\n";
    any_note = true;
    s << "- `" << md_cell(e.current.name) << "`: " << md_text(e.reason) << '\n';
  }
  auto list = [&s](const char* title, const std::vector<Unmatched>& v) {
    if (v.empty()) return;
    s << "\n**" << title << "**\n\n";
    for (const auto& u : v)
      s << "- `" << md_cell(u.m.name) << "` " << md_text(u.m.params_text()) << ": "
        << md_text(u.why) << '\n';
  };
  list("Only in the baseline", c.only_baseline);
  list("Only in the current results", c.only_current);
  list("Not measured", c.not_measured);
  s << "\n<sub>Change of the median time (positive = slower); Mann-Whitney U test; threshold "
    << thresholds_text(c.options.thresholds) << " or the noise floor ("
    << fmt("%.1f", c.options.noise_factor)
    << "× the baseline's relative spread), whichever is larger; same needs the interval within "
       "it; fewer than "
    << c.options.min_samples << " samples a side is inconclusive.</sub>\n";
  return s.str();
}

std::string format_junit(const Comparison& c) {
  std::ostringstream s;
  const std::size_t tests =
      c.entries.size() + c.only_baseline.size() + c.only_current.size() + c.not_measured.size();
  const std::size_t skipped = c.count(Verdict::kInconclusive) + c.only_baseline.size() +
                              c.only_current.size() + c.not_measured.size();
  s << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<testsuites name=\"goodput compare\" tests=\"" << tests << "\" failures=\""
    << c.count(Verdict::kSlower) << "\" skipped=\"" << skipped << "\">\n"
    << "  <testsuite name=\"goodput.compare\" tests=\"" << tests << "\" failures=\""
    << c.count(Verdict::kSlower) << "\" errors=\"0\" skipped=\"" << skipped << "\">\n";
  auto open = [&s](const Measurement& m, double seconds) {
    s << "    <testcase classname=\"goodput." << xml_escape(m.kind.empty() ? "result" : m.kind)
      << "\" name=\"" << xml_escape(benchmark_label(m)) << "\" time=\"" << fmt("%.9g", seconds)
      << "\"";
  };
  for (const auto& e : c.entries) {
    open(e.current, e.cur_stats.median);
    const std::string detail = "baseline " + human_time(e.base_stats.median) + ", current " +
                               human_time(e.cur_stats.median) + ", change " +
                               signed_percent(e.change) + ", CI " + ci_text(e) + ", p " + p_text(e);
    if (e.verdict == Verdict::kSlower) {
      s << ">\n      <failure message=\"" << xml_escape(e.reason) << "\" type=\"regression\">"
        << xml_escape(detail) << "</failure>\n    </testcase>\n";
    } else if (e.verdict == Verdict::kInconclusive) {
      s << ">\n      <skipped message=\"inconclusive: " << xml_escape(e.reason) << "\"/>\n"
        << "    </testcase>\n";
    } else {
      s << ">\n      <system-out>" << xml_escape(to_string(e.verdict) + std::string(": ") + detail)
        << "</system-out>\n    </testcase>\n";
    }
  }
  auto unmatched = [&](const std::vector<Unmatched>& v) {
    for (const auto& u : v) {
      open(u.m, 0);
      s << ">\n      <skipped message=\"" << xml_escape(u.why) << "\"/>\n    </testcase>\n";
    }
  };
  unmatched(c.only_baseline);
  unmatched(c.only_current);
  unmatched(c.not_measured);
  s << "  </testsuite>\n</testsuites>\n";
  return s.str();
}

}  // namespace goodput::compare
