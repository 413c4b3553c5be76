# Install rules, the exported CMake package, the pkg-config file and the .deb.
# Included from the top-level CMakeLists.txt when ASIO_BACKOFF_INSTALL is on.
#
#   <prefix>/include/asio_backoff.hpp, include/asio_backoff/...   the headers
#   <prefix>/share/cmake/asio_backoff/                            find_package(asio_backoff)
#   <prefix>/share/pkgconfig/asio_backoff.pc                      pkg-config
#   <prefix>/share/doc/asio-backoff/                              README, LICENSE, CHANGELOG
#
# Everything is architecture-independent (header-only), hence share/ rather than lib/.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_asio_backoff_cmake_dir "${CMAKE_INSTALL_DATADIR}/cmake/asio_backoff")
set(_asio_backoff_pkgconfig_dir "${CMAKE_INSTALL_DATADIR}/pkgconfig")
set(_asio_backoff_doc_dir "${CMAKE_INSTALL_DATAROOTDIR}/doc/asio-backoff")

# Installing needs nothing built (the tests and examples are not installed), so
# `make install` and cpack do not build them first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# Headers and the target
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")
install(TARGETS asio_backoff EXPORT asio_backoffTargets)

# The backoff-wait tool (ASIO_BACKOFF_BUILD_TOOL), in a component of its own.
# Installing never builds (see above): build it first, then
#   cmake --build <build> --target backoff-wait
#   cmake --install <build> --component tool
# OPTIONAL: without a build, installing everything installs the headers and
# skips the tool, as before it existed; asking for the tool alone is an error.
# The .deb leaves it out (see CPack).
if(TARGET backoff-wait)
  install(CODE "
    if(CMAKE_INSTALL_COMPONENT STREQUAL \"tool\" AND NOT EXISTS \"$<TARGET_FILE:backoff-wait>\")
      message(FATAL_ERROR \"backoff-wait is not built: cmake --build ${PROJECT_BINARY_DIR} --target backoff-wait\")
    endif()" COMPONENT tool)
  install(TARGETS backoff-wait RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
          COMPONENT tool OPTIONAL)
endif()

# CMake package: asio_backoff::asio_backoff
install(EXPORT asio_backoffTargets
        NAMESPACE asio_backoff::
        DESTINATION "${_asio_backoff_cmake_dir}")
configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/asio_backoffConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/asio_backoffConfig.cmake"
  INSTALL_DESTINATION "${_asio_backoff_cmake_dir}")
# While the version is 0.x, a minor release may change the API (semantic
# versioning gives 0.y no promise), so find_package(asio_backoff 0.1) accepts
# 0.1.z only. From 1.0 on, SameMajorVersion. ARCH_INDEPENDENT: no binaries,
# so a 32-bit consumer may use the package as well as a 64-bit one.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/asio_backoffConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion
  ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/asio_backoffConfig.cmake"
              "${PROJECT_BINARY_DIR}/asio_backoffConfigVersion.cmake"
        DESTINATION "${_asio_backoff_cmake_dir}")

# pkg-config. The prefix is found from the .pc file's own place, so the same
# file is right after `cmake --install --prefix`, DESTDIR or in the .deb. Boost
# has no .pc on Debian: there is nothing to require.
if(IS_ABSOLUTE "${CMAKE_INSTALL_DATADIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(ASIO_BACKOFF_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(ASIO_BACKOFF_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH _asio_backoff_pc_up "/${_asio_backoff_pkgconfig_dir}" "/") # "../../"
  string(REGEX REPLACE "/$" "" _asio_backoff_pc_up "${_asio_backoff_pc_up}")
  set(ASIO_BACKOFF_PC_PREFIX "\${pcfiledir}/${_asio_backoff_pc_up}")
  set(ASIO_BACKOFF_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/asio_backoff.pc.in"
               "${PROJECT_BINARY_DIR}/asio_backoff.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/asio_backoff.pc"
        DESTINATION "${_asio_backoff_pkgconfig_dir}")

# Documentation
install(FILES "${PROJECT_SOURCE_DIR}/README.md" "${PROJECT_SOURCE_DIR}/LICENSE"
              "${PROJECT_SOURCE_DIR}/CHANGELOG.md"
        DESTINATION "${_asio_backoff_doc_dir}")

# CPack: `cpack -G DEB` in the build directory makes libasio-backoff-dev_<version>_all.deb.
# Only for the top-level project: a parent project owns its own packaging.
if(NOT ASIO_BACKOFF_IS_TOP_LEVEL)
  return()
endif()
set(CPACK_PACKAGE_NAME "asio-backoff")
set(CPACK_PACKAGE_VENDOR "asio-backoff")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "header-only exponential backoff as a Boost.Asio composed operation")
set(CPACK_PACKAGE_DESCRIPTION
    "async_backoff retries an attempt, synchronous or asynchronous, with growing
waits on an Asio timer until it succeeds, fails for good, the deadline passes
or it is cancelled, without blocking a thread. C++17, Boost >= ${ASIO_BACKOFF_BOOST_MIN_VERSION}.
License: Boost Software License 1.0 (BSL-1.0).")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGE_CONTACT "asio-backoff maintainers")
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
# The headers' component only (the rules above that name none): the tool is a
# binary, and would make this package architecture-dependent.
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};${PROJECT_NAME};Unspecified;/")

set(CPACK_DEBIAN_PACKAGE_NAME "libasio-backoff-dev")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Headers only. A compiled tool would make this the build architecture.
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "all")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libboost-dev (>= ${ASIO_BACKOFF_BOOST_MIN_VERSION}) | libboost1.81-dev")
set(CPACK_DEBIAN_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")

include(CPack)
