#!/usr/bin/env bash
# compare.sh: the README's main command. Installs what is missing, builds the release preset
# and runs the comparison of every workload and design. Extra arguments go to `compare`
# (try --help); without any, it runs the default comparison (about 2.5 minutes on 2 cores, after the
# build) and writes a CSV under results/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release --log-level=WARNING >/dev/null
cmake --build --preset release --target compare
mkdir -p results
csv="results/compare-$(date +%Y%m%d-%H%M%S).csv"
if [ $# -eq 0 ]; then
  exec ./build/release/bench/compare --csv "$csv"
fi
exec ./build/release/bench/compare "$@"
