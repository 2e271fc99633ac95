// The comparison as people and CI systems read it: a terminal table, Markdown for a pull-request
// comment, and JUnit XML (one test case per benchmark). JSON is compare.hpp's to_json.
#pragma once
#include <string>

#include "harness/compare/compare.hpp"

namespace goodput::compare {

std::string format_terminal(const Comparison& c);
std::string format_markdown(const Comparison& c);
std::string format_junit(const Comparison& c);

// Small helpers shared with the HTML report.
std::string human_time(double seconds);        // "1.234 ms"
std::string human_rate(const Figure& f);       // "795.3 TFLOP/s", "2.91 TB/s"
std::string signed_percent(double fraction);   // "+5.1%"
std::string xml_escape(const std::string& s);  // also right for HTML text and attributes
// Write a text file through a temporary and a rename. RuntimeFailure on I/O error.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace goodput::compare
