"""Copying a secret so clipboard managers leave it alone, and clearing it again later.

The mime data carries the text plus the hints password managers use:
- KDE Klipper / many Linux managers: ``x-kde-passwordManagerHint`` = ``secret``;
- Windows: the ``ExcludeClipboardContentFromMonitorProcessing`` format, and
  ``CanIncludeInClipboardHistory`` / ``CanUploadToCloudClipboard`` as DWORD 0
  (Qt's Windows backend registers a named clipboard format for a mime type of
  the form ``application/x-qt-windows-mime;value="<name>"``);
- macOS (nspasteboard.org convention): ``org.nspasteboard.ConcealedType``. Qt's
  macOS backend maps unknown mime types to its own UTI namespace, so this marker
  reaches native clipboard managers only through a platform converter; it is
  added so that a converter (or a future Qt) can pick it up.

The timed clear keeps only a SHA-256 digest of the secret, not the secret, and
clears the clipboard only if it still holds that exact text.
"""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QMimeData, QObject, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

KDE_HINT = "x-kde-passwordManagerHint"
WIN_EXCLUDE = 'application/x-qt-windows-mime;value="ExcludeClipboardContentFromMonitorProcessing"'
WIN_HISTORY = 'application/x-qt-windows-mime;value="CanIncludeInClipboardHistory"'
WIN_CLOUD = 'application/x-qt-windows-mime;value="CanUploadToCloudClipboard"'
MAC_CONCEALED = "org.nspasteboard.ConcealedType"
DEFAULT_CLEAR_MS = 30_000
_DWORD_ZERO = b"\x00\x00\x00\x00"


def secret_mime_data(text: str) -> QMimeData:
    """Mime data for ``text`` marked as a secret for clipboard managers and history."""
    data = QMimeData()
    data.setText(text)
    data.setData(KDE_HINT, b"secret")
    data.setData(WIN_EXCLUDE, _DWORD_ZERO)
    data.setData(WIN_HISTORY, _DWORD_ZERO)
    data.setData(WIN_CLOUD, _DWORD_ZERO)
    data.setData(MAC_CONCEALED, b"")
    return data


def copy_text(text: str) -> None:
    """Put ordinary (non-secret) text on the clipboard."""
    QGuiApplication.clipboard().setText(text, QClipboard.Mode.Clipboard)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class SecretClipboard(QObject):
    """Copies secrets with hints and clears them after ``clear_after_ms`` if still there.

    ``cleared`` fires when a timed clear actually emptied the clipboard.
    """

    cleared = Signal()

    def __init__(self, clear_after_ms: int = DEFAULT_CLEAR_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clear_after_ms = clear_after_ms
        self._digest: bytes | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_if_ours)

    def copy(self, secret: str) -> None:
        """Copy ``secret``; (re)start the clear timer."""
        QGuiApplication.clipboard().setMimeData(secret_mime_data(secret), QClipboard.Mode.Clipboard)
        self._digest = _digest(secret)
        if self.clear_after_ms > 0:
            self._timer.start(self.clear_after_ms)

    def holds_ours(self) -> bool:
        """True while the clipboard still holds the secret we copied."""
        if self._digest is None:
            return False
        return _digest(QGuiApplication.clipboard().text(QClipboard.Mode.Clipboard)) == self._digest

    def clear_if_ours(self) -> bool:
        """Empty the clipboard if it still holds our secret (never someone else's copy)."""
        self._timer.stop()
        ours = self.holds_ours()
        self._digest = None
        if ours:
            QGuiApplication.clipboard().clear(QClipboard.Mode.Clipboard)
            self.cleared.emit()
        return ours

    @property
    def clear_pending(self) -> bool:
        return self._timer.isActive()

    def remaining_ms(self) -> int:
        return max(0, self._timer.remainingTime()) if self._timer.isActive() else 0
