#include "fake_engine.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

namespace goodput::collectives::testing {
namespace {

std::vector<std::uint8_t> inputs_of(const CaseSpec& s, int rank) {
  std::vector<std::uint8_t> b(s.counts.send_count * s.counts.elem_size);
  fill_input_host(b.data(), s.dtype, s.pattern, rank, s.counts.send_count);
  return b;
}

double element(const std::vector<std::uint8_t>& b, DType t, std::size_t i) {
  return decode_element(b.data() + i * dtype_size(t), t);
}

}  // namespace

std::vector<std::uint8_t> simulate_output(const CaseSpec& s, int nranks, int me) {
  const auto& k = s.counts;
  const DType t = s.dtype;
  std::vector<std::vector<std::uint8_t>> in;
  for (int r = 0; r < nranks; ++r) in.push_back(inputs_of(s, r));
  std::vector<std::uint8_t> out(k.recv_count * k.elem_size, 0);
  const auto put = [&](std::size_t j, double v) {
    encode_element(v, t, out.data() + j * k.elem_size);
  };
  const auto reduce = [&](std::size_t i) {
    double acc = element(in[0], t, i);
    for (int r = 1; r < nranks; ++r) {
      const double v = element(in[static_cast<std::size_t>(r)], t, i);
      if (s.op == RedOp::kMax)
        acc = std::max(acc, v);
      else if (s.op == RedOp::kMin)
        acc = std::min(acc, v);
      else
        acc += v;
    }
    return s.op == RedOp::kAvg ? acc / nranks : acc;
  };
  const auto n = static_cast<std::size_t>(nranks);
  const auto m = static_cast<std::size_t>(me);
  for (std::size_t j = 0; j < k.recv_count; ++j) {
    switch (s.coll) {
      case Coll::kAllReduce:
      case Coll::kReduce:
        put(j, reduce(j));
        break;
      case Coll::kBroadcast:
        put(j, element(in[static_cast<std::size_t>(s.root)], t, j));
        break;
      case Coll::kReduceScatter:
        put(j, reduce(m * k.recv_count + j));
        break;
      case Coll::kAllGather:
        put(j, element(in[j / k.send_count], t, j % k.send_count));
        break;
      case Coll::kAllToAll:
        put(j, element(in[j / k.param_count], t, m * k.param_count + j % k.param_count));
        break;
      case Coll::kSendRecv:
        put(j, element(in[(m + n - 1) % n], t, j));
        break;
    }
  }
  return out;
}

void FakeEngine::init(Bootstrap& boot) {
  // The same exchange the NCCL engine makes: rank 0 makes an id, everyone receives it.
  if (boot.rank() == 0) {
    id_.resize(128);
    for (std::size_t i = 0; i < id_.size(); ++i)
      id_[i] = static_cast<std::uint8_t>((static_cast<unsigned>(getpid()) * 31u + i * 7u) & 0xff);
  }
  boot.broadcast(id_, 0);
  boot_ = &boot;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const int first = o_.per_process ? boot.rank() : 0;
  const int count = o_.per_process ? 1 : o_.local_ranks;
  nranks_ = o_.per_process ? boot.size() : o_.local_ranks;
  for (int i = 0; i < count; ++i) {
    RankIdentity id;
    id.rank = first + i;
    id.host = host;
    id.pid = static_cast<int>(getpid());
    id.process = boot.rank();
    id.device.index = i;
    id.device.name = "fake GPU";
    id.device.uuid = "GPU-fake-" + std::to_string(id.rank);
    id.links.nvlink_version_nvml = 6;  // NVLink 4.0
    id.links.nvlink_links = 18;
    id.links.source = "fake";
    ids_.push_back(id);
  }
}

LocalMeasurement FakeEngine::run_case(const CaseSpec& s) {
  ++cases_;
  if (o_.fail_at_bytes != 0 && s.counts.size_bytes == o_.fail_at_bytes) {
    if (o_.fail_rank < 0)
      throw CollectiveTimeout(case_label(s) + " did not finish within " +
                              std::to_string(s.timeout_s) + " s; communicators aborted");
    for (const auto& id : ids_)
      if (id.rank == o_.fail_rank)
        throw RuntimeFailure(case_label(s) + ": NCCL error on rank " + std::to_string(id.rank) +
                             ": unhandled cuda error (fake)");
    if (o_.peer_wait_s > 0) {
      const auto end = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(o_.peer_wait_s));
      while (std::chrono::steady_clock::now() < end) {
        if (boot_->peer_failed())
          throw PeerFailed(case_label(s) + ": stopped because another process of the run failed");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      throw CollectiveTimeout(case_label(s) + " did not finish within " +
                              std::to_string(o_.peer_wait_s) + " s");
    }
  }
  LocalMeasurement m;
  for (const auto& id : ids_) {
    std::uint64_t wrong = 0;
    if (s.check && !(s.coll == Coll::kReduce && id.rank != s.root)) {
      auto out = simulate_output(s, nranks_, id.rank);
      if (id.rank == o_.corrupt_rank && !out.empty()) out[0] ^= 0x40;
      wrong =
          count_wrong_host(out.data(), s.dtype, s.pattern, s.coll, s.op, id.rank, s.root, s.counts);
    }
    m.wrong.push_back(wrong);
    std::vector<double> t;
    for (int it = 0; it < s.iters; ++it)
      t.push_back(o_.base_seconds * (1.0 + 0.01 * id.rank) * (1.0 + 0.001 * it) *
                  (1.0 + static_cast<double>(s.counts.size_bytes) / 1e6));
    m.samples.push_back(t);
  }
  // NCCL writes one tuning line per call on rank 0; the text goes through the same parsing as
  // the NCCL engine's debug file.
  std::string log;
  const char* func = nccl_func_name(s.coll);
  const bool has_rank0 = !ids_.empty() && ids_.front().rank == 0;
  if (!o_.tuning_algo.empty() && func && has_rank0)
    for (int c = 0; c < 1 + s.warmup + s.iters; ++c)
      log += "fakehost:1:2 [0] NCCL INFO " + std::string(func) + ": " +
             std::to_string(s.counts.param_count * s.counts.elem_size) + " Bytes -> Algo " +
             o_.tuning_algo + " proto " + o_.tuning_proto + " channel{Lo..Hi}={0..3}\n";
  m.nccl = nccl_choice_for_case(parse_nccl_tuning_lines(log), s.coll,
                                s.counts.param_count * s.counts.elem_size, nranks_,
                                o_.tuning_algo.empty() ? "the fake engine runs no NCCL" : "");
  return m;
}

}  // namespace goodput::collectives::testing
