// `goodput collectives`: NCCL bus bandwidth over a size sweep, nccl-tests conventions, one JSON.
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>

#include "collectives/bootstrap.hpp"
#include "collectives/gpu/nccl_engine.hpp"
#include "collectives/runner.hpp"
#include "harness/cli/commands.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"

namespace goodput::cli {
namespace {

constexpr int kMaxTimeout = 10'000'000;  // seconds (about 4 months): past it, no deadline fits

// A whole number of at most 2^20, digits only: CLI11 reads "-1" into an unsigned option as its
// largest value and saturates past 2^64, which would make a sweep of one size without a word.
const CLI::Validator whole_number(
    [](std::string& text) {
      if (!text.empty() && text.size() <= 7 && text.find_first_not_of("0123456789") == text.npos &&
          std::stoull(text) <= (1u << 20))
        return std::string();
      return "a whole number from 0 to " + std::to_string(1u << 20) + ", not \"" + text + "\"";
    },
    "N");

using namespace goodput::collectives;

struct Options {
  std::string json;
  std::string colls = "all_reduce";
  std::string dtypes = "fp32";
  std::string op = "sum";
  std::string minbytes = "32M", maxbytes = "32M", stepbytes = "1M";
  std::uint64_t stepfactor = 2;
  int root = 0, iters = 20, warmup = 5, batch = 20, gpus = 0;
  std::string mode = "events", placement = "both", average = "avg", launch = "auto";
  bool graph = false, no_check = false, nccl_log = false;
  double timeout = 300;
  std::uint64_t seed = 0x5eedc011ull;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

RunConfig make_config(const Options& o) {
  RunConfig c;
  c.colls.clear();
  if (o.colls == "all") {
    c.colls = all_collectives();
  } else {
    for (const auto& n : split_list(o.colls)) c.colls.push_back(parse_collective(n));
  }
  c.dtypes.clear();
  for (const auto& n : split_list(o.dtypes)) c.dtypes.push_back(parse_dtype(n));
  c.op = parse_op(o.op);
  c.root = o.root;
  c.sweep.min_bytes = parse_size(o.minbytes, "-b/--minbytes");
  c.sweep.max_bytes = parse_size(o.maxbytes, "-e/--maxbytes");
  c.sweep.step_bytes = parse_size(o.stepbytes, "-i/--stepbytes");
  c.sweep.step_factor = o.stepfactor;
  if (o.placement == "both") {
    c.out_of_place = c.in_place = true;
  } else if (o.placement == "out") {
    c.in_place = false;
  } else if (o.placement == "in") {
    c.out_of_place = false;
  } else {
    throw InputError("--placement must be both, out or in, not '" + o.placement + "'");
  }
  c.iters = o.iters;
  c.warmup = o.warmup;
  c.batch = o.batch;
  c.mode = parse_timing_mode(o.mode);
  c.graph = o.graph;
  c.check = !o.no_check;
  c.timeout_s = o.timeout;
  c.rank_time = parse_rank_time(o.average);
  c.seed = o.seed;
  if (o.gpus < 0) throw InputError("-g/--gpus must not be negative");
  // Everything except the root can be checked before any GPU is touched.
  validate(c, std::numeric_limits<int>::max());
  return c;
}

std::unique_ptr<Bootstrap> make_bootstrap(const std::string& launch) {
  if (launch == "local") return make_local_bootstrap();
  if (launch == "mpi") return make_mpi_bootstrap();
  if (launch == "auto")
    return launched_by_mpi() && mpi_built() ? make_mpi_bootstrap() : make_local_bootstrap();
  throw InputError("--launch must be auto, local or mpi, not '" + launch + "'");
}

int run(const Options& o, const Invocation& inv) {
  const RunConfig cfg = make_config(o);
  auto boot = make_bootstrap(o.launch);
  const bool root_proc = boot->rank() == 0;
  ResultsWriter out(root_proc ? o.json : std::string(), "collectives", inv.argv);
  try {
    EngineOptions eo;
    eo.gpus = o.gpus;
    eo.nccl_log = o.nccl_log;
    auto engine = make_nccl_engine(eo);
    engine->init(*boot);
    validate(cfg, engine->nranks());
    LinkDb db;
    const LinkDb* links = nullptr;
    try {
      db = load_default_link_db();
      links = &db;
    } catch (const InputError& e) {
      if (root_proc) std::fprintf(stderr, "goodput collectives: no link peaks: %s\n", e.what());
    }
    const auto ids = gather_identities(*engine, *boot);
    if (root_proc) {
      nlohmann::json devs = nlohmann::json::array(), ranks = nlohmann::json::array();
      for (const auto& id : ids) {
        devs.push_back(to_json(id.device));
        ranks.push_back(to_json(id));
      }
      out.set("devices", devs);
      out.set("collectives",
              {{"config", to_json(cfg)},
               {"launch", boot->kind()},
               {"processes", boot->size()},
               {"engine", engine->details()},
               {"ranks", ranks},
               {"conventions",
                "nccl-tests: size = max(send, recv) bytes per rank; algbw = size / "
                "time; busbw = algbw x (2(n-1)/n all_reduce; (n-1)/n all_gather, "
                "reduce_scatter, alltoall; 1 broadcast, reduce, sendrecv); GB = 1e9 B"}});
    }
    const RunSummary s = run_sweep(
        *engine, *boot, cfg, links, [&out](const nlohmann::json& r) { out.add_result(r); },
        root_proc);
    if (s.wrong_elements > 0) {
      const std::string msg = std::to_string(s.wrong_elements) + " wrong output element(s) in " +
                              std::to_string(s.wrong_cases) + " case(s)";
      out.finish("complete", msg);
      throw CheckFailed(msg);
    }
    out.finish("complete");
    return kExitOk;
  } catch (const CheckFailed&) {
    throw;
  } catch (const SweepFailed& e) {
    // Every process stopped at the same case and knows why: nobody is left waiting, so each
    // ends with the exit code instead of tearing the job down.
    out.finish(e.exit_code() == kExitInterrupted ? "interrupted" : "failed", e.what());
    throw;
  } catch (const Error& e) {
    out.finish(e.exit_code() == kExitInterrupted ? "interrupted" : "failed", e.what());
    // A failure only this process saw would leave the others waiting on it.
    if (boot->size() > 1) {
      std::fprintf(stderr, "goodput collectives (process %d): %s\n", boot->rank(), e.what());
      boot->abort(e.exit_code());
    }
    throw;
  }
}

}  // namespace

Command collectives_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "collectives",
      "NCCL collective bus bandwidth over a size sweep (nccl-tests conventions), with exact "
      "result checks; one process for all local GPUs, or one per GPU under mpirun/srun");
  auto o = std::make_shared<Options>();
  add_json_option(sub, o->json);
  sub->add_option("-c,--collective", o->colls,
                  "Comma-separated: all_reduce, all_gather, reduce_scatter, broadcast, reduce, "
                  "alltoall, sendrecv, or all")
      ->capture_default_str();
  sub->add_option("-b,--minbytes", o->minbytes, "Smallest size (bytes; K/M/G = 1024^n)")
      ->capture_default_str();
  sub->add_option("-e,--maxbytes", o->maxbytes, "Largest size")->capture_default_str();
  sub->add_option("-f,--stepfactor", o->stepfactor, "Multiply the size by this (1: add -i)")
      ->capture_default_str()
      ->check(whole_number);
  sub->add_option("-i,--stepbytes", o->stepbytes, "Size increment when -f is 1")
      ->capture_default_str();
  sub->add_option("-d,--datatype", o->dtypes,
                  "Comma-separated: fp32, bf16, fp16, fp8_e4m3, fp8_e5m2, int8, int32")
      ->capture_default_str();
  sub->add_option("-o,--op", o->op, "Reduction: sum, avg, max, min")->capture_default_str();
  sub->add_option("-r,--root", o->root, "Root rank of broadcast and reduce")->capture_default_str();
  sub->add_option("-n,--iters", o->iters, "Timed samples per case")->capture_default_str();
  sub->add_option("-w,--warmup", o->warmup, "Untimed calls before timing")->capture_default_str();
  sub->add_option("--mode", o->mode,
                  "events: CUDA events around every call; back-to-back: --batch calls per sample")
      ->capture_default_str();
  sub->add_option("--batch", o->batch, "Calls per sample in back-to-back mode")
      ->capture_default_str();
  sub->add_flag("-G,--graph", o->graph, "Capture the timed calls in a CUDA graph");
  sub->add_option("--placement", o->placement, "both, out (out-of-place) or in (in-place)")
      ->capture_default_str();
  sub->add_flag("--no-check", o->no_check, "Skip the exact-result check (on by default)");
  sub->add_option("-T,--timeout", o->timeout,
                  "Seconds a collective may take before the communicators are aborted (0: never)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) {
            try {
              const double v = std::stod(text);
              if (v >= 0 && v <= kMaxTimeout) return std::string();
            } catch (const std::exception&) {
            }
            return "seconds from 0 (never) to " + std::to_string(kMaxTimeout) + ", not \"" + text +
                   "\"";
          },
          "SECONDS"));
  sub->add_option("-a,--average", o->average,
                  "Combine ranks' times per call: avg (nccl-tests default), min, max, rank0")
      ->capture_default_str();
  sub->add_option("-g,--gpus", o->gpus, "Local launch: GPUs to use (0: every visible one)")
      ->capture_default_str();
  sub->add_option("--launch", o->launch,
                  "local: this process drives every GPU; mpi: one process per GPU (mpirun/srun); "
                  "auto: mpi when started by mpirun/srun")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "Seed of the input pattern")->capture_default_str();
  sub->add_flag("--nccl-log", o->nccl_log,
                "Record the algorithm and protocol NCCL chose per size: when NCCL_DEBUG is unset, "
                "NCCL logs them per call to a private file that goodput reads (the per-call log "
                "line can show in the latency of the smallest sizes, so it is off by default)");
  return {sub, [o](const Invocation& inv) { return run(*o, inv); }};
}

}  // namespace goodput::cli
