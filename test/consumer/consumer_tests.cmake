# Consumer tests: the project in this directory uses the library each way the
# README describes, with this build's compiler, as C++17 and C++20. Each test
# works in its own directory under <build>/consumer/, wiped when it starts.
# Included from the top-level CMakeLists.txt.

find_program(ASIO_BACKOFF_PKG_CONFIG pkg-config)
find_program(ASIO_BACKOFF_DPKG_DEB dpkg-deb)
mark_as_advanced(ASIO_BACKOFF_PKG_CONFIG ASIO_BACKOFF_DPKG_DEB)

set(_consumer_dir "${PROJECT_BINARY_DIR}/consumer")
set(_consumer_script "${CMAKE_CURRENT_LIST_DIR}/run_consumer.cmake")

# asio_backoff_consumer_test(<step> [<test property> <value>]...)
function(asio_backoff_consumer_test step)
  string(MAKE_C_IDENTIFIER "consumer_${step}" name)
  string(TOLOWER "${name}" name)
  add_test(NAME ${name} COMMAND "${CMAKE_COMMAND}"
    "-DSTEP=${step}"
    "-DSOURCE_DIR=${PROJECT_SOURCE_DIR}"
    "-DBUILD_DIR=${PROJECT_BINARY_DIR}"
    "-DWORK_DIR=${_consumer_dir}/${name}"
    "-DPREFIX=${_consumer_dir}/prefix"
    "-DCXX=${CMAKE_CXX_COMPILER}"
    "-DVERSION=${PROJECT_VERSION}"
    "-DCPACK=${CMAKE_CPACK_COMMAND}"
    "-DPKG_CONFIG=${ASIO_BACKOFF_PKG_CONFIG}"
    "-DDPKG_DEB=${ASIO_BACKOFF_DPKG_DEB}"
    -P "${_consumer_script}")
  # Each one configures and builds a small project: seconds, not milliseconds.
  set_tests_properties(${name} PROPERTIES TIMEOUT 300 LABELS consumer ${ARGN})
endfunction()

asio_backoff_consumer_test(add_subdirectory)
asio_backoff_consumer_test(FetchContent)
if(ASIO_BACKOFF_INSTALL)
  asio_backoff_consumer_test(install FIXTURES_SETUP asio_backoff_prefix)
  asio_backoff_consumer_test(find_package FIXTURES_REQUIRED asio_backoff_prefix)
  asio_backoff_consumer_test(pkg-config FIXTURES_REQUIRED asio_backoff_prefix)
  if(ASIO_BACKOFF_IS_TOP_LEVEL) # CPack is configured for the top-level project only
    asio_backoff_consumer_test(deb)
  endif()
endif()
