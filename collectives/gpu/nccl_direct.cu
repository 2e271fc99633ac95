// goodput_nccl_direct: the reference `goodput collectives` is held against. The same NCCL calls,
// timed the same way (a CUDA event pair around each call, warm-up first, median of the samples),
// with nothing else: no pattern check, no watchdog, no telemetry, no sweep driver. A difference
// between the two is the harness's. One process drives every visible GPU (ncclCommInitAll),
// fp32, sum, out-of-place, counts as nccl-tests derives them from a size, the calls as
// nccl-tests makes them (alltoall and sendrecv through ncclSend/ncclRecv in a group).
//
// Usage: goodput_nccl_direct [-c all|all_reduce,...] [-b BYTES] [-e BYTES] [-f FACTOR]
//                            [-n ITERS] [-w WARMUP]
// Prints one JSON object per case and line: collective, size_bytes, count, nranks, median_s,
// p10_s, p90_s, samples_s. Exit 1 on a CUDA or NCCL error, 2 on a usage error.
#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void cuda_check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  std::fprintf(stderr, "goodput_nccl_direct: %s: %s\n", what, cudaGetErrorString(e));
  std::exit(1);
}

void nccl_check(ncclResult_t r, const char* what) {
  if (r == ncclSuccess) return;
  std::fprintf(stderr, "goodput_nccl_direct: %s: %s\n", what, ncclGetErrorString(r));
  std::exit(1);
}

const char* const kAll[] = {"all_reduce", "all_gather", "reduce_scatter", "broadcast",
                            "reduce",     "alltoall",   "sendrecv"};

struct Counts {
  size_t param = 0;  // count passed to NCCL (per peer for alltoall)
  size_t send = 0;
  size_t recv = 0;
  size_t size_bytes = 0;  // S as nccl-tests prints it
};

// nccl-tests' *GetCollByteCount for fp32 and n ranks.
Counts counts_for(const std::string& coll, size_t bytes, size_t n) {
  const size_t count = bytes / sizeof(float);
  Counts c;
  if (coll == "all_gather") {
    c.param = count / n;
    c.send = c.param;
    c.recv = c.param * n;
    c.size_bytes = c.recv * sizeof(float);
  } else if (coll == "reduce_scatter") {
    c.param = count / n;
    c.recv = c.param;
    c.send = c.param * n;
    c.size_bytes = c.send * sizeof(float);
  } else if (coll == "alltoall") {
    c.param = count / n;
    c.send = c.recv = c.param * n;
    c.size_bytes = c.send * sizeof(float);
  } else {
    c.param = c.send = c.recv = count;
    c.size_bytes = count * sizeof(float);
  }
  return c;
}

void enqueue(const std::string& coll, const Counts& c, const float* send, float* recv, int rank,
             int n, ncclComm_t comm, cudaStream_t s) {
  if (coll == "all_reduce") {
    nccl_check(ncclAllReduce(send, recv, c.param, ncclFloat, ncclSum, comm, s), "ncclAllReduce");
  } else if (coll == "all_gather") {
    nccl_check(ncclAllGather(send, recv, c.param, ncclFloat, comm, s), "ncclAllGather");
  } else if (coll == "reduce_scatter") {
    nccl_check(ncclReduceScatter(send, recv, c.param, ncclFloat, ncclSum, comm, s),
               "ncclReduceScatter");
  } else if (coll == "broadcast") {
    nccl_check(ncclBroadcast(send, recv, c.param, ncclFloat, 0, comm, s), "ncclBroadcast");
  } else if (coll == "reduce") {
    nccl_check(ncclReduce(send, recv, c.param, ncclFloat, ncclSum, 0, comm, s), "ncclReduce");
  } else if (coll == "alltoall") {
    // One send and one receive per peer in a group, as nccl-tests and goodput make the call.
    nccl_check(ncclGroupStart(), "ncclGroupStart");
    for (int r = 0; r < n; ++r) {
      nccl_check(ncclSend(send + static_cast<size_t>(r) * c.param, c.param, ncclFloat, r, comm, s),
                 "ncclSend");
      nccl_check(ncclRecv(recv + static_cast<size_t>(r) * c.param, c.param, ncclFloat, r, comm, s),
                 "ncclRecv");
    }
    nccl_check(ncclGroupEnd(), "ncclGroupEnd");
  } else {  // sendrecv: a ring, as nccl-tests' sendrecv
    nccl_check(ncclGroupStart(), "ncclGroupStart");
    nccl_check(ncclSend(send, c.param, ncclFloat, (rank + 1) % n, comm, s), "ncclSend");
    nccl_check(ncclRecv(recv, c.param, ncclFloat, (rank - 1 + n) % n, comm, s), "ncclRecv");
    nccl_check(ncclGroupEnd(), "ncclGroupEnd");
  }
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "goodput_nccl_direct: %s\nusage: goodput_nccl_direct [-c all|NAME,...] [-b BYTES] "
               "[-e BYTES] [-f FACTOR] [-n ITERS] [-w WARMUP]\n",
               why);
  std::exit(2);
}

size_t parse_size(const char* s) {
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  double mul = 1;
  if (*end == 'K') mul = 1024.0;
  if (*end == 'M') mul = 1024.0 * 1024;
  if (*end == 'G') mul = 1024.0 * 1024 * 1024;
  if (end == s || v <= 0) usage("bad size");
  return static_cast<size_t>(v * mul);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> colls(std::begin(kAll), std::end(kAll));
  size_t minb = 8, maxb = 1 << 20;
  double factor = 2;
  int iters = 20, warmup = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    const char* v = argv[++i];
    if (a == "-c") {
      if (std::strcmp(v, "all") != 0) {
        colls.clear();
        std::string list = v;
        for (size_t p = 0; p <= list.size();) {
          const size_t q = std::min(list.find(',', p), list.size());
          colls.push_back(list.substr(p, q - p));
          p = q + 1;
        }
        for (const auto& c : colls)
          if (std::find(std::begin(kAll), std::end(kAll), c) == std::end(kAll))
            usage(("unknown collective " + c).c_str());
      }
    } else if (a == "-b") {
      minb = parse_size(v);
    } else if (a == "-e") {
      maxb = parse_size(v);
    } else if (a == "-f") {
      factor = std::atof(v);
    } else if (a == "-n") {
      iters = std::atoi(v);
    } else if (a == "-w") {
      warmup = std::atoi(v);
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (minb > maxb || factor <= 1 || iters < 1 || warmup < 0) usage("bad sweep");

  int n = 0;
  cuda_check(cudaGetDeviceCount(&n), "cudaGetDeviceCount");
  std::vector<int> devs(static_cast<size_t>(n));
  for (int d = 0; d < n; ++d) devs[static_cast<size_t>(d)] = d;
  std::vector<ncclComm_t> comms(static_cast<size_t>(n));
  nccl_check(ncclCommInitAll(comms.data(), n, devs.data()), "ncclCommInitAll");

  const size_t max_elems = maxb / sizeof(float) + 1;
  struct Local {
    float* send = nullptr;
    float* recv = nullptr;
    cudaStream_t stream = nullptr;
    std::vector<cudaEvent_t> events;
  };
  std::vector<Local> local(static_cast<size_t>(n));
  for (int d = 0; d < n; ++d) {
    auto& l = local[static_cast<size_t>(d)];
    cuda_check(cudaSetDevice(d), "cudaSetDevice");
    cuda_check(cudaMalloc(&l.send, max_elems * sizeof(float) * static_cast<size_t>(n)),
               "cudaMalloc");
    cuda_check(cudaMalloc(&l.recv, max_elems * sizeof(float) * static_cast<size_t>(n)),
               "cudaMalloc");
    cuda_check(cudaMemset(l.send, 0x3c, max_elems * sizeof(float) * static_cast<size_t>(n)),
               "cudaMemset");
    cuda_check(cudaStreamCreateWithFlags(&l.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    l.events.resize(2 * static_cast<size_t>(iters));
    for (auto& e : l.events) cuda_check(cudaEventCreate(&e), "cudaEventCreate");
  }

  auto all = [&](const std::string& coll, const Counts& c) {
    nccl_check(ncclGroupStart(), "ncclGroupStart");
    for (int d = 0; d < n; ++d) {
      auto& l = local[static_cast<size_t>(d)];
      enqueue(coll, c, l.send, l.recv, d, n, comms[static_cast<size_t>(d)], l.stream);
    }
    nccl_check(ncclGroupEnd(), "ncclGroupEnd");
  };
  auto sync = [&] {
    for (int d = 0; d < n; ++d) {
      cuda_check(cudaSetDevice(d), "cudaSetDevice");
      cuda_check(cudaStreamSynchronize(local[static_cast<size_t>(d)].stream),
                 "cudaStreamSynchronize");
    }
  };

  for (const auto& coll : colls) {
    for (size_t b = minb; b <= maxb; b = static_cast<size_t>(static_cast<double>(b) * factor)) {
      const Counts c = counts_for(coll, b, static_cast<size_t>(n));
      if (c.param == 0) continue;
      for (int w = 0; w < warmup; ++w) all(coll, c);
      sync();
      for (int it = 0; it < iters; ++it) {
        for (int d = 0; d < n; ++d)
          cuda_check(
              cudaEventRecord(local[static_cast<size_t>(d)].events[2 * static_cast<size_t>(it)],
                              local[static_cast<size_t>(d)].stream),
              "cudaEventRecord");
        all(coll, c);
        for (int d = 0; d < n; ++d)
          cuda_check(
              cudaEventRecord(local[static_cast<size_t>(d)].events[2 * static_cast<size_t>(it) + 1],
                              local[static_cast<size_t>(d)].stream),
              "cudaEventRecord");
      }
      sync();
      // Rank time as nccl-tests' default: the mean over ranks of each sample (one rank: itself).
      std::vector<double> samples(static_cast<size_t>(iters), 0.0);
      for (int d = 0; d < n; ++d) {
        for (int it = 0; it < iters; ++it) {
          float ms = 0;
          const auto& ev = local[static_cast<size_t>(d)].events;
          cuda_check(cudaEventElapsedTime(&ms, ev[2 * static_cast<size_t>(it)],
                                          ev[2 * static_cast<size_t>(it) + 1]),
                     "cudaEventElapsedTime");
          samples[static_cast<size_t>(it)] += static_cast<double>(ms) * 1e-3 / n;
        }
      }
      std::printf(
          "{\"collective\":\"%s\",\"size_bytes\":%zu,\"count\":%zu,\"nranks\":%d,"
          "\"median_s\":%.9g,\"p10_s\":%.9g,\"p90_s\":%.9g,\"samples_s\":[",
          coll.c_str(), c.size_bytes, c.param, n, quantile(samples, 0.5), quantile(samples, 0.1),
          quantile(samples, 0.9));
      for (size_t i = 0; i < samples.size(); ++i) std::printf("%s%.9g", i ? "," : "", samples[i]);
      std::printf("]}\n");
    }
  }
  for (auto& c : comms) ncclCommDestroy(c);
  return 0;
}
