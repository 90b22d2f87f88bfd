# CheckOutput.cmake — run a program and compare its stdout with an expected file.
#
#   cmake -DPROGRAM=<exe> -DEXPECTED=<file> [-DWORKDIR=<dir>] -P CheckOutput.cmake
#
# The expected file:
#   * an optional first line "#exit N": the program must exit with N (otherwise it must exit 0);
#     the line is not part of the expected output;
#   * every other line is one line of stdout: a line starting with "re:" is a regular expression
#     (CMake syntax) that must match the whole output line (^...$); any other line must be equal.
# Trailing '\r' and one final newline are ignored on both sides. Stderr is shown, not compared.
cmake_minimum_required(VERSION 3.21)

foreach(var PROGRAM EXPECTED)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "CheckOutput.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${EXPECTED}")
  message(FATAL_ERROR "CheckOutput.cmake: expected file ${EXPECTED} does not exist")
endif()
if(NOT DEFINED WORKDIR OR "${WORKDIR}" STREQUAL "")
  get_filename_component(WORKDIR "${PROGRAM}" DIRECTORY)
endif()

# Text -> CMake list of lines. '\\', ';', '[' and ']' would break CMake's list handling, so they
# are replaced by placeholders first and restored line by line with _restore().
set(_BS "@@memkit_backslash@@")
set(_SEMI "@@memkit_semicolon@@")
set(_LB "@@memkit_lbracket@@")
set(_RB "@@memkit_rbracket@@")
macro(_split_lines text_var out)
  set(_t "${${text_var}}")
  string(REPLACE "\r\n" "\n" _t "${_t}")
  string(REPLACE "\\" "${_BS}" _t "${_t}")
  string(REPLACE ";" "${_SEMI}" _t "${_t}")
  string(REPLACE "[" "${_LB}" _t "${_t}")
  string(REPLACE "]" "${_RB}" _t "${_t}")
  string(REGEX REPLACE "\n$" "" _t "${_t}")
  if(_t STREQUAL "")
    set(${out} "")
    set(${out}_count 0)
  else()
    string(REPLACE "\n" ";" ${out} "${_t}")
    list(LENGTH ${out} ${out}_count)
  endif()
endmacro()
macro(_restore var)
  string(REPLACE "${_SEMI}" ";" ${var} "${${var}}")
  string(REPLACE "${_LB}" "[" ${var} "${${var}}")
  string(REPLACE "${_RB}" "]" ${var} "${${var}}")
  string(REPLACE "${_BS}" "\\" ${var} "${${var}}")
endmacro()

file(READ "${EXPECTED}" expected_text)
_split_lines(expected_text expected_lines)

set(expected_exit 0)
if(expected_lines_count GREATER 0)
  list(GET expected_lines 0 first)
  if(first MATCHES "^#exit ([0-9]+)[ \t]*$")
    set(expected_exit "${CMAKE_MATCH_1}")
    list(REMOVE_AT expected_lines 0)
    math(EXPR expected_lines_count "${expected_lines_count} - 1")
  endif()
endif()

execute_process(
  COMMAND "${PROGRAM}"
  WORKING_DIRECTORY "${WORKDIR}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE actual_text
  ERROR_VARIABLE stderr_text)

if(NOT stderr_text STREQUAL "")
  message("---- stderr of ${PROGRAM} (not compared) ----\n${stderr_text}---- end of stderr ----")
endif()

_split_lines(actual_text actual_lines)

set(report "")
set(mismatches 0)
if(NOT "${result}" STREQUAL "${expected_exit}")
  string(APPEND report "exit status: expected ${expected_exit}, got ${result}\n")
  math(EXPR mismatches "${mismatches} + 1")
endif()

if(expected_lines_count GREATER actual_lines_count)
  set(max_lines ${expected_lines_count})
else()
  set(max_lines ${actual_lines_count})
endif()

set(shown 0)
if(max_lines GREATER 0)
  math(EXPR last "${max_lines} - 1")
  foreach(i RANGE ${last})
    math(EXPR line_no "${i} + 1")
    if(i LESS expected_lines_count)
      list(GET expected_lines ${i} want)
      _restore(want)
      set(have_want TRUE)
    else()
      set(want "<no line: output should have ended>")
      set(have_want FALSE)
    endif()
    if(i LESS actual_lines_count)
      list(GET actual_lines ${i} got)
      _restore(got)
      set(have_got TRUE)
    else()
      set(got "<no line: output ended>")
      set(have_got FALSE)
    endif()

    set(ok FALSE)
    if(have_want AND have_got)
      if(want MATCHES "^re:(.*)$")
        set(pattern "${CMAKE_MATCH_1}")
        if(got MATCHES "^(${pattern})$")
          set(ok TRUE)
        endif()
      elseif(want STREQUAL got)
        set(ok TRUE)
      endif()
    endif()

    if(NOT ok)
      math(EXPR mismatches "${mismatches} + 1")
      if(shown LESS 20)
        string(APPEND report "line ${line_no}:\n  expected: ${want}\n  actual:   ${got}\n")
        math(EXPR shown "${shown} + 1")
      endif()
    endif()
  endforeach()
endif()

if(mismatches GREATER 0)
  if(mismatches GREATER shown AND shown EQUAL 20)
    string(APPEND report "(only the first 20 mismatching lines are shown)\n")
  endif()
  # Plain message() prints verbatim; FATAL_ERROR would reflow the report.
  message("output of ${PROGRAM} does not match ${EXPECTED}\n"
    "${report}"
    "---- whole stdout ----\n${actual_text}---- end of stdout ----")
  message(FATAL_ERROR "output mismatch: ${mismatches} problem(s), see above")
endif()
message(STATUS "output matches ${EXPECTED} (${actual_lines_count} lines)")
