# Script mode (cmake -P), run after each test program is built: lists its Catch2 test cases
# and writes one ctest test per case, labelled with the case's category tag. Every case must
# carry exactly one category tag (CP_TEST_CATEGORIES), so `ctest -L stress` or
# `ctest -LE shows-bug` selects exactly what it says.
#
# Inputs: EXE, PREFIX, CATEGORIES (|-separated), TIMEOUT, OUT (the ctest file to write).

cmake_minimum_required(VERSION 3.25)
string(REPLACE "|" ";" CATEGORIES "${CATEGORIES}")

function(cp_list_names spec out_var)
  execute_process(COMMAND "${EXE}" ${spec} --list-test-names-only
                  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(rc LESS 0)
    message(FATAL_ERROR "cannot list the tests of ${EXE}: ${out}")
  endif()
  if(out MATCHES ";")  # a CMake list separator: ctest could not name such a test
    message(FATAL_ERROR "a test name in ${EXE} contains ';': rename the test")
  endif()
  string(REPLACE "\n" ";" out "${out}")
  list(FILTER out EXCLUDE REGEX "^$")
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

function(cp_quote value out_var)
  set(${out_var} "[==[${value}]==]" PARENT_SCOPE)
endfunction()

cp_list_names("" all_names)
set(script "")
set(seen "")
foreach(category IN LISTS CATEGORIES)
  cp_list_names("[${category}]" names)
  foreach(name IN LISTS names)
    if(name IN_LIST seen)
      message(FATAL_ERROR "test '${name}' in ${EXE} has more than one category tag")
    endif()
    list(APPEND seen "${name}")
    set(spec "${name}")
    foreach(char , [ ])  # characters Catch2 would parse in a test spec
      string(REPLACE "${char}" "\\${char}" spec "${spec}")
    endforeach()
    cp_quote("${PREFIX}: ${name}" test_name)
    cp_quote("${spec}" test_spec)
    string(APPEND script "add_test(${test_name} \"${EXE}\" ${test_spec})\n"
           "set_tests_properties(${test_name} PROPERTIES LABELS ${category} TIMEOUT ${TIMEOUT})\n")
  endforeach()
endforeach()
foreach(name IN LISTS all_names)
  if(NOT name IN_LIST seen)
    message(FATAL_ERROR "test '${name}' in ${EXE} has no category tag; give it one of: "
                        "${CATEGORIES}")
  endif()
endforeach()
file(WRITE "${OUT}" "${script}")
