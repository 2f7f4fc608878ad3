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

ROOT = Path(__file__).resolve().parent.parent
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
