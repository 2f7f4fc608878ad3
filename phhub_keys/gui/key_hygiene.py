"""The Manage MCP Keys window's key-hygiene actions: Rotate…, Change expiry…, "Where is this key
used?" and Activity, in one helper so the window itself only routes to them.

Each opens a non-modal dialog (``rotate_dialog``, ``expiry.ChangeExpiryDialog``,
``usage_map``, ``activity_view``) that does its hub calls and file work on worker
threads. Results come back here and update the window the same way its own calls do:
from the hub's answer (a rotation replaces the old row and inserts the new key, whose
secret goes to the window's shown-once panel).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QWidget

from ..core.models import KeyStatus, McpKey, NewKey, RotatedKey

if TYPE_CHECKING:
    # Each dialog is imported when it is first opened: the rotate dialog pulls in the key check
    # and with it the MCP SDK, far too heavy for the window's cold start (docs/performance.md).
    from .activity_view import ActivityDialog
    from .expiry import ChangeExpiryDialog
    from .manage_window import ManageKeysWindow
    from .rotate_dialog import RotateDialog
    from .usage_map import UsageMapDialog


class KeyHygiene(QObject):
    """Owned by the window; ``scan_kwargs`` (scratch home/env for the usage map) is for tests."""

    def __init__(self, window: ManageKeysWindow) -> None:
        super().__init__(window)
        self.window = window
        self.scan_kwargs: dict[str, Any] = {}
        self.rotate_dialog: RotateDialog | None = None
        self._dialogs: list[QWidget] = []

    # ======================================================================= dialogs
    def _keep(self, dialog: QWidget) -> QWidget:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs = [d for d in self._dialogs if shiboken6.isValid(d)] + [dialog]
        dialog.show()
        return dialog

    def dialogs(self) -> list[QWidget]:
        """The hygiene dialogs still open (tests, screenshots)."""
        self._dialogs = [d for d in self._dialogs if shiboken6.isValid(d) and d.isVisible()]
        return list(self._dialogs)

    def open_rotate(self, key_id: str) -> RotateDialog | None:
        """The Rotate dialog for ``key_id``, its grace choice ready; None when it cannot be rotated."""
        from .rotate_dialog import RotateDialog

        window = self.window
        key = window.model.key_by_id(key_id)
        policy = window.key_policy()
        if key is None:
            return None
        if policy is None:
            window.show_status("This hub does not support rotating keys (it has no key policy).", ok=False)
            return None
        if not key.can_rotate:
            why = ("it was rotated already: rotate its successor" if key.replaced_by
                   else f"it is {key.status.display.lower()}")
            window.show_status(f"“{key.label}” cannot be rotated: {why}.", ok=False)
            return None
        current = self.rotate_dialog
        if current is not None and shiboken6.isValid(current) and current.isVisible():
            if current.key.id == key_id:
                current.raise_()
                current.activateWindow()
                return current
            if current.has_secret():
                window.show_status("Finish (or close) the rotation that is open first.", ok=False)
                current.raise_()
                return None
            current.close()
        if window.has_unsaved_secret() and not window.confirm(
            "Replace the new key?",
            "You have not copied or saved the key shown above. The rotated key will be shown there "
            "instead, and this one hidden for good.\n\nRotate anyway?",
            "Discard Key and Rotate",
        ):
            return None
        client = window.client()
        if client is None:  # a saved list before sign-in: nothing can change yet
            window.authenticationRequired.emit()
            return None
        dialog = RotateDialog(client, key, policy=policy, server_url=window.server_url() or "",
                              parent=window, scan_kwargs=self.scan_kwargs)
        dialog.confirm = window.confirm
        dialog.on_rotated = self._rotated
        dialog.rotateFailed.connect(self._rotate_refused)
        dialog.authenticationRequired.connect(window.authenticationRequired)
        self.rotate_dialog = dialog
        self._keep(dialog)
        dialog.rotate_button.setFocus()
        return dialog

    def _rotated(self, result: RotatedKey) -> None:
        window = self.window
        if result.replaces is not None:
            window.model.upsert_key(result.replaces)
        window.model.upsert_key(result.key)
        window.show_rotated_key(NewKey(result.key, result.secret), result.replaces)

    def _rotate_refused(self, exc: BaseException) -> None:
        """The hub knows better than the list (rotated, deactivated or expired elsewhere): list again,
        so the row shows its state and the successor appears."""
        from ..api.errors import AlreadyRotated, KeyInactive

        if isinstance(exc, AlreadyRotated | KeyInactive):
            self.window.reload_list()

    def open_usage_map(self, key_id: str) -> UsageMapDialog | None:
        from .usage_map import UsageMapDialog

        window = self.window
        key = window.model.key_by_id(key_id)
        if key is None:
            return None
        dialog = UsageMapDialog(key, server_url=window.server_url(), parent=window,
                                scan_kwargs=self.scan_kwargs)
        dialog.rotateRequested.connect(self.open_rotate)
        self._keep(dialog)
        return dialog

    def open_activity(self, key_id: str | None = None) -> ActivityDialog | None:
        """One key's events, or the account's (``key_id`` None), first page loading; None (and a
        sign-in asked for) while a saved list is shown before any sign-in."""
        from .activity_view import ActivityDialog

        window = self.window
        client = window.client()
        if client is None:
            window.authenticationRequired.emit()
            return None
        if key_id is None:
            dialog = ActivityDialog(client.account_events, title="Account activity",
                                    subtitle="Everything that happened to your keys in the last year, newest "
                                             "first, deleted keys included.",
                                    hub_host=window.hub_host(), parent=window, name_for=self._key_name)
        else:
            key = window.model.key_by_id(key_id)
            label = key.label if key else key_id
            dialog = ActivityDialog(lambda **kw: client.key_events(key_id, **kw),
                                    title=f"Activity of “{label}”",
                                    subtitle=f"What happened to “{label}”, newest first.",
                                    hub_host=window.hub_host(), parent=window, name_for=self._key_name)
        self._keep(dialog)
        dialog.start()
        return dialog

    def _key_name(self, key_id: str) -> str:
        """A key as the list shows it (its preview); a deleted key by its id."""
        key = self.window.model.key_by_id(key_id)
        return key.redacted if key is not None else key_id

    def open_change_expiry(self, key_id: str) -> ChangeExpiryDialog | None:
        from .expiry import ChangeExpiryDialog

        window = self.window
        key = window.model.key_by_id(key_id)
        policy = window.key_policy()
        if key is None or policy is None or key.status is KeyStatus.DEACTIVATED:
            if key is not None and key.status is KeyStatus.DEACTIVATED:
                window.show_status("Reactivate the key before changing its expiry.", ok=False)
            return None
        client = window.client()
        if client is None:  # a saved list before sign-in: nothing can change yet
            window.authenticationRequired.emit()
            return None
        dialog = ChangeExpiryDialog(client, key, policy, parent=window)
        dialog.changed.connect(self._expiry_changed)
        dialog.authenticationRequired.connect(window.authenticationRequired)
        self._keep(dialog)
        return dialog

    def _expiry_changed(self, key: McpKey) -> None:
        self.window.model.upsert_key(key)
        self.window.key_changed(key, "Expiry changed for")

    # ======================================================================= window events
    def set_client(self, client: Any) -> None:
        for dialog in self.dialogs():
            setter = getattr(dialog, "set_client", None)
            if callable(setter):
                setter(client)

    def forget_secret(self) -> None:
        """The window dropped the new key's secret: the rotate dialog lets go of it too."""
        dialog = self.rotate_dialog
        if dialog is not None and shiboken6.isValid(dialog):
            dialog.forget_secret()

    def close_all(self) -> None:
        for dialog in self.dialogs():
            dialog.close()
