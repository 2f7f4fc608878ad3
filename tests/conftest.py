"""Test-wide setup: offscreen Qt, a test keyring, no real user dirs, shared fixtures.

Tests mirror the package (tests/core, tests/api, tests/hub, tests/gui, tests/cli, tests/trust,
tests/tooling); fixture modules and helpers live beside this file (fixtures_*.py are registered
as pytest plugins below, so every test module sees them).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

# Qt must never try to reach a display, and the app must never touch the
# machine's real keyring or the user's real config/data dirs.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
# A fresh folder per run (unless PHHUB_TEST_HOME names one), so two runs at once never share
# config, data or the single-instance socket name derived from them.
if os.environ.get("PHHUB_TEST_HOME"):
    _TEST_HOME = Path(os.environ["PHHUB_TEST_HOME"])
else:
    _TEST_HOME = Path(tempfile.mkdtemp(prefix="phhub-keys-tests-home-"))
    atexit.register(shutil.rmtree, _TEST_HOME, True)
os.environ["PHHUB_TEST_HOME"] = str(_TEST_HOME)  # subprocesses started by tests use the same one
os.environ["XDG_CONFIG_HOME"] = str(_TEST_HOME / "config")
os.environ["XDG_DATA_HOME"] = str(_TEST_HOME / "data")
os.environ["XDG_CACHE_HOME"] = str(_TEST_HOME / "cache")
os.environ["XDG_STATE_HOME"] = str(_TEST_HOME / "state")
os.environ["XDG_RUNTIME_DIR"] = str(_TEST_HOME)  # 0700 (mkdtemp): the single-instance socket's folder

import pytest
from hypothesis import HealthCheck, settings

# Shared fixtures, registered as plugins (tests/ is on the import path: pythonpath in pyproject.toml):
# every test module under tests/ sees them, in whichever area folder it lives.
pytest_plugins = ["fixtures_hub", "fixtures_gui", "fixtures_app"]

# Hypothesis: "ci" drops per-example deadlines and the too-slow health check, which measure the
# machine's load (2 shared cores), not the code; a real failure still fails with its example.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          print_blob=True)
settings.register_profile("dev")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"))


class ModalDialogInTest(AssertionError):
    """A test reached a real modal dialog, which would block the event loop until a human answers."""


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail at once (instead of hanging past pytest-timeout's reach) when code opens a modal box.

    Tests answer questions through the windows' confirm/warn/ask_save_path hooks or by
    monkeypatching the dialog call themselves (which overrides this guard).
    """
    from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

    def refuse(what: str) -> Callable[..., object]:
        def _raise(*args: object, **kwargs: object) -> object:
            texts = [a for a in args if isinstance(a, str)]
            raise ModalDialogInTest(f"modal {what} opened in a test: {texts[:2]}")

        return _raise

    for name in ("exec", "warning", "critical", "question", "information", "about"):
        monkeypatch.setattr(QMessageBox, name, refuse(f"QMessageBox.{name}"))
    for name in ("getSaveFileName", "getOpenFileName", "getOpenFileNames", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, name, refuse(f"QFileDialog.{name}"))
    for name in ("getText", "getItem", "getInt"):
        monkeypatch.setattr(QInputDialog, name, refuse(f"QInputDialog.{name}"))
