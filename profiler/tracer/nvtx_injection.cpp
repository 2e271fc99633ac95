// NVTX injection: the NVTX headers compiled into the program look up NVTX_INJECTION64_PATH,
// load this library and call InitializeInjectionNvtx2, which replaces the entries of NVTX's
// function tables with the handlers below. It works without a GPU; ranges are recorded whether
// or not CUDA is ever initialised.
#include <nvtx3/nvToolsExt.h>

#include <cwchar>
#include <deque>
#include <mutex>
#include <string>

#include "profiler/tracer/tracer.hpp"

namespace goodput::trace::tracer {
namespace {

// Registered strings and domains are handed out as pointers to strings that live as long as
// the process (NVTX handles are opaque pointers the program passes back).
std::mutex g_intern_mu;
std::deque<std::string>& interned() {
  static auto* d = new std::deque<std::string>();
  return *d;
}
const std::string* intern(std::string s) {
  std::lock_guard lock(g_intern_mu);
  interned().push_back(std::move(s));
  return &interned().back();
}

std::string utf8(const wchar_t* w) {
  std::string out;
  if (!w) return out;
  for (; *w; ++w) {
    const auto c = static_cast<std::uint32_t>(*w);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::string message(const nvtxEventAttributes_t* a) {
  if (!a) return "";
  switch (a->messageType) {
    case NVTX_MESSAGE_TYPE_ASCII:
      return a->message.ascii ? a->message.ascii : "";
    case NVTX_MESSAGE_TYPE_UNICODE:
      return utf8(a->message.unicode);
    case NVTX_MESSAGE_TYPE_REGISTERED:
      return a->message.registered ? *reinterpret_cast<const std::string*>(a->message.registered)
                                   : "";
    default:
      return "";
  }
}

std::string domain_name(nvtxDomainHandle_t d) {
  return d ? *reinterpret_cast<const std::string*>(d) : std::string();
}

// Times each handler so the trace can state what NVTX recording cost the program's threads.
struct Timed {
  std::uint64_t t0 = now_ns();
  ~Timed() { add_nvtx_overhead(now_ns() - t0); }
};

int NVTX_API push_a(const char* m) {
  Timed t;
  return nvtx_push(m ? m : "", "");
}
int NVTX_API push_w(const wchar_t* m) {
  Timed t;
  return nvtx_push(utf8(m), "");
}
int NVTX_API push_ex(const nvtxEventAttributes_t* a) {
  Timed t;
  return nvtx_push(message(a), "");
}
int NVTX_API pop() {
  Timed t;
  return nvtx_pop("");
}
nvtxRangeId_t NVTX_API start_a(const char* m) {
  Timed t;
  return nvtx_start(m ? m : "", "");
}
nvtxRangeId_t NVTX_API start_w(const wchar_t* m) {
  Timed t;
  return nvtx_start(utf8(m), "");
}
nvtxRangeId_t NVTX_API start_ex(const nvtxEventAttributes_t* a) {
  Timed t;
  return nvtx_start(message(a), "");
}
void NVTX_API end(nvtxRangeId_t id) {
  Timed t;
  nvtx_end(id);
}

int NVTX_API domain_push(nvtxDomainHandle_t d, const nvtxEventAttributes_t* a) {
  Timed t;
  return nvtx_push(message(a), domain_name(d));
}
int NVTX_API domain_pop(nvtxDomainHandle_t d) {
  Timed t;
  return nvtx_pop(domain_name(d));
}
nvtxRangeId_t NVTX_API domain_start(nvtxDomainHandle_t d, const nvtxEventAttributes_t* a) {
  Timed t;
  return nvtx_start(message(a), domain_name(d));
}
void NVTX_API domain_end(nvtxDomainHandle_t, nvtxRangeId_t id) {
  Timed t;
  nvtx_end(id);
}
nvtxDomainHandle_t NVTX_API domain_create_a(const char* name) {
  return reinterpret_cast<nvtxDomainHandle_t>(const_cast<std::string*>(intern(name ? name : "")));
}
nvtxDomainHandle_t NVTX_API domain_create_w(const wchar_t* name) {
  return reinterpret_cast<nvtxDomainHandle_t>(const_cast<std::string*>(intern(utf8(name))));
}
void NVTX_API domain_destroy(nvtxDomainHandle_t) {}  // handles stay valid: records may name them
nvtxStringHandle_t NVTX_API register_a(nvtxDomainHandle_t, const char* s) {
  return reinterpret_cast<nvtxStringHandle_t>(const_cast<std::string*>(intern(s ? s : "")));
}
nvtxStringHandle_t NVTX_API register_w(nvtxDomainHandle_t, const wchar_t* s) {
  return reinterpret_cast<nvtxStringHandle_t>(const_cast<std::string*>(intern(utf8(s))));
}

template <typename F>
void install(NvtxFunctionTable table, unsigned int size, unsigned int id, F* fn) {
  // The table holds pointers to the program's function-pointer slots; ids run 1..size.
  if (table && id <= size && table[id]) *table[id] = reinterpret_cast<NvtxFunctionPointer>(fn);
}

}  // namespace
}  // namespace goodput::trace::tracer

extern "C" __attribute__((visibility("default"))) int InitializeInjectionNvtx2(
    NvtxGetExportTableFunc_t get_export_table) {
  using namespace goodput::trace::tracer;
  try {
    if (!get_export_table) return 0;
    const auto* callbacks =
        static_cast<const NvtxExportTableCallbacks*>(get_export_table(NVTX_ETID_CALLBACKS));
    if (!callbacks || callbacks->struct_size < sizeof(NvtxExportTableCallbacks) ||
        !callbacks->GetModuleFunctionTable)
      return 0;
    ensure_started();
    NvtxFunctionTable core = nullptr;
    unsigned int core_size = 0;
    if (!callbacks->GetModuleFunctionTable(NVTX_CB_MODULE_CORE, &core, &core_size) || !core)
      return 0;
    install(core, core_size, NVTX_CBID_CORE_RangeStartEx, &start_ex);
    install(core, core_size, NVTX_CBID_CORE_RangeStartA, &start_a);
    install(core, core_size, NVTX_CBID_CORE_RangeStartW, &start_w);
    install(core, core_size, NVTX_CBID_CORE_RangeEnd, &end);
    install(core, core_size, NVTX_CBID_CORE_RangePushEx, &push_ex);
    install(core, core_size, NVTX_CBID_CORE_RangePushA, &push_a);
    install(core, core_size, NVTX_CBID_CORE_RangePushW, &push_w);
    install(core, core_size, NVTX_CBID_CORE_RangePop, &pop);
    NvtxFunctionTable core2 = nullptr;
    unsigned int core2_size = 0;
    if (callbacks->GetModuleFunctionTable(NVTX_CB_MODULE_CORE2, &core2, &core2_size) && core2) {
      install(core2, core2_size, NVTX_CBID_CORE2_DomainRangeStartEx, &domain_start);
      install(core2, core2_size, NVTX_CBID_CORE2_DomainRangeEnd, &domain_end);
      install(core2, core2_size, NVTX_CBID_CORE2_DomainRangePushEx, &domain_push);
      install(core2, core2_size, NVTX_CBID_CORE2_DomainRangePop, &domain_pop);
      install(core2, core2_size, NVTX_CBID_CORE2_DomainRegisterStringA, &register_a);
      install(core2, core2_size, NVTX_CBID_CORE2_DomainRegisterStringW, &register_w);
      install(core2, core2_size, NVTX_CBID_CORE2_DomainCreateA, &domain_create_a);
      install(core2, core2_size, NVTX_CBID_CORE2_DomainCreateW, &domain_create_w);
      install(core2, core2_size, NVTX_CBID_CORE2_DomainDestroy, &domain_destroy);
    }
    nvtx_attached();
    return 1;
  } catch (...) {
    return 0;  // NVTX then stays a no-op; the program runs on
  }
}
