"""What the figures were measured on (for docs/performance.md and the table header)."""

from __future__ import annotations

import os
import platform
import sys


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def describe() -> dict[str, str]:
    try:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        qt = f"PySide6 {pyside_version}, Qt {qVersion()}"
    except ImportError:
        qt = "PySide6 not installed"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "ram": _ram(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "qt": qt,
    }


def describe_line() -> str:
    d = describe()
    return (f"machine: nproc={d['nproc']}, CPU {d['cpu']}, RAM {d['ram']}, {d['os']}; "
            f"{d['python']}; {d['qt']}")
