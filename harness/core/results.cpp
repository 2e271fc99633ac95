#include "harness/core/results.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "harness/core/env.hpp"
#include "harness/core/error.hpp"
#include "harness/core/version.hpp"

namespace goodput {

std::string iso8601_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

nlohmann::json host_info() {
  utsname u{};
  uname(&u);
  std::string cpu;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  return {{"hostname", u.nodename},
          {"os", std::string(u.sysname) + " " + u.release},
          {"machine", u.machine},
          {"cpu", cpu},
          {"cpus", std::thread::hardware_concurrency()}};
}

nlohmann::json make_meta(const std::string& command, const std::vector<std::string>& argv) {
  return {{"tool", "goodput"},
          {"tool_version", tool_version()},
          {"git_sha", git_sha()},
          {"git_dirty", git_dirty()},
          {"command", command},
          {"argv", redact_argv(argv)},
          {"start_time", iso8601_now()},
          {"end_time", nullptr},
          {"status", "running"},
          {"host", host_info()},
          {"environment", recorded_environment()}};
}

nlohmann::json to_json(const Stats& s) {
  return {{"n", s.n},
          {"median", s.median},
          {"mean", s.mean},
          {"stddev", s.stddev},
          {"min", s.min},
          {"max", s.max},
          {"p10", s.p10},
          {"p25", s.p25},
          {"p75", s.p75},
          {"p90", s.p90},
          {"p99", s.p99},
          {"mad", s.mad},
          {"rel_spread", s.rel_spread}};
}

ResultsWriter::ResultsWriter(std::string path, const std::string& command,
                             const std::vector<std::string>& argv)
    : path_(std::move(path)) {
  doc_ = {{"schema", kResultsSchema},
          {"schema_version", kResultsSchemaVersion},
          {"meta", make_meta(command, argv)},
          {"devices", nlohmann::json::array()},
          {"results", nlohmann::json::array()}};
  write();
}

void ResultsWriter::set(const std::string& key, nlohmann::json value) {
  doc_[key] = std::move(value);
  write();
}

void ResultsWriter::add_result(nlohmann::json result) {
  doc_["results"].push_back(std::move(result));
  write();
}

void ResultsWriter::finish_with(const std::string& key, nlohmann::json value,
                                const std::string& status) {
  doc_[key] = std::move(value);
  finish(status);
}

void ResultsWriter::finish(const std::string& status, const std::string& error) {
  doc_["meta"]["status"] = status;
  doc_["meta"]["end_time"] = iso8601_now();
  if (!error.empty()) doc_["meta"]["error"] = error;
  write();
}

void ResultsWriter::write() const {
  if (!path_.empty()) write_json_atomic(path_, doc_);
}

void write_json_atomic(const std::string& path, const nlohmann::json& doc) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
  }
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw RuntimeFailure(path + ": cannot write (" + std::strerror(errno) + ")");
    // Non-finite numbers have no JSON form; they are written as null rather than failing.
    out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (!out) throw RuntimeFailure(path + ": write failed (" + std::strerror(errno) + ")");
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) throw RuntimeFailure(path + ": cannot rename temporary file: " + ec.message());
}

namespace {

// Reads a document to find where the parser stops; builds nothing.
struct StopFinder final : nlohmann::json_sax<nlohmann::json> {
  std::size_t byte = 0;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::json::exception&) override {
    byte = position;
    return false;
  }
};

// The byte where parsing `path` stops, for the library's errors that carry no position.
std::size_t stop_byte(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  StopFinder finder;
  nlohmann::json::sax_parse(in, &finder);
  return finder.byte;
}

}  // namespace

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path + ": malformed JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    // Well-formed text the library cannot hold, such as a number beyond a double's range.
    throw InputError(path + ": unreadable JSON at byte " + std::to_string(stop_byte(path)) + ": " +
                     e.what());
  }
}

}  // namespace goodput
