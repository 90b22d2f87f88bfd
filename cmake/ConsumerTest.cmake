# ConsumerTest.cmake — prove an installed memkit can be used by another project.
#
#   cmake -DMODE=install      -DBUILD_DIR=<memkit build> -DPREFIX=<dir> -P ConsumerTest.cmake
#   cmake -DMODE=find_package -DPREFIX=<dir> -DSOURCE_DIR=<tests/consumer> -DWORK_DIR=<dir>
#         [-DCXX_COMPILER=..] [-DCXX_FLAGS=..] [-DEXE_LINKER_FLAGS=..] [-DBUILD_TYPE=..]
#         -P ConsumerTest.cmake
#   cmake -DMODE=pkg_config   -DPREFIX=<dir> -DLIBDIR=<lib dir under PREFIX>
#         -DSOURCE_DIR=<tests/consumer> -DWORK_DIR=<dir> [-DCXX_COMPILER=..] [-DCXX_FLAGS=..]
#         [-DEXE_LINKER_FLAGS=..] -P ConsumerTest.cmake
#
# install:      a fresh `cmake --install BUILD_DIR --prefix PREFIX`;
# find_package: configure SOURCE_DIR (find_package(memkit)) against PREFIX with Ninja, build, run;
# pkg_config:   compile SOURCE_DIR/main.cpp with `pkg-config --cflags --libs memkit`, run.
# CXX_FLAGS / EXE_LINKER_FLAGS carry the sanitizer flags of the memkit build through.
cmake_minimum_required(VERSION 3.21)

function(run_step what)
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    string(REPLACE ";" " " command_line "${ARGN}")
    message("command: ${command_line}\n${output}")
    message(FATAL_ERROR "${what} failed (${result})")
  endif()
  message(STATUS "${what}: ok")
  set(step_output "${output}" PARENT_SCOPE)
endfunction()

foreach(var MODE PREFIX)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "ConsumerTest.cmake: -D${var}=... is required")
  endif()
endforeach()

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  run_step("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}")
  return()
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
if(NOT DEFINED CXX_COMPILER OR CXX_COMPILER STREQUAL "")
  set(CXX_COMPILER c++)
endif()

if(MODE STREQUAL "find_package")
  set(configure_args
    -S "${SOURCE_DIR}" -B "${WORK_DIR}" -G Ninja
    "-DCMAKE_PREFIX_PATH=${PREFIX}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")
  if(DEFINED BUILD_TYPE AND NOT BUILD_TYPE STREQUAL "")
    list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
  endif()
  run_step("configure consumer" "${CMAKE_COMMAND}" ${configure_args})
  run_step("build consumer" "${CMAKE_COMMAND}" --build "${WORK_DIR}")
  run_step("run consumer" "${WORK_DIR}/memkit_consumer")
  message("${step_output}")
elseif(MODE STREQUAL "pkg_config")
  find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf REQUIRED)
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")
  run_step("pkg-config --cflags --libs memkit"
    "${PKG_CONFIG_EXECUTABLE}" --cflags --libs memkit)
  string(STRIP "${step_output}" pc_flags)
  message(STATUS "pkg-config flags: ${pc_flags}")
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  separate_arguments(cxx_flags UNIX_COMMAND "${CXX_FLAGS}")
  separate_arguments(link_flags UNIX_COMMAND "${EXE_LINKER_FLAGS}")
  set(exe "${WORK_DIR}/memkit_consumer_pc")
  # Flags from pkg-config after the source: -l must follow the objects that use it.
  run_step("compile consumer with pkg-config flags"
    "${CXX_COMPILER}" ${cxx_flags} "${SOURCE_DIR}/main.cpp" -o "${exe}" ${pc_flags} ${link_flags})
  # A shared libmemkit is found at run time through LD_LIBRARY_PATH (pkg-config sets no rpath).
  if(DEFINED ENV{LD_LIBRARY_PATH} AND NOT "$ENV{LD_LIBRARY_PATH}" STREQUAL "")
    set(ENV{LD_LIBRARY_PATH} "${PREFIX}/${LIBDIR}:$ENV{LD_LIBRARY_PATH}")
  else()
    set(ENV{LD_LIBRARY_PATH} "${PREFIX}/${LIBDIR}")
  endif()
  run_step("run consumer" "${exe}")
  message("${step_output}")
else()
  message(FATAL_ERROR "ConsumerTest.cmake: unknown MODE '${MODE}'")
endif()
