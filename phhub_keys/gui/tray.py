"""The system tray icon: one click copies the MCP server URL, the menu reaches everything else.

Why: the server URL is what people paste most often (into Cursor, Claude, …),
so a left click on the icon copies it, instantly and offline, from the URL the
app last saw (cached in the non-secret settings). The menu is rebuilt every
time it opens so the status line and enabled states are never stale.

The tray talks only to the controller (``show_manager``, ``open_create_form``,
``open_review``, ``open_setup``, ``sign_out``, ``sign_out_everywhere``, ``quit``, ``cached_server_url``,
``account_text``, ``signed_in``), so it can be tested without a hub.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from .clipboard import copy_text
from .names import REVIEW_CSV, SET_UP_CLIENT

MESSAGE_MS = 2500


class TrayController(Protocol):
    @property
    def signed_in(self) -> bool: ...

    def show_manager(self) -> None: ...
    def open_create_form(self) -> None: ...
    def open_review(self, paths: Sequence[str] = ()) -> object: ...
    def open_setup(self, secret: str | None = None) -> object: ...
    def sign_out(self) -> None: ...
    def sign_out_everywhere(self) -> None: ...
    def quit(self) -> None: ...
    def cached_server_url(self) -> str | None: ...
    def account_text(self) -> str: ...
    def hub_text(self) -> str: ...


def app_icon() -> QIcon:
    """The app's icon: the packaged app icon when present, else the key glyph."""
    from .resources import icon, resource_path

    for parts in (("icons", "app.svg"), ("app-icon.svg",), ("phhub-keys.svg",), ("icons", "phhub-keys.png")):
        try:
            path = resource_path(*parts)
        except FileNotFoundError:
            break
        if path.is_file():
            return QIcon(str(path))
    return icon("key", "#2e7d32")


class Tray(QObject):
    """Owns the QSystemTrayIcon and its menu. ``messageShown(title, text)`` mirrors every notification
    (also where the platform cannot show one), so tests and the window can follow along."""

    messageShown = Signal(str, str)
    # The user clicked the last notification: its tag (a key id for an expiry reminder, else "").
    messageClicked = Signal(str)

    def __init__(self, controller: TrayController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.icon.setObjectName("trayIcon")
        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.last_message: tuple[str, str] | None = None
        self.last_tag = ""
        self.icon.messageClicked.connect(lambda: self.messageClicked.emit(self.last_tag))
        self.rebuild_menu()

    def __repr__(self) -> str:
        return f"Tray(visible={self.icon.isVisible()})"

    # -- showing ----------------------------------------------------------------

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> bool:
        """Show the icon where a tray exists; False (and nothing shown) where none does."""
        if not self.available():
            return False
        self.rebuild_menu()
        self.icon.show()
        return True

    def hide(self) -> None:
        self.icon.hide()

    def notify(self, title: str, text: str, ms: int = MESSAGE_MS, tag: str = "") -> None:
        """A short tray notification (recorded in ``last_message`` either way); ``tag`` comes back
        with ``messageClicked`` when the user clicks it."""
        self.last_message = (title, text)
        self.last_tag = tag
        if self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, ms)
        self.messageShown.emit(title, text)

    # -- menu -------------------------------------------------------------------

    def _action(self, name: str, text: str, slot, enabled: bool = True) -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self.menu)
        action.setObjectName(name)
        action.setEnabled(enabled)
        if slot is not None:
            action.triggered.connect(slot)
        self.menu.addAction(action)
        return action

    def rebuild_menu(self) -> None:
        """Recreate the actions from the controller's current state (runs on aboutToShow)."""
        self.menu.clear()
        signed_in = bool(self.controller.signed_in)
        copy = self._action("trayCopyServerUrl", "Copy Server URL", self.copy_server_url)
        self.menu.setDefaultAction(copy)
        self.menu.addSeparator()
        self._action("trayOpenManager", "Manage MCP Keys…", self.controller.show_manager)
        self._action("trayNewKey", "New Key…", self.controller.open_create_form)
        self._action("traySetupClient", SET_UP_CLIENT, lambda: self.controller.open_setup(None))
        self._action("trayReviewCsv", REVIEW_CSV, lambda: self.controller.open_review(()))
        self.menu.addSeparator()
        account = self.controller.account_text() if signed_in else ""
        # Which hub this icon belongs to (a second instance for another hub has its own icon).
        hub = self.controller.hub_text()
        status = self._action("trayStatus", account or ("Not signed in" + (f" to {hub}" if hub else "")),
                              None, enabled=False)
        status.setToolTip("The account and hub this app is signed in to" if account
                          else "The hub this app is for")
        self._action("traySignOut", "Sign Out", self.controller.sign_out, enabled=signed_in)
        self._action("traySignOutEverywhere", "Sign Out Everywhere…", self.controller.sign_out_everywhere,
                     enabled=signed_in)
        self.menu.addSeparator()
        self._action("trayQuit", "Quit", self.controller.quit)
        if account:
            self.icon.setToolTip(f"MCP Keys — {account}")
        else:
            self.icon.setToolTip(f"MCP Keys — {hub}, not signed in" if hub else "MCP Keys — not signed in")
        self.menu.setTitle(f"MCP Keys — {hub}" if hub else "MCP Keys")

    def action(self, name: str) -> QAction:
        """The menu action with objectName ``name`` (KeyError when absent)."""
        for action in self.menu.actions():
            if action.objectName() == name:
                return action
        raise KeyError(name)

    def action_names(self) -> list[str]:
        return [a.objectName() for a in self.menu.actions() if not a.isSeparator()]

    # -- behaviour ----------------------------------------------------------------

    def copy_server_url(self) -> bool:
        """Copy the cached server URL (no network); True when something was copied."""
        url = self.controller.cached_server_url()
        if not url:
            self.notify("No server URL yet",
                        "Open Manage MCP Keys once while signed in; the app remembers the URL after that.")
            return False
        copy_text(url)
        self.notify("Server URL copied", url)
        return True

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.copy_server_url()
        elif reason == QSystemTrayIcon.ActivationReason.DoubleClick:
            self.controller.show_manager()
