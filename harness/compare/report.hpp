// The self-contained HTML report: summary tables and pictures in one file, readable offline
// (inline CSS, pictures inlined as SVG, no scripts, no external assets).
#pragma once
#include <string>
#include <vector>

#include "harness/compare/compare.hpp"
#include "harness/compare/results_file.hpp"
#include "harness/core/gpu_spec.hpp"

namespace goodput::compare {

struct Picture {
  std::string title;
  std::string svg;  // an <svg> element
};

struct ReportInput {
  std::string title = "goodput report";
  std::vector<ResultsFile> files;
  const Comparison* comparison = nullptr;  // optional: the comparison against a baseline
  std::vector<Picture> pictures;
  std::string pictures_note;  // why pictures are missing, if they are
};

// `db` may be null (no datasheet column).
std::string render_html(const ReportInput& in, const SpecDb* db);
// The <svg> element of an SVG file's text (drops the XML prolog and doctype); InputError if none.
std::string inline_svg(const std::string& file_text, const std::string& origin);

}  // namespace goodput::compare
