# Git sha and dirty flag, refreshed at every build (not only at configure time).
set(GOODPUT_VERSION_CPP ${CMAKE_BINARY_DIR}/generated/version.cpp)
add_custom_target(goodput_version_stamp
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${GOODPUT_VERSION_CPP}
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/write_version.cmake
  BYPRODUCTS ${GOODPUT_VERSION_CPP}
  COMMENT "goodput: stamping version")
