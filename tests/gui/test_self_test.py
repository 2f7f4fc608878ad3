"""``phhub-keys --local --self-test`` as CI and packaging run it: a subprocess, no display, exit code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures_hub import find_plaintext_secrets

pytestmark = pytest.mark.slow

STEPS = ["start local hub", "open window", "create key", "rename key", "deactivate key", "delete key",
         "shut down"]


def headless_env(tmp_path: Path) -> dict[str, str]:
    """No display, no platform chosen, no keyring, and user dirs inside the test's temp dir."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update({
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    })
    return env


def run_app(args: list[str], env: dict[str, str], code: str | None = None, timeout: float = 120):
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "phhub_keys", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def test_self_test_passes_headless_and_prints_no_secret(tmp_path: Path):
    result = run_app(["--local", "--self-test"], headless_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for number, step in enumerate(STEPS, 1):
        assert any(line.startswith(f"self-test: [{number}/{len(STEPS)}] {step}: ok") for line in lines), lines
    assert lines[-1] == "self-test: all steps passed"
    assert re.search(r"created phk_\w{4}\.\.\.\w{6}", result.stdout)  # the redacted preview only
    output = (result.stdout + result.stderr).encode()
    assert find_plaintext_secrets(output) == []
    assert "phs_" not in result.stdout + result.stderr
    assert result.stderr.strip() == "", result.stderr  # no Qt noise, no tracebacks
    # A throw-away hub: the user's own --local data is never touched.
    assert not (tmp_path / "data" / "phhub-keys" / "local-hub.sqlite3").exists()


def test_self_test_fails_non_zero_naming_the_failing_step(tmp_path: Path):
    code = (
        "import sys\n"
        "from phhub_keys.gui.manage_window import ManageKeysWindow\n"
        "ManageKeysWindow.rename_key = lambda self, key_id, label: False  # a broken rename\n"
        "from phhub_keys.gui.app import main\n"
        "sys.exit(main(['--local', '--self-test']))\n"
    )
    result = run_app([], headless_env(tmp_path), code=code)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "self-test: [4/7] rename key: FAILED: the window refused the rename" in result.stdout
    assert "all steps passed" not in result.stdout
    assert "[5/7]" not in result.stdout


def test_self_test_fails_when_the_hub_never_answers_the_change(tmp_path: Path):
    # The window says it deactivated, but the hub never changes: the step must time out, not pass.
    code = (
        "import sys\n"
        "from phhub_keys.gui import self_test\n"
        "self_test.STEP_TIMEOUT = 3.0\n"
        "from phhub_keys.gui.manage_window import ManageKeysWindow\n"
        "ManageKeysWindow._deactivate = lambda self, key_id: None\n"
        "from phhub_keys.gui.app import main\n"
        "sys.exit(main(['--local', '--self-test']))\n"
    )
    result = run_app([], headless_env(tmp_path), code=code)
    assert result.returncode == 1, result.stdout + result.stderr
    expected = "[5/7] deactivate key: FAILED: timed out waiting for the hub to deactivate the key"
    assert expected in result.stdout
