// The Markdown, JUnit and terminal outputs of a comparison, and the HTML report's contract.
#include "harness/compare/format.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "harness/compare/report.hpp"
#include "harness/core/error.hpp"

using namespace goodput;
using namespace goodput::compare;

namespace {

std::string fixture(const std::string& name) {
  return (std::filesystem::path(GOODPUT_COMPARE_FIXTURES) / name).string();
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST(Format, Markdown) {
  // Two current files (the second repeats nothing of the first but the planted regression).
  const auto c = compare_inputs(
      load_inputs({fixture("baseline.json"), fixture("current_regression.json")}, ""), {}, nullptr);
  const std::string md = format_markdown(c);
  EXPECT_EQ(md.rfind("## goodput compare: 1 regression\n", 0), 0u) << md.substr(0, 80);
  EXPECT_NE(md.find("| benchmark | parameters | baseline | current | change | 95% CI | p | verdict "
                    "| of datasheet |\n|---|---|--:|--:|--:|--:|--:|---|--:|\n"),
            std::string::npos);
  EXPECT_EQ(count(md, "\n| `"), 36u);  // one row per compared benchmark
  const auto row = md.find("| `gemm/bf16/8192x8192x8192` | dtype=bf16 k=8192 m=8192 n=8192 |");
  ASSERT_NE(row, std::string::npos);
  const std::string line = md.substr(row, md.find('\n', row) - row);
  EXPECT_NE(line.find("| **slower** |"), std::string::npos) << line;
  const Entry* e = nullptr;
  for (const auto& x : c.entries)
    if (x.current.name == "gemm/bf16/8192x8192x8192") e = &x;
  ASSERT_NE(e, nullptr);
  EXPECT_NE(line.find("| " + signed_percent(e->change) + " | [" + signed_percent(e->ci_lo) + ", " +
                      signed_percent(e->ci_hi) + "] |"),
            std::string::npos)
      << line;
  EXPECT_EQ(count(md, "**slower**"), 1u);
  EXPECT_NE(md.find("**Details**"), std::string::npos);
}

TEST(Format, MarkdownListsUnmatchedAndEscapesPipes) {
  auto c = compare_inputs(
      load_inputs({fixture("baseline.json"), fixture("current_unmatched.json")}, ""), {}, nullptr);
  const std::string md = format_markdown(c);
  EXPECT_NE(md.find("**Only in the baseline**\n\n- `memory/write`"), std::string::npos);
  EXPECT_NE(md.find("**Only in the current results**\n\n- `gemm/bf16/4096x14336x4096`"),
            std::string::npos);
  EXPECT_NE(md.find("**Not measured**\n\n- `gemm/fp8/1024x1024x1024`"), std::string::npos);
  c.entries.front().current.name = "a|b";
  EXPECT_NE(format_markdown(c).find("`a\\|b`"), std::string::npos);
}

TEST(Format, MarkdownEscapesTextFromTheFiles) {
  auto c = compare_inputs(
      load_inputs({fixture("baseline.json"), fixture("current_unmatched.json")}, ""), {}, nullptr);
  c.entries.front().current.name = "two\nlines|x";
  c.not_measured.front().why = "current status 'error': <img src=x> *bold*\n# heading";
  const std::string md = format_markdown(c);
  EXPECT_NE(md.find("\n| `two lines\\|x` |"), std::string::npos);
  EXPECT_NE(md.find(": current status 'error': \\<img src=x\\> \\*bold\\* \\# heading\n"),
            std::string::npos)
      << md.substr(md.find("**Not measured**"));
}

TEST(Format, MarkdownFooterShowsEveryThreshold) {
  CompareOptions opt;
  for (const char* t : {"2%", "collective=8%", "gemm=2.5%"}) parse_threshold(t, opt.thresholds);
  const auto c = compare_inputs(
      load_inputs({fixture("baseline.json"), fixture("current_noise.json")}, ""), opt, nullptr);
  EXPECT_NE(
      format_markdown(c).find("threshold 2.0% (collective 8.0%, gemm 2.5%) or the noise floor"),
      std::string::npos);
}

TEST(Format, JUnit) {
  const auto c = compare_inputs(
      load_inputs({fixture("baseline.json"), fixture("current_unmatched.json")}, ""), {}, nullptr);
  const std::string xml = format_junit(c);
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", 0), 0u);
  // 34 compared + 1 only in baseline + 1 only in current + 1 not measured; skipped: those 3 and
  // 3 noisy collectives whose interval reaches past the threshold (inconclusive).
  EXPECT_NE(xml.find("<testsuite name=\"goodput.compare\" tests=\"37\" failures=\"0\" errors=\"0\" "
                     "skipped=\"6\">"),
            std::string::npos)
      << xml.substr(0, 300);
  EXPECT_EQ(count(xml, "<testcase "), 37u);
  EXPECT_EQ(count(xml, "</testcase>"), 37u);
  EXPECT_NE(xml.find("name=\"memory/write (bytes=4294967296 op=write)\" time=\"0\">\n      "
                     "<skipped message=\"not in the current results\"/>"),
            std::string::npos);
  const auto r = compare_inputs(
      load_inputs({fixture("baseline.json"), fixture("current_regression.json")}, ""), {}, nullptr);
  const std::string rx = format_junit(r);
  EXPECT_NE(rx.find("failures=\"1\""), std::string::npos);
  EXPECT_EQ(count(rx, "<failure "), 1u);
  const auto tc = rx.find("<testcase classname=\"goodput.gemm\" name=\"gemm/bf16/8192x8192x8192 ");
  ASSERT_NE(tc, std::string::npos);
  EXPECT_EQ(rx.find("<failure message=\"slower by ", tc), rx.find("<failure "));
  EXPECT_NE(rx.find("type=\"regression\""), std::string::npos);
}

TEST(Format, XmlEscaping) {
  EXPECT_EQ(xml_escape("a<b>&\"c'\x01"), "a&lt;b&gt;&amp;&quot;c&#39; ");
}

TEST(Format, TerminalTable) {
  const auto c = compare_inputs(
      load_inputs({fixture("baseline.json"), fixture("current_regression.json")}, ""), {}, nullptr);
  const std::string t = format_terminal(c);
  EXPECT_EQ(t.rfind("benchmark", 0), 0u);
  EXPECT_NE(t.find("SLOWER"), std::string::npos);
  EXPECT_NE(t.find("36 compared: 1 slower, 0 faster, 30 same, 5 inconclusive"), std::string::npos);
  EXPECT_NE(t.find("RESULT: regression\n"), std::string::npos);
  EXPECT_EQ(human_time(0.00123), "1.230 ms");
  EXPECT_EQ(human_rate({"flop_per_s", 7.953e14}), "795.3 TFLOP/s");
  EXPECT_EQ(human_rate({"busbw_bytes_per_s", 4.5e11}), "450.0 GB/s busbw");
  EXPECT_EQ(human_rate({"algbw_bytes_per_s", 2.079e12}), "2.079 TB/s algbw");
}

TEST(Report, HtmlIsSelfContainedAndShowsTheNumbers) {
  static const SpecDb db = load_default_spec_db();
  const auto c = compare_inputs(
      load_inputs({fixture("baseline.json"), fixture("current_regression.json")}, ""), {}, &db);
  ReportInput in;
  in.files.push_back(load_results(fixture("current_regression.json")));
  in.comparison = &c;
  in.pictures.push_back({"A <test> picture",
                         inline_svg("<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg "
                                    "xmlns=\"http://www.w3.org/2000/svg\"><text>42</text></svg>\n",
                                    "x.svg")});
  const std::string html = render_html(in, &db);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("1 regression found"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"slower\"><td><code>gemm/bf16/8192x8192x8192</code>"),
            std::string::npos);
  EXPECT_NE(html.find("<figcaption>A &lt;test&gt; picture</figcaption>\n<svg xmlns"),
            std::string::npos);
  EXPECT_EQ(html.find("<?xml"), std::string::npos);
  EXPECT_NE(html.find("NVIDIA H100 80GB HBM3"), std::string::npos);
  EXPECT_NE(html.find("H100 SXM5 80GB"), std::string::npos);  // the spec it matched
  // No external assets: no scripts, no links, no remote sources.
  for (const char* s : {"<script", "<link", "src=\"http", "url(http", "@import"})
    EXPECT_EQ(html.find(s), std::string::npos) << s;
  EXPECT_THROW(inline_svg("<html></html>", "y.svg"), InputError);
}
