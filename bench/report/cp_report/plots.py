"""plots: the figures of one results directory (matplotlib, Agg backend; PNG and SVG each).

    design_colours        - one colour per design, the same in every figure of the run
    figure_names          - the base file names of one table's figures, by kind
    plot_percentiles      - HDR-style latency curves: x = 1/(1-p) on a log axis, closed loop,
                            panels at cores and oversubscribed
    plot_throughput       - closed-loop ops/s vs client threads, the reference as a line
    plot_latency_vs_load  - open-loop p99 (and p50, faint) vs offered rate, per thread count
    make_figures          - all of them for every table, into one directory

Legible where they stand: every figure is one column of panels (small multiples), at most
MAX_LINES designs per panel, its natural width (PANEL_WIDTH + the legend) within the results
page's content column, its smallest text 9 pt (12 px at its natural size).

Every figure carries a footer naming the machine, date, git revision and profile, so an SVG
copied anywhere still says where its numbers came from. SVGs are written without a date and
with a fixed id salt, so regenerating from the same results gives the same bytes.
"""

import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator  # noqa: E402

from .decide import KEPT_ACHIEVED_FRACTION, kept_rate, knees  # noqa: E402
from .units import format_ns, format_rate  # noqa: E402

plt.rcParams.update({
    "svg.hashsalt": "cp-report",   # stable ids: same results, same SVG bytes
    "svg.fonttype": "none",        # text stays text (smaller, searchable)
    "font.size": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
})

PERCENTILE_TICKS = [(50, "50%"), (90, "90%"), (99, "99%"), (99.9, "99.9%"), (99.99, "99.99%"),
                    (99.999, "99.999%")]
REFERENCE_COLOUR = "#000000"
MAX_LINES = 8        # designs per panel
PANEL_WIDTH = 6.0    # inches; with the legend ~9 in = 650 pt, within the page's column
PANEL_HEIGHT = 2.2
SMALL_TEXT = 9       # pt: legend, footer, annotations


def _groups(items, size=MAX_LINES):
    """items split into consecutive groups of at most `size`, as even as possible."""
    items = list(items)
    if not items:
        return [[]]
    n = (len(items) + size - 1) // size
    per = (len(items) + n - 1) // n
    return [items[i:i + per] for i in range(0, len(items), per)]


def _column_of_panels(n, sharey=True):
    fig, axes = plt.subplots(n, 1, figsize=(PANEL_WIDTH + 3.0, PANEL_HEIGHT * n + 0.6),
                             sharey=sharey, squeeze=False)
    return fig, [row[0] for row in axes]


def _panel_legend(ax, extra=()):
    handles, labels = ax.get_legend_handles_labels()
    handles, labels = list(handles), list(labels)
    for h in extra:
        handles.append(h)
        labels.append(h.get_label())
    if handles:
        ax.legend(handles, labels, loc="center left", bbox_to_anchor=(1.01, 0.5),
                  fontsize=SMALL_TEXT, frameon=False)


def design_colours(designs):
    """{design: colour}: tab10 without its grey (kept for the reference), then tab20's pale half."""
    tab10 = [plt.get_cmap("tab10")(i) for i in range(10) if i != 7]
    tab20 = [plt.get_cmap("tab20")(i) for i in range(1, 20, 2)]
    palette = tab10 + tab20
    out, i = {}, 0
    for d in designs:
        if d == "reference":
            out[d] = REFERENCE_COLOUR
        else:
            out[d] = palette[i % len(palette)]
            i += 1
    return out


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "table"


def figure_names(table):
    """{kind: base file name} of a table's figures (without .png/.svg)."""
    s = slug(table.name)
    names = {"percentiles": f"{s}-latency-percentiles", "throughput": f"{s}-throughput-threads"}
    if table.open_rows():
        names["load"] = f"{s}-latency-vs-load"
    return names


def _footer(fig, results):
    m = results.machine
    fig.text(0.005, 0.005,
             f"{m['cpu']}, {m['cores']} cores | {m['date']} | git {m['git']} | "
             f"profile {m['profile']} | {m['compiler']}, {m['build']}",
             fontsize=SMALL_TEXT, color="0.4", ha="left", va="bottom")


def _log_axis(ax, which, formatter):
    """A log axis labelled in our units; 1-2-5 ticks when it spans less than three decades."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    lo, hi = ax.get_ylim() if which == "y" else ax.get_xlim()
    subs = (1.0, 2.0, 5.0) if lo > 0 and hi / lo < 1e3 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: formatter(v)))
    axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def _ns_axis(ax):
    ax.set_yscale("log")
    _log_axis(ax, "y", format_ns)


def _save(fig, directory, base):
    written = []
    for ext in ("png", "svg"):
        path = os.path.join(directory, f"{base}.{ext}")
        tmp = path + ".tmp"
        fig.savefig(tmp, format=ext, dpi=110, bbox_inches="tight",
                    metadata={"Date": None} if ext == "svg" else {"Software": None})
        os.replace(tmp, path)
        written.append(path)
    plt.close(fig)
    return written


def _x_of(p):
    return 1.0 / (1.0 - p / 100.0)


def plot_percentiles(results, table, colours, directory, base):
    counts = table.closed_thread_counts()
    shown = []
    for t in (results.at_cores(counts), results.oversubscribed(counts)):
        if t is not None and t not in shown:
            shown.append(t)
    ref = table.reference_row()
    designs = [d for d in results.designs
               if any(r.design == d and not r.is_reference and r.curve
                      for r in table.closed_rows())]
    panels = [(t, g) for t in (shown or [None]) for g in _groups(designs)]
    fig, axes = _column_of_panels(len(panels))
    top_x = 1e6
    for r in table.closed_rows():
        pts = [p for p, _ in r.curve if p < 100]
        if pts:
            top_x = max(top_x, 4 * _x_of(pts[-1]))

    def draw(ax, row, label, **style):
        body = [(p, ns) for p, ns in row.curve if p < 100]
        tail = [(p, ns) for p, ns in row.curve if p >= 100]
        if not body:
            return
        xs = [_x_of(p) for p, _ in body]
        ys = [max(ns, 1.0) for _, ns in body]
        ax.plot(xs, ys, label=label, **style)
        if tail:
            ax.plot([xs[-1], top_x], [ys[-1], max(tail[-1][1], 1.0)], color=style["color"],
                    linestyle=":", linewidth=1.0)
            ax.plot([top_x], [max(tail[-1][1], 1.0)], marker="o", markersize=3,
                    color=style["color"])

    cores = results.machine["cores"]
    for ax, (t, group) in zip(axes, panels):
        if ref is not None and ref.curve:
            draw(ax, ref, "reference (1 thread)", color=REFERENCE_COLOUR, linestyle=":",
                 linewidth=1.2)
        for r in table.closed_rows():
            if r.threads != t or r.is_reference or not r.curve or r.design not in group:
                continue
            label = r.label() + ("" if r.passed else " [check FAILED]")
            draw(ax, r, label, color=colours[r.design],
                 linestyle="--" if r.pipelined else "-", linewidth=1.6,
                 alpha=1.0 if r.passed else 0.45)
        ax.set_xscale("log")
        ticks = [_x_of(p) for p, _ in PERCENTILE_TICKS] + [top_x]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([lab for _, lab in PERCENTILE_TICKS] + ["max"])
        ax.set_xlim(1.0, top_x * 1.6)
        ax.set_yscale("log")
        if t is not None:
            ax.set_title(f"{t} client thread{'s' if t > 1 else ''}"
                         + (f" (oversubscribed: {cores} cores)" if t > cores else ""),
                         fontsize=10)
        ax.set_ylabel("latency")
        _panel_legend(ax)
    for ax in axes:  # after every panel is drawn: the shared limits are final
        _ns_axis(ax)
    axes[-1].set_xlabel("percentile (log scale of 1/(1-p))")
    piped = any(r.pipelined for r in table.closed_rows())
    fig.suptitle(f"{table.name}: latency percentiles, closed loop"
                 + ("\n(dashed = pipelined: hand-off time, not reply)" if piped else ""),
                 fontsize=11)
    _footer(fig, results)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return _save(fig, directory, base)


def plot_throughput(results, table, colours, directory, base):
    counts = table.closed_thread_counts()
    by_design = {}
    for r in table.closed_rows():
        if not r.is_reference:
            by_design.setdefault(r.design, []).append(r)
    groups = _groups(list(by_design))
    fig, axes = _column_of_panels(len(groups))
    any_owned = False
    ref = table.reference_row()
    cores = results.machine["cores"]
    for ax, group in zip(axes, groups):
        failed_drawn = False
        for design in group:
            rows = sorted(by_design[design], key=lambda r: r.threads)
            piped = any(r.pipelined for r in rows)
            ax.plot([r.threads for r in rows], [r.ops_per_s for r in rows], marker="o",
                    markersize=4, linewidth=1.6, color=colours[design],
                    linestyle="--" if piped else "-",
                    label=design + (" (pipelined)" if piped else ""))
            for r in rows:
                if r.owned_threads > 0:
                    any_owned = True
                    ax.annotate(f"{r.runnable_threads}", (r.threads, r.ops_per_s),
                                textcoords="offset points", xytext=(4, 4), fontsize=SMALL_TEXT,
                                color=colours[design])
                if not r.passed:
                    ax.plot([r.threads], [r.ops_per_s], marker="x", markersize=9, color="red",
                            linestyle="none", label=None if failed_drawn else "check failed")
                    failed_drawn = True
        if ref is not None:
            ax.axhline(ref.ops_per_s, color=REFERENCE_COLOUR, linestyle=":", linewidth=1.2,
                       label=f"reference, 1 thread: {format_rate(ref.ops_per_s)}")
        if counts and max(counts) > cores:
            ax.axvline(cores, color="0.6", linestyle="--", linewidth=0.8)
            ax.annotate(f"{cores} cores", (cores, 0), xycoords=("data", "axes fraction"),
                        xytext=(3, 4), textcoords="offset points", fontsize=SMALL_TEXT,
                        color="0.4")
        ax.set_xscale("log", base=2)
        if counts:
            ax.xaxis.set_major_locator(FixedLocator(counts))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_yscale("log")
        ax.set_ylabel("ops/s (closed loop)")
        _panel_legend(ax)
    for ax in axes:
        _log_axis(ax, "y", format_rate)
    axes[-1].set_xlabel("client threads")
    title = f"{table.name}: throughput vs client threads"
    if any_owned:
        title += "\n(numbers beside points: runnable threads = clients + owned threads)"
    fig.suptitle(title, fontsize=11)
    _footer(fig, results)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return _save(fig, directory, base)


def plot_latency_vs_load(results, table, colours, directory, base):
    counts = table.open_thread_counts()
    panels = []
    for t in counts:
        ks = knees(table, t)
        by_design = {}
        for r in table.open_rows():
            if r.threads == t:
                by_design.setdefault(r.design, []).append(r)
        for g in _groups(list(by_design)):
            panels.append((t, g, {k.design: k for k in ks}, by_design))
    fig, axes = _column_of_panels(max(1, len(panels)))
    cores = results.machine["cores"]
    extra = [
        Line2D([], [], color="0.3", linewidth=1.6, label="p99"),
        Line2D([], [], color="0.3", linewidth=1.0, alpha=0.3, label="p50 (faint)"),
        Line2D([], [], color="0.3", linewidth=1.0, alpha=0.6, linestyle=":",
               label="floor p99 (harness alone)"),
        Line2D([], [], color="0.3", marker="o", markersize=11, markerfacecolor="none",
               linestyle="none", label="knee"),
        Line2D([], [], color="0.3", marker="o", markersize=4, markerfacecolor="white",
               linestyle="none", label=f"achieved < {KEPT_ACHIEVED_FRACTION:.0%}"),
    ]
    for ax, (t, group, by_knee, by_design) in zip(axes, panels):
        for design in group:
            rows = sorted(by_design[design], key=lambda r: r.offered_per_s)
            k = by_knee.get(design)
            c = colours[design]
            piped = any(r.hand_off for r in rows)
            style = "--" if piped else "-"
            xs = [r.offered_per_s for r in rows]
            ax.plot(xs, [max(r.p99_ns, 1.0) for r in rows], color=c, linestyle=style,
                    linewidth=1.6, label=design + (" (pipelined)" if piped else ""))
            ax.plot(xs, [max(r.p50_ns, 1.0) for r in rows], color=c, linestyle=style,
                    linewidth=1.0, alpha=0.3)
            floors = [(r.offered_per_s, r.floor_p99_ns) for r in rows if r.floor_p99_ns]
            if floors:  # the harness alone at the same schedule
                ax.plot([x for x, _ in floors], [max(f, 1.0) for _, f in floors], color=c,
                        linestyle=":", linewidth=1.0, alpha=0.6)
            for r in rows:
                ax.plot([r.offered_per_s], [max(r.p99_ns, 1.0)], marker="o", markersize=4,
                        color=c, markerfacecolor=c if kept_rate(r) else "white",
                        linestyle="none")
                if not r.passed:
                    ax.plot([r.offered_per_s], [max(r.p99_ns, 1.0)], marker="x", markersize=9,
                            color="red", linestyle="none")
            if k is not None and k.knee_row is not None:
                ax.plot([k.knee_row.offered_per_s], [max(k.knee_row.p99_ns, 1.0)], marker="o",
                        markersize=11, markerfacecolor="none", markeredgecolor=c,
                        linestyle="none")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylabel("latency")
        ax.set_title(f"{t} client thread{'s' if t > 1 else ''}"
                     + (f" (oversubscribed: {cores} cores)" if t > cores else ""), fontsize=10)
        _panel_legend(ax, extra if ax is axes[0] else ())
    for ax in axes:  # after every panel is drawn: the shared limits are final
        if ax.lines:
            _log_axis(ax, "x", format_rate)
            _ns_axis(ax)
    axes[-1].set_xlabel("offered rate (ops/s, open loop)")
    fig.suptitle(f"{table.name}: latency from the intended start vs offered load\n(each design "
                 f"swept as a fraction of its own closed-loop rate)", fontsize=11)
    _footer(fig, results)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return _save(fig, directory, base)


def make_figures(results, directory):
    """Draws every figure of every table into `directory`.

    Returns ({table name: {kind: base name}}, [paths written]).
    """
    os.makedirs(directory, exist_ok=True)
    colours = design_colours(results.designs)
    names, written = {}, []
    drawers = {"percentiles": plot_percentiles, "throughput": plot_throughput,
               "load": plot_latency_vs_load}
    for table in results.tables:
        names[table.name] = figure_names(table)
        for kind, base in names[table.name].items():
            written += drawers[kind](results, table, colours, directory, base)
    return names, written

