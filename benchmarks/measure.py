"""Timing and memory primitives shared by every figure.

In-process figures time a callable with ``time.perf_counter`` over repeated
runs; whole-process figures spawn the same command several times and read the
moment the child reached its milestone (it prints ``BENCH <name> <monotonic>``;
``time.monotonic`` is CLOCK_MONOTONIC, shared by every process on Linux).
Every figure reports the median with min and max, so one noisy run on a busy
2-core machine neither hides nor fakes a result.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MARK = "BENCH"


class ImpossibleFigure(RuntimeError):
    """A measured value that cannot be true (a negative duration, a part larger than its whole).

    Raised instead of printing it: such a value means the measurement itself is wrong (stamps
    paired with the wrong event, clocks of different origins), so no figure of that run can be
    trusted until it is found. The harness turns it into the figure's ERROR row.
    """


def check_duration(seconds: float, what: str) -> float:
    """``seconds`` if it can be a duration (finite, >= 0); ImpossibleFigure otherwise."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ImpossibleFigure(f"{what}: {seconds * 1000:.3f} ms is not a possible duration")
    return seconds


def check_part(part: float, whole: float, what: str) -> float:
    """``part`` if it fits in ``whole`` (both durations); ImpossibleFigure otherwise."""
    check_duration(part, what)
    check_duration(whole, what)
    if part > whole:
        raise ImpossibleFigure(f"{what}: the part ({part * 1000:.1f} ms) is larger than "
                               f"its whole ({whole * 1000:.1f} ms)")
    return part


def ratio_of(value: float, baseline: float, what: str) -> float:
    """``value / baseline`` of two measures of the same kind; ImpossibleFigure if either cannot be one."""
    if not (math.isfinite(value) and math.isfinite(baseline)) or value < 0 or baseline <= 0:
        raise ImpossibleFigure(f"{what}: no ratio of {value!r} to {baseline!r}")
    return value / baseline


@dataclass(frozen=True, slots=True)
class Stats:
    """A set of samples (seconds, bytes, or calls/s: the figure says which)."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    @property
    def n(self) -> int:
        return len(self.samples)

    @classmethod
    def of(cls, samples: Sequence[float], what: str = "sample") -> Stats:
        """The samples of one figure; every one must be a possible value (finite, >= 0)."""
        if not samples:
            raise ValueError("no samples")
        for sample in samples:
            if not math.isfinite(sample) or sample < 0:
                raise ImpossibleFigure(f"{what}: {sample!r} is not a possible value "
                                       f"(samples {', '.join(f'{x:.6g}' for x in samples)})")
        return cls(tuple(samples))


def time_calls(fn: Callable[[], object], repeat: int, *, warmup: int = 1,
               setup: Callable[[], object] | None = None) -> Stats:
    """Wall time of ``fn()`` over ``repeat`` runs (after ``warmup`` unmeasured runs).

    ``setup`` runs before each call, outside the measured span.
    """
    samples: list[float] = []
    for i in range(warmup + repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        elapsed = check_duration(time.perf_counter() - start, "time_calls")
        if i >= warmup:
            samples.append(elapsed)
    return Stats.of(samples)


@dataclass(frozen=True, slots=True)
class ChildRun:
    """One spawned process: when it reached each milestone (seconds after spawn) and its output."""

    marks: dict[str, float]
    values: dict[str, str]
    returncode: int
    stdout: str
    stderr: str


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every child gets: offscreen Qt, the repo importable, no stray Qt logging."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if extra:
        env.update(extra)
    return env


def run_child(argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 60.0) -> ChildRun:
    """Spawn ``argv``; parse ``BENCH name <monotonic>`` marks and ``BENCH name=value`` lines."""
    start = time.monotonic()
    proc = subprocess.run(list(argv), env=env or bench_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    marks: dict[str, float] = {}
    values: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0] != MARK:
            continue
        if "=" in parts[1]:
            name, _, value = parts[1].partition("=")
            values[name] = value
        elif len(parts) >= 3:
            # Same clock (CLOCK_MONOTONIC) on both sides; a mark before the spawn is impossible.
            marks[parts[1]] = check_duration(float(parts[2]) - start, f"child mark {parts[1]!r}")
    return ChildRun(marks, values, proc.returncode, proc.stdout, proc.stderr)


def time_process(argv: Sequence[str], milestone: str, runs: int, *, env: dict[str, str] | None = None,
                 warmup: int = 1, timeout: float = 60.0) -> tuple[Stats, list[ChildRun]]:
    """Spawn-to-milestone time over ``runs`` spawns (after ``warmup`` spawns that warm the page cache)."""
    samples: list[float] = []
    children: list[ChildRun] = []
    for i in range(warmup + runs):
        child = run_child(argv, env=env, timeout=timeout)
        if milestone not in child.marks:
            raise RuntimeError(
                f"{' '.join(argv[-2:])} never reported {milestone!r} (exit {child.returncode}):\n"
                + _tail(child.stderr or child.stdout)
            )
        if i >= warmup:
            samples.append(child.marks[milestone])
            children.append(child)
    return Stats.of(samples), children


def mark(name: str) -> None:
    """Child side: report reaching milestone ``name`` now."""
    print(f"{MARK} {name} {time.monotonic():.6f}", flush=True)


def report_value(name: str, value: object) -> None:
    """Child side: report a measured value."""
    print(f"{MARK} {name}={value}", flush=True)


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process now (Linux /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc status")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def python() -> str:
    return sys.executable


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
