"""Which system libraries Qt's X11 platform plugin is missing, and the apt-get line that adds them.

Why: on a fresh Debian machine Qt aborts with "could not load the Qt platform
plugin xcb" and names at most one library (often not even the missing one).
Asking the dynamic linker (``ldd`` on the plugin) lists every missing library
at once, and the table below turns each into its Debian package. No Qt import
here: this runs before Qt is loaded, when loading it would abort the process.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import re
import shutil
import socket
import subprocess
from pathlib import Path

# Shared libraries the Qt xcb plugin (and the Qt libraries it pulls in) link against -> Debian 12 package.
DEBIAN_PACKAGES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libGLdispatch.so.0": "libglvnd0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libpng16.so.16": "libpng16-16",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
}


def xcb_plugin() -> Path | None:
    """PySide6's X11 platform plugin (``libqxcb.so``), found without importing Qt."""
    with contextlib.suppress(ImportError, ValueError):
        spec = importlib.util.find_spec("PySide6")
        if spec is not None and spec.submodule_search_locations:
            for root in spec.submodule_search_locations:
                plugin = Path(root) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
                if plugin.exists():
                    return plugin
    return None


def missing_libraries(plugin: Path, timeout: float = 10.0) -> list[str]:
    """The shared libraries ``plugin`` needs that the dynamic linker cannot find (in ldd's order)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []  # cannot tell: let Qt try
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=timeout,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_ldd(out)


def parse_ldd(text: str) -> list[str]:
    """``libfoo.so.1 => not found`` lines of ldd's output -> ["libfoo.so.1", ...] (no duplicates)."""
    missing: list[str] = []
    for line in text.splitlines():
        name, sep, where = line.strip().partition("=>")
        if sep and where.strip() == "not found" and name.strip() not in missing:
            missing.append(name.strip())
    return missing


def apt_line(missing: list[str]) -> str:
    """``sudo apt-get install PKG...`` for the missing libraries we know (sorted, each once)."""
    packages = sorted({DEBIAN_PACKAGES[name] for name in missing if name in DEBIAN_PACKAGES})
    return "sudo apt-get install " + " ".join(packages) if packages else ""


def problem_text(missing: list[str]) -> str:
    """One message naming what is missing and how to add it."""
    line = apt_line(missing)
    unknown = [name for name in missing if name not in DEBIAN_PACKAGES]
    text = "Qt's X11 platform plugin cannot load: missing " + ", ".join(missing) + "."
    if line:
        text += f" On Debian/Ubuntu install them with:\n    {line}"
    if unknown:
        text += ("\n(" + ", ".join(unknown) + ": find the package that provides it, e.g. "
                 "'apt-file search " + unknown[0] + "')")
    return text


_LOCAL_DISPLAY = re.compile(r"^(?:unix)?:(\d+)(?:\.\d+)?$")


def x_server_problem(display: str) -> str | None:
    """Why no X server answers on a local ``DISPLAY`` (":0", "unix:1.0"), or None (also when we
    cannot tell, e.g. a remote "host:10"). Qt aborts on a display it cannot open; this says so first."""
    match = _LOCAL_DISPLAY.match(display.strip())
    if match is None:
        return None
    path = f"/tmp/.X11-unix/X{match.group(1)}"  # noqa: S108 - the X11 socket's fixed place
    for address in (path, "\0" + path):  # the socket file, then Linux's abstract socket
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            probe.connect(address)
            return None
    return (f"no X server answers on DISPLAY={display} (is the desktop session still running?): start "
            "phhub-keys from a desktop session, or run 'phhub-keys --local --self-test' for a headless check")


def xcb_problem(cache_dir: Path | None = None, plugin: Path | None = None) -> str | None:
    """Why Qt's X11 plugin would not load here (with the apt-get line), or None.

    ``ldd`` takes ~40 ms, so a passing check is remembered in ``cache_dir``
    (keyed by the plugin file) and later starts skip it; a failing check is
    never remembered, so installing the packages is seen at the next start.
    """
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return None
    try:
        info = plugin.stat()
    except OSError:
        return None
    stamp_key = hashlib.sha256(f"{plugin}|{info.st_size}|{info.st_mtime_ns}".encode()).hexdigest()
    stamp = cache_dir / "qt-xcb-libs-ok" if cache_dir is not None else None
    if stamp is not None:
        with contextlib.suppress(OSError):
            if stamp.read_text(encoding="utf-8").strip() == stamp_key:
                return None
    missing = missing_libraries(plugin)
    if missing:
        return problem_text(missing)
    if stamp is not None:
        with contextlib.suppress(OSError):
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(stamp_key + "\n", encoding="utf-8")
    return None
