"""What every figure gets: the sizes of this run, a scratch directory, and seeded hubs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .seeding import SeededHub, seed


@dataclass(frozen=True, slots=True)
class Sizes:
    keys: int               # the big key list
    startup_keys: int       # keys on the hub for the cold-start figure
    csv_rows: int           # rows of the CSV review file
    process_runs: int       # spawns per whole-process timing
    repeats: int            # runs per in-process timing
    list_requests: int      # key-list requests to the hub
    mcp_seconds: float      # length of one MCP load window
    mcp_rounds: int         # alternating auth / no-auth windows
    mcp_workers: int        # concurrent MCP sessions
    keystrokes: int         # filter keystrokes typed
    slow_delay: float       # seconds the slow hub waits before answering


FULL = Sizes(keys=10_000, startup_keys=50, csv_rows=100_000, process_runs=7, repeats=9, list_requests=15,
             mcp_seconds=1.2, mcp_rounds=10, mcp_workers=8, keystrokes=24, slow_delay=1.5)
QUICK = Sizes(keys=200, startup_keys=5, csv_rows=2_000, process_runs=1, repeats=2, list_requests=2,
              mcp_seconds=0.3, mcp_rounds=1, mcp_workers=2, keystrokes=3, slow_delay=0.2)


@dataclass(slots=True)
class Context:
    sizes: Sizes
    quick: bool
    workdir: Path
    _hubs: dict[int, SeededHub] = field(default_factory=dict)

    def seeded(self, keys: int) -> SeededHub:
        """A hub database with ``keys`` keys (seeded once per run, shared by the figures)."""
        if keys not in self._hubs:
            self._hubs[keys] = seed(self.workdir / f"hub-{keys}.db", keys)
        return self._hubs[keys]
