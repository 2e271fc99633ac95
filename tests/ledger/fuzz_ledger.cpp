// Fuzz target for the event-log reader and the calculator: any byte string must either parse
// (lenient) and compute, or fail with an InputError; never crash, hang or throw anything else.
// Built with libFuzzer when the compiler is clang and GOODPUT_FUZZ=ON; otherwise the main()
// below replays the given files and a fixed-seed set of byte mutations of them (a ctest).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "harness/core/error.hpp"
#include "profiler/ledger/google.hpp"
#include "profiler/ledger/ledger.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace goodput::ledger;
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (bool lenient : {false, true}) {
    try {
      ReadOptions opt;
      opt.lenient = lenient;
      EventReader r(opt);
      r.read_text("fuzz.jsonl", text);
      const EventLog log = r.finish();
      const Ledger l = compute_ledger(log, {});
      (void)to_json(l, log).dump();
      (void)format_report(l, log);
      (void)render_svg(l);
      (void)compute_google(log);
    } catch (const goodput::InputError&) {
      // Rejected with a message: the wanted outcome for bad input.
    }
  }
  return 0;
}

#ifndef GOODPUT_LIBFUZZER
int main(int argc, char** argv) {
  std::mt19937_64 rng(12345);
  std::size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", argv[i]);
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string seed = ss.str();
    if (seed.size() > (1u << 16)) seed.resize(1u << 16);  // keep each run short
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size());
    ++runs;
    const char alphabet[] = "{}[]\",:0123456789.-eE \nabcdefghijklmnopqrstuvwxyz_\\";
    for (int m = 0; m < 300; ++m) {
      std::string s = seed;
      const int edits = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < edits && !s.empty(); ++k) {
        const std::size_t pos = rng() % s.size();
        switch (rng() % 4) {
          case 0:
            s[pos] = alphabet[rng() % (sizeof alphabet - 1)];
            break;
          case 1:
            s.erase(pos, 1 + rng() % 16);
            break;
          case 2:
            s.insert(pos, 1, alphabet[rng() % (sizeof alphabet - 1)]);
            break;
          default:
            s.resize(pos);  // a torn tail
        }
      }
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
      ++runs;
    }
  }
  std::printf("fuzz replay: %zu inputs, no crash\n", runs);
  return 0;
}
#endif
