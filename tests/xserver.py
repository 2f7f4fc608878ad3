"""A real X server for the tests that need one (the tray on Xvfb + trayer, the AT-SPI tree).

Why one module: both suites start Xvfb on a free display, wait for it with a
deadline and stop their child processes the same way; each keeps its own
display range so the two can run side by side.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

__all__ = ["free_display", "stop_process", "wait_for", "xvfb"]


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``predicate`` every 50 ms; TimeoutError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate, then kill after 5 s: a child never outlives its test."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def free_display(first: int, last: int) -> int:
    """The first X display number in ``first..last`` with no socket and no lock file."""
    for number in range(first, last + 1):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise RuntimeError(f"no free X display number between :{first} and :{last}")


@contextlib.contextmanager
def xvfb(tmp_path: Path, screen: str, displays: tuple[int, int]) -> Iterator[str]:
    """A fresh Xvfb (``screen`` e.g. "1280x800x24", log in tmp_path/xvfb.log); yields its DISPLAY."""
    number = free_display(*displays)
    log = (tmp_path / "xvfb.log").open("w")
    proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", screen, "-nolisten", "tcp"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: Path(f"/tmp/.X11-unix/X{number}").exists() or proc.poll() is not None, 15,
                 "Xvfb to start")
        if proc.poll() is not None:
            pytest.fail(f"Xvfb exited: {(tmp_path / 'xvfb.log').read_text()}")
        yield f":{number}"
    finally:
        stop_process(proc)
        log.close()
