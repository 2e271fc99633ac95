#include "harness/core/lazy_library.hpp"

#include <dlfcn.h>

#include "harness/core/error.hpp"

namespace goodput {

LazyLibrary::LazyLibrary(std::string label, std::vector<std::string> candidates)
    : label_(std::move(label)), candidates_(std::move(candidates)) {}

void LazyLibrary::open() {
  std::call_once(opened_, [this] {
    std::string tried;
    for (const auto& c : candidates_) {
      // RTLD_LOCAL: the library's symbols stay out of the global scope, so nothing loaded later
      // binds to them by accident.
      handle_ = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle_) return;
      const char* why = dlerror();
      tried += "\n  " + (why ? std::string(why) : c + ": not loadable");
    }
    error_ = label_ + " could not be loaded; tried:" + tried;
  });
}

bool LazyLibrary::available() {
  open();
  return handle_ != nullptr;
}

const std::string& LazyLibrary::error() {
  open();
  return error_;
}

void* LazyLibrary::symbol(const char* name) {
  if (!available())
    throw NoGpuError(error_ + "\n(install it, or add its folder to LD_LIBRARY_PATH)");
  dlerror();
  void* fn = dlsym(handle_, name);
  if (!fn) {
    const char* why = dlerror();
    throw NoGpuError(label_ + " has no " + name + " (" + (why ? why : "not found") +
                     "): the installed version is too old for this goodput");
  }
  return fn;
}

}  // namespace goodput
