# The goodput binary must not link the libraries only some subcommands use: cuBLAS(Lt) and NCCL
# are opened on first use, MPI through its module. Linking them would cost every `goodput
# analyze` their load time, and stop goodput from starting where they are missing.
execute_process(COMMAND ${READELF} -d ${GOODPUT} OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -d ${GOODPUT} failed (${rc})")
endif()
string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*" needed "${dyn}")
foreach(line IN LISTS needed)
  if(line MATCHES "cublas|nccl|libmpi|open-pal|open-rte|hwloc")
    message(FATAL_ERROR "goodput links a library it should open on first use: ${line}")
  endif()
endforeach()
message(STATUS "goodput's libraries: ${needed}")
