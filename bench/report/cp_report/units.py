"""units: numbers as the terminal table prints them (bench/harness/report.hpp's formatters).

    three_digits - 9.99 / 10.0 / 999: three significant digits
    format_ns    - 850 ns / 1.25 us / 3.40 ms / 1.20 s
    format_rate  - 12.3 M / 850 k / 999
"""


def three_digits(v):
    if v < 9.995:
        return f"{v:.2f}"
    if v < 99.95:
        return f"{v:.1f}"
    return f"{v:.0f}"


def format_ns(ns):
    if ns < 999.5:
        return f"{ns:.0f} ns"
    if ns < 999.5e3:
        return three_digits(ns / 1e3) + " us"
    if ns < 999.5e6:
        return three_digits(ns / 1e6) + " ms"
    return three_digits(ns / 1e9) + " s"


def format_rate(per_second):
    if per_second < 999.5:
        return f"{per_second:.0f}"
    if per_second < 999.5e3:
        return three_digits(per_second / 1e3) + " k"
    if per_second < 999.5e6:
        return three_digits(per_second / 1e6) + " M"
    return three_digits(per_second / 1e9) + " G"


def format_percent(p):
    """80 -> '80%', 87.5 -> '87.5%'."""
    return f"{p:g}%"
