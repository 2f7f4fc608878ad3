"""Install the MCP clients' own command-line programs for ``pytest -m realclients``.

    python3 scripts/realclients.py install   # npm install into the cache folder (once per pinned set)
    python3 scripts/realclients.py where     # print that folder (exit 1 if not installed)

The packages and versions are pinned in ``tests/realclients/package.json`` and its
``package-lock.json``: Claude Code, Codex CLI, Gemini CLI, mcp-remote, MCP Inspector,
the TypeScript MCP SDK, and the npm package ``node`` (22.x), because current releases
need Node >= 22 while the machine may have an older one. They go to
``$XDG_CACHE_HOME/phhub-keys/realclients/<hash of the pinned set>`` (``~/.cache`` by
default; ``PHHUB_REALCLIENTS_DIR`` overrides), so CI pays for the download once per
machine and pin, and nothing lands in the repository. ``npm`` itself is the only
requirement. (``npm install``, not ``npm ci``: the lock file lacks an optional
Windows-only dependency of vite that ``npm ci`` insists on.)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "tests" / "realclients"
PINNED_FILES = ("package.json", "package-lock.json")
STAMP = ".phhub-installed"
INSTALL_TIMEOUT = 1200  # seconds; a first install downloads a few hundred MB (1.2 GB on disk)


def pin_hash() -> str:
    digest = hashlib.sha256()
    for name in PINNED_FILES:
        digest.update((PINS / name).read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """Where the pinned set lives (installed or not)."""
    override = os.environ.get("PHHUB_REALCLIENTS_DIR")
    if override:
        return Path(override)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "phhub-keys" / "realclients" / pin_hash()


def installed_dir() -> Path | None:
    """The folder when the pinned set is completely installed there, else None."""
    folder = cache_dir()
    stamp = folder / STAMP
    if stamp.is_file() and stamp.read_text().strip() == pin_hash():
        return folder
    return None


def install() -> Path:
    """``npm install`` the pinned set (exact versions, lock file) into the cache folder, once."""
    done = installed_dir()
    if done is not None:
        return done
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("realclients: npm is not installed (apt-get install npm, or install Node.js)")
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name in PINNED_FILES:
        shutil.copyfile(PINS / name, folder / name)
    print(f"== installing the real MCP clients into {folder} (npm install, from the lock file)", flush=True)
    try:
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder,
                       check=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"realclients: npm install took longer than {INSTALL_TIMEOUT} s") from None
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"realclients: npm install failed (exit {exc.returncode})") from None
    node = folder / "node_modules" / ".bin" / "node"
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=60,
                             check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 22:
        raise SystemExit(f"realclients: the pinned node is {version}, the clients need >= 22")
    (folder / STAMP).write_text(pin_hash() + "\n")
    return folder


def main(argv: list[str]) -> int:
    if argv == ["install"]:
        print(install())
        return 0
    if argv == ["where"]:
        folder = installed_dir()
        print(folder or cache_dir())
        return 0 if folder else 1
    print("usage: python3 scripts/realclients.py install | where", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
