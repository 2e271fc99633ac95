#include "collectives/runner.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "harness/core/signals.hpp"
#include "harness/core/stats.hpp"

namespace goodput::collectives {
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Placements that make sense for a collective: alltoall and sendrecv would read and write the
// same buffer concurrently in place, so (as in nccl-tests, which does not check them) we skip it.
bool supports_in_place(Coll c) {
  return c != Coll::kAllToAll && c != Coll::kSendRecv;
}

void print_header(int nranks, const std::string& launch) {
  std::printf("# goodput collectives: %d rank(s), %s launch; GB/s = 1e9 B/s; time is per call\n",
              nranks, launch.c_str());
  std::printf("# %-14s %12s %12s %8s %4s %4s %-12s %10s %8s %8s %8s\n", "collective", "size(B)",
              "count", "type", "op", "root", "placement", "time(us)", "algbw", "busbw", "#wrong");
}

void print_line(const nlohmann::json& r) {
  const auto& p = r["params"];
  if (r["status"] == "skipped" || r["status"] == "failed") {
    const std::string why = r.value(r["status"] == "skipped" ? "reason" : "message", "");
    std::printf("  %-14s %12zu %12s %8s  %s: %s\n", p["collective"].get<std::string>().c_str(),
                p["size_bytes"].get<std::size_t>(), "-", p["dtype"].get<std::string>().c_str(),
                r["status"].get<std::string>().c_str(), why.c_str());
    std::fflush(stdout);
    return;
  }
  const double t = r["stats"]["median"].get<double>();
  const auto& wrong = r["check"]["wrong_elements"];
  std::printf("  %-14s %12zu %12zu %8s %4s %4s %-12s %10.2f %8.2f %8.2f %8s\n",
              p["collective"].get<std::string>().c_str(), p["size_bytes"].get<std::size_t>(),
              p["count"].get<std::size_t>(), p["dtype"].get<std::string>().c_str(),
              p["op"].is_null() ? "-" : p["op"].get<std::string>().c_str(),
              p["root"].is_null() ? "-" : std::to_string(p["root"].get<int>()).c_str(),
              p["placement"].get<std::string>().c_str(), t * 1e6,
              r["rates"]["algbw"].get<double>() / 1e9, r["rates"]["busbw"].get<double>() / 1e9,
              wrong.is_null() ? "N/A" : std::to_string(wrong.get<std::uint64_t>()).c_str());
  std::fflush(stdout);
}

nlohmann::json case_params(const CaseSpec& s, int nranks, RankTime how) {
  return {{"collective", to_string(s.coll)},
          {"dtype", to_string(s.dtype)},
          {"op", is_reduction(s.coll) ? nlohmann::json(to_string(s.op)) : nlohmann::json(nullptr)},
          {"root", has_root(s.coll) ? nlohmann::json(s.root) : nlohmann::json(nullptr)},
          {"placement", s.in_place ? "in-place" : "out-of-place"},
          {"requested_bytes", s.requested_bytes},
          {"size_bytes", s.counts.size_bytes},
          {"count", s.counts.param_count},
          {"send_count", s.counts.send_count},
          {"recv_count", s.counts.recv_count},
          {"element_bytes", s.counts.elem_size},
          {"nranks", nranks},
          {"mode", to_string(s.mode)},
          {"graph", s.graph},
          {"warmup", s.warmup},
          {"iters", s.iters},
          {"batch",
           s.mode == TimingMode::kBackToBack ? nlohmann::json(s.batch) : nlohmann::json(nullptr)},
          {"rank_time", to_string(how)},
          {"busbw_factor", busbw_factor(s.coll, nranks)}};
}

std::string result_name(const CaseSpec& s) {
  std::string n = std::string(to_string(s.coll)) + "/" + to_string(s.dtype);
  if (is_reduction(s.coll)) n += std::string("/") + to_string(s.op);
  return n + "/" + (s.in_place ? "in-place" : "out-of-place") + "/" +
         std::to_string(s.counts.size_bytes);
}

// One process's part of a case that did not finish.
struct CaseFailure {
  int process = 0;
  std::string ranks;  // the ranks it drives: "0,1"
  std::string host;
  std::string message;
  int exit_code = kExitRuntime;
  // How likely it is the cause: 0 a failure of its own, 1 a timeout (perhaps waiting on a peer),
  // 2 an interrupt, 3 stopped because a peer reported a failure.
  int order = 0;
};

nlohmann::json to_json(const CaseFailure& f) {
  return {{"process", f.process}, {"ranks", f.ranks},         {"host", f.host},
          {"message", f.message}, {"exit_code", f.exit_code}, {"order", f.order}};
}

CaseFailure case_failure_from_json(const nlohmann::json& j) {
  CaseFailure f;
  f.process = j.at("process").get<int>();
  f.ranks = j.at("ranks").get<std::string>();
  f.host = j.at("host").get<std::string>();
  f.message = j.at("message").get<std::string>();
  f.exit_code = j.at("exit_code").get<int>();
  f.order = j.at("order").get<int>();
  return f;
}

CaseFailure failure_here(const Bootstrap& boot, const std::vector<RankIdentity>& local,
                         const std::string& what, int exit_code, int order) {
  CaseFailure f;
  f.process = boot.rank();
  for (const auto& id : local) f.ranks += (f.ranks.empty() ? "" : ",") + std::to_string(id.rank);
  if (f.ranks.empty()) f.ranks = "?";
  f.host = local.empty() ? std::string("?") : local[0].host;
  f.message = what;
  f.exit_code = exit_code == kExitOk ? kExitRuntime : exit_code;
  f.order = exit_code == kExitInterrupted ? 2 : order;
  return f;
}

// Every process says whether its part of the case finished. When one did not, process 0 records
// a failed result naming each failed rank and host, likeliest cause first, and every process
// throws SweepFailed with the same verdict, so all stop at this case. An interrupt as the
// likeliest cause records nothing (the run was stopped, nothing failed).
void agree_on_case(Engine& engine, Bootstrap& boot, const std::optional<CaseFailure>& mine,
                   const CaseSpec& spec, nlohmann::json params,
                   const std::function<void(const nlohmann::json&)>& emit) {
  if (mine) boot.post_failure();
  std::vector<double> failed(static_cast<std::size_t>(boot.size()), 0.0);
  if (mine) failed[static_cast<std::size_t>(boot.rank())] = 1.0;
  boot.allreduce(failed, ReduceKind::kSum);
  std::vector<int> who;
  for (std::size_t p = 0; p < failed.size(); ++p)
    if (failed[p] > 0) who.push_back(static_cast<int>(p));
  if (who.empty()) return;
  boot.settle_failures(who);
  engine.stop();
  const auto parts = boot.gather(mine ? to_json(*mine).dump() : std::string(), 0);
  std::string verdict;
  if (boot.rank() == 0) {
    std::vector<CaseFailure> all;
    for (const auto& p : parts)
      if (!p.empty()) all.push_back(case_failure_from_json(nlohmann::json::parse(p)));
    std::stable_sort(all.begin(), all.end(), [](const CaseFailure& a, const CaseFailure& b) {
      return a.order != b.order ? a.order < b.order : a.process < b.process;
    });
    std::string message, ranks;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& f : all) {
      message += (message.empty() ? case_label(spec) + " failed on rank(s) " : "; rank(s) ") +
                 f.ranks + " (" + f.host + "): " + f.message;
      ranks += (ranks.empty() ? "" : ",") + f.ranks;
      auto j = to_json(f);
      j.erase("order");
      list.push_back(j);
    }
    const bool interrupted = !all.empty() && all.front().order == 2;
    if (!interrupted)
      emit({{"name", result_name(spec)},
            {"kind", "collective"},
            {"params", std::move(params)},
            {"status", "failed"},
            {"ranks", ranks},
            {"failures", list},
            {"message", message}});
    verdict = nlohmann::json{{"exit_code", all.empty() ? kExitRuntime : all.front().exit_code},
                             {"message", interrupted ? std::string("interrupted") : message}}
                  .dump();
  }
  std::vector<std::uint8_t> bytes(verdict.begin(), verdict.end());
  boot.broadcast(bytes, 0);
  const auto v = nlohmann::json::parse(std::string(bytes.begin(), bytes.end()));
  throw SweepFailed(v.at("exit_code").get<int>(), v.at("message").get<std::string>());
}

}  // namespace

const char* to_string(RankTime r) {
  switch (r) {
    case RankTime::kAvg:
      return "avg";
    case RankTime::kMin:
      return "min";
    case RankTime::kMax:
      return "max";
    case RankTime::kRank0:
      return "rank0";
  }
  return "?";
}

RankTime parse_rank_time(const std::string& s) {
  for (const auto r : {RankTime::kAvg, RankTime::kMin, RankTime::kMax, RankTime::kRank0})
    if (s == to_string(r)) return r;
  throw InputError("unknown rank time '" + s + "' (one of avg, min, max, rank0)");
}

const char* to_string(TimingMode m) {
  return m == TimingMode::kEvents ? "events" : "back-to-back";
}

TimingMode parse_timing_mode(const std::string& s) {
  if (s == "events") return TimingMode::kEvents;
  if (s == "back-to-back" || s == "b2b") return TimingMode::kBackToBack;
  throw InputError("unknown timing mode '" + s + "' (events or back-to-back)");
}

std::string case_label(const CaseSpec& s) {
  std::string l = std::string(to_string(s.coll)) + " " + to_string(s.dtype);
  if (is_reduction(s.coll)) l += std::string(" ") + to_string(s.op);
  return l + (s.in_place ? " in-place " : " out-of-place ") + std::to_string(s.counts.size_bytes) +
         " B";
}

nlohmann::json to_json(const RankIdentity& r) {
  return {{"rank", r.rank},
          {"host", r.host},
          {"pid", r.pid},
          {"process", r.process},
          {"device", to_json(r.device)},
          {"links", to_json(r.links)}};
}

RankIdentity rank_identity_from_json(const nlohmann::json& j) {
  RankIdentity r;
  r.rank = j.at("rank").get<int>();
  r.host = j.at("host").get<std::string>();
  r.pid = j.at("pid").get<int>();
  r.process = j.at("process").get<int>();
  r.device = device_from_json(j.at("device"));
  r.links = link_info_from_json(j.at("links"));
  return r;
}

void validate(const RunConfig& c, int nranks) {
  if (nranks < 1) throw InputError("no ranks to run on");
  if (c.colls.empty()) throw InputError("no collective selected");
  if (c.dtypes.empty()) throw InputError("no data type selected");
  if (!c.out_of_place && !c.in_place)
    throw InputError("--placement selects neither in- nor out-of-place");
  if (c.iters < 1) throw InputError("-n/--iters must be at least 1");
  if (c.warmup < 0) throw InputError("-w/--warmup must not be negative");
  if (c.batch < 1) throw InputError("--batch must be at least 1");
  if (c.timeout_s < 0) throw InputError("--timeout must not be negative");
  if (c.root < 0 || c.root >= nranks)
    throw InputError("-r/--root " + std::to_string(c.root) + " is not a rank of this run (0.." +
                     std::to_string(nranks - 1) + ")");
  const bool reduces = std::any_of(c.colls.begin(), c.colls.end(), is_reduction);
  if (reduces && c.op == RedOp::kAvg)
    for (const auto t : c.dtypes)
      if (!is_floating(t))
        throw InputError(std::string("-o avg needs a floating-point type, not ") + to_string(t));
  (void)sweep_sizes(c.sweep);
}

nlohmann::json to_json(const RunConfig& c) {
  nlohmann::json colls = nlohmann::json::array(), types = nlohmann::json::array();
  for (const auto x : c.colls) colls.push_back(to_string(x));
  for (const auto x : c.dtypes) types.push_back(to_string(x));
  return {{"collectives", colls},
          {"dtypes", types},
          {"op", to_string(c.op)},
          {"root", c.root},
          {"min_bytes", c.sweep.min_bytes},
          {"max_bytes", c.sweep.max_bytes},
          {"step_factor", c.sweep.step_factor},
          {"step_bytes", c.sweep.step_bytes},
          {"out_of_place", c.out_of_place},
          {"in_place", c.in_place},
          {"warmup", c.warmup},
          {"iters", c.iters},
          {"batch", c.batch},
          {"mode", to_string(c.mode)},
          {"graph", c.graph},
          {"check", c.check},
          {"timeout_s", c.timeout_s},
          {"rank_time", to_string(c.rank_time)},
          {"seed", c.seed}};
}

CombinedSamples combine_ranks(const std::vector<std::vector<double>>& samples, RankTime how) {
  CombinedSamples out;
  if (samples.empty()) return out;
  const std::size_t calls = samples[0].size();
  for (const auto& r : samples)
    if (r.size() != calls) throw RuntimeFailure("ranks reported different numbers of samples");
  for (std::size_t i = 0; i < calls; ++i) {
    double sum = 0, lo = samples[0][i], hi = samples[0][i];
    for (const auto& r : samples) {
      sum += r[i];
      lo = std::min(lo, r[i]);
      hi = std::max(hi, r[i]);
    }
    double v = sum / static_cast<double>(samples.size());
    if (how == RankTime::kMin) v = lo;
    if (how == RankTime::kMax) v = hi;
    if (how == RankTime::kRank0) v = samples[0][i];
    out.combined.push_back(v);
    out.max_rank.push_back(hi);
  }
  for (const auto& r : samples) {
    double sum = 0;
    for (const double x : r) sum += x;
    out.per_rank_mean.push_back(calls ? sum / static_cast<double>(calls) : 0);
  }
  return out;
}

nlohmann::json case_result(const CaseSpec& spec, int nranks, const CombinedSamples& s,
                           const std::vector<std::uint64_t>& wrong_per_rank, RankTime how,
                           const std::vector<RankIdentity>& ranks, const LinkDb* links,
                           const NcclChoice& nccl) {
  nlohmann::json r = {{"name", result_name(spec)},
                      {"kind", "collective"},
                      {"params", case_params(spec, nranks, how)}};
  r["samples"] = {{"unit", "s"}, {"values", s.combined}};
  const Stats st = summarize(s.combined);
  r["stats"] = to_json(st);
  const Bandwidth med = bandwidth(spec.coll, spec.counts.size_bytes, st.median, nranks);
  const Bandwidth mean = bandwidth(spec.coll, spec.counts.size_bytes, st.mean, nranks);
  const Bandwidth best = bandwidth(spec.coll, spec.counts.size_bytes, st.min, nranks);
  r["rates"] = {{"unit", "B/s"},           {"basis", "median"},        {"algbw", med.algbw},
                {"busbw", med.busbw},      {"algbw_mean", mean.algbw}, {"busbw_mean", mean.busbw},
                {"busbw_best", best.busbw}};
  const auto slowest = std::max_element(s.per_rank_mean.begin(), s.per_rank_mean.end());
  r["max_rank"] = {{"samples", {{"unit", "s"}, {"values", s.max_rank}}},
                   {"stats", to_json(summarize(s.max_rank))},
                   {"slowest_rank", slowest - s.per_rank_mean.begin()},
                   {"per_rank_mean_s", s.per_rank_mean}};
  // The weakest link among the ranks bounds the ring.
  LinkPeak peak;
  std::set<std::string> hosts;
  for (const auto& id : ranks) {
    hosts.insert(id.host);
    if (!links) continue;
    const LinkPeak p = link_peak(*links, id.links);
    if (p.bytes_per_s > 0 && (peak.bytes_per_s == 0 || p.bytes_per_s < peak.bytes_per_s)) peak = p;
    if (p.bytes_per_s == 0 && peak.bytes_per_s == 0) peak.note = p.note;
  }
  if (!links) peak.note = "link data not loaded";
  r["nccl"] = to_json(nccl);
  r["peaks"] = {{"link", peak_comparison(peak, spec.coll, med.busbw, hosts.size() > 1,
                                         {nccl.algorithm, env_or_empty("NCCL_ALGO"),
                                          env_or_empty("NCCL_PROTO")})}};
  std::uint64_t wrong = 0;
  for (const auto w : wrong_per_rank) wrong += w;
  r["check"] = {
      {"enabled", spec.check},
      {"wrong_elements", spec.check ? nlohmann::json(wrong) : nlohmann::json(nullptr)},
      {"wrong_per_rank", spec.check ? nlohmann::json(wrong_per_rank) : nlohmann::json(nullptr)},
      {"pattern",
       {{"seed", spec.pattern.seed},
        {"contributors", spec.pattern.contributors},
        {"bound", spec.pattern.bound}}}};
  r["status"] = spec.check && wrong > 0 ? "wrong" : "ok";
  if (spec.check && wrong > 0) r["message"] = std::to_string(wrong) + " wrong output element(s)";
  return r;
}

std::vector<RankIdentity> gather_identities(Engine& engine, Bootstrap& boot) {
  nlohmann::json mine = nlohmann::json::array();
  for (const auto& id : engine.local_ranks()) mine.push_back(to_json(id));
  const auto all = boot.gather(mine.dump(), 0);
  std::vector<RankIdentity> out;
  for (const auto& s : all)
    for (const auto& j : nlohmann::json::parse(s)) out.push_back(rank_identity_from_json(j));
  std::sort(out.begin(), out.end(),
            [](const RankIdentity& a, const RankIdentity& b) { return a.rank < b.rank; });
  return out;
}

RunSummary run_sweep(Engine& engine, Bootstrap& boot, const RunConfig& cfg, const LinkDb* links,
                     const std::function<void(const nlohmann::json&)>& sink, bool print) {
  const int n = engine.nranks();
  validate(cfg, n);
  const bool root_proc = boot.rank() == 0;
  const auto ids = gather_identities(engine, boot);
  const auto local = engine.local_ranks();
  const auto sizes = sweep_sizes(cfg.sweep);
  RunSummary sum;
  if (root_proc && print) print_header(n, boot.kind());
  const auto emit = [&](const nlohmann::json& r) {
    if (!root_proc) return;
    sink(r);
    if (print) print_line(r);
  };
  for (const auto dtype : cfg.dtypes) {
    for (const auto coll : cfg.colls) {
      for (const auto bytes : sizes) {
        for (const bool in_place : {false, true}) {
          if ((in_place && !cfg.in_place) || (!in_place && !cfg.out_of_place)) continue;
          if (in_place && !supports_in_place(coll)) continue;  // not a size problem: say nothing
          CaseSpec spec;
          spec.coll = coll;
          spec.dtype = dtype;
          spec.op = cfg.op;
          spec.root = cfg.root;
          spec.in_place = in_place;
          spec.requested_bytes = bytes;
          spec.counts = coll_counts(coll, bytes, dtype, n);
          spec.pattern = make_pattern(coll, dtype, cfg.op, n, cfg.seed);
          spec.warmup = cfg.warmup;
          spec.iters = cfg.iters;
          spec.batch = cfg.batch;
          spec.mode = cfg.mode;
          spec.graph = cfg.graph;
          spec.check = cfg.check;
          spec.timeout_s = cfg.timeout_s;
          if (spec.counts.param_count == 0) {
            ++sum.skipped;
            emit({{"name", result_name(spec)},
                  {"kind", "collective"},
                  {"params", case_params(spec, n, cfg.rank_time)},
                  {"status", "skipped"},
                  {"reason", "fewer elements than ranks at this size"}});
            continue;
          }
          LocalMeasurement m;
          std::optional<CaseFailure> failed;
          try {
            raise_if_interrupted();
            m = engine.run_case(spec);
            if (m.samples.size() != local.size() || m.wrong.size() != local.size())
              throw RuntimeFailure("engine returned measurements for " +
                                   std::to_string(m.samples.size()) + " rank(s), expected " +
                                   std::to_string(local.size()));
            for (std::size_t l = 0; l < local.size(); ++l)
              if (m.samples[l].size() != static_cast<std::size_t>(spec.iters))
                throw RuntimeFailure("rank " + std::to_string(local[l].rank) + " returned " +
                                     std::to_string(m.samples[l].size()) + " samples, expected " +
                                     std::to_string(spec.iters));
          } catch (const Error& e) {
            const int order = dynamic_cast<const PeerFailed*>(&e)          ? 3
                              : dynamic_cast<const CollectiveTimeout*>(&e) ? 1
                                                                           : 0;
            failed = failure_here(boot, local, e.what(), e.exit_code(), order);
          } catch (const std::exception& e) {
            failed = failure_here(boot, local, e.what(), kExitRuntime, 0);
          }
          agree_on_case(engine, boot, failed, spec, case_params(spec, n, cfg.rank_time), emit);
          const auto calls = static_cast<std::size_t>(spec.iters);
          std::vector<double> flat(static_cast<std::size_t>(n) * calls, 0.0);
          std::vector<double> wrong(static_cast<std::size_t>(n), 0.0);
          for (std::size_t l = 0; l < local.size(); ++l) {
            const auto g = static_cast<std::size_t>(local[l].rank);
            std::copy(m.samples[l].begin(), m.samples[l].end(),
                      flat.begin() + static_cast<std::ptrdiff_t>(g * calls));
            wrong[g] = static_cast<double>(m.wrong[l]);
          }
          boot.allreduce(flat, ReduceKind::kSum);
          boot.allreduce(wrong, ReduceKind::kSum);
          std::vector<std::vector<double>> per_rank(static_cast<std::size_t>(n));
          std::vector<std::uint64_t> wrong_per_rank;
          std::uint64_t wrong_total = 0;
          for (std::size_t g = 0; g < per_rank.size(); ++g) {
            per_rank[g].assign(flat.begin() + static_cast<std::ptrdiff_t>(g * calls),
                               flat.begin() + static_cast<std::ptrdiff_t>((g + 1) * calls));
            wrong_per_rank.push_back(static_cast<std::uint64_t>(wrong[g]));
            wrong_total += wrong_per_rank.back();
          }
          ++sum.results;
          if (wrong_total > 0) {
            sum.wrong_elements += wrong_total;
            ++sum.wrong_cases;
          }
          if (root_proc)
            emit(case_result(spec, n, combine_ranks(per_rank, cfg.rank_time), wrong_per_rank,
                             cfg.rank_time, ids, links, m.nccl));
        }
      }
    }
  }
  return sum;
}

}  // namespace goodput::collectives
