"""cp_report: reads a `compare --out DIR` results directory and turns it into plots and a page.

    load    - read and validate rows.csv, percentiles.csv, results.json (ReportError on bad input)
    units   - format_ns / format_rate, the same units the terminal table prints
    decide  - the decision rules: "which design for which situation", derived from the rows
    plots   - the matplotlib figures (PNG + SVG), one colour per design in every figure
    page    - docs/results.md, the generated results page
    files   - writing generated files and removing the ones an earlier run made and this one did not

make_report.py (one directory up) is the command; bench/report/README.md explains the rules.
"""
