#!/usr/bin/env bash
# check.sh: the README's test command, and what CI runs. Installs what is missing, then
#   1. debug build: every test, and every example with small arguments
#   2. tsa build: clang -Wthread-safety -Werror on what is not a test program (examples,
#      benchmarks but three front-ends whose code the compare library already instantiates:
#      bench/CMakeLists.txt); the asan build analyses the test programs
#   3. asan build: AddressSanitizer + UBSan and -Wthread-safety, every test but the
#      deliberate bug demos
#   4. tsan build: ThreadSanitizer, every test but the deliberate bug demos
# The sanitizer stages build only the test programs and what their tests run: benchmarks and
# examples never run there, and the debug and tsa builds already compile them.
# Stops at the first failure. Usage: scripts/check.sh [debug|tsa|asan|tsan ...] (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(debug tsa asan tsan)

step() {  # step <title> <command...>: runs and times one step
  local title=$1; shift
  local t0=$SECONDS
  echo "== $title"
  "$@"
  echo "== $title: done in $((SECONDS - t0)) s"
}

for stage in "${stages[@]}"; do
  case $stage in
    debug|asan|tsan)
      step "$stage: configure" cmake --preset "$stage" --log-level=WARNING
      if [ "$stage" = debug ]; then
        step "$stage: build" cmake --build --preset "$stage"
      else
        step "$stage: build (test programs)" cmake --build --preset "$stage" --target test_programs
      fi
      step "$stage: test" ctest --preset "$stage" --output-on-failure
      if [ "$stage" = debug ]; then
        step "debug: run every example with small arguments" \
          cmake --build --preset debug --target run_examples
      fi
      ;;
    tsa)
      step "tsa: configure" cmake --preset tsa --log-level=WARNING
      step "tsa: build (-Wthread-safety -Werror, no test programs)" cmake --build --preset tsa
      ;;
    *) echo "check.sh: unknown stage '$stage' (use debug, tsa, asan, tsan)" >&2; exit 2 ;;
  esac
done
echo "check.sh: all stages passed (${stages[*]}) in $SECONDS s"
