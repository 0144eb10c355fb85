"""page: docs/results.md, the generated results page (Markdown, GitHub flavour).

    render_page  - the whole page: header, the decision tables (what to pick, why), then per
                   workload table a compact closed-loop table (a row per design, a column per
                   thread count), a compact open-loop table (a row per design and client
                   count, a column per offered rate), its figures, and every row with its
                   check in a collapsed block; the machine and knobs last

Nothing on the page is typed by hand: every number comes from the results directory, every
pick from cp_report.decide's rules, which the page prints above the picks.
"""

import re

from .decide import RULES_TEXT, TAIL_FACTOR, decide_table, kept_rate, knees
from .units import format_ns, format_percent, format_rate

FIGURE_TITLES = {
    "percentiles": "latency percentiles (closed loop)",
    "throughput": "throughput vs client threads",
    "load": "latency vs offered load (open loop)",
}


def _cell(text):
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _anchor(title):
    """GitHub's heading anchor: lower case, spaces to '-', punctuation dropped."""
    out = []
    for ch in title.lower():
        if ch.isalnum() or ch in "-_":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


def _threads_cell(r):
    if r.owned_threads:
        return f"{r.threads} (+{r.owned_threads} owned = {r.runnable_threads} runnable)"
    return str(r.threads)


def _load_cell(r):
    if r.closed:
        return "closed"
    return f"open {format_percent(r.rate_percent)} ({format_rate(r.offered_per_s)}/s offered)"


def _check_cell(r, notes):
    """The verdict, and a note number for its detail: the details go under the table, each
    distinct one once (`notes` collects them), so that the table stays narrow."""
    verdict = "pass" if r.passed else "**FAIL**"
    if not r.detail:
        return verdict
    if r.detail not in notes:
        notes.append(r.detail)
    return f"{verdict} ({notes.index(r.detail) + 1})"


def _row_order(table, designs):
    def key(r):
        return (0 if r.closed else 1, r.threads if not r.closed else 0, designs.index(r.design),
                r.threads, r.offered_per_s or 0.0)
    return sorted(table.rows, key=key)


def without_threads_token(params):
    """A table spans several thread counts: its heading drops the rows' "threads=N"."""
    return re.sub(r"(^| )threads=\d+( |$)", lambda m: m.group(1) if m.group(2) else "",
                  params).strip()


def _rows_table(results, table):
    header = ["| design | threads | load | ops/s | spread | p50 | p99 | p99.9 | max | vs ref | "
              "check |",
              "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    # Open rows add the harness floor's p99 at the same schedule, when the file has it.
    open_header = [header[0].replace("| max |", "| max | floor p99 |"),
                   header[1].replace("| ---: | ---: | --- |", "| ---: | ---: | ---: | --- |")]
    with_floor = any(r.floor_p99_ns is not None for r in table.open_rows())
    lines = []
    checks = []  # the distinct check details, numbered in the check column
    any_near = any_wide = False
    ordered = _row_order(table, results.designs)
    for i, r in enumerate(ordered):
        if i == 0 or r.closed != ordered[i - 1].closed:
            if lines:
                lines.append("")
            lines.append("Closed loop (saturation):" if r.closed else
                         "Open loop (offered rate as a percent of the same design's closed-loop "
                         "rate at the same thread count):")
            lines += [""] + (open_header if with_floor and not r.closed else header)
        any_near |= r.p50_near_floor
        ref = table.reference_row()
        doubt = r.untrusted or (ref is not None and ref.untrusted)
        any_wide |= r.untrusted
        vs_ref = "-" if r.vs_ref is None else f"{r.vs_ref:.2f}x" + ("?" if doubt else "")
        spread = "-" if r.spread is None or r.repeats < 2 else f"{r.spread:.0%}"
        floor = []
        if with_floor and not r.closed:
            floor = ["-" if r.floor_p99_ns is None else format_ns(r.floor_p99_ns)]
        lines.append("| " + " | ".join(_cell(c) for c in (
            r.label(), _threads_cell(r), _load_cell(r),
            format_rate(r.ops_per_s) + ("?" if r.untrusted else ""), spread,
            format_ns(r.p50_ns) + ("\\*" if r.p50_near_floor else ""), format_ns(r.p99_ns),
            format_ns(r.p999_ns), format_ns(r.max_ns), *floor, vs_ref)) + " | "
            + _cell(_check_cell(r, checks)) + " |")
    if checks:
        lines += ["", "Checks:", ""]
        lines += [f"{k}. {_cell(text)}" for k, text in enumerate(checks, 1)]
    notes = []
    repeats = max((r.repeats for r in table.closed_rows()), default=1)
    if repeats > 1:
        notes.append(f"Closed-loop ops/s: the median of {repeats} interleaved repetitions; "
                     "spread = (max - min) / median of the middle repetitions (of five or more, the "
                     "lowest and the highest left out).")
    if any_wide:
        notes.append("? the repetitions of this row disagree (wide spread): do not rank it "
                     "(nor read its vs ref) until a quieter rerun agrees.")
    if any_near:
        notes.append(f"\\* p50 below 3 timer floors ({format_ns(results.machine['timer_floor_ns'])}"
                     " each): mostly the clock, not the operation.")
    if any(r.batch is not None for r in table.rows):
        notes.append("(batch of N): one call hands a batch of N commands to the design; ops/s "
                     "counts commands, latency is per batch, so these rows are never compared "
                     "with the synchronous rows.")
    if any(r.pipelined for r in table.rows):
        notes.append("(pipelined): fire-and-forget rows; their latency is the hand-off, not a "
                     "reply, so they are never compared with the synchronous rows' latency.")
    if any(not r.closed for r in table.rows):
        notes.append("Open-loop rows: ops/s is the achieved rate; latency counts from each "
                     "operation's intended start (coordinated omission corrected)."
                     + (" Floor p99: the harness alone, the same schedule with an empty "
                        "operation, measured right after the row." if with_floor else ""))
        waits = sorted({r.open_wait for r in table.open_rows() if r.open_wait})
        if "sleep" in waits:
            notes.append("Open-loop clients slept to each intended start (absolute-deadline "
                         "sleep, no spinning) where clients + owned threads exceeded the cores "
                         "(oversubscribed rows), so as not to take a core from a design's own "
                         "threads; elsewhere they spun the last microseconds.")
    return lines + ([""] + notes if notes else [])


def _runnable_note(r):
    if r.owned_threads:
        return f" (+{r.owned_threads} owned)"
    return ""


def _compact_closed(results, table):
    """A row per design, a column of ops/s per thread count, vs ref and p99 at cores."""
    rows = table.closed_rows()
    if not rows:
        return []
    counts = sorted({r.threads for r in rows})
    cores_t = results.at_cores(counts)
    cores = results.machine["cores"]
    ref = table.reference_row()
    head = ["design"] + [f"ops/s x{t}" + (" (over)" if t > cores else "") for t in counts]
    head += [f"vs ref x{cores_t}", f"p50 x{cores_t}", f"p99 x{cores_t}", "check"]
    lines = ["| " + " | ".join(head) + " |",
             "| --- | " + " | ".join("---:" for _ in head[1:-1]) + " | --- |"]
    by_design = {}
    for r in rows:
        by_design.setdefault(r.label(), {})[r.threads] = r
    for label, at in by_design.items():
        cells = [label]
        for t in counts:
            r = at.get(t)
            cells.append("" if r is None else format_rate(r.ops_per_s) + ("?" if r.untrusted else ""))
        c = at.get(cores_t) or at.get(1)
        doubt = c.untrusted or (ref is not None and ref.untrusted)
        cells.append("-" if c.vs_ref is None else f"{c.vs_ref:.2f}x" + ("?" if doubt else ""))
        cells.append(format_ns(c.p50_ns) + ("\\*" if c.p50_near_floor else ""))
        cells.append(format_ns(c.p99_ns))
        failed = [r for r in at.values() if not r.passed]
        cells.append("pass" if not failed else "**FAIL** (x" + ",".join(
            str(r.threads) for r in failed) + "; see all rows)")
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    notes = [f"ops/s: the median of each row's repetitions; vs ref, p50 and p99 at x{cores_t} "
             f"(the reference's at x1); (over) = more client threads than the {cores} cores."]
    if any(r.untrusted for r in rows):
        notes.append("? the repetitions disagree (wide spread): not ranked.")
    if table.harness_row() is not None:
        notes.append("harness: an empty design driven exactly like the others: the harness's "
                     "own ceiling. A row near it measures mostly the harness.")
    return lines + [""] + [" ".join(notes)]


def _open_cell(r):
    if r is None:
        return ""
    if r.below_floor:
        return f"below floor ({format_ns(r.floor_p99_ns)})"
    text = format_ns(r.p99_ns)
    if not kept_rate(r):
        text += f" ({r.achieved_per_s / r.offered_per_s:.0%} achieved)"
    if not r.passed:
        text += " **FAIL**"
    return text


def _compact_open(results, table):
    """A row per design and client count, the p99 at each offered rate."""
    rows = table.open_rows()
    if not rows:
        return []
    rates = sorted({r.rate_percent for r in rows})
    head = ["design", "clients"] + [f"p99 at {format_percent(p)}" for p in rates] + \
        ["floor p99", "clients wait"]
    lines = ["| " + " | ".join(head) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in rates) + " | ---: | --- |"]
    groups = {}
    for r in rows:
        groups.setdefault((r.label(), r.threads), {})[r.rate_percent] = r
    for (label, threads), at in sorted(groups.items(),
                                       key=lambda kv: (kv[0][1], results.designs.index(
                                           next(iter(kv[1].values())).design))):
        any_r = next(iter(at.values()))
        clients = f"{threads}{_runnable_note(any_r)}" + (" over" if any_r.oversubscribed else "")
        floors = [r.floor_p99_ns for r in at.values() if r.floor_p99_ns is not None]
        cells = [label, clients] + [_open_cell(at.get(p)) for p in rates]
        cells.append(format_ns(min(floors)) + ".." + format_ns(max(floors)) if floors else "-")
        cells.append(any_r.open_wait or "-")
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    note = ("p99 from each operation's intended start (coordinated omission corrected), at a "
            "percent of the same design's closed-loop rate. *below floor*: the harness alone "
            "(floor p99) is slower than the design's own p99 at that schedule: not ranked. "
            "*over*: clients + owned threads exceed the cores (clients sleep to each start); "
            "*spin-tail*: they fit and spin the last microseconds; *spin*: they spin the whole "
            "wait (`--open-wait spin`).")
    return lines + ["", note]


def _knee_lines(table):
    lines = []
    for t in table.open_thread_counts():
        for k in knees(table, t):
            name = k.design + (" (pipelined)" if k.pipelined else "")
            failed = ""
            if k.failed:
                failed = " (check FAILED at " + ", ".join(
                    format_percent(r.rate_percent) for r in k.failed) + ")"
            lines.append(f"- {t} client thread{'s' if t > 1 else ''}, **{name}**: "
                         f"{k.describe()}{failed}.")
    return lines


def _pick_cells(pick, figure_link):
    situation = pick.situation + (f" ([figure]({figure_link}))" if figure_link else "")
    if not pick.winners:
        return [situation, "-", pick.empty_reason or "-", "-", _notes(pick)]
    names = ", ".join(f"**{c.design}**" for c in pick.winners)
    if len(pick.winners) > 1:
        names += " (within 5%)"
    measured = "; ".join((f"{c.design} " if len(pick.winners) > 1 else "") + c.text
                         for c in pick.winners)
    if pick.runner_up is not None:
        nxt = f"{pick.runner_up.design}: {pick.runner_up.text}"
        if pick.ratio:
            nxt += (f" (winner {pick.ratio:.2f}x higher)" if pick.maximize
                    else f" (winner {pick.ratio:.2f}x lower)")
    else:
        nxt = "-"
    return [situation, names, measured, nxt, _notes(pick)]


def _notes(pick):
    notes = []
    if pick.pipelined is not None and pick.pipelined.row.batch is not None:
        notes.append(f"*batch*: {pick.pipelined.design} {pick.pipelined.text} "
                     f"(one call runs {pick.pipelined.row.batch} commands)")
    elif pick.pipelined is not None:
        notes.append(f"*pipelined*: {pick.pipelined.design} {pick.pipelined.text} "
                     f"(callers do not wait for replies)")
    if pick.excluded:
        notes.append("excluded, check failed: " + ", ".join(pick.excluded))
    if pick.untrusted:
        notes.append("not ranked, repetitions disagree: " + ", ".join(pick.untrusted))
    if pick.caution:
        notes.append(pick.caution)
    return "; ".join(notes) or "-"


def _decision_section(results, figure_dir, names):
    out = ["## Which design for which situation", "",
           "Derived from the rows below by the rules under the tables "
           "(bench/report/cp_report/decide.py); rerun the command at the top after a new "
           "measurement and the picks follow the numbers."]
    for table in results.tables:
        picks = decide_table(results, table)
        out += ["", f"### Decisions: {table.name}", ""]
        if not picks:
            out.append("(no closed-loop rows of a thread-safe design: nothing to decide)")
            continue
        out += ["| situation | pick | measured | next best | notes |",
                "| --- | --- | --- | --- | --- |"]
        for p in picks:
            base = names[table.name].get(p.figure)
            link = f"{figure_dir}/{base}.svg" if base else ""
            out.append("| " + " | ".join(_cell(c) for c in _pick_cells(p, link)) + " |")
    out += ["", '<details markdown="1"><summary>The rules behind the picks</summary>', ""]
    out += [f"{i}. {text}" for i, text in enumerate(RULES_TEXT, 1)]
    out += ["", "</details>"]
    return out


def render_page(results, names, figure_dir, command, source):
    """The page. `names` is plots.make_figures' {table: {kind: base}}; `figure_dir` the SVGs'
    directory relative to the page; `command` the command that regenerates it; `source` the
    results directory as the page should name it."""
    m = results.machine
    out = [
        f"> **Generated** by `{command}` from `{source}`: do not edit by hand; rerun the "
        "command to replace this page and its figures.",
        "",
        "# Results: every design, every workload",
        "",
        f"Measured on {m['cpu']} ({m['cores']} cores), {m['date']}, git {m['git']}, profile "
        f"{m['profile']}. Method and how to read the columns: "
        "[bench/README.md](../bench/README.md).",
        "",
        "Contents: [which design for which situation](#which-design-for-which-situation)",
    ]
    out[-1] += "".join(f" · [{t.name}](#{_anchor(t.name)})" for t in results.tables)
    out[-1] += " · [machine and knobs](#machine-and-knobs)"
    out.append("")
    out += _decision_section(results, figure_dir, names)

    for table in results.tables:
        params = without_threads_token(table.params)
        out += ["", f"## {table.name}", "", f"Workload `{table.workload}`: `{params}`", ""]
        closed = _compact_closed(results, table)
        if closed:
            out += ["Closed loop (saturation):", ""] + closed + [""]
        opened = _compact_open(results, table)
        if opened:
            out += ["Open loop (a fixed offered rate):", ""] + opened + [""]
        # The latency plots stand in the page; throughput vs threads repeats the closed table's
        # ops/s columns, so it waits in the collapsed block with every row.
        figures = names[table.name]
        figure = lambda kind: [f"[![{table.name}: {FIGURE_TITLES[kind]}]({figure_dir}/"
                               f"{figures[kind]}.svg)]({figure_dir}/{figures[kind]}.svg)", ""]
        for kind in figures:
            if kind != "throughput":
                out += figure(kind)
        out += ['<details markdown="1"><summary>Every row of this table, with its check'
                + (", and throughput vs client threads" if "throughput" in figures else "")
                + "</summary>", ""]
        if "throughput" in figures:
            out += figure("throughput")
        out += _rows_table(results, table)
        out.append("")
        kl = _knee_lines(table)
        if kl:
            out += [f"Where each design's p99 exceeds {TAIL_FACTOR:g}x its light-load service "
                    "time (open loop, resolvable rows; the rule is under "
                    "[which design](#which-design-for-which-situation)):", ""]
            out += kl
        out += ["", "</details>"]

    out += ["", "## Machine and knobs", ""]
    facts = [
        ("CPU", f"{m['cpu']}, {m['cores']} cores"
         + (f", {m['mhz_per_cpu']} MHz" if m.get("mhz_per_cpu") else "")),
        ("compiler, build", f"{m['compiler']}, {m['build']}"),
        ("git revision", m["git"]),
        ("date (UTC)", m["date"]),
        ("profile", m["profile"]),
        ("timer floor", f"{format_ns(m['timer_floor_ns'])} (p50 of timing an empty operation)"),
        ("seconds per row", f"{m['seconds']:g}"),
        ("seed", str(m["seed"])),
    ]
    if m.get("load_avg"):
        facts.append(("load average at start", ", ".join(f"{x:g}" if isinstance(x, (int, float))
                                                          else str(x) for x in m["load_avg"])))
    out += [f"- **{k}**: {v}" for k, v in facts]
    if results.knobs:
        out += ["", "Knobs: " + ", ".join(f"`{k}={v}`" for k, v in results.knobs.items()) + "."]
    out.append("")
    return "\n".join(out)
