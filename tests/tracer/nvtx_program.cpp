// A program that only calls NVTX (no CUDA), for the tracer's injection tests.
//   steps N [EXIT_CODE]: N "step" ranges with nested, start/end, domain, registered and wide ranges
//   hang: opens a "step" range, prints "ready", sleeps (the test signals it)
//   fork: ranges in the parent around a child that also calls NVTX and exits
#include <nvtx3/nvToolsExt.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

void steps(int n) {
  nvtxDomainHandle_t domain = nvtxDomainCreateA("mylib");
  nvtxStringHandle_t registered = nvtxDomainRegisterStringA(domain, "registered name");
  for (int i = 0; i < n; ++i) {
    nvtxRangePushA("step");
    nvtxRangeId_t data = nvtxRangeStartA("data");
    nvtxRangeEnd(data);
    nvtxRangePushA("forward");
    nvtxEventAttributes_t a{};
    a.version = NVTX_VERSION;
    a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
    a.message.registered = registered;
    nvtxDomainRangePushEx(domain, &a);
    nvtxDomainRangePop(domain);
    nvtxRangePop();
    nvtxRangePushW(L"backward \u00e9");
    nvtxRangePop();
    nvtxRangePop();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "steps") == 0) {
    steps(argc >= 3 ? std::atoi(argv[2]) : 3);
    return argc >= 4 ? std::atoi(argv[3]) : 0;
  }
  if (argc >= 2 && std::strcmp(argv[1], "hang") == 0) {
    nvtxRangePushA("step");
    std::printf("ready\n");
    std::fflush(stdout);
    sleep(30);
    return 0;
  }
  if (argc >= 2 && std::strcmp(argv[1], "fork") == 0) {
    nvtxRangePushA("parent");
    const pid_t pid = fork();
    if (pid == 0) {
      nvtxRangePushA("child");
      nvtxRangePop();
      std::exit(0);  // runs atexit handlers in the child: they must leave the parent's trace alone
    }
    int status = 0;
    waitpid(pid, &status, 0);
    nvtxRangePop();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  std::fprintf(stderr, "usage: %s steps N [EXIT_CODE] | hang | fork\n", argv[0]);
  return 2;
}
