#!/usr/bin/python3
"""make_report.py: plots and the results page from a `compare --out DIR` results directory.

Run with Debian's interpreter and python3-matplotlib (scripts/setup.sh installs it):

    /usr/bin/python3 bench/report/make_report.py results/20261122-101500 --docs docs

reads DIR/rows.csv, DIR/percentiles.csv and DIR/results.json, writes the figures (PNG and SVG)
to DIR/plots/, and with --docs the page DOCS/results.md plus its SVGs under DOCS/results/.
bench/report/README.md describes the inputs, the outputs and the decision rules.
"""

import argparse
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))

from cp_report.files import replace_outputs, write_text  # noqa: E402
from cp_report.load import ReportError, load_results  # noqa: E402

PROG = "make_report.py"

DESCRIPTION = """\
Reads a results directory written by `compare --out DIR` (rows.csv, percentiles.csv,
results.json) and writes DIR/plots/*.png and *.svg: per workload table, HDR-style latency
percentile curves, throughput vs client threads and, when the run has open-loop rows,
latency vs offered load. With --docs it also writes DOCS_DIR/results.md (tables, figures,
machine, knobs and the measured decision table "which design for which situation") and
copies the SVGs to DOCS_DIR/results/. Files it wrote before and no longer writes are
removed; nothing else in those directories is touched."""

EPILOG = """\
exit status: 0 done; 2 bad usage or bad input (a missing directory, a missing or malformed
file: the message names the file and line); 3 python3-matplotlib is not installed
(run scripts/setup.sh)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, as every program of the project does; --help has the rest.
        sys.stderr.write(f"{PROG}: error: {message} (see --help)\n")
        sys.exit(2)


def _shown_path(path):
    """A path as the page should print it: relative to the repository when inside it."""
    full = os.path.abspath(path)
    if os.path.commonpath([full, REPO_ROOT]) == REPO_ROOT:
        return os.path.relpath(full, REPO_ROOT)
    return full


def _fail(message, status=2):
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return status


def main(argv):
    parser = _Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results_dir", metavar="RESULTS_DIR",
                        help="a directory written by `compare --out`")
    parser.add_argument("--docs", metavar="DOCS_DIR",
                        help="also write DOCS_DIR/results.md and DOCS_DIR/results/*.svg")
    args = parser.parse_args(argv)

    try:
        results = load_results(args.results_dir)
    except ReportError as e:
        return _fail(str(e))
    if args.docs is not None and not os.path.isdir(args.docs):
        return _fail(f"{args.docs}: no such docs directory")

    try:
        from cp_report.plots import make_figures
    except ImportError as e:
        return _fail(f"python3-matplotlib is needed ({e}); run scripts/setup.sh or "
                     "apt-get install python3-matplotlib", status=3)
    from cp_report.page import render_page

    plots_dir = os.path.join(args.results_dir, "plots")
    names, written = make_figures(results, plots_dir)
    replace_outputs(plots_dir, written)
    print(f"report: {len(written)} figures (PNG + SVG) in {plots_dir}")

    if args.docs is not None:
        figure_dir = os.path.join(args.docs, "results")
        os.makedirs(figure_dir, exist_ok=True)
        copied = []
        for path in written:
            if path.endswith(".svg"):
                target = os.path.join(figure_dir, os.path.basename(path))
                shutil.copyfile(path, target + ".tmp")
                os.replace(target + ".tmp", target)
                copied.append(target)
        removed = replace_outputs(figure_dir, copied)
        command = (f"/usr/bin/python3 bench/report/make_report.py "
                   f"{_shown_path(args.results_dir)} --docs {_shown_path(args.docs)}")
        page = render_page(results, names, "results", command, _shown_path(args.results_dir))
        page_path = os.path.join(args.docs, "results.md")
        write_text(page_path, page)
        print(f"report: page {page_path}, {len(copied)} SVGs in {figure_dir}"
              + (f" (removed {len(removed)} stale)" if removed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
