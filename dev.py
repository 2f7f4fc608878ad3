#!/usr/bin/env python3
"""Newcomer entry point: ``python3 dev.py run`` or ``python3 dev.py test``.

Creates ``.venv`` on first use (and reinstalls when pyproject.toml changes),
then runs the app on its embedded local hub, or the whole test suite.
Uses only the standard library so it works on a fresh machine.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".phhub-installed"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def say(text: str) -> None:
    print(f"== {text}", flush=True)


def ensure_venv() -> None:
    """Create the venv and install the project with its test extra when needed."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted and PY.exists():
        return
    if not PY.exists():
        say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing phhub-keys and its test tools (first run only)")
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def run(cmd: list[str], env: dict[str, str] | None = None, unset: tuple[str, ...] = ()) -> int:
    say(" ".join(cmd))
    full = {**os.environ, **(env or {})}
    for name in unset:
        full.pop(name, None)
    return subprocess.run(cmd, cwd=ROOT, env=full).returncode


def pytest_ok(code: int, what: str) -> bool:
    """pytest exit 5 means no test ran: that is a failure here, never a pass."""
    if code == 5:
        print(f"!! {what}: no tests were collected", file=sys.stderr)
    elif code != 0:
        print(f"!! {what}: failed (pytest exit {code})", file=sys.stderr)
    return code == 0


def cmd_test(extra: list[str]) -> int:
    ensure_venv()
    failures: list[str] = []
    if run([str(BIN / "ruff"), "check", "phhub_keys", "tests", "benchmarks", "scripts", "dev.py"]) != 0:
        failures.append("ruff")
    offscreen = {"QT_QPA_PLATFORM": "offscreen"}
    code = run([str(PY), "-m", "pytest", "-m", "not xvfb and not secretservice", *extra], offscreen)
    if not pytest_ok(code, "main test suite"):
        failures.append("main suite")

    # Real Secret Service: gnome-keyring inside a private D-Bus session.
    if shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon"):
        script = (
            "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && "
            f"exec '{PY}' -m pytest -m secretservice -p no:cacheprovider"
        )
        # A throwaway HOME so the daemon's keyring files never touch the user's own,
        # and no DISPLAY so no unlock prompt can pop up on a developer's screen.
        with tempfile.TemporaryDirectory(prefix="phhub-keyring-") as home:
            code = run(
                ["dbus-run-session", "--", "sh", "-c", script],
                {"PHHUB_SECRET_SERVICE": "1", "HOME": home, **offscreen},
                unset=("DISPLAY", "WAYLAND_DISPLAY"),
            )
        if not pytest_ok(code, "Secret Service tests"):
            failures.append("secretservice")
    elif IN_CI:
        failures.append("secretservice (dbus-run-session / gnome-keyring-daemon missing)")
    else:
        say("skipped Secret Service tests: apt-get install dbus gnome-keyring")

    # Real X server with a tray host: the tests start Xvfb and trayer themselves.
    if shutil.which("Xvfb") and shutil.which("trayer"):
        code = run(
            [str(PY), "-m", "pytest", "-m", "xvfb", "-p", "no:cacheprovider"],
            {"PHHUB_XVFB": "1"},
            unset=("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"),
        )
        if not pytest_ok(code, "X11 tray tests"):
            failures.append("xvfb")
    elif IN_CI:
        failures.append("xvfb (Xvfb / trayer missing)")
    else:
        say("skipped X11 tray tests: apt-get install xvfb trayer libxcb-cursor0")

    code = run([str(BIN / "phhub-keys"), "--local", "--self-test"], offscreen)
    if code != 0:
        failures.append("self-test")
    if failures:
        print("!! FAILED: " + ", ".join(failures), file=sys.stderr)
        return 1
    say("all checks passed")
    return 0


def cmd_run(extra: list[str]) -> int:
    ensure_venv()
    return run([str(BIN / "phhub-keys"), "--local", *extra])


def main(argv: list[str]) -> int:
    commands = {"run": cmd_run, "test": cmd_test}
    if not argv or argv[0] not in commands:
        print("usage: python3 dev.py run [app args] | python3 dev.py test [pytest args]", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
