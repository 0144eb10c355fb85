"""decide: "which design for which situation", derived from the rows by rules written down here.

    RULES_TEXT     - the rules in prose, printed on the results page above the tables
    Candidate      - one design's number in one situation
    Pick           - one situation of one table: the winner(s), the runner-up, notes
    Knee           - one design's open-loop sweep: where its p99 leaves 10x its light-load p50
                     (or the harness floor's p99)
    kept_rate      - whether an open-loop row achieved >= 90% of its offered rate
    knees          - the Knee of every design at one thread count of one table
    decide_table   - every Pick of one table, in the order the page shows them

The rules (the page repeats them; bench/report/README.md explains why):

  * A closed row is the median of several interleaved repetitions. A row whose repetitions
    disagree (the runner's wide_spread mark) is not ranked: it is named as untrusted instead.
  * Contenders are the rows that passed their correctness check. The sequential reference
    is the baseline, never a contender. A design with a failed row in the compared set is left
    out and named as excluded.
  * Pipelined rows (fire-and-forget: their latency is hand-off time, not reply time) and batch
    rows (a call runs a batch; latency per batch) never win a synchronous situation, nor the
    load one. Where one has more throughput than the synchronous winner, the cell says so,
    marked "pipelined" or "batch".
  * Throughput is closed-loop ops/s; latency picks are closed-loop percentiles at a thread
    count; the load pick comes from the open-loop sweep.
  * Ties: every design within 5% of the best value is named with it.
  * "At cores" is the highest measured thread count <= the machine's cores; "oversubscribed"
    is the highest measured thread count, when it is above the cores.
  * Where actor rows were measured (our actor family, CAF's "caf" rows), one more situation
    ranks them among themselves at cores: which actor runtime, for a reader who has chosen
    message passing; the other situations rank them with every design.
  * Open rows the harness cannot resolve (the floor's p99, the same schedule with an empty
    operation, above the design's own execute() p99: the clients' wake-up makes the tail) are
    shown, labelled "below the harness floor", and never ranked.
  * A design's open-loop knee, among its resolvable rows: sweeping the offered rate upward, the
    first rate at which its p99 exceeds 10x its own light-load service time (the execute() p50
    at the lightest resolvable rate; the row's p50 where the file has no service column). The
    load it keeps is the highest offered rate below the knee at which it also achieved >= 90%
    of the offered rate; the highest kept rate wins.
"""

from dataclasses import dataclass, field

from .units import format_ns, format_percent, format_rate

TIE_FRACTION = 0.05          # values within 5% of the best are named together
TAIL_FACTOR = 10.0           # the knee: p99 > 10x max(light-load p50, floor p99)
KEPT_ACHIEVED_FRACTION = 0.90  # a rate is kept only if >= 90% of it was achieved

RULES_TEXT = [
    "Each closed-loop row is the median of several short repetitions run round-robin over the "
    "designs. A row whose repetitions disagree by more than the runner's threshold "
    "((max - min) / median of the middle repetitions, marked ? in the tables) is not ranked: "
    "the situation names it as untrusted, and a rerun on a quieter machine decides it.",
    "Only rows that passed their correctness check compete. The sequential reference is the "
    "baseline (\"vs ref\"), never a contender. A design whose row in the compared set failed "
    "its check is left out and named as excluded.",
    "Pipelined rows (fire-and-forget hand-off; their latency is not a reply latency) and batch "
    "rows (one call runs a batch of commands; latency per batch) never win a synchronous "
    "situation, nor the load situation. When one beats the synchronous winner's throughput, "
    "the cell adds it, marked *pipelined* or *batch*.",
    "Throughput situations compare closed-loop ops/s at one thread count; latency situations "
    "compare closed-loop percentiles at one thread count (closed loops understate tails, so "
    "the load situation uses the open-loop sweep).",
    f"Ties: every design within {TIE_FRACTION:.0%} of the best value is named with it.",
    "*Actors*: where actor rows were measured (our actor family and CAF's \"caf\" rows), one "
    "more situation ranks them among themselves at cores, for a reader who has chosen message "
    "passing and asks which runtime; every other situation ranks them with all designs.",
    "*At cores* is the highest measured client thread count <= the machine's cores; "
    "*oversubscribed* is the highest measured thread count when it exceeds the cores.",
    "*Below the harness floor*: an open row whose floor p99 (the harness alone: the same "
    "schedule with an empty operation, measured beside it) exceeds the design's own p99 "
    "(execute() time) shows the clients' wake-up, not the design: it is labelled and not "
    "ranked. *Oversubscribed* open rows (clients + owned threads above the cores) are kept and "
    "labelled.",
    f"*Knee*: sweeping a design's offered rate upward over its resolvable open rows (latency "
    f"from the intended start), the first rate at which its p99 exceeds {TAIL_FACTOR:g}x its "
    f"own light-load service time (the execute() p50 at the lightest resolvable rate). The load "
    f"a design *keeps* is the highest offered rate below its knee at which it also achieved >= "
    f"{KEPT_ACHIEVED_FRACTION:.0%} of the offered rate; the highest kept rate wins.",
]


@dataclass
class Candidate:
    design: str
    value: float
    text: str       # the number as the page prints it
    row: object     # the Row that gave it


@dataclass
class Pick:
    key: str        # stable id: "throughput-1", "throughput-cores", "p99-cores", "knee-2", ...
    situation: str  # what a reader is choosing for
    figure: str     # which figure kind shows it: "throughput", "percentiles", "load"
    winners: list = field(default_factory=list)   # [Candidate], best first
    runner_up: Candidate = None
    ratio: float = None                           # how far ahead the winner is (>= 1)
    maximize: bool = True                         # higher values win (throughput, load)
    excluded: list = field(default_factory=list)  # designs left out because a check failed
    pipelined: Candidate = None                   # a pipelined or batch row that beat the winner
    empty_reason: str = ""                        # why there is no winner
    caution: str = ""                             # a measured reason to read the pick warily
    untrusted: list = field(default_factory=list)  # "design xN (spread NN%)": not ranked


def _best_per_design(rows, value):
    best = {}
    for r in rows:
        v = value(r)
        if v is None:
            continue
        if r.design not in best or v > best[r.design][0]:
            best[r.design] = (v, r)
    return best


def _rank(pick, candidates, maximize):
    """Fills winners (ties within TIE_FRACTION), runner_up and ratio from candidates."""
    if not candidates:
        return
    ordered = sorted(candidates, key=lambda c: -c.value if maximize else c.value)
    best = ordered[0].value

    def tied(v):
        if maximize:
            return v >= best * (1 - TIE_FRACTION)
        return v <= best * (1 + TIE_FRACTION)

    pick.maximize = maximize
    pick.winners = [c for c in ordered if tied(c.value)]
    rest = ordered[len(pick.winners):]
    if rest:
        pick.runner_up = rest[0]
        a, b = best, rest[0].value
        if maximize:
            pick.ratio = a / b if b > 0 else None
        else:
            pick.ratio = b / a if a > 0 else None


def _untrusted(rows):
    """Names the rows not to rank (their repetitions disagree), and returns the others."""
    names = [f"{r.design} x{r.threads}" + (f" (spread {r.spread:.0%})" if r.spread is not None
                                           else "")
             for r in rows if r.untrusted]
    return names, [r for r in rows if not r.untrusted]


def _pick_throughput(key, situation, rows):
    pick = Pick(key=key, situation=situation, figure="throughput")
    pick.untrusted, rows = _untrusted([r for r in rows if r.closed and not r.is_reference])
    contenders = [r for r in rows if r.closed and not r.is_reference]
    failed = sorted({r.design for r in contenders if not r.passed})
    pick.excluded = failed
    sync = [r for r in contenders if r.passed and not r.hand_off and r.design not in failed]
    best = _best_per_design(sync, lambda r: r.ops_per_s)
    _rank(pick, [Candidate(d, v, format_rate(v) + " ops/s", r) for d, (v, r) in best.items()],
          maximize=True)
    piped = _best_per_design([r for r in contenders if r.passed and r.hand_off],
                             lambda r: r.ops_per_s)
    if piped:
        d, (v, r) = max(piped.items(), key=lambda kv: kv[1][0])
        if not pick.winners or v > pick.winners[0].value:
            pick.pipelined = Candidate(d, v, format_rate(v) + " ops/s", r)
    if not contenders:
        pick.empty_reason = "not measured"
    elif not pick.winners:
        pick.empty_reason = "no synchronous row passed its check"
    return pick


def _pick_latency(key, situation, rows, column, label):
    pick = Pick(key=key, situation=situation, figure="percentiles")
    pick.untrusted, rows = _untrusted(
        [r for r in rows if r.closed and not r.is_reference and not r.hand_off])
    contenders = [r for r in rows if r.closed and not r.is_reference and not r.hand_off]
    failed = sorted({r.design for r in contenders if not r.passed})
    pick.excluded = failed
    ok = [r for r in contenders if r.passed and r.design not in failed]
    best = _best_per_design(ok, lambda r: -getattr(r, column))
    _rank(pick, [Candidate(d, -v, f"{label} {format_ns(-v)}", r) for d, (v, r) in best.items()],
          maximize=False)
    if not contenders:
        pick.empty_reason = "not measured"
    elif not pick.winners:
        pick.empty_reason = "no synchronous row passed its check"
    return pick


@dataclass
class Knee:
    design: str
    threads: int
    pipelined: bool
    rows: list               # the design's open rows at this thread count, by offered rate
    light_p50: float         # p50 at the lightest offered rate
    knee_row: object = None  # the first row past knee_threshold, or None
    kept_row: object = None  # the highest row below the knee that kept the rate, or None
    failed: list = field(default_factory=list)  # rows whose check failed
    unresolved: list = field(default_factory=list)  # rows below the harness floor (not judged)

    def describe(self):
        """The issue's sentence: "p99 exceeds 10x p50 at offered rate X" (or that it did not);
        "10x the harness floor's p99" where the floor set the bar."""
        if not self.rows:
            return ("every row is below the harness floor (floor p99 above the design's own "
                    "p99): not judged on this machine")
        if self.knee_row is not None:
            r = self.knee_row
            text = (f"p99 exceeds {TAIL_FACTOR:g}x its light-load service time at offered rate "
                    f"{format_rate(r.offered_per_s)}/s ({format_percent(r.rate_percent)} of its "
                    f"closed-loop rate): p99 {format_ns(r.p99_ns)} vs service "
                    f"{format_ns(self.light_p50)} at "
                    f"{format_percent(self.rows[0].rate_percent)}")
        else:
            top = self.rows[-1]
            text = (f"p99 stays within {TAIL_FACTOR:g}x its light-load service time up to the "
                    f"highest resolvable rate, {format_rate(top.offered_per_s)}/s "
                    f"({format_percent(top.rate_percent)}): p99 {format_ns(top.p99_ns)}, "
                    f"service {format_ns(self.light_p50)}")
            short = [r for r in self.rows if not kept_rate(r)]
            if short:
                text += "; but it achieved only " + ", ".join(
                    f"{r.achieved_per_s / r.offered_per_s:.0%} of the offered rate at "
                    f"{format_percent(r.rate_percent)}" for r in short)
        if self.unresolved:
            text += "; below the harness floor at " + ", ".join(
                format_percent(r.rate_percent) for r in self.unresolved)
        return text


def kept_rate(row):
    return row.achieved_per_s >= KEPT_ACHIEVED_FRACTION * row.offered_per_s


def light_service(row):
    """A row's own service time: its execute() p50, or its p50 where the file has none."""
    return row.service_p50_ns if row.service_p50_ns is not None else row.p50_ns


def knee_threshold(row, light_p50):
    """The p99 above which `row` is past the knee: 10x the design's own light-load service
    time (`row` is only used for its design's identity; the floor no longer enters)."""
    return TAIL_FACTOR * light_p50


def _exceeds(row, light_p50):
    return row.p99_ns > knee_threshold(row, light_p50)


def knees(table, threads):
    """The Knee of every design with open-loop rows at `threads` in `table`, in design order;
    rows below the harness floor are set aside (Knee.unresolved), never judged."""
    by_design = {}
    for r in table.open_rows():
        if r.threads == threads:
            by_design.setdefault(r.design, []).append(r)
    out = []
    for design, rows in by_design.items():
        rows.sort(key=lambda r: r.offered_per_s)
        resolvable = [r for r in rows if not r.below_floor]
        k = Knee(design=design, threads=threads, pipelined=any(r.hand_off for r in rows),
                 rows=resolvable,
                 light_p50=light_service(resolvable[0]) if resolvable else 0.0,
                 failed=[r for r in rows if not r.passed],
                 unresolved=[r for r in rows if r.below_floor])
        for r in resolvable:
            if _exceeds(r, k.light_p50):
                k.knee_row = r
                break
            if kept_rate(r):
                k.kept_row = r
        out.append(k)
    return out


def _pick_knee(table, threads, at_cores):
    where = "at cores" if threads == at_cores else "oversubscribed" if threads > at_cores else ""
    situation = (f"Highest offered load kept with p99 <= {TAIL_FACTOR:g}x the light-load "
                 f"service time, "
                 f"{threads} client thread{'s' if threads > 1 else ''}"
                 + (f" ({where})" if where else ""))
    pick = Pick(key=f"knee-{threads}", situation=situation, figure="load")
    ks = [k for k in knees(table, threads) if not k.pipelined and not k.design == "harness"]
    pick.excluded = sorted(k.design for k in ks if k.failed)
    candidates = []
    for k in ks:
        if k.failed or k.kept_row is None:
            continue
        r = k.kept_row
        candidates.append(Candidate(
            k.design, r.offered_per_s,
            f"{format_rate(r.offered_per_s)}/s offered ({format_percent(r.rate_percent)}; "
            f"p99 {format_ns(r.p99_ns)}; "
            + (f"knee at {format_percent(k.knee_row.rate_percent)})" if k.knee_row
               else "no knee in the rates measured)"),
            r))
    _rank(pick, candidates, maximize=True)
    # The ratio rule is relative: a design whose p50 is already slow keeps "p99 <= 10x p50"
    # more easily than a fast one, whose p99 at a light load is mostly the open-loop client's
    # wake-up jitter (microseconds). Say so when the winner's light-load p50 is far above the
    # fastest design's.
    fastest = min((k.light_p50 for k in ks if not k.failed and k.light_p50 > 0), default=0)
    if pick.winners and fastest > 0:
        w = next(k for k in ks if k.design == pick.winners[0].design)
        if w.light_p50 >= TAIL_FACTOR * fastest:
            pick.caution = (f"caution: {w.design}'s p50 at the lightest rate is "
                            f"{w.light_p50 / fastest:.0f}x the fastest design's "
                            f"({format_ns(w.light_p50)} vs {format_ns(fastest)}): a relative "
                            f"rule favours designs slow at every load; compare the p99 values")
    unresolved = sorted(k.design for k in ks if not k.rows)
    if unresolved:
        pick.untrusted = [f"{d} (below the harness floor)" for d in unresolved]
    if not ks:
        pick.empty_reason = "no synchronous open-loop rows"
    elif not pick.winners:
        pick.empty_reason = "no design kept even the lightest offered rate"
    return pick


def _is_message_passing(row):
    """The actor rows: our actor family and the CAF peer rows (named "caf...")."""
    return row.family == "actor" or row.design.startswith("caf")


def decide_table(results, table):
    """Every Pick of one table, in page order. Situations without rows are left out."""
    counts = table.closed_thread_counts()
    picks = []
    if not counts:
        return picks
    cores_t = results.at_cores(counts)
    over_t = results.oversubscribed(counts)
    closed = table.closed_rows()

    def at(t):
        return [r for r in closed if r.threads == t]

    if 1 in counts:
        picks.append(_pick_throughput("throughput-1", "Best throughput, 1 client thread", at(1)))
    if cores_t is not None and cores_t != 1:
        picks.append(_pick_throughput(
            "throughput-cores", f"Best throughput at cores ({cores_t} client threads)",
            at(cores_t)))
    if over_t is not None:
        picks.append(_pick_throughput(
            "throughput-oversubscribed",
            f"Best throughput oversubscribed ({over_t} client threads on "
            f"{results.machine['cores']} cores)", at(over_t)))
    if cores_t is not None and any(_is_message_passing(r) for r in at(cores_t)):
        # Among the actor rows only: which actor runtime, ours or CAF's, for this workload.
        picks.append(_pick_throughput(
            "actors-cores", f"Actors (ours and CAF's): best throughput at cores ({cores_t} "
            f"client thread{'s' if cores_t > 1 else ''})",
            [r for r in at(cores_t) if _is_message_passing(r)]))
    if cores_t is not None:
        picks.append(_pick_latency(
            "p99-cores", f"Lowest p99 at cores ({cores_t} client thread"
            f"{'s' if cores_t > 1 else ''})", at(cores_t), "p99_ns", "p99"))
    if over_t is not None:
        picks.append(_pick_latency(
            "p999-oversubscribed", f"Lowest p99.9 oversubscribed ({over_t} client threads)",
            at(over_t), "p999_ns", "p99.9"))
    for t in table.open_thread_counts():
        picks.append(_pick_knee(table, t, cores_t if cores_t is not None else t))
    return picks
