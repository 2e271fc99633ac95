#include "tests/analyze/test_util.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <zlib.h>

#include "tests/temp_dir.hpp"

namespace goodput::testing {

std::string traces_dir() {
  const std::string d = GOODPUT_TRACES_DIR;
  return std::filesystem::is_directory(d) ? d : "";
}

std::string shared_trace(const std::string& name) {
  const std::string d = traces_dir();
  if (d.empty()) return "";
  const std::string p = d + "/" + name;
  return std::filesystem::exists(p) ? p : "";
}

namespace {
constexpr char kTempPrefix[] = "goodput_analyze_test_";
}  // namespace

std::string temp_path(const std::string& name) {
  return (process_temp_dir<kTempPrefix>() / name).string();
}

std::string write_temp(const std::string& text, bool gz, const std::string& suffix) {
  static std::atomic<int> n{0};  // in this process's folder, removed when it exits
  const std::string path =
      (process_temp_dir<kTempPrefix>() / (std::to_string(n++) + suffix + (gz ? ".gz" : "")))
          .string();
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + path);
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
  } else {
    std::ofstream(path) << text;
  }
  return path;
}

}  // namespace goodput::testing

namespace goodput::testing {

std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  char c;
  while (in.get(c)) {
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          field += '"';
          in.get(c);
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  std::vector<std::map<std::string, std::string>> out;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    std::map<std::string, std::string> m;
    for (std::size_t j = 0; j < rows[0].size() && j < rows[i].size(); ++j)
      m[rows[0][j]] = rows[i][j];
    out.push_back(m);
  }
  return out;
}

// Two steps. GPU (µs): gemm [15,35) launched by corr 1 (call ends 12); other [40,50) corr 2;
// NCCL [30,60) on stream 20 corr 3; gemm [115,135) corr 4 (call ends 112); memcpy [165,170)
// corr 5 (call ends 160).
const char* const kHandMade = R"J({
  "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3", "numSms": 132,
                        "computeMajor": 9, "computeMinor": 0}],
  "traceEvents": [
  {"ph":"X","cat":"user_annotation","name":"ProfilerStep#1","tid":1,"ts":0,"dur":100,"args":{}},
  {"ph":"X","cat":"user_annotation","name":"ProfilerStep#2","tid":1,"ts":100,"dur":100,"args":{}},
  {"ph":"X","cat":"cuda_runtime","name":"cudaLaunchKernel","tid":1,"ts":10,"dur":2,"args":{"correlation":1}},
  {"ph":"X","cat":"cuda_runtime","name":"cudaLaunchKernel","tid":1,"ts":20,"dur":2,"args":{"correlation":2}},
  {"ph":"X","cat":"cuda_runtime","name":"cudaLaunchKernel","tid":1,"ts":25,"dur":2,"args":{"correlation":3}},
  {"ph":"X","cat":"cuda_runtime","name":"cudaLaunchKernel","tid":1,"ts":110,"dur":2,"args":{"correlation":4}},
  {"ph":"X","cat":"cuda_runtime","name":"cudaMemcpyAsync","tid":1,"ts":150,"dur":10,"args":{"correlation":5}},
  {"ph":"X","cat":"kernel","name":"volta_sgemm_128x32_nt","ts":15,"dur":20,"args":{"stream":7,"correlation":1}},
  {"ph":"X","cat":"kernel","name":"elementwise_kernel","ts":40,"dur":10,"args":{"stream":7,"correlation":2}},
  {"ph":"X","cat":"kernel","name":"ncclDevKernel_AllReduce_Sum_f32_RING_LL","ts":30,"dur":30,
   "args":{"stream":20,"correlation":3,"Collective name":"allreduce","In msg nelems":1000000,
           "Out msg nelems":1000000,"Group size":4,"dtype":"Float"}},
  {"ph":"X","cat":"kernel","name":"volta_sgemm_128x32_nt","ts":115,"dur":20,"args":{"stream":7,"correlation":4}},
  {"ph":"X","cat":"gpu_memcpy","name":"Memcpy HtoD (Pinned -> Device)","ts":165,"dur":5,"args":{"stream":7,"correlation":5}}
]})J";

}  // namespace goodput::testing
