# git_revision.cmake: writes OUT, a header defining CP_GIT_REVISION as `git describe --always
# --dirty` of SRC, run at every build (bench/CMakeLists.txt) so that a result file names the
# commit it was built from, not the one of the last configure. OUT is rewritten only when the
# revision changed, so an unchanged tree recompiles nothing.
execute_process(COMMAND git describe --always --dirty
                WORKING_DIRECTORY "${SRC}"
                OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT rev)
  set(rev "unknown")
endif()
set(text "#define CP_GIT_REVISION \"${rev}\"\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
