"""load: reads a results directory written by `compare --out DIR` and checks it against the spec.

    ReportError   - bad input: the message names the file, the line and the column
    Row           - one benchmark row of rows.csv (typed)
    Table         - the rows of one workload table ("counter", "cache read-heavy", ...)
    Results       - everything the report needs: rows by table, curves, machine, knobs
    load_results  - read DIR/rows.csv, DIR/percentiles.csv and DIR/results.json

The format is fixed by the runner's spec (bench/report/README.md repeats it). Every value is
checked as it is read, so a malformed file stops the report with one line that says where,
instead of a plot that silently lacks a row. Extra columns are ignored (a newer runner may add
some); missing ones are an error.
"""

import csv
import json
import math
import os
from dataclasses import dataclass, field

ROWS_COLUMNS = (
    "run_id", "profile", "date_utc", "git", "cpu", "cores", "compiler", "build", "workload",
    "table", "params", "design", "family", "thread_safe", "linearizable_reads", "lock_free",
    "waiting", "pipelined", "owned_threads", "threads", "runnable_threads", "load",
    "rate_percent", "offered_per_s", "achieved_per_s", "seconds_requested", "seed", "ops",
    "wall_s", "ops_per_s", "vs_ref", "mean_ns", "min_ns", "p50_ns", "p90_ns", "p99_ns",
    "p999_ns", "p9999_ns", "max_ns", "timer_floor_ns", "p50_near_floor", "passed", "detail",
)

# Columns a newer runner appends (closed rows as repeated, interleaved runs; open rows' wait
# policy and harness floor). Read when present; an older rows.csv without them reads as one
# repetition per row, spread unknown, no floor.
OPTIONAL_ROWS_COLUMNS = ("repeats", "ops_per_s_min", "ops_per_s_max", "spread", "wide_spread",
                         "open_wait", "floor_p50_ns", "floor_p99_ns", "batch",
                         "service_p50_ns", "service_p99_ns")

PERCENTILES_COLUMNS = (
    "run_id", "workload", "table", "design", "threads", "load", "rate_percent", "percentile",
    "latency_ns",
)


class ReportError(Exception):
    """Bad input. str(e) is the whole one-line message."""


@dataclass
class Row:
    run_id: str
    profile: str
    date_utc: str
    git: str
    cpu: str
    cores: int
    compiler: str
    build: str
    workload: str
    table: str
    params: str
    design: str
    family: str
    thread_safe: bool
    linearizable_reads: bool
    lock_free: bool
    waiting: str
    pipelined: bool
    owned_threads: int
    threads: int
    runnable_threads: int
    load: str                 # "closed" | "open"
    rate_percent: float       # None for closed rows
    offered_per_s: float      # None for closed rows
    achieved_per_s: float
    seconds_requested: float
    seed: int
    ops: int
    wall_s: float
    ops_per_s: float
    vs_ref: float             # None when the run had no reference row
    mean_ns: float
    min_ns: float
    p50_ns: float
    p90_ns: float
    p99_ns: float
    p999_ns: float
    p9999_ns: float
    max_ns: float
    timer_floor_ns: float
    p50_near_floor: bool
    passed: bool
    detail: str
    repeats: int = 1          # closed rows: repetitions whose median ops_per_s is
    ops_per_s_min: float = None
    ops_per_s_max: float = None
    spread: float = None      # range of the middle repetitions / median; None if unknown
    wide_spread: bool = False  # the runner marked the spread as too wide to rank the row
    open_wait: str = None     # open rows: "sleep", "spin-tail" or "spin" (how clients waited)
    floor_p50_ns: float = None  # open rows: the harness alone at the same schedule
    floor_p99_ns: float = None
    batch: int = None         # a batch row: commands per call (its latency is per batch)
    service_p50_ns: float = None  # execute() time only (open rows: without the wait)
    service_p99_ns: float = None
    line: int = 0             # where it was read, for messages
    curve: list = field(default_factory=list)  # [(percentile, latency_ns)], ascending

    @property
    def is_reference(self):
        """The sequential reference: the speed-of-light baseline, not a contender."""
        return self.family == "reference" or not self.thread_safe

    @property
    def is_harness(self):
        """The `harness` row: an empty design driven like the others (the harness's ceiling)."""
        return self.design == "harness"

    @property
    def below_floor(self):
        """An open row the harness cannot resolve: the floor's p99 (the same schedule, an empty
        operation) is above the design's own p99 (execute() time). Shown, never ranked."""
        if self.closed or self.floor_p99_ns is None or self.service_p99_ns is None:
            return False
        return self.floor_p99_ns > self.service_p99_ns

    @property
    def oversubscribed(self):
        """More runnable threads (clients + owned) than cores."""
        return self.runnable_threads > self.cores

    @property
    def closed(self):
        return self.load == "closed"

    @property
    def untrusted(self):
        """Its repetitions disagree too much for its number to be ranked."""
        return self.wide_spread

    @property
    def hand_off(self):
        """A pipelined or batch row: its caller does not wait for one reply per command, so
        it never competes in a synchronous situation."""
        return self.pipelined or self.batch is not None

    def label(self):
        return self.design + (" (pipelined)" if self.pipelined else
                              f" (batch of {self.batch})" if self.batch is not None else "")


@dataclass
class Table:
    name: str
    workload: str
    params: str
    rows: list

    def closed_rows(self):
        return [r for r in self.rows if r.closed]

    def open_rows(self):
        return [r for r in self.rows if not r.closed]

    def closed_thread_counts(self):
        return sorted({r.threads for r in self.closed_rows() if not r.is_reference})

    def open_thread_counts(self):
        return sorted({r.threads for r in self.open_rows()})

    def reference_row(self):
        """The 1-thread closed-loop reference row: what "vs ref" divides by."""
        for r in self.closed_rows():
            if r.is_reference and not r.is_harness and r.threads == 1:
                return r
        return None

    def harness_row(self, threads=1):
        """The closed `harness` row at `threads`, or None."""
        for r in self.closed_rows():
            if r.is_harness and r.threads == threads:
                return r
        return None


@dataclass
class Results:
    directory: str
    tables: list              # [Table], in the order rows.csv first names them
    designs: list             # every design name, in the order rows.csv first names them
    machine: dict             # cpu, cores, compiler, build, git, date, profile, timer_floor_ns, ...
    knobs: dict

    def at_cores(self, thread_counts):
        """The highest thread count <= cores (the busiest run without oversubscription)."""
        cores = self.machine["cores"]
        fitting = [t for t in thread_counts if t <= cores]
        return max(fitting) if fitting else (min(thread_counts) if thread_counts else None)

    def oversubscribed(self, thread_counts):
        """The highest thread count, if it is above the core count."""
        cores = self.machine["cores"]
        return max(thread_counts) if thread_counts and max(thread_counts) > cores else None


# --- field parsers: each raises ValueError with a short reason ------------------------------

def _text(v):
    return v


def _nonempty(v):
    if v == "":
        raise ValueError("is empty")
    return v


def _int(v):
    try:
        x = int(v)
    except ValueError:
        # "12.0" is an integer written by a float formatter; accept it, refuse "12.5".
        try:
            f = float(v)
        except ValueError:
            raise ValueError(f"{v!r} is not an integer") from None
        if not math.isfinite(f) or f != int(f):
            raise ValueError(f"{v!r} is not an integer") from None
        x = int(f)
    return x


def _count(v):
    x = _int(v)
    if x < 0:
        raise ValueError(f"{v!r} is negative")
    return x


def _positive_int(v):
    x = _int(v)
    if x < 1:
        raise ValueError(f"{v!r} is not >= 1")
    return x


def _number(v):
    try:
        x = float(v)
    except ValueError:
        raise ValueError(f"{v!r} is not a number") from None
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{v!r} is not a finite number >= 0")
    return x


def _optional_number(v):
    return None if v == "" else _number(v)


def _flag(v):
    if v not in ("0", "1"):
        raise ValueError(f"{v!r} is not 0 or 1")
    return v == "1"


def _load(v):
    if v not in ("closed", "open"):
        raise ValueError(f"{v!r} is not closed or open")
    return v


ROW_PARSERS = {
    "run_id": _nonempty, "profile": _nonempty, "date_utc": _text, "git": _text, "cpu": _text,
    "cores": _positive_int, "compiler": _text, "build": _text, "workload": _nonempty,
    "table": _nonempty, "params": _text, "design": _nonempty, "family": _nonempty,
    "thread_safe": _flag, "linearizable_reads": _flag, "lock_free": _flag, "waiting": _text,
    "pipelined": _flag, "owned_threads": _count, "threads": _positive_int,
    "runnable_threads": _positive_int, "load": _load, "rate_percent": _optional_number,
    "offered_per_s": _optional_number, "achieved_per_s": _number,
    "seconds_requested": _number, "seed": _count, "ops": _count, "wall_s": _number,
    "ops_per_s": _number, "vs_ref": _optional_number, "mean_ns": _number, "min_ns": _number,
    "p50_ns": _number, "p90_ns": _number, "p99_ns": _number, "p999_ns": _number,
    "p9999_ns": _number, "max_ns": _number, "timer_floor_ns": _number,
    "p50_near_floor": _flag, "passed": _flag, "detail": _text,
}

OPTIONAL_ROW_PARSERS = {
    "repeats": _count, "ops_per_s_min": _optional_number, "ops_per_s_max": _optional_number,
    "spread": _optional_number, "wide_spread": _flag,
    "open_wait": lambda v: v or None, "floor_p50_ns": _optional_number,
    "floor_p99_ns": _optional_number, "batch": lambda v: int(v) if v else None,
    "service_p50_ns": _optional_number, "service_p99_ns": _optional_number,
}

PERCENTILE_PARSERS = {
    "run_id": _nonempty, "workload": _text, "table": _nonempty, "design": _nonempty,
    "threads": _positive_int, "load": _load, "rate_percent": _optional_number,
    "percentile": _number, "latency_ns": _number,
}


def _read_csv(path, columns, optional=()):
    """Yields (line number, {column: text}) for each record after the header; `optional`
    columns are included when the header has them."""
    name = os.path.basename(path)
    if not os.path.isfile(path):
        raise ReportError(f"{path}: missing (a results directory has {name}; see --help)")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise ReportError(f"{path} line 1: empty file, expected the header line") from None
            missing = [c for c in columns if c not in header]
            if missing:
                raise ReportError(f"{path} line 1: header lacks column(s) {', '.join(missing)}")
            index = {c: header.index(c) for c in columns + tuple(o for o in optional
                                                                   if o in header)}
            records = []
            line = reader.line_num
            for fields in reader:
                start, line = line + 1, reader.line_num
                if not fields:
                    continue  # a blank line
                if len(fields) != len(header):
                    raise ReportError(f"{path} line {start}: {len(fields)} fields, the header "
                                      f"has {len(header)}")
                records.append((start, {c: fields[i] for c, i in index.items()}))
            return records
    except csv.Error as e:
        raise ReportError(f"{path} line {reader.line_num}: malformed CSV ({e})") from None
    except UnicodeDecodeError as e:
        raise ReportError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def _typed(path, line, record, parsers):
    out = {}
    for column, parse in parsers.items():
        try:
            out[column] = parse(record[column])
        except ValueError as e:
            raise ReportError(f"{path} line {line}: column {column}: {e}") from None
    return out


def _check_row(path, r):
    where = f"{path} line {r.line}"
    if r.load == "open":
        if r.rate_percent is None or r.offered_per_s is None:
            raise ReportError(f"{where}: an open-loop row needs rate_percent and offered_per_s")
        if r.offered_per_s <= 0:
            raise ReportError(f"{where}: column offered_per_s: an open-loop row needs a rate > 0")
    elif r.rate_percent is not None or r.offered_per_s is not None:
        raise ReportError(f"{where}: a closed-loop row has rate_percent/offered_per_s set")
    if r.runnable_threads != r.threads + r.owned_threads:
        raise ReportError(f"{where}: runnable_threads {r.runnable_threads} != threads "
                          f"{r.threads} + owned_threads {r.owned_threads}")
    ladder = [("p50_ns", r.p50_ns), ("p90_ns", r.p90_ns), ("p99_ns", r.p99_ns),
              ("p999_ns", r.p999_ns), ("p9999_ns", r.p9999_ns), ("max_ns", r.max_ns)]
    for (a, va), (b, vb) in zip(ladder, ladder[1:]):
        if vb < va:
            raise ReportError(f"{where}: {b} {vb:g} is below {a} {va:g}")


def _read_rows(directory):
    path = os.path.join(directory, "rows.csv")
    rows, seen = [], {}
    for line, record in _read_csv(path, ROWS_COLUMNS, OPTIONAL_ROWS_COLUMNS):
        parsers = {c: OPTIONAL_ROW_PARSERS[c] for c in OPTIONAL_ROWS_COLUMNS if c in record}
        r = Row(**_typed(path, line, record, ROW_PARSERS),
                **_typed(path, line, record, parsers), line=line)
        if r.run_id in seen:
            raise ReportError(f"{path} line {line}: run_id {r.run_id!r} already used on line "
                              f"{seen[r.run_id]}")
        seen[r.run_id] = line
        _check_row(path, r)
        rows.append(r)
    if not rows:
        raise ReportError(f"{path}: no rows after the header")
    return rows


def _read_curves(directory, rows_by_id):
    path = os.path.join(directory, "percentiles.csv")
    for line, record in _read_csv(path, PERCENTILES_COLUMNS):
        p = _typed(path, line, record, PERCENTILE_PARSERS)
        row = rows_by_id.get(p["run_id"])
        if row is None:
            raise ReportError(f"{path} line {line}: run_id {p['run_id']!r} is not in rows.csv")
        for key in ("table", "design", "threads", "load"):
            if p[key] != getattr(row, key):
                raise ReportError(f"{path} line {line}: {key} {p[key]!r} differs from rows.csv "
                                  f"line {row.line} ({getattr(row, key)!r})")
        if p["percentile"] > 100:
            raise ReportError(f"{path} line {line}: column percentile: {p['percentile']:g} "
                              f"is above 100")
        if row.curve:
            last_p, last_ns = row.curve[-1]
            if p["percentile"] <= last_p:
                raise ReportError(f"{path} line {line}: percentile {p['percentile']:g} does not "
                                  f"rise (previous point of {row.run_id} was {last_p:g})")
            if p["latency_ns"] < last_ns:
                raise ReportError(f"{path} line {line}: latency {p['latency_ns']:g} ns falls "
                                  f"below the previous point's {last_ns:g} ns")
        row.curve.append((p["percentile"], p["latency_ns"]))


def _read_context(directory):
    path = os.path.join(directory, "results.json")
    if not os.path.isfile(path):
        raise ReportError(f"{path}: missing (a results directory has results.json; see --help)")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        raise ReportError(f"{path} line {e.lineno}: malformed JSON ({e.msg})") from None
    except UnicodeDecodeError as e:
        raise ReportError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    context = doc.get("context") if isinstance(doc, dict) else None
    if not isinstance(context, dict):
        raise ReportError(f"{path}: no \"context\" object (Google Benchmark's JSON schema)")
    knobs = context.get("knobs", {})
    if not isinstance(knobs, dict):
        raise ReportError(f"{path}: context.knobs is not an object")
    if not isinstance(doc.get("benchmarks", []), list):
        raise ReportError(f"{path}: \"benchmarks\" is not a list")
    return context, knobs


def load_results(directory):
    """Reads and checks a results directory; raises ReportError naming the bad file and line."""
    if not os.path.isdir(directory):
        raise ReportError(f"{directory}: no such results directory")
    rows = _read_rows(directory)
    _read_curves(directory, {r.run_id: r for r in rows})
    context, knobs = _read_context(directory)

    tables, designs = {}, []
    for r in rows:
        t = tables.get(r.table)
        if t is None:
            t = tables[r.table] = Table(name=r.table, workload=r.workload, params=r.params,
                                        rows=[])
        t.rows.append(r)
        if r.design not in designs:
            designs.append(r.design)

    first = rows[0]
    machine = {
        "cpu": first.cpu or context.get("cpu_model", "unknown CPU"),
        "cores": first.cores,
        "compiler": first.compiler or context.get("compiler", ""),
        "build": first.build or context.get("build_type", ""),
        "git": first.git or context.get("git_revision", ""),
        "date": first.date_utc or context.get("date", ""),
        "profile": first.profile or context.get("profile", ""),
        "timer_floor_ns": first.timer_floor_ns,
        "seed": first.seed,
        "seconds": first.seconds_requested,
        "mhz_per_cpu": context.get("mhz_per_cpu", 0),
        "load_avg": context.get("load_avg", []),
    }
    return Results(directory=directory, tables=list(tables.values()), designs=designs,
                   machine=machine, knobs=knobs)
