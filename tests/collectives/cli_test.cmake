# Usage errors of `goodput collectives` exit 2 with a message naming the flag, before any GPU is
# touched; --help exits 0; a valid run without a usable GPU exits 3 (with one, it runs: 0).
function(expect_rc rc pattern)
  execute_process(COMMAND ${GOODPUT} collectives ${ARGN} RESULT_VARIABLE got
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT got EQUAL rc)
    message(FATAL_ERROR "goodput collectives ${ARGN}: exit ${got}, expected ${rc}\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${pattern}")
    message(FATAL_ERROR "goodput collectives ${ARGN}: output lacks '${pattern}'\n${out}${err}")
  endif()
endfunction()

expect_rc(0 "--maxbytes" --help)
expect_rc(2 "larger than -e/--maxbytes" -b 1G -e 1M)
expect_rc(2 "-b/--minbytes: invalid size '12X'" -b 12X)
expect_rc(2 "unknown collective 'allreduc'" -c allreduc)
expect_rc(2 "unknown data type 'fp64'" -d fp64)
expect_rc(2 "avg needs a floating-point type" -o avg -d int8)
expect_rc(2 "--placement must be" --placement sideways)
expect_rc(2 "--launch must be" --launch slurm)
expect_rc(2 "-n/--iters" -n 0)
expect_rc(2 "stepbytes must be positive" -b 8 -e 64 -f 1 -i 0)
expect_rc(2 "-g/--gpus" -g -1)
# CLI11 reads -1 into an unsigned option as its largest value: a sweep of one size, silently.
expect_rc(2 "stepfactor: a whole number" -f -1)
expect_rc(2 "stepfactor: a whole number" -f 18446744073709551616)
# A limit too large for a deadline, or not a number, is refused rather than firing at once.
expect_rc(2 "timeout: seconds from 0" -T inf)
expect_rc(2 "timeout: seconds from 0" -T nan)
expect_rc(2 "timeout: seconds from 0" -T 1e10)
execute_process(COMMAND ${GOODPUT} collectives -b 1K -e 1K -n 2 -w 1 RESULT_VARIABLE got
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT (got EQUAL 0 OR got EQUAL 3))
  message(FATAL_ERROR "valid run: exit ${got}, expected 0 (GPU) or 3 (no GPU)\n${out}${err}")
endif()
if(got EQUAL 3 AND NOT err MATCHES "GPU|driver|CUDA")
  message(FATAL_ERROR "no-GPU exit without a reason on stderr:\n${err}")
endif()
