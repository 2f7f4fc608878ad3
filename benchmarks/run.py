"""The harness: run every figure, print the table.

``python -m benchmarks`` measures at full size (a few minutes on a 2-core
machine); ``--quick`` uses tiny sizes so a smoke test can prove every figure
still runs (its verdicts are ``n/a``: tiny sizes say nothing about targets).
``--only`` picks figures by name. Exit status: 0 when every figure was
measured (whatever its verdict), 1 when any figure failed to run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .context import FULL, QUICK, Context
from .machine import describe_line
from .report import Row, format_table


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    title: str
    run: Callable[[Context], Row]


def figures() -> list[Figure]:
    """Every figure, in the order of the issue's table (imports are lazy: a broken figure
    module shows up as that figure's ERROR row, not as a harness crash)."""

    def lazy(module: str, attr: str) -> Callable[[Context], Row]:
        def call(ctx: Context) -> Row:
            import importlib

            return getattr(importlib.import_module(f"benchmarks.{module}"), attr)(ctx)

        return call

    return [
        Figure("startup", "cold start to the key list painted", lazy("startup", "cold_start")),
        Figure("paint", "keys: list response parsed -> model filled -> first paint",
               lazy("gui_figures", "big_list_paint")),
        Figure("filter", "filter keystroke", lazy("gui_figures", "filter_keystroke")),
        Figure("stall", "longest GUI-thread stall, slow hub", lazy("gui_figures", "slow_hub_stall")),
        Figure("memory", "resident memory after loading keys", lazy("startup", "memory")),
        Figure("csv", "offline CSV review: open -> summary shown", lazy("csv_figures", "csv_review")),
        Figure("mcp", "hub: MCP whoami calls/s, authenticated", lazy("hub_figures", "mcp_throughput")),
        Figure("list", "hub: key list request -> JSON received", lazy("hub_figures", "key_list")),
        Figure("usage", "usage map: scan every known client config file for a key",
               lazy("usage_figures", "usage_map_scan")),
        Figure("feed", "hub: account feed with 100,000 events, first page",
               lazy("feed_figures", "feed_first_page")),
        Figure("rotate", "rotate -> clients re-wired -> new key checked",
               lazy("rotate_figures", "rotate_rewire_check")),
    ]


def run(names: list[str] | None, quick: bool, out=sys.stdout) -> list[Row]:
    chosen = [f for f in figures() if not names or f.name in names]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="phhub-bench-") as tmp:
        ctx = Context(sizes=QUICK if quick else FULL, quick=quick, workdir=Path(tmp))
        for figure in chosen:
            print(f"... {figure.name}", file=sys.stderr, flush=True)
            start = time.monotonic()
            try:
                row = figure.run(ctx)
            except Exception as exc:  # one broken figure must not hide the others
                row = Row(figure.title, verdict="ERROR")
                row.notes.append(f"{type(exc).__name__}: {exc}".strip()[:500])
                traceback.print_exc(file=sys.stderr)
            row.notes.append(f"measured in {time.monotonic() - start:.1f} s")
            rows.append(row)
    print(describe_line() + f"; load average {os.getloadavg()[0]:.2f} at the end"
          + (" (QUICK sizes)" if quick else ""), file=out)
    print(format_table(rows), file=out, flush=True)
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run); verdicts are n/a")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=[f.name for f in figures()],
                        help="run only these figures")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rows = run(args.only, args.quick)
    return 1 if any(row.verdict == "ERROR" for row in rows) else 0
