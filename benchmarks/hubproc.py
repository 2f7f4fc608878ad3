"""Parent side of hub_child: start a hub process, learn its port, stop it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .measure import bench_env


class HubProcess:
    """``with HubProcess(db) as hub: hub.url`` ; the child stops when its stdin closes."""

    def __init__(self, db_path: Path, *, mode: str = "hub", mcp_secret: str | None = None,
                 delay: float = 0.0) -> None:
        self.db_path = db_path
        self.mode = mode
        self.delay = delay
        self._secret = mcp_secret
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.hub_child", str(self.db_path), "--mode", self.mode,
             "--delay", str(self.delay)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=bench_env(),
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if self.mode == "mcp-noauth":
            self.proc.stdin.write((self._secret or "") + "\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line.startswith("BENCH port="):
            self.stop()
            raise RuntimeError(f"hub child failed to start: {line!r}")
        self.port = int(line.strip().split("=", 1)[1])
        return self

    def stop(self) -> str:
        """Stop the child; returns what it wrote to stderr (to surface server errors)."""
        if self.proc is None:
            return ""
        proc, self.proc = self.proc, None
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return proc.stderr.read() if proc.stderr else ""

    def __enter__(self) -> HubProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
