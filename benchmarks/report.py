"""The harness's output: one row per figure, printed as a plain-text table.

A row carries its own verdict, decided by the figure against its target; the
verdict is ``ok``, ``MISS`` or ``ERROR`` (the figure could not be measured),
and ``n/a`` for quick runs, whose tiny sizes say nothing about the targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .measure import ImpossibleFigure, check_duration

COLUMNS = ("figure", "value", "baseline", "ratio", "target", "verdict")


@dataclass(slots=True)
class Row:
    figure: str
    value: str = "-"
    baseline: str = "-"
    ratio: str = "-"
    target: str = "-"
    verdict: str = "ERROR"
    notes: list[str] = field(default_factory=list)

    def cells(self) -> tuple[str, ...]:
        return (self.figure, self.value, self.baseline, self.ratio, self.target, self.verdict)


def verdict(passed: bool, quick: bool) -> str:
    if quick:
        return "n/a (quick)"
    return "ok" if passed else "MISS"


def ms(seconds: float) -> str:
    """A duration for the table; an impossible one (negative, NaN) raises instead of printing."""
    check_duration(seconds, "duration")
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def ms_spread(median: float, low: float, high: float) -> str:
    """``123.4 ms (110.0-150.2)`` : the median with the min-max range (which must hold it)."""
    for value in (median, low, high):
        check_duration(value, "duration")
    if not low <= median <= high:
        raise ImpossibleFigure(f"median {median * 1000:.1f} ms outside its range "
                               f"{low * 1000:.1f}-{high * 1000:.1f} ms")
    return f"{ms(median)} ({low * 1000:.0f}-{high * 1000:.0f})"


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f} MB"


def ratio(value: float, baseline: float) -> str:
    if value < 0 or baseline < 0:
        raise ImpossibleFigure(f"ratio of {value!r} to {baseline!r}: a negative measure")
    return f"{value / baseline:.2f}x" if baseline else "-"


def format_table(rows: Iterable[Row]) -> str:
    rows = list(rows)
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]

    def fmt(line: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |"

    out = [fmt(COLUMNS), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(fmt(row.cells()) for row in rows)
    notes = [(row.figure, note) for row in rows for note in row.notes]
    if notes:
        out.append("")
        out.extend(f"- {figure}: {note}" for figure, note in notes)
    return "\n".join(out)
