#!/usr/bin/env bash
# setup.sh: installs, from Debian 12's packages, whatever this project needs and the machine
# lacks. Idempotent; prints nothing when everything is already there.
set -euo pipefail

packages=(
  cmake ninja-build g++ clang libclang-rt-14-dev  # toolchains; clang's sanitizer runtimes
  libtbb-dev catch2 libbenchmark-dev libabsl-dev  # the project's libraries
  libboost-dev libconcurrentqueue-dev libatomic-queue-dev  # peers, in benchmarks only
  libcds-dev liburcu-dev libck-dev  # Treiber stack peers (bench/stack)
  libcaf-dev  # peer of the actor runtime (bench/actor)
  collectd-core  # peer of lesson 09's metricsd (its statsd plugin, in metrics_bench)
  nats-server libnats-dev  # JetStream, the replicated log of patterns/distributed (started by its tests)
  libomp-dev  # OpenMP for clang builds (lesson 08's peer rows; g++ brings libgomp)
  python3-matplotlib  # plots and docs/results.md (bench/report/make_report.py)
  mkdocs mkdocs-material python3-pymdownx  # the site (scripts/site.sh)
  chromium chromium-driver python3-selenium  # the site's browser test (tests/site)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing missing Debian packages: ${missing[*]}"
if ! command -v apt-get >/dev/null; then
  echo "setup: no apt-get here (not Debian?); install these packages yourself: ${missing[*]}" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "setup: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
fi
log=$(mktemp)
if ! { "${sudo[@]}" apt-get update -q && DEBIAN_FRONTEND=noninteractive \
       "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  echo "setup: apt-get failed; its last lines:" >&2
  tail -n 15 "$log" >&2
  echo "setup: full log in $log" >&2
  exit 1
fi
rm -f "$log"
echo "setup: done"
