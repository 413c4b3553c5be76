# One consumer test, run by CTest (see consumer_tests.cmake) as
#   cmake -DSTEP=<step> -D... -P run_consumer.cmake
#
#   install           `cmake --install` the build tree BUILD_DIR into PREFIX
#   find_package      the consumer project finds the package in PREFIX
#   pkg-config        main.cpp compiled by hand with the flags of PREFIX's .pc
#   add_subdirectory  the consumer project adds the source tree SOURCE_DIR
#   FetchContent      the consumer project fetches SOURCE_DIR (disconnected)
#   deb               cpack makes the .deb; its metadata and files are checked
#                     and the consumer project finds the package inside it
#
# Other variables: WORK_DIR (this step's scratch directory, wiped first), CXX
# (the compiler, the parent build's), VERSION (the project version), and the
# tools CPACK, PKG_CONFIG and DPKG_DEB. Every consumer build is C++17 and C++20.

cmake_minimum_required(VERSION 3.20)

# run(<what> <command>...): runs the command and stops with its output if it fails.
# Its output is left in `output`.
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(JOIN " " command ${ARGN})
    message("$ ${command}\n${out}")
    message(FATAL_ERROR "${STEP}: ${what} failed (${rc}), see above")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

function(fail message)
  message(FATAL_ERROR "${STEP}: ${message}")
endfunction()

function(require_tool name path)
  if(NOT path)
    fail("${name} not found; on Debian: apt-get install ${name}")
  endif()
endfunction()

# Runs a consumer program and checks what it says it was built with.
function(run_program program std)
  run("running ${program}" "${program}")
  message(STATUS "${output}")
  if(NOT output MATCHES "^asio_backoff ${VERSION}, C\\+\\+ 20${std}[0-9][0-9], 3 attempts: Success")
    fail("${program} is not the expected C++${std} program with asio_backoff ${VERSION}")
  endif()
endfunction()

function(check_installed root)
  foreach(file include/asio_backoff.hpp
               include/asio_backoff/async_backoff.hpp
               include/asio_backoff/detail/backoff_op.hpp
               include/asio_backoff/testing/manual_clock.hpp
               share/cmake/asio_backoff/asio_backoffConfig.cmake
               share/cmake/asio_backoff/asio_backoffConfigVersion.cmake
               share/cmake/asio_backoff/asio_backoffTargets.cmake
               share/pkgconfig/asio_backoff.pc
               share/doc/asio-backoff/README.md
               share/doc/asio-backoff/LICENSE
               share/doc/asio-backoff/CHANGELOG.md)
    if(NOT EXISTS "${root}/${file}")
      fail("${root}/${file} is missing")
    endif()
  endforeach()
endfunction()

# Configures, builds and runs the consumer project (extra arguments: -D...).
function(build_consumer mode)
  set(build "${WORK_DIR}/consumer")
  run("configuring the consumer (${mode})"
      "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/test/consumer" -B "${build}"
      "-DCMAKE_CXX_COMPILER=${CXX}" "-DCONSUMER_MODE=${mode}" ${ARGN})
  run("building the consumer (${mode})" "${CMAKE_COMMAND}" --build "${build}" --parallel 2)
  foreach(std 17 20)
    run_program("${build}/consumer_cxx${std}" ${std})
  endforeach()
endfunction()

# The consumer found the package under `root`, not another copy.
function(check_package_found_in root)
  file(STRINGS "${WORK_DIR}/consumer/CMakeCache.txt" dir REGEX "^asio_backoff_DIR:")
  string(REGEX REPLACE "^[^=]*=" "" dir "${dir}")
  string(FIND "${dir}" "${root}/" at)
  if(NOT at EQUAL 0)
    fail("find_package found asio_backoff in '${dir}', not under ${root}")
  endif()
endfunction()

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}")
  check_installed("${PREFIX}")

elseif(STEP STREQUAL "find_package")
  file(REMOVE_RECURSE "${WORK_DIR}")
  build_consumer(find_package "-DCMAKE_PREFIX_PATH=${PREFIX}"
                 "-DASIO_BACKOFF_EXPECTED_VERSION=${VERSION}")
  check_package_found_in("${PREFIX}")

elseif(STEP STREQUAL "pkg-config")
  require_tool(pkg-config "${PKG_CONFIG}")
  file(REMOVE_RECURSE "${WORK_DIR}")
  file(MAKE_DIRECTORY "${WORK_DIR}")
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig")
  run("pkg-config --cflags --libs" "${PKG_CONFIG}" --cflags --libs asio_backoff)
  separate_arguments(flags UNIX_COMMAND "${output}")
  message(STATUS "pkg-config --cflags --libs asio_backoff: ${flags}")
  run("pkg-config --modversion" "${PKG_CONFIG}" --modversion asio_backoff)
  string(STRIP "${output}" modversion)
  if(NOT modversion STREQUAL VERSION)
    fail("pkg-config says version '${modversion}', not ${VERSION}")
  endif()
  foreach(std 17 20)
    set(program "${WORK_DIR}/consumer_cxx${std}")
    run("compiling with the pkg-config flags as C++${std}"
        "${CXX}" -std=c++${std} ${flags} "${SOURCE_DIR}/test/consumer/main.cpp" -o "${program}")
    run_program("${program}" ${std})
  endforeach()

elseif(STEP STREQUAL "add_subdirectory")
  file(REMOVE_RECURSE "${WORK_DIR}")
  build_consumer(add_subdirectory "-DASIO_BACKOFF_SOURCE_DIR=${SOURCE_DIR}")

elseif(STEP STREQUAL "FetchContent")
  file(REMOVE_RECURSE "${WORK_DIR}")
  build_consumer(FetchContent "-DASIO_BACKOFF_SOURCE_DIR=${SOURCE_DIR}"
                 -DFETCHCONTENT_FULLY_DISCONNECTED=ON)

elseif(STEP STREQUAL "deb")
  require_tool(dpkg-deb "${DPKG_DEB}")
  file(REMOVE_RECURSE "${WORK_DIR}")
  file(MAKE_DIRECTORY "${WORK_DIR}")
  run("cpack -G DEB" "${CPACK}" -G DEB --config "${BUILD_DIR}/CPackConfig.cmake" -B "${WORK_DIR}")
  set(deb "${WORK_DIR}/libasio-backoff-dev_${VERSION}_all.deb")
  if(NOT EXISTS "${deb}")
    fail("cpack made no ${deb}:\n${output}")
  endif()

  run("dpkg-deb -I" "${DPKG_DEB}" -I "${deb}")
  message(STATUS "dpkg-deb -I ${deb}\n${output}")
  foreach(field "Package: libasio-backoff-dev" "Version: ${VERSION}" "Architecture: all"
                "Depends: libboost-dev \\(>= [0-9.]+\\) \\| libboost1.81-dev")
    if(NOT output MATCHES "\n ${field}\n")
      fail("the package's control file has no '${field}'")
    endif()
  endforeach()

  set(root "${WORK_DIR}/root")
  run("dpkg-deb -x" "${DPKG_DEB}" -x "${deb}" "${root}")
  check_installed("${root}/usr")
  build_consumer(find_package "-DCMAKE_PREFIX_PATH=${root}/usr"
                 "-DASIO_BACKOFF_EXPECTED_VERSION=${VERSION}")
  check_package_found_in("${root}/usr")

else()
  fail("unknown STEP '${STEP}'")
endif()
