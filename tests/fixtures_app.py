"""Fixtures shared by the app/controller, tray and self-test tests (imported by those modules).

- ``app_settings``: AppSettings in this test's temp dir (never the user's settings).
- ``mem_credentials``: a CredentialStore over an in-memory keyring.
- ``make_controller``: builds an AppController whose questions are answered by a recorder and
  whose "quit the app" is recorded instead of ending pytest-qt's event loop; cleaned up after
  (``close_controller``, also for tests that build their own controller).
- ``local_hub``: a LocalHub (the ``--local`` hub) on a temp database and a free port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from phhub_keys.api.credentials import CredentialStore, MemoryKeyring
from phhub_keys.gui.settings import LOCAL, REMOTE, AppSettings

__all__ = ["AppRecorder", "app_settings", "close_controller", "local_hub", "make_controller",
           "mem_credentials"]


@dataclass
class AppRecorder:
    """What the controller and its windows asked, and how often it tried to quit."""

    answers: list[bool] = field(default_factory=list)
    questions: list[tuple[str, str]] = field(default_factory=list)
    quits: int = 0

    def confirm(self, title: str, text: str, action: str) -> bool:
        self.questions.append((title, text))
        return self.answers.pop(0) if self.answers else True

    def quit_app(self) -> None:
        self.quits += 1


@pytest.fixture
def app_settings(tmp_path: Path) -> AppSettings:
    return AppSettings(tmp_path / "config" / "settings.ini", REMOTE)


@pytest.fixture
def mem_credentials() -> CredentialStore:
    return CredentialStore(MemoryKeyring())


@pytest.fixture
def local_hub(tmp_path: Path) -> Iterator[Any]:
    from phhub_keys.hub.local import LocalHub

    hub = LocalHub(tmp_path / "local-hub.sqlite3", port=0).start()
    yield hub
    hub.stop()


@pytest.fixture
def make_controller(qtbot: Any, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``make_controller(settings=None, credentials=None, use_tray=False, **kw) -> AppController``.

    The controller gets ``.rec`` (an AppRecorder); every ManageKeysWindow it creates
    answers its confirmations through the same recorder.
    """
    from phhub_keys.gui import workers
    from phhub_keys.gui.controller import AppController

    made: list[AppController] = []

    def make(settings: AppSettings | None = None, credentials: CredentialStore | None = None,
             use_tray: bool | None = False, **kwargs: Any) -> AppController:
        profile = LOCAL if kwargs.get("local") is not None else REMOTE
        settings = settings or AppSettings(tmp_path / f"settings-{len(made)}.ini", profile)
        controller = AppController(settings, credentials=credentials or CredentialStore(MemoryKeyring()),
                                   use_tray=use_tray, **kwargs)
        rec = AppRecorder()
        controller.rec = rec  # type: ignore[attr-defined]
        controller.confirm = rec.confirm
        controller.quit_app = rec.quit_app

        def adopt(window: Any) -> None:
            window.confirm = rec.confirm  # the controller closes and deletes its windows itself

        controller.windowCreated.connect(adopt)
        made.append(controller)
        return controller

    yield make
    for controller in made:
        close_controller(controller)
    workers.wait_idle()


def close_controller(controller: Any) -> None:
    """Reject an open sign-in dialog, hide the tray icon and shut the controller down."""
    if controller.sign_in_dialog is not None:
        controller.sign_in_dialog.reject()
    if controller.tray is not None:
        controller.tray.hide()
    controller.shutdown()
