#!/usr/bin/env python3
"""Build the double-click app with PyInstaller, then prove the built binary works.

    python packaging/build.py               # build dist/phhub-keys/ and smoke-test it
    python packaging/build.py --self-test   # ... and run its `--local --self-test` (offscreen)

Result: ``dist/phhub-keys/phhub-keys`` (``phhub-keys.exe`` on Windows) in a one-folder bundle;
on macOS also ``dist/MCP Keys.app``. Run it from the repository root with the project's venv
(``pip install -e ".[package]"`` gives PyInstaller).

Checks after the build, each on the frozen binary: ``--version``; ``review --summary --json`` on a
sample export (core + CSV review frozen); ``hub serve`` on a free loopback port answering
``/openapi.json`` and an MCP-config request (uvicorn and FastAPI frozen, lazy imports included);
the bundled resources/ present; with ``--self-test`` the app's own end-to-end self-test (Qt
plugins, the embedded hub, the real window). Prints build time and bundle size; exit 0 only if
everything passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "phhub-keys.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
APP = "phhub-keys"
EXE = DIST / APP / (f"{APP}.exe" if os.name == "nt" else APP)
SAMPLE = (
    "id,label,key,status,created_at,last_used_at\r\n"
    "mk_1,laptop,phk_abcd...efghij,active,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z\r\n"
    "mk_2,ci,phk_bcde...fghijk,deactivated,2025-03-01T00:00:00Z,\r\n"
)


def say(text: str) -> None:
    print(f"== {text}", flush=True)


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def build(keep_all_qt: bool) -> float:
    env = {**os.environ, "PHHUB_KEEP_ALL_QT": "1" if keep_all_qt else "0"}
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
           "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC)]
    say(" ".join(cmd))
    start = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    return time.monotonic() - start


def run(args: list[str], timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    env.pop("PYTHONPATH", None)  # the bundle must not lean on the source tree
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=tempfile.gettempdir(), **kwargs)


def check(name: str, ok: bool, detail: str = "") -> bool:
    print(f"   {'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}", flush=True)
    return ok


def check_version() -> bool:
    from phhub_keys import __version__

    result = run(["--version"])
    return check("--version", result.returncode == 0 and result.stdout.strip() == f"{APP} {__version__}",
                 result.stdout + result.stderr)


def check_resources() -> bool:
    bundle = EXE.parent
    found = [p for p in bundle.rglob("app-icon.png")] + [p for p in bundle.rglob("review.svg")]
    return check("resources/ bundled", len(found) >= 2, f"found {found}")


def check_review(tmp: Path) -> bool:
    sample = tmp / "keys.csv"
    sample.write_text(SAMPLE, encoding="utf-8", newline="")
    result = run(["review", str(sample), "--summary", "--json", "--as-of", "2025-06-01T00:00:00Z"])
    try:
        data = json.loads(result.stdout)
    except ValueError:
        data = {}
    good = (result.returncode == 0 and data.get("total") == 2 and data.get("active") == 1
            and data.get("unused_90_days") == 1)
    return check("review --summary --json", good, result.stdout[-500:] + result.stderr[-2000:])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_hub(tmp: Path) -> bool:
    port = _free_port()
    env = {**os.environ}
    env.pop("PYTHONPATH", None)
    proc = subprocess.Popen([str(EXE), "hub", "serve", "--port", str(port), "--db", str(tmp / "hub.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    ok, detail = False, ""
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/openapi.json", timeout=2) as response:  # noqa: S310
                    spec = json.load(response)
                ok = "paths" in spec and any("/keys" in p for p in spec["paths"])
                detail = f"{len(spec.get('paths', {}))} paths"
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        if ok:  # the MCP endpoint is mounted and refuses a request without a key
            request = urllib.request.Request(  # noqa: S310 - loopback http URL built above
                f"{base}/mcp", data=b"{}", method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                urllib.request.urlopen(request, timeout=5)  # noqa: S310
                ok, detail = False, "/mcp answered without a key"
            except urllib.error.HTTPError as exc:
                ok = exc.code == 401
                detail = f"/mcp without a key -> {exc.code}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.CTRL_C_EVENT if os.name == "nt" else signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        output = proc.stdout.read() if proc.stdout else ""
    return check("hub serve (frozen uvicorn + FastAPI + MCP)", ok, detail + "\n" + output[-3000:])


def check_self_test() -> bool:
    result = run(["--local", "--self-test"], timeout=240)
    print(result.stdout, end="")
    return check("--local --self-test", result.returncode == 0, result.stderr[-3000:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the PyInstaller bundle and test the result.")
    parser.add_argument(
        "--self-test", action="store_true", help="also run the built app's --local --self-test"
    )
    parser.add_argument("--no-build", action="store_true", help="only test an existing dist/ bundle")
    parser.add_argument("--keep-all-qt", action="store_true",
                        help="do not exclude unused Qt modules/plugins (to measure what the exclusions save)")
    args = parser.parse_args(argv)
    if not args.no_build:
        shutil.rmtree(DIST / APP, ignore_errors=True)
        seconds = build(args.keep_all_qt)
        say(f"built in {seconds:.0f} s")
    if not EXE.exists():
        print(f"!! {EXE} was not built", file=sys.stderr)
        return 1
    say(f"bundle: {EXE.parent} ({size_of(EXE.parent) / 1e6:.1f} MB, "
        f"{sum(1 for f in EXE.parent.rglob('*') if f.is_file())} files)")
    say("testing the built binary")
    with tempfile.TemporaryDirectory(prefix="phhub-bundle-") as tmp_name:
        tmp = Path(tmp_name)
        results = [check_version(), check_resources(), check_review(tmp), check_hub(tmp)]
        if args.self_test:
            results.append(check_self_test())
    if all(results):
        say(f"all bundle checks passed: {EXE}")
        return 0
    print("!! bundle checks FAILED", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
