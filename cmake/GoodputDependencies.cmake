# Host dependencies come from the system (scripts/setup.sh installs them on Debian).
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
if(GOODPUT_TESTS)
  find_package(GTest REQUIRED)
endif()
find_package(benchmark QUIET)

# NVML: only the header is needed at build time; the library is opened at run time so that the
# binaries start on machines without a driver. The header ships with the toolkit or pip's
# nvidia-nvml-dev.
if(GOODPUT_HAVE_CUDA)
  find_package(Python3 COMPONENTS Interpreter QUIET)
  set(_nvml_hints ${CUDAToolkit_INCLUDE_DIRS} $ENV{NVML_INCLUDE_DIR})
  if(Python3_Interpreter_FOUND)
    execute_process(
      COMMAND ${Python3_EXECUTABLE} -c "import nvidia, os; print(';'.join(os.path.join(p, d, 'include') for p in nvidia.__path__ for d in ('cu13', 'cu12', 'nvml')))"
      OUTPUT_VARIABLE _nvml_py OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    list(APPEND _nvml_hints ${_nvml_py})
  endif()
  find_path(NVML_INCLUDE_DIR nvml.h HINTS ${_nvml_hints})
  if(NVML_INCLUDE_DIR)
    message(STATUS "goodput: nvml.h in ${NVML_INCLUDE_DIR}")
  else()
    message(STATUS "goodput: nvml.h not found; telemetry will be recorded as not available")
  endif()
  find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/lib/x86_64-linux-gnu)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/include)
  find_path(CUPTI_INCLUDE_DIR cupti.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_LIBRARY_ROOT}/extras/CUPTI/include)
endif()
