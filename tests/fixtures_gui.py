"""Fixtures for GUI tests (imported by conftest.py next to fixtures_hub).

- ``memory_keyring``: an in-memory keyring backend for this test (the real one is never touched).
- ``signed_in_client``: a HubClient signed in as a fresh user on the session ``hub``.
- ``window_recorder``: a factory that replaces a window's confirm/open_url/ask_save_path/warn with
  recorders (``Recorder``), so tests see every question the window asks, and nothing pops up.
- ``probe``: a second HubClient on ``signed_in_client``'s session, for a test's own checks.
- ``manage_window``: a shown ManageKeysWindow over ``signed_in_client``, its first list loaded,
  with a recorder attached as ``window.rec``; ``rec.answers`` says what confirm returns (default
  True), ``rec.save_path`` what the file dialog returns.

Helpers (import them: ``from fixtures_gui import ...``): ``open_manage_window`` /
``close_manage_window``, ``refresh_until`` (reload until N keys show), ``scratch_home`` (the
client-config scanner's Linux home in tmp_path), ``shown_review_window``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import keyring
import pytest

from phhub_keys.api.client import HubClient
from phhub_keys.hub.embedded import EmbeddedHub

__all__ = ["Recorder", "close_manage_window", "manage_window", "memory_keyring", "open_manage_window",
           "probe", "refresh_until", "scratch_home", "shown_review_window", "signed_in_client",
           "window_recorder"]


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    """An in-memory keyring for this test; the previous backend comes back afterwards."""
    from phhub_keys.api.credentials import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def signed_in_client(hub: EmbeddedHub, make_user: Callable[..., Any]) -> Iterator[HubClient]:
    creds = make_user(name="Window Tester")
    client = HubClient(hub.url, timeout=10.0)
    client.login(creds.email, creds.password)
    client.creds = creds  # type: ignore[attr-defined]
    yield client
    client.close()


@pytest.fixture
def probe(hub: EmbeddedHub, signed_in_client: HubClient) -> Iterator[HubClient]:
    """A second client with the same session, for the test's own checks (not the window's calls)."""
    client = HubClient(hub.url, token=signed_in_client.token)
    yield client
    client.close()


@dataclass
class Recorder:
    """What a window asked: confirmations, URLs opened, save dialogs, warnings."""

    answers: list[bool] = field(default_factory=list)  # consumed in order; default True when empty
    save_path: str | None = None
    confirms: list[tuple[str, str]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    save_prompts: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # what each question's confirming button said

    def confirm(self, title: str, text: str, action: str) -> bool:
        self.confirms.append((title, text))
        self.actions.append(action)
        return self.answers.pop(0) if self.answers else True

    def open_url(self, url: Any) -> bool:
        self.urls.append(url.toString() if hasattr(url, "toString") else str(url))
        return True

    def ask_save_path(self, caption: str, suggested: str) -> str | None:
        self.save_prompts.append((caption, suggested))
        return self.save_path

    def warn(self, title: str, text: str) -> None:
        self.warnings.append((title, text))


@pytest.fixture
def window_recorder() -> Callable[[Any], Recorder]:
    def attach(window: Any) -> Recorder:
        rec = Recorder()
        window.confirm = rec.confirm
        window.open_url = rec.open_url
        window.ask_save_path = rec.ask_save_path
        window.warn = rec.warn
        window.rec = rec
        return rec

    return attach


@pytest.fixture
def manage_window(qtbot: Any, signed_in_client: HubClient, window_recorder: Callable[[Any], Recorder],
                  tmp_path: Path) -> Iterator[Any]:
    window = open_manage_window(qtbot, signed_in_client, window_recorder,
                                signed_in_client.creds.email)  # type: ignore[attr-defined]
    yield window
    close_manage_window(window)


def open_manage_window(qtbot: Any, client: HubClient, recorder: Callable[[Any], Recorder],
                       account_text: str = "", timeout_ms: int = 10_000) -> Any:
    """A shown ManageKeysWindow over ``client`` with its questions recorded, its first list loaded."""
    from phhub_keys.gui.manage_window import ManageKeysWindow

    window = ManageKeysWindow(client, account_text=account_text)
    recorder(window)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=timeout_ms):
        window.show()
    return window


def close_manage_window(window: Any) -> None:
    """Drop any shown-once secret and wait for the window's hub calls to end."""
    from phhub_keys.gui import workers

    window.discard_secret()
    workers.wait_idle()


def refresh_until(qtbot: Any, window: Any, count: int, timeout_ms: int = 10_000) -> None:
    """Reload the window's list and wait until it shows ``count`` keys and has no hub call running."""
    window.refresh()
    qtbot.waitUntil(lambda: window.key_count() == count and not window.is_busy(), timeout=timeout_ms)


def scratch_home(tmp_path: Path) -> dict[str, Any]:
    """Keyword arguments that point the client-config scanner (config_path, usage map) at a Linux
    home in ``tmp_path``, never at the real one."""
    return {"home": tmp_path, "env": {"XDG_CONFIG_HOME": str(tmp_path / ".config")}, "platform": "linux"}


def shown_review_window(qtbot: Any, now: datetime) -> Any:
    """A shown, exposed CsvReviewWindow whose clock says ``now`` (flags and ages are computed from it)."""
    from phhub_keys.gui.review_window import CsvReviewWindow

    window = CsvReviewWindow(now=lambda: now)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window
