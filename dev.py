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


def _installed() -> tuple[str, set[str]]:
    """(pyproject hash, extras) the venv was last set up with; ('', set()) when never."""
    try:
        lines = STAMP.read_text().split()
    except OSError:
        return "", set()
    if not lines:
        return "", set()
    extras = {e for line in lines[1:] if line.startswith("extras=") for e in line[7:].split(",") if e}
    return lines[0], extras


def _can_create_venv() -> None:
    """Debian/Ubuntu ship venv's pip bootstrap separately: say which package, not a traceback."""
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        print("!! Python cannot create a virtual environment here (no ensurepip). On Debian/Ubuntu:\n"
              "    sudo apt-get install python3-venv", file=sys.stderr)
        raise SystemExit(1) from None


def ensure_venv(extras: tuple[str, ...] = ("test",)) -> None:
    """Create the venv and install the project (with ``extras``) when pyproject.toml changed or is new.

    ``dev.py run`` asks for no extras (only what running the app needs); ``dev.py test`` for
    the test extra. A venv set up for running gets the test tools the first time tests run.
    """
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 the machine has
        print(f"!! phhub-keys needs Python 3.11 or newer; this is {sys.version.split()[0]}.", file=sys.stderr)
        raise SystemExit(1)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    have_hash, have_extras = _installed()
    if PY.exists() and have_hash == wanted and set(extras) <= have_extras:
        return
    if not PY.exists():
        _can_create_venv()
        say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    # Reinstall what was there before (a changed pyproject.toml), plus what is asked for now.
    all_extras = sorted(set(extras) | have_extras)
    what = "phhub-keys" + (f" and its {', '.join(all_extras)} tools" if all_extras else "")
    say(f"installing {what} into .venv (first run or pyproject.toml changed; pip's progress follows)")
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check"]
    say("upgrading pip in .venv")
    subprocess.run([*pip, "-q", "--upgrade", "pip"], check=True)
    target = f"{ROOT}[{','.join(all_extras)}]" if all_extras else str(ROOT)
    subprocess.run([*pip, "-e", target], check=True)
    STAMP.write_text(wanted + "\nextras=" + ",".join(all_extras) + "\n")
    say("set up done")


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


def atspi_missing() -> str:
    """What the AT-SPI suite lacks on this machine ('' when it can run)."""
    if not shutil.which("dbus-run-session") or not shutil.which("dbus-send"):
        return "dbus-run-session"
    if not shutil.which("Xvfb"):
        return "Xvfb"
    launchers = ("/usr/libexec/at-spi-bus-launcher", "/usr/lib/at-spi2-core/at-spi-bus-launcher")
    if not any(Path(p).is_file() for p in launchers):
        return "at-spi-bus-launcher"
    probe = Path("/usr/bin/python3")
    if not probe.is_file() or subprocess.run([str(probe), "-c", "import pyatspi"],
                                             capture_output=True, timeout=60).returncode != 0:
        return "python3-pyatspi"
    return ""


def cmd_test(extra: list[str]) -> int:
    ensure_venv()
    failures: list[str] = []
    if run([str(BIN / "ruff"), "check", "phhub_keys", "tests", "benchmarks", "scripts", "dev.py"]) != 0:
        failures.append("ruff")
    # The layer contracts of pyproject.toml ([tool.importlinter]): core stays Qt- and HTTP-free.
    if run([str(BIN / "lint-imports")]) != 0:
        failures.append("import-linter")
    # Types checked, not hoped ([tool.mypy] in pyproject.toml): zero errors on phhub_keys.
    if run([str(BIN / "mypy")]) != 0:
        failures.append("mypy")
    offscreen = {"QT_QPA_PLATFORM": "offscreen"}
    main_suite = "not xvfb and not secretservice and not atspi and not realclients"
    code = run([str(PY), "-m", "pytest", "-m", main_suite, *extra], offscreen)
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

    # Screen reader: the app's windows read over a real AT-SPI bus (at-spi2-core) by python3-pyatspi,
    # as Orca reads them; the tests start Xvfb and the accessibility bus inside this D-Bus session.
    missing = atspi_missing()
    if not missing:
        code = run(
            ["dbus-run-session", "--", str(PY), "-m", "pytest", "-m", "atspi", "-p", "no:cacheprovider"],
            {"PHHUB_ATSPI": "1"},
            unset=("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"),
        )
        if not pytest_ok(code, "AT-SPI screen reader tests"):
            failures.append("atspi")
    elif IN_CI:
        failures.append(f"atspi ({missing} missing)")
    else:
        say("skipped AT-SPI screen reader tests: apt-get install dbus xvfb at-spi2-core python3-pyatspi")

    # The AI clients' own programs (Claude Code, Codex, Gemini CLI, mcp-remote, Inspector, the
    # TypeScript SDK) from npm, pinned in tests/realclients/ and cached outside the repo.
    if shutil.which("npm"):
        installer = subprocess.run([sys.executable, str(ROOT / "scripts" / "realclients.py"), "install"],
                                   cwd=ROOT, capture_output=True, text=True)
        if installer.returncode == 0:
            folder = installer.stdout.strip().splitlines()[-1]
            code = run([str(PY), "-m", "pytest", "-m", "realclients", "-p", "no:cacheprovider"],
                       {"PHHUB_REALCLIENTS_DIR": folder, **offscreen})
            if not pytest_ok(code, "real AI client tests"):
                failures.append("realclients")
        else:
            print(installer.stdout + installer.stderr, file=sys.stderr)
            failures.append("realclients (npm install of the clients failed)")
    elif IN_CI:
        failures.append("realclients (npm missing)")
    else:
        say("skipped real AI client tests: install Node.js and npm (any version; the clients bring Node 22)")

    code = run([str(BIN / "phhub-keys"), "--local", "--self-test"], offscreen)
    if code != 0:
        failures.append("self-test")
    if failures:
        print("!! FAILED: " + ", ".join(failures), file=sys.stderr)
        return 1
    say("all checks passed")
    return 0


def cmd_run(extra: list[str]) -> int:
    ensure_venv(extras=())  # running needs no test tools; `dev.py test` adds them when first run
    return run([str(BIN / "phhub-keys"), "--local", *extra])


def main(argv: list[str]) -> int:
    commands = {"run": cmd_run, "test": cmd_test}
    if not argv or argv[0] not in commands:
        print("usage: python3 dev.py run [app args] | python3 dev.py test [pytest args]", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
