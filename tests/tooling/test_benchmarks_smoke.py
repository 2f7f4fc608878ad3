"""The benchmark harness keeps working: a --quick run (tiny sizes) measures every figure.

No timing is asserted here (or anywhere in the tests): quick sizes say nothing
about the targets, and the harness itself states each verdict. What must hold
is that every figure still runs against the real app, hub and review window,
and that the table has its columns.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.report import COLUMNS  # noqa: E402
from benchmarks.run import figures  # noqa: E402


def _table_rows(stdout: str) -> list[list[str]]:
    lines = [line for line in stdout.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_quick_run_measures_every_figure() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick"], cwd=ROOT, capture_output=True, text=True,
        timeout=400, check=False,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    assert proc.stdout.startswith("machine: nproc="), proc.stdout[:300]
    header, *rows = _table_rows(proc.stdout)
    assert header == list(COLUMNS)
    assert len(rows) == len(figures()), proc.stdout
    for row in rows:
        assert len(row) == len(COLUMNS), row
        assert row[-1] == "n/a (quick)", f"{row[0]}: {row[-1]}\n{proc.stdout}"
        assert row[1] not in ("", "-"), f"{row[0]} has no value"


def test_only_runs_the_named_figure() -> None:
    """--only picks figures by name (the hub list figure is cheap enough for a plain test)."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "list"], cwd=ROOT, capture_output=True,
        text=True, timeout=100, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    _header, *rows = _table_rows(proc.stdout)
    assert len(rows) == 1 and rows[0][0].startswith("hub: key list of"), proc.stdout


# -- the harness refuses impossible values (issue 15 item 1: it once printed -36 ms) -----------

def test_a_negative_duration_is_refused_not_printed() -> None:
    from benchmarks.measure import ImpossibleFigure, Stats, check_duration
    from benchmarks.report import ms, ms_spread

    with pytest.raises(ImpossibleFigure, match="not a possible"):
        Stats.of([0.023, -0.036, 0.074], "answer received -> first paint")
    with pytest.raises(ImpossibleFigure):
        check_duration(float("nan"), "nan")
    with pytest.raises(ImpossibleFigure):
        ms(-0.036)
    with pytest.raises(ImpossibleFigure):
        ms_spread(0.023, -0.036, 0.074)
    with pytest.raises(ImpossibleFigure, match="outside its range"):
        ms_spread(0.080, 0.010, 0.074)
    assert ms(0.0232) == "23.2 ms" and Stats.of([0.0, 0.5]).median == 0.25


def test_a_part_larger_than_its_whole_is_refused() -> None:
    from benchmarks.measure import ImpossibleFigure, check_part, ratio_of

    assert check_part(0.010, 0.049, "parse") == 0.010
    with pytest.raises(ImpossibleFigure, match="larger than its whole"):
        check_part(0.060, 0.049, "parse + set_keys")
    with pytest.raises(ImpossibleFigure):
        ratio_of(1.0, 0.0, "x")
    with pytest.raises(ImpossibleFigure):
        ratio_of(-1.0, 2.0, "x")


def test_a_child_mark_before_its_spawn_is_refused() -> None:
    """A child reporting a milestone stamped before the parent spawned it (another clock, or a
    stale stamp) is refused by run_child rather than turned into a negative time."""
    from benchmarks.measure import ImpossibleFigure, run_child

    with pytest.raises(ImpossibleFigure, match="child mark 'painted'"):
        run_child([sys.executable, "-c", "import time; print('BENCH painted', time.monotonic() - 5)"])
    ok = run_child([sys.executable, "-c", "import time; print('BENCH painted', time.monotonic())"])
    assert ok.marks["painted"] >= 0


def test_a_figure_with_an_impossible_value_is_an_error_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness prints ERROR (and exits 1), not the value, when a figure measured the impossible."""
    import io

    from benchmarks import run as harness
    from benchmarks.measure import Stats
    from benchmarks.report import Row, ms_spread

    def negative(_ctx: object) -> Row:
        stats = Stats.of([0.023, -0.036], "answer received -> first paint")
        return Row("fake", value=ms_spread(stats.median, stats.min, stats.max))

    monkeypatch.setattr(harness, "figures", lambda: [harness.Figure("fake", "fake figure", negative)])
    out = io.StringIO()
    rows = harness.run(None, quick=True, out=out)
    assert [row.verdict for row in rows] == ["ERROR"]
    assert "-36" not in out.getvalue() and "ImpossibleFigure" in out.getvalue(), out.getvalue()
