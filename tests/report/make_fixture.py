#!/usr/bin/python3
"""make_fixture.py: writes a synthetic results directory in the format `compare --out` writes.

    /usr/bin/python3 tests/report/make_fixture.py OUT_DIR [--tables NAME[,NAME...]]

The numbers are invented, shaped like real runs on a 2-core machine (the magnitudes the
closed-loop runner printed there): 3 workloads in 4 tables, a 1-thread reference per
table, 6-7 designs at 1, 2, 4 and 8 client threads, open-loop sweeps at 10/50/80/95% of each
design's closed-loop rate, a pipelined row, a row that fails its check, designs that own
threads. Each table is built so that a known design wins each situation of the decision
rules, by margins well outside the 5% tie band (or, on purpose, inside it); test_make_report.py
states the expected winners and why. Only for tests: never publish these numbers.
"""

import argparse
import csv
import json
import math
import os
import random
import sys

CORES = 2
THREADS = [1, 2, 4, 8]
RATES = [10, 50, 80, 95]
MACHINE = {
    "profile": "default", "date_utc": "2026-11-22T10:15:00Z", "git": "abc1234",
    "cpu": "Intel(R) Xeon(R) Processor (synthetic fixture)", "cores": CORES,
    "compiler": "g++ 12.2.0", "build": "Release",
}
TIMER_FLOOR_NS = 21
OPEN_FLOOR_NS = (40, 60)  # the harness floor's p50, p99 beside each open row: below every p50
SEED = 20261122
SECONDS = 0.5

DEFAULT_P99X = [3, 4, 8, 12]          # closed-loop p99 / p50 at 1, 2, 4, 8 threads
DEFAULT_P999X = [2, 3, 10, 25]        # closed-loop p99.9 / p99
CALM_OPEN = [2.5, 3, 4, 5]            # open-loop p99 / p50 at 10, 50, 80, 95%: no knee
KNEE_AT_80 = [3, 5, 14, 60]
KNEE_AT_95 = [2, 3, 5, 30]

TRAITS = {  # family, thread_safe, linearizable_reads, lock_free, waiting, owned, pipelined
    "reference": ("reference", 0, 1, 0, "never waits", 0, 0),
    "mutex": ("mutex", 1, 1, 0, "blocks", 0, 0),
    "mutex-striped": ("mutex", 1, 1, 0, "blocks", 0, 0),
    "mutex-fine": ("mutex", 1, 1, 0, "blocks", 0, 0),
    "rwlock-std": ("rwlock", 1, 1, 0, "blocks", 0, 0),
    "rwlock-absl": ("rwlock", 1, 1, 0, "blocks", 0, 0),
    "single-writer": ("single-writer", 1, 1, 0, "blocks", 1, 0),
    "single-writer-sharded": ("single-writer", 1, 1, 0, "blocks", 2, 0),
    "single-writer-pipelined": ("single-writer", 1, 1, 0, "blocks", 1, 1),
}

# Per table: designs -> closed-loop M ops/s at 1, 2, 4, 8 threads (reference: 1 thread only),
# and the knobs that decide each situation. "p99": {threads: ns} and "p999": {threads: ns}
# override the shaped values; "fail": thread counts whose rows fail their check;
# "open": {threads: [p99/p50 at each rate]}; "short": {(threads, rate): achieved fraction};
# "collapse": {(threads, rate)}: p50 and p99 grow together there (saturation).
TABLES = {
    "counter": {
        "workload": "counter",
        "params": "keys=64 theta=0.99 mix add/get/total=90/9/1",
        "detail": 'exact: {ops} adds, "monotonic" reads',
        "open_threads": [2, 8],
        "designs": {
            "reference": {"tput": [11.4]},
            "mutex": {"tput": [9.6, 6.2, 5.9, 5.7], "p999": {8: 4.1e6},
                      "open": {2: KNEE_AT_80, 8: KNEE_AT_80}},
            "mutex-striped": {"tput": [8.0, 14.0, 13.0, 12.5], "p99": {2: 700},
                              "p999": {8: 2.2e6}},
            "rwlock-std": {"tput": [6.0, 4.0, 4.2, 16.0], "fail": {8}, "p999": {8: 30e3},
                           "short": {(2, 95): 0.80}},
            "rwlock-absl": {"tput": [7.0, 5.0, 4.8, 4.6], "p99": {2: 690}, "p999": {8: 3.0e6},
                            "open": {2: [3, 4, 25, 80]}},
            "single-writer": {"tput": [2.0, 2.6, 2.8, 2.9], "p999": {8: 45e3},
                              "open": {2: KNEE_AT_95}, "short": {(2, 95): 0.86}},
            # At 95% its latencies collapse together: p50 20x its light-load p50, p99 only
            # 3x that. Within the row p99 < 10x p50; against the light-load p50 it is 60x.
            "single-writer-sharded": {"tput": [1.8, 3.0, 3.3, 3.4], "p999": {8: 120e3},
                                      "collapse": {(2, 95)}},
        },
    },
    "cache read-heavy": {
        "workload": "cache",
        "params": "mix=read-heavy get/put/erase=90/9/1 key_space=100000 capacity=50000 "
                  "theta=0.99",
        "detail": "{ops} gets: every value intact (checksums hold)",
        "open_threads": [2],
        "designs": {
            "reference": {"tput": [9.0]},
            "mutex": {"tput": [7.5, 3.1, 3.0, 2.9], "p999": {8: 5.0e6},
                      "open": {2: KNEE_AT_80}},
            "mutex-striped": {"tput": [6.9, 6.0, 5.8, 5.5], "p999": {8: 1.5e6}},
            "rwlock-std": {"tput": [6.5, 4.0, 3.5, 3.2], "p999": {8: 2.5e6}},
            "rwlock-absl": {"tput": [7.2, 8.5, 8.0, 7.8], "p999": {8: 900e3}},
            "single-writer": {"tput": [1.9, 2.2, 2.3, 2.3], "p999": {8: 150e3},
                              "open": {2: KNEE_AT_95}},
            "single-writer-sharded": {"tput": [1.7, 3.1, 3.2, 3.2], "p999": {8: 80e3}},
        },
    },
    "cache write-heavy": {
        "workload": "cache",
        "params": "mix=write-heavy get/put/erase=50/45/5 key_space=100000 capacity=50000 "
                  "theta=0.99",
        "detail": "{ops} gets: every value intact (checksums hold)",
        "open_threads": [],
        "designs": {
            "reference": {"tput": [6.0]},
            "mutex": {"tput": [5.2, 2.5, 2.4, 2.3], "p999": {8: 6.0e6}},
            "mutex-striped": {"tput": [4.6, 5.5, 5.3, 5.1], "p999": {8: 2.0e6}},
            "rwlock-std": {"tput": [4.0, 2.0, 1.9, 1.8], "p999": {8: 7.0e6}},
            "rwlock-absl": {"tput": [4.5, 2.6, 2.5, 2.4], "p999": {8: 4.0e6}},
            "single-writer": {"tput": [1.8, 2.1, 2.2, 2.2], "p999": {8: 200e3}},
            "single-writer-sharded": {"tput": [1.6, 3.0, 3.1, 3.1], "p999": {8: 95e3}},
        },
    },
    "order": {
        "workload": "order",
        "params": "symbols=8 accounts=1024 theta=0.99 mix place/cancel/query=60/30/10 "
                  "cross=20% prefill=64/side/symbol",
        "detail": "invariants hold: cash, positions, reservations; {ops} replies",
        "open_threads": [2, 8],
        "designs": {
            "reference": {"tput": [3.0]},
            "mutex": {"tput": [2.6, 1.9, 1.8, 1.7], "p999": {8: 5.5e6},
                      "open": {2: KNEE_AT_80, 8: KNEE_AT_80}},
            "mutex-fine": {"tput": [2.3, 2.4, 2.2, 2.1], "p999": {8: 3.5e6}},
            "rwlock-std": {"tput": [2.2, 1.5, 1.4, 1.3], "p999": {8: 6.5e6}},
            "rwlock-absl": {"tput": [2.4, 1.7, 1.6, 1.5], "p999": {8: 4.5e6},
                            "open": {2: KNEE_AT_95}},
            "single-writer": {"tput": [1.2, 1.6, 1.7, 1.7], "p999": {8: 60e3}},
            "single-writer-sharded": {"tput": [1.1, 2.9, 3.0, 3.0], "p999": {8: 110e3}},
            "single-writer-pipelined": {"tput": [2.8, 4.5, 4.6, 4.6], "p99": {2: 500},
                                        "p999": {8: 20e3}},
        },
    },
}

ROWS_COLUMNS = [
    "run_id", "profile", "date_utc", "git", "cpu", "cores", "compiler", "build", "workload",
    "table", "params", "design", "family", "thread_safe", "linearizable_reads", "lock_free",
    "waiting", "pipelined", "owned_threads", "threads", "runnable_threads", "load",
    "rate_percent", "offered_per_s", "achieved_per_s", "seconds_requested", "seed", "ops",
    "wall_s", "ops_per_s", "vs_ref", "mean_ns", "min_ns", "p50_ns", "p90_ns", "p99_ns",
    "p999_ns", "p9999_ns", "max_ns", "timer_floor_ns", "p50_near_floor", "passed", "detail",
    "repeats", "ops_per_s_min", "ops_per_s_max", "spread", "wide_spread",
    "open_wait", "floor_p50_ns", "floor_p99_ns",
]
REPEATS = 5           # closed rows: the median of 5 repetitions, 3% apart end to end
PERCENTILE_COLUMNS = ["run_id", "workload", "table", "design", "threads", "load",
                      "rate_percent", "percentile", "latency_ns"]


def curve_points():
    """0, 50, 75, 87.5, ... halving the tail, up to the first point >= 99.999; then 100."""
    points, k = [], 0
    while True:
        p = 100.0 * (1.0 - 2.0 ** -k)
        points.append(p)
        if p >= 99.999:
            break
        k += 1
    return points + [100.0]


def curve(lat):
    """Interpolates log(latency) linearly in log(1/(1-p)) between the row's percentiles."""
    anchors = [(0.0, lat["min"]), (50.0, lat["p50"]), (90.0, lat["p90"]), (99.0, lat["p99"]),
               (99.9, lat["p999"]), (99.99, lat["p9999"]),
               (99.999, min(lat["max"], lat["p9999"] * 2))]
    xs = [math.log(1.0 / (1.0 - p / 100.0)) for p, _ in anchors]
    out = []
    for p in curve_points():
        if p >= 100.0:
            out.append((p, lat["max"]))
            continue
        x = math.log(1.0 / (1.0 - p / 100.0))
        for i in range(len(anchors) - 1):
            if xs[i] <= x <= xs[i + 1] or i == len(anchors) - 2:
                f = 0.0 if xs[i + 1] == xs[i] else min(1.0, (x - xs[i]) / (xs[i + 1] - xs[i]))
                v = math.exp(math.log(anchors[i][1]) * (1 - f) + math.log(anchors[i + 1][1]) * f)
                break
        out.append((p, v))
    mono, last = [], 0
    for p, v in out:  # histogram percentiles never fall
        last = max(last, int(round(v)))
        mono.append((p, last))
    return mono


def closed_latencies(rng, tput, threads, spec, ti):
    p50 = min(threads, CORES) / tput * 1e9 * 0.8
    p99 = spec.get("p99", {}).get(threads, p50 * DEFAULT_P99X[ti])
    p999 = spec.get("p999", {}).get(threads, p99 * DEFAULT_P999X[ti])
    p9999 = p999 * 3
    tick = rng.choice([4.0e6, 8.0e6, 12.0e6])  # the scheduler tick: what a max usually is
    return {"min": max(TIMER_FLOOR_NS, p50 * 0.3), "p50": p50, "p90": p50 * 1.3, "p99": p99,
            "p999": p999, "p9999": p9999, "max": max(p9999 * 1.5, tick),
            "mean": threads / tput * 1e9}


def open_latencies(rng, light_p50, rate, ratio):
    rho = rate / 100.0
    p50 = light_p50 * (1 + 0.6 * rho)
    p99 = p50 * ratio
    p999 = p99 * 2.5
    return {"min": max(TIMER_FLOOR_NS, light_p50 * 0.3), "p50": p50, "p90": p50 * 1.4,
            "p99": p99, "p999": p999, "p9999": p999 * 2,
            "max": max(p999 * 4, rng.choice([4.0e6, 8.0e6])), "mean": p50 * 1.5}


def make_rows(tables):
    rng = random.Random(SEED)
    rows, curves = [], []

    def add(table_name, t, design, threads, load, rate, offered, tput, lat, passed):
        fam, safe, lin, lf, waiting, owned, piped = TRAITS[design]
        ref_tput = t["designs"]["reference"]["tput"][0] * 1e6
        seconds = SECONDS
        ops = int(tput * seconds)
        r = {
            "run_id": f"r{len(rows) + 1}", **MACHINE, "workload": t["workload"],
            "table": table_name, "params": t["params"] + f" threads={threads}",
            "design": design, "family": fam, "thread_safe": safe, "linearizable_reads": lin,
            "lock_free": lf, "waiting": waiting, "pipelined": piped, "owned_threads": owned,
            "threads": threads, "runnable_threads": threads + owned, "load": load,
            "rate_percent": "" if rate is None else rate,
            "offered_per_s": "" if offered is None else f"{offered:.1f}",
            "achieved_per_s": f"{tput:.1f}", "seconds_requested": seconds, "seed": SEED,
            "ops": ops, "wall_s": f"{seconds * 1.0002:.6f}", "ops_per_s": f"{tput:.1f}",
            "vs_ref": f"{tput / ref_tput:.4f}", "mean_ns": f"{lat['mean']:.1f}",
            "min_ns": int(lat["min"]), "p50_ns": int(lat["p50"]), "p90_ns": int(lat["p90"]),
            "p99_ns": int(lat["p99"]), "p999_ns": int(lat["p999"]),
            "p9999_ns": int(lat["p9999"]), "max_ns": int(lat["max"]),
            "timer_floor_ns": TIMER_FLOOR_NS,
            "p50_near_floor": int(lat["p50"] < 3 * TIMER_FLOOR_NS), "passed": int(passed),
            "detail": (t["detail"].format(ops=ops) if passed else
                       "reads went backwards: key 7 read 1204, then 1198"),
            "repeats": REPEATS if load == "closed" else 1,
            "ops_per_s_min": f"{tput * 0.985:.1f}" if load == "closed" else "",
            "ops_per_s_max": f"{tput * 1.015:.1f}" if load == "closed" else "",
            "spread": "0.0300" if load == "closed" else "",
            "wide_spread": 0,
            "open_wait": "sleep" if load == "open" else "",
            "floor_p50_ns": OPEN_FLOOR_NS[0] if load == "open" else "",
            "floor_p99_ns": OPEN_FLOOR_NS[1] if load == "open" else "",
        }
        rows.append(r)
        for p, ns in curve(lat):
            curves.append({"run_id": r["run_id"], "workload": r["workload"],
                           "table": table_name, "design": design, "threads": threads,
                           "load": load, "rate_percent": r["rate_percent"],
                           "percentile": f"{p:.6g}", "latency_ns": ns})

    for table_name, t in TABLES.items():
        if table_name not in tables:
            continue
        for design, spec in t["designs"].items():
            for ti, threads in enumerate(THREADS[:len(spec["tput"])]):
                noise = 1 + rng.uniform(-0.004, 0.004)
                tput = spec["tput"][ti] * 1e6 * noise
                lat = closed_latencies(rng, tput, threads, spec, ti)
                add(table_name, t, design, threads, "closed", None, None, tput, lat,
                    threads not in spec.get("fail", set()))
        for threads in t["open_threads"]:
            for design, spec in t["designs"].items():
                if design == "reference":
                    continue
                ti = THREADS.index(threads)
                saturation = spec["tput"][ti] * 1e6
                light_p50 = spec["tput"][0] and 1 / (spec["tput"][0] * 1e6) * 1e9 * 0.9
                ratios = spec.get("open", {}).get(threads, CALM_OPEN)
                for rate, ratio in zip(RATES, ratios):
                    offered = saturation * rate / 100
                    achieved = offered * spec.get("short", {}).get((threads, rate), 0.995)
                    if (threads, rate) in spec.get("collapse", set()):
                        lat = open_latencies(rng, light_p50 * 20, rate, 3)
                    else:
                        lat = open_latencies(rng, light_p50, rate, ratio)
                    add(table_name, t, design, threads, "open", rate, offered, achieved, lat,
                        threads not in spec.get("fail", set()))
    return rows, curves


def write(out_dir, tables):
    os.makedirs(out_dir, exist_ok=True)
    rows, curves = make_rows(tables)
    with open(os.path.join(out_dir, "rows.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=ROWS_COLUMNS, lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(out_dir, "percentiles.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=PERCENTILE_COLUMNS, lineterminator="\r\n")
        w.writeheader()
        w.writerows(curves)
    benchmarks = []
    for i, r in enumerate(rows):
        load = "closed" if r["load"] == "closed" else f"open:{r['rate_percent']}%"
        name = f"{r['table']}/{r['design']}/threads:{r['threads']}/{load}"
        benchmarks.append({
            "name": name, "family_index": i, "per_family_instance_index": 0, "run_name": name,
            "run_type": "iteration", "repetitions": 1, "repetition_index": 0,
            "threads": r["threads"], "iterations": r["ops"], "real_time": float(r["mean_ns"]),
            "cpu_time": float(r["mean_ns"]), "time_unit": "ns",
            "items_per_second": float(r["ops_per_s"]),
            **{k: r[k] for k in ("p50_ns", "p90_ns", "p99_ns", "p999_ns", "p9999_ns",
                                 "max_ns", "passed", "detail", "runnable_threads")},
            "offered_per_s": float(r["offered_per_s"] or 0),
            "achieved_per_s": float(r["achieved_per_s"]),
        })
    doc = {
        "context": {
            "date": MACHINE["date_utc"], "host_name": "fixture", "executable": "compare",
            "num_cpus": CORES, "mhz_per_cpu": 0, "cpu_scaling_enabled": False, "caches": [],
            "load_avg": [0.42, 0.61, 0.55], "library_build_type": "release",
            "cpu_model": MACHINE["cpu"], "compiler": MACHINE["compiler"],
            "build_type": MACHINE["build"], "git_revision": MACHINE["git"],
            "profile": MACHINE["profile"], "timer_floor_ns": TIMER_FLOOR_NS,
            "knobs": {"seconds": SECONDS, "threads": "1,2,4,8", "rates": "10,50,80,95",
                      "seed": SEED, "theta": 0.99, "counter.keys": 64,
                      "cache.key_space": 100000, "cache.capacity": 50000,
                      "order.symbols": 8, "order.accounts": 1024, "wait": "blocking"},
        },
        "benchmarks": benchmarks,
    }
    with open(os.path.join(out_dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    with open(os.path.join(out_dir, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(f"synthetic fixture: {len(rows)} rows in {len(tables)} tables\n")
    return rows


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--tables", default=",".join(TABLES),
                        help="comma list of tables to write (default: all)")
    args = parser.parse_args(argv)
    tables = [t for t in args.tables.split(",") if t]
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        parser.error(f"unknown table(s): {', '.join(unknown)} (known: {', '.join(TABLES)})")
    rows = write(args.out_dir, tables)
    print(f"fixture: {len(rows)} rows in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
