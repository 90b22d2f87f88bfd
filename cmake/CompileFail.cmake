# CompileFail.cmake — check that a source file does not compile, for the right reason.
#
#   cmake -DCOMPILER=<c++> -DSOURCE=<file.cpp> -DMODE=fail|control [-DEXPECT=<regex>]
#         [-DINCLUDE_DIR=<dir>] [-DGENERATED_INCLUDE_DIR=<dir>] -P CompileFail.cmake
#
# MODE=fail:    SOURCE must fail to compile, and the compiler's output must match EXPECT.
# MODE=control: SOURCE compiled with -DMEMKIT_COMPILE_FAIL_CONTROL must compile: this proves the
#               failure in MODE=fail comes from the guarded line, not from a broken test.
# Compiles with -std=c++20 -fsyntax-only (nothing is written).
cmake_minimum_required(VERSION 3.21)

foreach(var COMPILER SOURCE MODE)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "CompileFail.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT MODE STREQUAL "fail" AND NOT MODE STREQUAL "control")
  message(FATAL_ERROR "CompileFail.cmake: MODE must be 'fail' or 'control', not '${MODE}'")
endif()
if(MODE STREQUAL "fail" AND (NOT DEFINED EXPECT OR "${EXPECT}" STREQUAL ""))
  message(FATAL_ERROR "CompileFail.cmake: -DEXPECT=<regex> is required with MODE=fail")
endif()
if(NOT EXISTS "${SOURCE}")
  message(FATAL_ERROR "CompileFail.cmake: ${SOURCE} does not exist")
endif()

set(args -std=c++20 -fsyntax-only)
foreach(dir IN ITEMS "${INCLUDE_DIR}" "${GENERATED_INCLUDE_DIR}")
  if(NOT dir STREQUAL "")
    list(APPEND args "-I${dir}")
  endif()
endforeach()
if(MODE STREQUAL "control")
  list(APPEND args -DMEMKIT_COMPILE_FAIL_CONTROL)
endif()

# Plain ASCII diagnostics (no ‘smart quotes’, no colours) so EXPECT can be written simply.
set(ENV{LC_ALL} C)
set(ENV{LANG} C)
set(ENV{GCC_COLORS} "")
execute_process(
  COMMAND "${COMPILER}" ${args} "${SOURCE}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

string(REPLACE ";" " " command_line "${COMPILER};${args};${SOURCE}")
if(MODE STREQUAL "control")
  if(NOT result EQUAL 0)
    message("command: ${command_line}\n---- compiler output ----\n${output}")
    message(FATAL_ERROR
      "control build of ${SOURCE} (with -DMEMKIT_COMPILE_FAIL_CONTROL) must compile but failed "
      "(exit ${result}); the compile-fail test proves nothing until it does.")
  endif()
  message(STATUS "control build compiles, as it must: ${SOURCE}")
  return()
endif()

if(result EQUAL 0)
  message("command: ${command_line}\n---- compiler output ----\n${output}")
  message(FATAL_ERROR "${SOURCE} compiled, but it must not.")
endif()
if(NOT output MATCHES "${EXPECT}")
  message("command: ${command_line}\n---- compiler output ----\n${output}")
  message(FATAL_ERROR
    "${SOURCE} failed to compile, as it must, but not for the expected reason: "
    "the compiler output does not match the regex \"${EXPECT}\".")
endif()
message(STATUS "fails to compile, as it must (output matches \"${EXPECT}\"): ${SOURCE}")
