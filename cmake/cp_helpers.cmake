# One-line helpers to add an example, a test or a benchmark.
#
#   cp_add_example(<name> SOURCES a.cpp [ARGS small args...] [SHOWS_BUG])
#   cp_add_test(<name> SOURCES a.cpp ... [TIMEOUT seconds] [LINK libs...])
#   cp_add_bench(<name> SOURCES a.cpp ... [LINK libs...])
#
# Tests are Catch2 v2 programs. Each test case carries exactly one category tag from
# CP_TEST_CATEGORIES; it becomes the case's ctest label (`ctest -L stress`, `-LE shows-bug`).
# Catch2 v2's own catch_discover_tests cannot turn tags into labels, hence cp_discover_tests.

set(CP_TEST_CATEGORIES unit stress trait suite-catches-bugs shows-bug interleaving docs long)

function(cp_configure_warnings_and_sanitizers)
  add_compile_options(-Wall -Wextra -Wpedantic)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ notes that passing a 64-byte-aligned type (a cache value) by value changed ABI in
    # GCC 4.6; it concerns linking with code built by GCC < 4.6 only, so it is noise here.
    add_compile_options(-Wno-psabi)
  endif()
  if(CP_SANITIZE)
    # An ASan report needs file:line for every frame (inlined ones too), not a debugger's
    # variables: clang's line tables alone give that; full -g made objects 1.5 times as large
    # and cost about 10% more compile time (order_test.cpp under ASan+UBSan: 145 -> 129 s of
    # CPU). Not for TSan: with line tables only, an inlined frame is named without its scope
    # ("type" for caf::detail::tuple_vals_impl<...>::type), so the scoped suppressions of
    # tests/tsan.supp (race_top:^caf::, ^tbb::detail::) stop matching the frames of the
    # uninstrumented libraries, and 32 tests failed on their races.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND NOT CP_SANITIZE STREQUAL "thread")
      set(cp_sanitizer_debug_info -gline-tables-only)
    else()
      set(cp_sanitizer_debug_info -g)
    endif()
    add_compile_options(-fsanitize=${CP_SANITIZE} -fno-omit-frame-pointer
                        ${cp_sanitizer_debug_info})
    add_link_options(-fsanitize=${CP_SANITIZE})
    if(CP_SANITIZE MATCHES "undefined")
      add_compile_options(-fno-sanitize-recover=undefined)
    endif()
    add_compile_definitions(CP_SANITIZED=1)
  endif()
  if(CP_THREAD_SAFETY_ANALYSIS)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      message(FATAL_ERROR "CP_THREAD_SAFETY_ANALYSIS needs clang (use the 'tsa' preset)")
    endif()
    add_compile_options(-Wthread-safety -Werror=thread-safety)
  endif()
  if(CP_WARNINGS_AS_ERRORS)
    add_compile_options(-Werror)
  endif()
endfunction()

# The Catch2 main is compiled once and shared by every test program.
function(_cp_catch_main)
  if(NOT TARGET cp_catch_main)
    add_library(cp_catch_main STATIC ${PROJECT_SOURCE_DIR}/tests/support/catch_main.cpp)
    target_link_libraries(cp_catch_main PUBLIC Catch2::Catch2 cp_core)
    # Catch2's own implementation is not the code under test, so it is compiled the fast way:
    # no optimisation, no debug information, no sanitizer instrumentation (under ASan+UBSan at
    # -O2 this one file took 66 s of one core; so, 11 s). The tests stay instrumented: their
    # objects come before this library on the link line, so where both hold an inline function
    # the test's instrumented copy is kept. Catch2 v2 runs every case on the main thread, so
    # TSan misses no synchronisation in it.
    target_compile_options(cp_catch_main PRIVATE -O0 -g0)
    if(CP_SANITIZE)
      target_compile_options(cp_catch_main PRIVATE -fno-sanitize=all)
    endif()
  endif()
endfunction()

# Every test file includes catch2/catch.hpp (~17,000 lines). It is parsed once per build into
# a precompiled header that every test program reuses: it saves clang (three of the four check
# stages) about 1.5-3.5 s of CPU per test file, g++ less. The holder target compiles an empty file: catch_main.cpp cannot hold it, since
# it defines CATCH_CONFIG_MAIN before the include. Reuse needs the same compile options; the
# only per-test differences are -D macros that catch.hpp never reads (TBB_USE_DEBUG, paths),
# which both compilers accept beside a PCH.
function(_cp_test_pch)
  if(NOT TARGET cp_test_pch)
    set(empty "${PROJECT_BINARY_DIR}/cp_test_pch.cpp")
    file(WRITE "${empty}" "")
    add_library(cp_test_pch OBJECT "${empty}")
    target_link_libraries(cp_test_pch PRIVATE Catch2::Catch2)
    target_precompile_headers(cp_test_pch PRIVATE <catch2/catch.hpp>)
  endif()
endfunction()

function(cp_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LINK" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  _cp_catch_main()
  _cp_test_pch()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE cp_catch_main ${T_LINK})
  target_precompile_headers(${name} REUSE_FROM cp_test_pch)
  # test_programs: what ctest runs, with the programs the tests start (add_dependencies on
  # the test target brings those along). The sanitizer stages build this, not everything.
  add_dependencies(test_programs ${name})
  # After each build, list the cases and write one ctest test per case (see
  # cp_discover_tests.cmake); ctest reads that file through TEST_INCLUDE_FILES.
  set(tests_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_tests.cmake")
  string(REPLACE ";" "|" categories "${CP_TEST_CATEGORIES}")
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -D EXE=$<TARGET_FILE:${name}> -D PREFIX=${name}
            -D "CATEGORIES=${categories}" -D TIMEOUT=${T_TIMEOUT} -D OUT=${tests_file}
            -P ${PROJECT_SOURCE_DIR}/cmake/cp_discover_tests.cmake
    VERBATIM)
  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_include.cmake")
  file(WRITE ${include_file}
       "if(EXISTS \"${tests_file}\")\n  include(\"${tests_file}\")\n"
       "else()\n  add_test(${name}_NOT_BUILT ${name}_NOT_BUILT)\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include_file})
endfunction()

# An example: its own target, part of `examples`; `run_examples` runs it with small ARGS.
# SHOWS_BUG marks an example that demonstrates a bug on purpose (a data race, a deadlock):
# it is named so in its target property and never run under the sanitizers.
function(cp_add_example name)
  cmake_parse_arguments(E "SHOWS_BUG" "" "SOURCES;ARGS;LINK" ${ARGN})
  add_executable(${name} ${E_SOURCES})
  target_link_libraries(${name} PRIVATE cp_core ${E_LINK})
  set_target_properties(${name} PROPERTIES CP_SHOWS_BUG "${E_SHOWS_BUG}")
  add_dependencies(examples ${name})
  set(run_target run_${name})
  if(E_SHOWS_BUG AND CP_SANITIZE)
    add_custom_target(${run_target} COMMAND ${CMAKE_COMMAND} -E echo
      "skip ${name}: it shows a bug on purpose, so it does not run under sanitizers")
  else()
    add_custom_target(${run_target} COMMAND $<TARGET_FILE:${name}> ${E_ARGS}
                      DEPENDS ${name} USES_TERMINAL)
  endif()
  add_dependencies(run_examples ${run_target})
endfunction()

function(cp_add_bench name)
  cmake_parse_arguments(B "" "" "SOURCES;LINK" ${ARGN})
  add_executable(${name} ${B_SOURCES})
  target_link_libraries(${name} PRIVATE cp_core benchmark::benchmark ${B_LINK})
endfunction()
