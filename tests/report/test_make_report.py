#!/usr/bin/python3
"""test_make_report.py: the self-test of bench/report/make_report.py (ctest: report_make_report).

    /usr/bin/python3 tests/report/test_make_report.py [-v]

Builds a synthetic results directory (make_fixture.py: 4 tables, a reference, 6-7 designs,
closed and open rows, a failing row, a pipelined row, designs that own threads), runs the
report on it and checks what a reader relies on: exit status 0, every figure and the page
written and non-empty, every design named, and each decision-table cell naming the design
the fixture was built to make win (including a 5% tie, a faster row that failed its check,
and a pipelined row that must not win a synchronous situation). Then the failure paths: a
missing directory, a malformed CSV line, a non-number, missing or malformed files: exit 2
with one line naming the file and the line. It never looks at pixels.

Exit 77 (ctest's SKIP_RETURN_CODE) when python3-matplotlib is not installed.
"""

import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
REPORT = os.path.join(REPO, "bench", "report", "make_report.py")
FIXTURE = os.path.join(HERE, "make_fixture.py")
SKIP = 77

sys.path.insert(0, os.path.join(REPO, "bench", "report"))

# Every situation's expected pick, and why the fixture makes it so (make_fixture.TABLES).
EXPECTED = {
    "counter": {
        "throughput-1": {"mutex"},                 # 9.6 M vs mutex-striped 8.0 M
        "throughput-cores": {"mutex-striped"},     # 14 M vs mutex 6.2 M
        # rwlock-std has 16 M at 8 threads but FAILED its check: it must not win.
        "throughput-oversubscribed": {"mutex-striped"},
        "p99-cores": {"rwlock-absl", "mutex-striped"},  # 690 vs 700 ns: inside the 5% tie
        # rwlock-std's p99.9 (30 us) is lowest but its row failed.
        "p999-oversubscribed": {"single-writer"},
        "knee-2": {"mutex-striped"},               # no knee; 95% of 14 M kept
        "knee-8": {"mutex-striped"},               # rwlock-std (failed) would offer more
    },
    "cache read-heavy": {
        "throughput-1": {"mutex", "rwlock-absl"},  # 7.5 vs 7.2 M: inside the tie band
        "throughput-cores": {"rwlock-absl"},
        "throughput-oversubscribed": {"rwlock-absl"},
        "p99-cores": {"rwlock-absl"},
        "p999-oversubscribed": {"single-writer-sharded"},
        "knee-2": {"rwlock-absl"},
    },
    "cache write-heavy": {
        "throughput-1": {"mutex"},
        "throughput-cores": {"mutex-striped"},
        "throughput-oversubscribed": {"mutex-striped"},
        "p99-cores": {"mutex-striped"},
        "p999-oversubscribed": {"single-writer-sharded"},
    },
    "order": {
        # single-writer-pipelined is faster everywhere but pipelined: noted, never the pick.
        "throughput-1": {"mutex"},
        "throughput-cores": {"single-writer-sharded"},
        "throughput-oversubscribed": {"single-writer-sharded"},
        "p99-cores": {"single-writer-sharded"},     # the pipelined row's p99 is lower
        "p999-oversubscribed": {"single-writer"},   # the pipelined row's p99.9 is lower
        "knee-2": {"single-writer-sharded"},
        "knee-8": {"single-writer-sharded"},
    },
}
FIGURES = {
    "counter": ["latency-percentiles", "throughput-threads", "latency-vs-load"],
    "cache-read-heavy": ["latency-percentiles", "throughput-threads", "latency-vs-load"],
    "cache-write-heavy": ["latency-percentiles", "throughput-threads"],  # no open rows
    "order": ["latency-percentiles", "throughput-threads", "latency-vs-load"],
}


def situation_key(text):
    """The stable key of a decision row from its situation cell."""
    for prefix, key in (("Best throughput, 1 client thread", "throughput-1"),
                        ("Best throughput at cores", "throughput-cores"),
                        ("Best throughput oversubscribed", "throughput-oversubscribed"),
                        ("Actors (ours and CAF's): best throughput at cores", "actors-cores"),
                        ("Lowest p99 at cores", "p99-cores"),
                        ("Lowest p99.9 oversubscribed", "p999-oversubscribed")):
        if text.startswith(prefix):
            return key
    m = re.match(r"Highest offered load kept .*?, (\d+) client thread", text)
    return f"knee-{m.group(1)}" if m else None


def decision_tables(page):
    """{table: {key: (picked designs, [cells])}} parsed from the page's decision section."""
    section = page.split("## Which design for which situation", 1)
    if len(section) != 2:
        return {}
    out, current = {}, None
    for line in section[1].splitlines():
        m = re.match(r"### Decisions: (.+)$", line)
        if m:
            current = out.setdefault(m.group(1), {})
            continue
        if current is None or not line.startswith("| ") or line.startswith("| ---"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        key = situation_key(cells[0])
        if key:
            current[key] = (set(re.findall(r"\*\*([^*]+)\*\*", cells[1])), cells)
    return out


def read(path, mode="r"):
    with open(path, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
        return f.read()


def run(*args):
    return subprocess.run([sys.executable, REPORT, *args], capture_output=True, text=True,
                          timeout=300)


def make_fixture(directory, tables=None):
    cmd = [sys.executable, FIXTURE, directory] + (["--tables", tables] if tables else [])
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def edit_rows(path, edit):
    """Rewrites a CSV through edit(list of rows incl. header)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    edit(rows)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)


class ReportOnFixture(unittest.TestCase):
    """One full run on the whole fixture, shared by the checks below."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cp-report-test-")
        cls.results = os.path.join(cls.tmp, "results")
        cls.docs = os.path.join(cls.tmp, "docs")
        os.makedirs(cls.docs)
        make_fixture(cls.results)
        cls.proc = run(cls.results, "--docs", cls.docs)
        page_path = os.path.join(cls.docs, "results.md")
        cls.page = read(page_path) if os.path.exists(page_path) else ""

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_exit_status_zero(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)

    def test_every_figure_written_and_non_empty(self):
        for table, kinds in FIGURES.items():
            for kind in kinds:
                for path in (os.path.join(self.results, "plots", f"{table}-{kind}.png"),
                             os.path.join(self.results, "plots", f"{table}-{kind}.svg"),
                             os.path.join(self.docs, "results", f"{table}-{kind}.svg")):
                    self.assertTrue(os.path.isfile(path), path)
                    self.assertGreater(os.path.getsize(path), 1000, path)
        self.assertFalse(os.path.exists(os.path.join(
            self.results, "plots", "cache-write-heavy-latency-vs-load.svg")),
            "a table without open-loop rows gets no latency-vs-load figure")

    def test_page_links_exist_and_are_relative(self):
        links = re.findall(r"\]\((results/[^)]+\.svg)\)", self.page)
        self.assertGreaterEqual(len(links), 11)
        for link in links:
            self.assertTrue(os.path.isfile(os.path.join(self.docs, link)), link)

    def test_page_says_generated_and_how(self):
        first = self.page.splitlines()[0] if self.page else ""
        self.assertIn("Generated", first)
        self.assertIn("do not edit by hand", first)
        self.assertIn("make_report.py", first)

    def test_page_names_every_design_and_the_machine(self):
        with open(os.path.join(self.results, "rows.csv"), newline="", encoding="utf-8") as f:
            designs = {r["design"] for r in csv.DictReader(f)}
        self.assertGreaterEqual(len(designs), 8)
        for d in designs:
            self.assertIn(f"| {d}", self.page, d)
        self.assertIn("Intel(R) Xeon(R) Processor (synthetic fixture), 2 cores", self.page)
        self.assertIn("`counter.keys=64`", self.page)
        # The decision tables come first, the machine last; the README is a link.
        self.assertLess(self.page.index("### Decisions: counter"), self.page.index("## counter"))
        self.assertLess(self.page.index("## order"), self.page.index("## Machine and knobs"))
        self.assertIn("[bench/README.md](../bench/README.md)", self.page)
        self.assertNotIn("| | |", self.page)  # no table with an empty header row

    def test_decision_table_picks_the_designs_the_fixture_makes_win(self):
        tables = decision_tables(self.page)
        self.assertEqual(set(tables), set(EXPECTED), "one decision table per workload table")
        for table, expected in EXPECTED.items():
            got = {k: v[0] for k, v in tables[table].items()}
            self.assertEqual(got, expected, table)

    def test_decision_cells_name_the_winning_figure(self):
        cells = decision_tables(self.page)["counter"]["throughput-cores"][1]
        self.assertIn("14.0 M ops/s", cells[2])
        self.assertIn("mutex: 6.2", cells[3])  # the runner-up and its number

    def test_excluded_and_pipelined_are_said(self):
        tables = decision_tables(self.page)
        self.assertIn("excluded, check failed: rwlock-std",
                      tables["counter"]["throughput-oversubscribed"][1][4])
        self.assertIn("*pipelined*: single-writer-pipelined",
                      tables["order"]["throughput-cores"][1][4])
        self.assertIn("(within 5%)", tables["counter"]["p99-cores"][1][1])

    def assert_knee_line(self, pattern):
        """Like assertRegex, but a failure shows the page's knee lines, not the whole page."""
        if not re.search(pattern, self.page):
            knee_lines = [l for l in self.page.splitlines() if "client threads, **" in l]
            self.fail(f"no line matches {pattern!r}; knee lines:\n" + "\n".join(knee_lines))

    def test_knee_sentence_for_every_design_with_open_rows(self):
        # The issue asks for "the offered rate at which each design's p99 exceeds 10x its p50".
        self.assert_knee_line(r"2 client threads, \*\*mutex\*\*: p99 exceeds 10x its light-load "
                              r"service time at offered rate 4\.9\d M/s \(80% of its "
                              r"closed-loop rate\)")
        self.assert_knee_line(r"2 client threads, \*\*single-writer\*\*: p99 exceeds 10x "
                              r"its light-load service time at offered rate [\d.]+ M/s \(95%")
        self.assert_knee_line(r"2 client threads, \*\*mutex-striped\*\*: p99 stays within "
                              r"10x its light-load service time")
        # Saturation: p50 and p99 grew together (p99 only 3x its own p50), yet 60x the p50
        # at light load: the knee must be found there.
        self.assert_knee_line(r"2 client threads, \*\*single-writer-sharded\*\*: p99 "
                              r"exceeds 10x its light-load service time at offered rate "
                              r"[\d.]+ M/s \(95%")
        for design in ("mutex", "mutex-striped", "rwlock-std", "rwlock-absl", "single-writer",
                       "single-writer-sharded"):
            self.assertIn(f"8 client threads, **{design}**: p99 ", self.page)

    def test_failed_rows_are_marked(self):
        # The check column says FAIL with a note number; the note under the table says why.
        m = re.search(r"\*\*FAIL\*\* \((\d+)\)", self.page)
        self.assertIsNotNone(m, "no row marked **FAIL** (n)")
        self.assertIn(f"\n{m.group(1)}. reads went backwards", self.page)


class RulesDecideFromNumbers(unittest.TestCase):
    """The rules through the library, on edited fixtures: change the numbers, the pick moves."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cp-report-rules-")
        make_fixture(self.tmp)
        self.rows_path = os.path.join(self.tmp, "rows.csv")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def picks(self, table_name):
        from cp_report.decide import decide_table
        from cp_report.load import load_results
        results = load_results(self.tmp)
        table = next(t for t in results.tables if t.name == table_name)
        return {p.key: {c.design for c in p.winners} for p in decide_table(results, table)}

    def set_field(self, match, column, value):
        def edit(rows):
            header = rows[0]
            for r in rows[1:]:
                d = dict(zip(header, r))
                if all(d[k] == v for k, v in match.items()):
                    r[header.index(column)] = value
        edit_rows(self.rows_path, edit)

    def test_a_failed_check_is_what_keeps_the_fastest_row_out(self):
        self.assertEqual(self.picks("counter")["throughput-oversubscribed"], {"mutex-striped"})
        self.set_field({"table": "counter", "design": "rwlock-std", "threads": "8",
                        "load": "closed"}, "passed", "1")
        self.assertEqual(self.picks("counter")["throughput-oversubscribed"], {"rwlock-std"})

    def test_a_wide_spread_keeps_the_fastest_row_out_and_names_it(self):
        # mutex-striped wins counter's throughput at cores (2 threads). Mark its row's
        # repetitions as disagreeing: it is no longer ranked, the next design wins, and the
        # pick names it as untrusted with its spread; the rows table marks it with "?".
        from cp_report.decide import decide_table
        from cp_report.load import load_results
        self.assertEqual(self.picks("counter")["throughput-cores"], {"mutex-striped"})
        match = {"table": "counter", "design": "mutex-striped", "threads": "2", "load": "closed"}
        self.set_field(match, "wide_spread", "1")
        self.set_field(match, "spread", "0.4100")
        results = load_results(self.tmp)
        table = next(t for t in results.tables if t.name == "counter")
        pick = next(p for p in decide_table(results, table) if p.key == "throughput-cores")
        self.assertNotIn("mutex-striped", {c.design for c in pick.winners})
        self.assertEqual(pick.untrusted, ["mutex-striped x2 (spread 41%)"])
        from cp_report.page import _notes, _rows_table
        page = "\n".join(_rows_table(results, table)) + "\n" + _notes(pick)
        self.assertIn("not ranked, repetitions disagree: mutex-striped x2 (spread 41%)", page)
        self.assertRegex(page, r"\| mutex-striped \| 2 \| closed \| [0-9.]+ M\? \| 41% \|")
        self.assertIn("median of 5 interleaved repetitions", page)

    def test_rows_without_the_repeat_columns_still_load(self):
        # An older rows.csv (no repeats/spread columns) reads as one repetition per row.
        from cp_report.load import load_results

        def drop(rows):
            h = rows[0]
            keep = [i for i, c in enumerate(h) if c not in
                    ("repeats", "ops_per_s_min", "ops_per_s_max", "spread", "wide_spread")]
            rows[:] = [[r[i] for i in keep] for r in rows]
        edit_rows(self.rows_path, drop)
        results = load_results(self.tmp)
        rows = [r for t in results.tables for r in t.rows]
        self.assertTrue(all(r.repeats == 1 and r.spread is None and not r.untrusted
                            for r in rows))
        self.assertEqual(self.picks("counter")["throughput-cores"], {"mutex-striped"})

    def test_pipelined_flag_is_what_keeps_the_pipelined_row_out(self):
        self.set_field({"table": "order", "design": "single-writer-pipelined"}, "pipelined", "0")
        self.assertEqual(self.picks("order")["throughput-cores"], {"single-writer-pipelined"})

    def test_a_batch_row_never_wins_a_synchronous_situation(self):
        # The fastest row of order at cores, made a batch row instead of a pipelined one (a
        # "batch" column, as compare writes since the batch rows came): still not the pick, and
        # the cell names it as a batch.
        from cp_report.decide import decide_table
        from cp_report.load import load_results
        from cp_report.page import _notes

        def add_batch(rows):
            h = rows[0]
            rows[0] = h + ["batch"]
            for r in rows[1:]:
                d = dict(zip(h, r))
                r.append("4096" if d["design"] == "single-writer-pipelined" else "")
        edit_rows(self.rows_path, add_batch)
        self.set_field({"table": "order", "design": "single-writer-pipelined"}, "pipelined", "0")
        self.assertNotEqual(self.picks("order")["throughput-cores"], {"single-writer-pipelined"})
        results = load_results(self.tmp)
        table = next(t for t in results.tables if t.name == "order")
        pick = next(p for p in decide_table(results, table) if p.key == "throughput-cores")
        self.assertIn("*batch*: single-writer-pipelined", _notes(pick))
        self.assertIn("one call runs 4096 commands", _notes(pick))

    def test_actor_rows_get_their_own_situation_ranked_among_themselves(self):
        # The fixture has no actor rows: no actor situation. Mark mutex (6.2 M at 2 threads)
        # and single-writer (2.6 M) as actor designs: the actor situation appears and ranks
        # only those two; throughput-cores still goes to mutex-striped (14 M), no actor.
        self.assertNotIn("actors-cores", self.picks("counter"))
        self.set_field({"table": "counter", "design": "mutex"}, "family", "actor")
        self.set_field({"table": "counter", "design": "single-writer"}, "family", "actor")
        picks = self.picks("counter")
        self.assertEqual(picks["actors-cores"], {"mutex"})
        self.assertEqual(picks["throughput-cores"], {"mutex-striped"})
        self.set_field({"table": "counter", "design": "mutex", "threads": "2",
                        "load": "closed"}, "ops_per_s", "1000000.0")
        self.assertEqual(self.picks("counter")["actors-cores"], {"single-writer"})

    def test_a_gap_beyond_5_percent_breaks_the_tie(self):
        self.set_field({"table": "cache read-heavy", "design": "rwlock-absl", "threads": "1",
                        "load": "closed"}, "ops_per_s", "7000000.0")  # 7.0 vs 7.5 M: 6.7%
        self.assertEqual(self.picks("cache read-heavy")["throughput-1"], {"mutex"})

    def test_a_load_pick_slow_at_every_load_carries_a_caution(self):
        # mutex-striped wins counter's load pick. Make every latency of its open rows 20x
        # slower (ratios, so its knee, unchanged): it still wins, now with a caution, since
        # its light-load p50 is >= 10x the fastest design's.
        from cp_report.decide import decide_table
        from cp_report.load import load_results

        def caution():
            results = load_results(self.tmp)
            table = next(t for t in results.tables if t.name == "counter")
            pick = next(p for p in decide_table(results, table) if p.key == "knee-2")
            return {c.design for c in pick.winners}, pick.caution

        self.assertEqual(caution(), ({"mutex-striped"}, ""))

        def edit(rows):
            h = rows[0]
            for r in rows[1:]:
                d = dict(zip(h, r))
                if (d["table"], d["design"], d["load"]) == ("counter", "mutex-striped", "open"):
                    for c in ("mean_ns", "min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns",
                              "p9999_ns", "max_ns"):
                        r[h.index(c)] = str(int(float(d[c])) * 20)
        edit_rows(self.rows_path, edit)
        winners, text = caution()
        self.assertEqual(winners, {"mutex-striped"})
        self.assertIn("caution: mutex-striped's p50 at the lightest rate is", text)

    def test_a_knee_moves_the_load_pick(self):
        # From 50% up, mutex-striped's p99 jumps to 50x its p50: its knee moves to 50%, it
        # keeps only 10% (1.4 M/s), and the best kept loads are now rwlock-std's 3.20 M/s
        # (80%; it achieved too little at 95%) and mutex's 3.10 M/s (50%), 3% apart: a tie.
        def edit(rows):
            h = rows[0]
            for r in rows[1:]:
                d = dict(zip(h, r))
                if (d["table"], d["design"], d["threads"], d["load"]) == \
                        ("counter", "mutex-striped", "2", "open") and d["rate_percent"] != "10":
                    r[h.index("p99_ns")] = str(int(d["p50_ns"]) * 50)
                    for c in ("p999_ns", "p9999_ns", "max_ns"):
                        r[h.index(c)] = str(max(int(d[c]), int(d["p50_ns"]) * 50))
        edit_rows(self.rows_path, edit)
        self.assertEqual(self.picks("counter")["knee-2"], {"rwlock-std", "mutex"})


    def knee(self, table_name, design, threads):
        from cp_report.decide import knees
        from cp_report.load import load_results
        results = load_results(self.tmp)
        table = next(t for t in results.tables if t.name == table_name)
        return next(k for k in knees(table, threads) if k.design == design)

    def set_open_floor(self, table, design, threads, floor_p99):
        def edit(rows):
            h = rows[0]
            for r in rows[1:]:
                d = dict(zip(h, r))
                if (d["table"], d["design"], d["threads"], d["load"]) == \
                        (table, design, str(threads), "open"):
                    r[h.index("floor_p99_ns")] = str(floor_p99)
                    r[h.index("floor_p50_ns")] = str(floor_p99 // 4)
        edit_rows(self.rows_path, edit)

    def set_open_service(self, table, design, threads, service_p99):
        def edit(rows):
            h = rows[0]
            for c in ("service_p50_ns", "service_p99_ns"):
                if c not in h:
                    h.append(c)
                    for r in rows[1:]:
                        r.append("")
            for r in rows[1:]:
                d = dict(zip(h, r))
                if (d["table"], d["design"], d["threads"], d["load"]) == \
                        (table, design, str(threads), "open"):
                    r[h.index("service_p99_ns")] = str(service_p99)
                    r[h.index("service_p50_ns")] = str(service_p99 // 3)
        edit_rows(self.rows_path, edit)

    def test_a_row_below_the_harness_floor_is_not_ranked(self):
        # mutex's counter knee is at 80%. With a harness floor above its own (execute()) p99 at
        # every rate, no row of it can be resolved: no knee, no kept load, and the load pick
        # names it as below the floor instead of ranking it.
        k = self.knee("counter", "mutex", 2)
        self.assertEqual(k.knee_row.rate_percent, 80)
        self.set_open_service("counter", "mutex", 2, 100)
        self.set_open_floor("counter", "mutex", 2, 20_000)
        k = self.knee("counter", "mutex", 2)
        self.assertEqual(k.rows, [])
        self.assertEqual(len(k.unresolved), 4)
        self.assertIsNone(k.knee_row)
        self.assertIsNone(k.kept_row)
        self.assertIn("below the harness floor", k.describe())
        from cp_report.decide import decide_table
        from cp_report.load import load_results
        results = load_results(self.tmp)
        table = next(t for t in results.tables if t.name == "counter")
        pick = next(p for p in decide_table(results, table) if p.key == "knee-2")
        self.assertIn("mutex (below the harness floor)", pick.untrusted)
        self.assertNotIn("mutex", {c.design for c in pick.winners})

    def test_a_kept_load_is_judged_against_the_light_load_service_time(self):
        # A floor far above the light-load p50 no longer lifts the bar: mutex's knee stays at
        # 80% (p99 14x its light-load p50) whatever the floor, as long as the rows resolve.
        self.set_open_floor("counter", "mutex", 2, 50_000)
        k = self.knee("counter", "mutex", 2)
        self.assertEqual(k.knee_row.rate_percent, 80)
        self.assertIn("p99 exceeds 10x its light-load service time at offered rate",
                      k.describe())

    def test_the_floor_does_not_hide_a_stall(self):
        # A 10 ms stall at the lightest rate, beside a floor of tens of microseconds: found at
        # once, as the C++ open-loop test finds the real one.
        def edit(rows):
            h = rows[0]
            for r in rows[1:]:
                d = dict(zip(h, r))
                if (d["table"], d["design"], d["threads"], d["load"]) == \
                        ("counter", "mutex-striped", "2", "open"):
                    for c in ("p99_ns", "p999_ns", "p9999_ns", "max_ns"):
                        r[h.index(c)] = str(max(int(d[c]), 9_000_000))
                    r[h.index("floor_p99_ns")] = "40000"
        edit_rows(self.rows_path, edit)
        k = self.knee("counter", "mutex-striped", 2)
        self.assertEqual(k.knee_row.rate_percent, 10)
        self.assertIn("p99 exceeds 10x its light-load service time", k.describe())

    def test_rows_without_the_floor_columns_use_the_light_p50_alone(self):
        from cp_report.load import load_results

        def drop(rows):
            h = rows[0]
            keep = [i for i, c in enumerate(h)
                    if c not in ("open_wait", "floor_p50_ns", "floor_p99_ns")]
            rows[:] = [[r[i] for i in keep] for r in rows]
        edit_rows(self.rows_path, drop)
        results = load_results(self.tmp)
        self.assertTrue(all(r.floor_p99_ns is None for t in results.tables for r in t.rows))
        self.assertEqual(self.knee("counter", "mutex", 2).knee_row.rate_percent, 80)


class StaleFilesAndStableOutput(unittest.TestCase):
    def test_regenerating_removes_only_what_it_made_before(self):
        with tempfile.TemporaryDirectory(prefix="cp-report-stale-") as tmp:
            results, docs = os.path.join(tmp, "results"), os.path.join(tmp, "docs")
            os.makedirs(docs)
            make_fixture(results, "counter,order")
            self.assertEqual(run(results, "--docs", docs).returncode, 0)
            order_svg = os.path.join(docs, "results", "order-throughput-threads.svg")
            self.assertTrue(os.path.isfile(order_svg))
            mine = os.path.join(docs, "results", "notes-by-hand.svg")
            with open(mine, "w") as f:
                f.write("<svg/>")
            first = read(os.path.join(docs, "results", "counter-throughput-threads.svg"), "rb")
            shutil.rmtree(results)
            make_fixture(results, "counter")
            proc = run(results, "--docs", docs)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertFalse(os.path.exists(order_svg), "stale figure of a dropped table")
            self.assertFalse(os.path.exists(os.path.join(docs, "results",
                                                         "order-latency-vs-load.svg")))
            self.assertTrue(os.path.isfile(mine), "a file the report did not make is kept")
            page = read(os.path.join(docs, "results.md"))
            self.assertNotIn("## order", page)
            second = read(os.path.join(docs, "results", "counter-throughput-threads.svg"), "rb")
            self.assertEqual(first, second, "same results, same SVG bytes")


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cp-report-bad-")
        make_fixture(self.tmp, "counter")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assert_error(self, proc, *needles):
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        for n in needles:
            self.assertIn(n, lines[0])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "plots")),
                         "nothing is drawn from bad input")

    def test_missing_directory(self):
        missing = os.path.join(self.tmp, "no-such-run")
        self.assert_error(run(missing), missing, "no such results directory")

    def test_csv_line_with_too_few_fields(self):
        path = os.path.join(self.tmp, "rows.csv")
        edit_rows(path, lambda rows: rows[4].pop())
        self.assert_error(run(self.tmp), "rows.csv line 5", "fields")

    def test_csv_field_not_a_number(self):
        edit_rows(os.path.join(self.tmp, "rows.csv"),
                  lambda rows: rows[2].__setitem__(rows[0].index("ops_per_s"), "fast"))
        self.assert_error(run(self.tmp), "rows.csv line 3", "ops_per_s", "'fast'")

    def test_csv_unterminated_quote(self):
        with open(os.path.join(self.tmp, "percentiles.csv"), "a", encoding="utf-8") as f:
            f.write('r1,counter,counter,"reference,1,closed,,100,5\n')
        self.assert_error(run(self.tmp), "percentiles.csv line")

    def test_percentile_of_unknown_row(self):
        with open(os.path.join(self.tmp, "percentiles.csv"), "a", encoding="utf-8") as f:
            f.write("r999,counter,counter,mutex,1,closed,,50,100\r\n")
        self.assert_error(run(self.tmp), "percentiles.csv line", "r999")

    def test_missing_header_column(self):
        edit_rows(os.path.join(self.tmp, "rows.csv"),
                  lambda rows: rows[0].__setitem__(rows[0].index("p99_ns"), "p99"))
        self.assert_error(run(self.tmp), "rows.csv line 1", "p99_ns")

    def test_missing_percentiles_file(self):
        os.remove(os.path.join(self.tmp, "percentiles.csv"))
        self.assert_error(run(self.tmp), "percentiles.csv", "missing")

    def test_malformed_json(self):
        with open(os.path.join(self.tmp, "results.json"), "w", encoding="utf-8") as f:
            f.write('{"context": {\n"date": }\n')
        self.assert_error(run(self.tmp), "results.json line 2")

    def test_missing_docs_directory(self):
        self.assert_error(run(self.tmp, "--docs", os.path.join(self.tmp, "nodocs")), "nodocs")

    def test_unknown_option(self):
        self.assert_error(run(self.tmp, "--colour"), "--colour")

    def test_help(self):
        proc = run("--help")
        self.assertEqual(proc.returncode, 0)
        self.assertIn("RESULTS_DIR", proc.stdout)
        self.assertIn("--docs", proc.stdout)


def main():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("SKIP: python3-matplotlib is not installed; scripts/setup.sh installs it")
        return SKIP
    prog = unittest.main(argv=[sys.argv[0]] + sys.argv[1:], exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
