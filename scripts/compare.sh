#!/usr/bin/env bash
# compare.sh: the README's main command. Installs what is missing, builds the release preset
# and runs the comparison. Without arguments: the default profile (every workload and design,
# closed loop at 1, C and 4C threads on C cores plus open-loop rows at 10, 50 and 90%; about
# 5 minutes on 2 cores with the build: 95 s of rows, the rest the build). Arguments go to `compare` (try --help; --profile quick|full, --workload ...).
# Results go to results/<UTC yyyymmdd-HHMMSS>/ (rows.csv, percentiles.csv, results.json,
# summary.txt) unless --out says otherwise; when the report generator (bench/report/) is
# present, its plots are drawn into the same directory.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'TEXT'
usage: bash scripts/compare.sh [compare options...]
  Installs what is missing (scripts/setup.sh), builds the release preset's `compare` and runs it.
  Without options: the default profile (about 5 minutes on 2 cores, build included).
  Common options (all of them: the built `compare --help`, which this prints once built):
    --profile quick|default|full   a smoke run (~1 min), the default, or the long sweep
    --workload counter,cache,order  the workloads to run (default: all)
    --design NAME[,NAME...]         designs by name, e.g. --design reference,lock-free
    --list                          the designs and their traits
    --out DIR                       where the results go (default: results/<UTC time>/)
TEXT
}

out="results/$(date -u +%Y%m%d-%H%M%S)"
prev=""
for arg in "$@"; do  # --help/--list print and exit; an explicit --out wins (compare: last wins)
  case $arg in
    --help|-h)  # answers before installing or building; the full text once `compare` is built
      if [ -x ./build/release/bench/compare ]; then exec ./build/release/bench/compare "$@"; fi
      usage
      exit 0 ;;
    --out=*) out=${arg#--out=} ;;
  esac
  [ "$prev" = "--out" ] && out=$arg
  prev=$arg
done

bash scripts/setup.sh
cmake --preset release --log-level=WARNING >/dev/null
cmake --build --preset release --target compare
for arg in "$@"; do
  [ "$arg" = --list ] && exec ./build/release/bench/compare "$@"
done

status=0
./build/release/bench/compare --out "$out" "$@" || status=$?
if [ "$status" -ne 2 ] && [ -f bench/report/make_report.py ] && [ -f "$out/rows.csv" ]; then
  /usr/bin/python3 bench/report/make_report.py "$out" ||
    echo "compare.sh: the report generator failed; the results are in $out" >&2
fi
exit "$status"
