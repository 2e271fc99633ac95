// Inside the tracer library: what the NVTX glue needs from the tracer core. Every function is
// safe to call from any thread, before CUDA is initialised, in a forked child (where it does
// nothing) and after the trace was written (where it does nothing).
#pragma once
#include <cstdint>
#include <string>

namespace goodput::trace::tracer {

// Reads the configuration and opens the trace on first use; later calls return at once.
void ensure_started();
std::uint64_t now_ns();
std::uint32_t thread_id();  // the kernel thread id, as CUPTI reports it

void nvtx_attached();
int nvtx_push(std::string name, std::string domain);  // nesting level of the new range, or -1
int nvtx_pop(const std::string& domain);              // nesting level of the closed range, or -1
std::uint64_t nvtx_start(std::string name, std::string domain);  // range id, 0 when not tracing
void nvtx_end(std::uint64_t id);
void add_nvtx_overhead(std::uint64_t ns);

}  // namespace goodput::trace::tracer
