"""core.safefile: a write killed between the temporary file and the rename leaves no secret behind.

The writer runs in a real subprocess that is SIGKILLed at the worst moment (the temporary
file holds the key, the rename has not happened); the next ``phhub-keys`` run removes it.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from phhub_keys.core import safefile
from phhub_keys.core.keyformat import generate_key

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and flock are POSIX")

_STALL_BEFORE_RENAME = textwrap.dedent("""
    import os, sys, time
    from phhub_keys.core import safefile

    def stalled_replace(src, dst):
        print("READY", src, flush=True)
        time.sleep(120)

    os.replace = stalled_replace
    safefile.write_private_text(sys.argv[1], sys.argv[2])
""")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The subprocesses' environment: their own state folder (where the write journal lives)."""
    state = tmp_path / "state"
    return {**os.environ, "XDG_STATE_HOME": str(state), "HOME": str(tmp_path / "home")}


@pytest.fixture
def stalled_writer(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], Path, str]]:
    """A subprocess stopped between writing the temporary file (holding a key) and the rename."""
    secret = generate_key()
    target = tmp_path / "shared" / "mcp-key.csv"
    target.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", _STALL_BEFORE_RENAME, str(target), f"label,{secret}\n"],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY "), line
        yield proc, Path(line.split(" ", 1)[1].strip()), secret
    finally:
        proc.kill()
        proc.wait(timeout=30)


def _run_cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phhub_keys", *argv], capture_output=True, text=True,
                          env=env, timeout=90)


def test_a_write_killed_before_the_rename_is_cleaned_up_by_the_next_run(stalled_writer, env,
                                                                       tmp_path) -> None:
    proc, tmp, secret = stalled_writer
    assert tmp.parent == tmp_path / "shared" and secret in tmp.read_text()
    assert stat.S_IMODE(tmp.stat().st_mode) == 0o600
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert tmp.exists()  # the crash left it: the key sits in the user's folder under a hidden name
    assert not (tmp_path / "shared" / "mcp-key.csv").exists()

    # The next run of any phhub-keys command settles it (here: a review that fails on a missing file).
    result = _run_cli(env, "review", "--summary", str(tmp_path / "missing.csv"))
    assert result.returncode == 1, result.stderr
    assert not tmp.exists()
    assert os.listdir(tmp_path / "shared") == []
    assert "Traceback" not in result.stderr


def test_a_write_still_in_flight_is_left_alone(stalled_writer, env) -> None:
    _proc, tmp, _secret = stalled_writer
    result = _run_cli(env, "review", "--summary", "/nonexistent/x.csv")
    assert result.returncode == 1
    assert tmp.exists()  # its writer holds the journal lock: not a leftover


def test_the_next_write_also_settles_leftovers(stalled_writer, env, tmp_path, monkeypatch) -> None:
    proc, tmp, _secret = stalled_writer
    proc.kill()
    proc.wait(timeout=30)
    monkeypatch.setenv("XDG_STATE_HOME", env["XDG_STATE_HOME"])
    safefile.write_private_text(tmp_path / "other.csv", "x\n")
    assert not tmp.exists()
    assert sorted(os.listdir(safefile.journal_dir())) == []


def test_the_sweep_removes_only_our_own_temporary_files(tmp_path: Path, monkeypatch) -> None:
    """A journal entry naming a file that is not one of our temporaries (or a symlink) removes nothing."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    journal = safefile.journal_dir()
    journal.mkdir(parents=True, mode=0o700)
    victim = tmp_path / "notes.txt"
    victim.write_text("keep me")
    link = tmp_path / f".x{safefile.TMP_MARK}abc"
    link.symlink_to(victim)
    for n, path in enumerate((victim, link)):
        (journal / f"1-{n}.pending").write_text(json.dumps({"tmp": str(path)}))
    assert safefile.sweep_leftovers() == 2
    assert victim.read_text() == "keep me" and link.is_symlink()
    assert os.listdir(journal) == []


def test_a_journal_folder_open_to_others_is_not_used(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    journal = safefile.journal_dir()
    journal.mkdir(parents=True)
    journal.chmod(0o777)
    leftover = tmp_path / f".a.csv{safefile.TMP_MARK}123"
    leftover.write_text("secret")
    (journal / "1-0.pending").write_text(json.dumps({"tmp": str(leftover)}))
    assert safefile.sweep_leftovers() == 0  # anyone could have planted that entry
    target = safefile.write_private_text(tmp_path / "b.csv", "ok\n")
    assert target.read_text() == "ok\n" and leftover.exists()
    assert [p.name for p in journal.iterdir()] == ["1-0.pending"]
