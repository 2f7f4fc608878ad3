"""Command-line output into a pipe whose reader left early (``phhub-keys ... | head``)."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO


def silence_closed_stdout(stream: TextIO | None = None) -> None:
    """Point stdout at devnull so the interpreter's final flush does not raise BrokenPipeError again.

    The recipe from the Python docs' note on SIGPIPE; call it after catching BrokenPipeError.
    """
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, (stream or sys.stdout).fileno())
