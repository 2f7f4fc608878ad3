"""dev.py's set-up: `run` installs only what running needs, `test` adds the test extra, each once."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """dev.py loaded against a copy of pyproject.toml and a stand-in venv; pip runs are recorded."""
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root = tmp_path / "clone"
    root.mkdir()
    (root / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    venv = root / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")  # exists: the venv was created
    monkeypatch.setattr(module, "ROOT", root)
    monkeypatch.setattr(module, "VENV", venv)
    monkeypatch.setattr(module, "PY", venv / "bin" / "python")
    monkeypatch.setattr(module, "STAMP", venv / ".phhub-installed")
    module.installs = []

    def record(cmd: list[str], check: bool = False, **_kw: object) -> subprocess.CompletedProcess:
        if "--upgrade" not in cmd:
            module.installs.append(cmd[-1])
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(module.subprocess, "run", record)
    return module


def test_run_installs_no_test_tools_and_test_adds_them_once(dev) -> None:  # type: ignore[no-untyped-def]
    root = str(dev.ROOT)
    dev.ensure_venv(extras=())  # python3 dev.py run, first time
    assert dev.installs == [root]
    dev.ensure_venv(extras=())
    assert dev.installs == [root]  # nothing again
    dev.ensure_venv()  # python3 dev.py test: the venv was set up for running only
    assert dev.installs == [root, f"{root}[test]"]
    dev.ensure_venv(extras=())
    dev.ensure_venv()
    assert len(dev.installs) == 2  # the test extra satisfies running too
    (dev.ROOT / "pyproject.toml").write_text((dev.ROOT / "pyproject.toml").read_text() + "\n# changed\n")
    dev.ensure_venv(extras=())
    assert dev.installs[-1] == f"{root}[test]"  # a changed pyproject keeps the extras it had


def test_cmd_run_asks_for_no_extras(dev, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(dev, "run", lambda cmd, *a, **k: 0)
    assert dev.cmd_run(["--self-test"]) == 0
    assert dev.installs == [str(dev.ROOT)]

