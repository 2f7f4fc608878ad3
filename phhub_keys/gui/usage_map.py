""""Where is this key used?" (``usageMapDialog``): the client configs on this computer that hold
the key (``core.usage_map``, scanned on a worker thread), the ones for this hub that read
a key from an environment variable or a prompt, and what the hub saw: the last MCP client
and the last addresses the key was used from.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPushButton, QVBoxLayout, QWidget

from ..core.models import McpKey
from ..core.usage_map import UsageReport, scan
from .keys_model import format_absolute
from .plain_label import PlainLabel, heading_label
from .workers import run_in_pool


def hub_usage_lines(key: McpKey) -> list[str]:
    """What the hub knows about the key's use, as lines (newest address first)."""
    if key.last_used_at is None:
        return ["The hub has not seen this key used by an MCP client yet."]
    lines = [f"Last used {format_absolute(key.last_used_at)}"
             + (f" by {key.last_used_client}" if key.last_used_client else "")]
    addresses = list(key.last_used_ips or ())
    if addresses:
        lines.append("From (newest first):")
        lines += [f"  {a.ip}  (last {format_absolute(a.at)})" for a in addresses]
    elif key.last_used_ip:
        lines.append(f"From {key.last_used_ip}")
    return lines


class UsageMapDialog(QDialog):
    """Non-modal; ``scanFinished(UsageReport)`` when the files were looked through."""

    scanFinished = Signal(object)
    rotateRequested = Signal(str)  # key id

    def __init__(self, key: McpKey, *, server_url: str | None, parent: QWidget | None = None,
                 scan_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usageMapDialog")
        self.setWindowTitle("Where is this key used?")
        self.setAccessibleName("Where is this key used?")
        self.key = key
        self.server_url = server_url
        self._scan_kwargs = dict(scan_kwargs or {})
        self.report: UsageReport | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(8)
        layout.addWidget(heading_label(f"“{key.label}” ({key.redacted})", self))
        layout.addWidget(heading_label("On this computer", self))
        self.files_label = PlainLabel("Looking through the AI clients' config files…", self)
        self.files_label.setObjectName("usageMapFiles")
        self.files_label.setWordWrap(True)
        self.files_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.files_label)
        layout.addWidget(heading_label("Seen by the hub", self))
        self.hub_label = PlainLabel("\n".join(hub_usage_lines(key)), self)
        self.hub_label.setObjectName("usageMapHub")
        self.hub_label.setWordWrap(True)
        self.hub_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.hub_label)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        self.rescan_button = QPushButton("Look again", self)
        self.rescan_button.setObjectName("usageMapRescan")
        self.rescan_button.clicked.connect(self.start_scan)
        buttons.addButton(self.rescan_button, QDialogButtonBox.ButtonRole.ActionRole)
        if key.can_rotate:
            rotate = QPushButton("Rotate…", self)
            rotate.setObjectName("usageMapRotate")
            rotate.clicked.connect(lambda: self._ask_rotate(key.id))
            buttons.addButton(rotate, QDialogButtonBox.ButtonRole.ActionRole)
        layout.addWidget(buttons)
        self.resize(640, 360)
        self.start_scan()

    def _ask_rotate(self, key_id: str) -> None:
        self.rotateRequested.emit(key_id)
        self.close()

    def start_scan(self) -> None:
        self.rescan_button.setEnabled(False)
        job = run_in_pool(scan, self.key.redacted, server_url=self.server_url, name="usage map",
                          **self._scan_kwargs)
        job.succeeded.connect(self._scanned)
        job.failed.connect(self._failed)

    def _scanned(self, report: UsageReport) -> None:
        if not shiboken6.isValid(self):
            return
        self.report = report
        self.rescan_button.setEnabled(True)
        self.files_label.setText("\n".join(f"• {line}" for line in report.summary_lines()))
        self.scanFinished.emit(report)

    def _failed(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.rescan_button.setEnabled(True)
            self.files_label.setText(
                f"Could not look through the config files ({type(exc).__name__}: {exc}).")
