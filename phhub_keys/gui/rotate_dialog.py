"""**Rotate…**: replace a key with a new one, keep the old one working for a grace period, then
re-wire the AI clients on this computer and prove the new key works.

Three steps in one non-modal dialog (``rotateKeyDialog``):

1. *Grace*: how long the old key keeps working (now, 1 hour, 1 day, 7 days, up to the
   hub's ``max_rotation_grace_days``). Rotate asks the hub (``HubClient.rotate_key``, with
   an Idempotency-Key kept until it succeeds, so a retry after a lost answer returns the
   same new key); 409 (already rotated / not active) and 422 are explained inline.
2. The window shows the new key in its shown-once panel (``rotated`` signal); this dialog
   keeps the secret in memory only for the next step and forgets it on close.
3. *Update clients on this computer*: the usage map (``core.usage_map``) lists the client
   config files holding the old key (checkable) and the ones that read it from an
   environment variable or a prompt (what to change by hand). After a yes, the chosen
   files are re-wired (``core.rewire``: backups, atomic, changed files skipped), then the
   real key check (``api.keycheck``) runs with the new key. Scans, writes and the check
   run on worker threads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QCloseEvent, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..api.errors import AlreadyRotated, AuthenticationError, HubError, HubUnavailable, KeyInactive
from ..core.expiry import SECONDS_PER_DAY, KeyPolicy, duration_text
from ..core.models import McpKey
from ..core.rewire import RewireResult, replace_key
from ..core.usage_map import LiteralUse, UsageReport, scan
from .keys_model import format_created
from .plain_label import PlainLabel, heading_label
from .theme import accents
from .workers import run_in_pool

if TYPE_CHECKING:
    # The key check imports the MCP SDK (~2 s of imports on a loaded machine, measured): only
    # when a check runs, never on the way to the window's first paint (benchmarks: cold start).
    from ..api.keycheck import KeyCheck, KeyCheckResult

GRACE_CHOICES: tuple[tuple[str, int], ...] = (
    ("Now: deactivate the old key at once", 0),
    ("1 hour", 3600),
    ("1 day", SECONDS_PER_DAY),
    ("7 days", 7 * SECONDS_PER_DAY),
)
DEFAULT_GRACE = SECONDS_PER_DAY
PAGE_GRACE, PAGE_UPDATE = 0, 1


def grace_choices(policy: KeyPolicy | None) -> list[tuple[str, int]]:
    """The grace options the hub's policy allows, plus its maximum when no preset is it (a hub
    allowing 3 days offers 3 days, not only 1)."""
    limit = (policy or KeyPolicy()).max_grace_seconds
    out = [(text, s) for text, s in GRACE_CHOICES if s <= limit]
    if limit not in {s for _text, s in out}:
        out.append((f"{duration_text(limit)} (the hub's maximum)", limit))
    return out


class RotateDialog(QDialog):
    """See the module docstring. ``rotated(RotatedKey)`` once the hub made the new key."""

    rotated = Signal(object)
    rotateFailed = Signal(object)  # the exception (the message is shown inline)
    authenticationRequired = Signal()
    scanFinished = Signal(object)  # UsageReport
    rewireFinished = Signal(object)  # list[RewireResult]
    keyCheckFinished = Signal(object)  # KeyCheckResult

    def __init__(self, client: Any, key: McpKey, *, policy: KeyPolicy | None, server_url: str,
                 allow_insecure_http: bool = False, parent: QWidget | None = None,
                 scan_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rotateKeyDialog")
        self.setWindowTitle("Rotate MCP key")
        self.setAccessibleName("Rotate MCP key")
        self._client = client
        self.key = key
        self.policy = policy
        self.server_url = server_url
        self._allow_insecure_http = allow_insecure_http
        self._scan_kwargs = dict(scan_kwargs or {})  # tests: scratch home/env for the usage map
        home = self._scan_kwargs.get("home")
        self._home = Path(home) if home is not None else None
        self._idempotency_key = uuid.uuid4().hex
        self._secret: str | None = None
        self.new_key: McpKey | None = None
        self.old_key: McpKey | None = None
        self.report: UsageReport | None = None
        self.results: list[RewireResult] = []
        self.check_result: KeyCheckResult | None = None
        self._check: KeyCheck | None = None
        self._busy = False
        # Hooks the window (or a test) may replace: the yes/no before writing files.
        self.confirm: Callable[[str, str, str], bool] = lambda _title, _text, _action: False
        # Called with the hub's answer even if this dialog was closed meanwhile, so a new secret
        # always reaches the window's shown-once panel (the window sets it; it outlives the dialog).
        self.on_rotated: Callable[[Any], None] | None = None

        root = QVBoxLayout(self)
        root.setContentsMargins(16, 14, 16, 12)
        root.setSpacing(10)
        self.stack = QStackedWidget(self)
        root.addWidget(self.stack, 1)
        self.stack.addWidget(self._build_grace_page())
        self.stack.addWidget(self._build_update_page())
        self.buttons = QDialogButtonBox(self)
        self.rotate_button = self.buttons.addButton("Rotate", QDialogButtonBox.ButtonRole.AcceptRole)
        self.rotate_button.setObjectName("confirmRotateButton")
        self.rotate_button.setAccessibleName("Rotate the key")
        self.rotate_button.setDefault(True)
        self.rotate_button.clicked.connect(self.rotate)
        self.close_button = self.buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        self.close_button.setObjectName("closeRotateButton")
        self.close_button.clicked.connect(self.close)
        root.addWidget(self.buttons)
        self.resize(600, 360)
        self._restyle()

    # ======================================================================= pages
    def _build_grace_page(self) -> QWidget:
        page = QWidget(self)
        page.setObjectName("rotateGracePage")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(heading_label(f"Rotate “{self.key.label}”", page))
        lifetime = ""
        if self.key.expires_at is not None:
            lifetime = " and the same lifetime length"
        intro = PlainLabel(
            f"A new key replaces {self.key.redacted}. It gets the same label{lifetime}; the new secret is "
            "shown once. Then this app can update the AI clients on this computer that use the old key.",
            page)
        intro.setObjectName("rotateIntro")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addSpacing(4)
        layout.addWidget(PlainLabel("Keep the old key working for:", page))
        self.grace_group = QButtonGroup(page)
        self.grace_buttons: dict[int, QRadioButton] = {}
        choices = grace_choices(self.policy)
        for i, (text, seconds) in enumerate(choices):
            radio = QRadioButton(text, page)
            radio.setObjectName(f"graceChoice{seconds}")
            # A screen reader reads a radio button alone ("1 day, radio button"): say what it is for.
            radio.setAccessibleDescription("How long the old key keeps working after the rotation")
            self.grace_group.addButton(radio, i)
            self.grace_buttons[seconds] = radio
            layout.addWidget(radio)
        default = DEFAULT_GRACE if DEFAULT_GRACE in self.grace_buttons else choices[0][1]
        self.grace_buttons[default].setChecked(True)
        hint = PlainLabel("A grace period gives you time to update every client before the old key stops "
                      "working. Rotate at once if the old key may have leaked.", page)
        hint.setWordWrap(True)
        hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout.addWidget(hint)
        self.error_label = PlainLabel(page)
        self.error_label.setObjectName("rotateError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        return page

    def _build_update_page(self) -> QWidget:
        page = QWidget(self)
        page.setObjectName("updateClientsPage")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.done_label = PlainLabel(page)
        self.done_label.setObjectName("rotateDoneLabel")
        self.done_label.setWordWrap(True)
        layout.addWidget(self.done_label)
        line = QFrame(page)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addWidget(heading_label("Update clients on this computer", page))
        self.scan_label = PlainLabel(page)
        self.scan_label.setObjectName("updateClientsStatus")
        self.scan_label.setWordWrap(True)
        layout.addWidget(self.scan_label)
        self.files_list = QListWidget(page)
        self.files_list.setObjectName("updateClientsFiles")
        self.files_list.setAccessibleName("Config files that hold the old key")
        self.files_list.setWordWrap(True)
        self.files_list.setMinimumHeight(72)
        layout.addWidget(self.files_list, 1)
        self.manual_label = PlainLabel(page)
        self.manual_label.setObjectName("updateClientsManual")
        self.manual_label.setWordWrap(True)
        self.manual_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.manual_label.hide()
        layout.addWidget(self.manual_label)
        self.update_button = QPushButton("Update selected files…", page)
        self.update_button.setObjectName("updateClientsButton")
        self.update_button.setToolTip("Replace the old key with the new one in the checked files (each is "
                                      "backed up first)")
        self.update_button.clicked.connect(self.update_clients)
        self.check_button = QPushButton("Check the new key", page)
        self.check_button.setObjectName("checkNewKeyButton")
        self.check_button.setToolTip("Connect to the MCP server with the new key, as an AI client does")
        self.check_button.clicked.connect(self.check_new_key)
        self.rescan_button = QPushButton("Look again", page)
        self.rescan_button.setObjectName("rescanClientsButton")
        self.rescan_button.setToolTip("Search the config files again (e.g. after a file was skipped because "
                                      "it changed)")
        self.rescan_button.clicked.connect(self.start_scan)
        row = QDialogButtonBox(page)
        row.addButton(self.rescan_button, QDialogButtonBox.ButtonRole.ActionRole)
        row.addButton(self.update_button, QDialogButtonBox.ButtonRole.ActionRole)
        row.addButton(self.check_button, QDialogButtonBox.ButtonRole.ActionRole)
        row.setCenterButtons(False)
        layout.addWidget(row)
        self.check_label = PlainLabel(page)
        self.check_label.setObjectName("newKeyCheckResult")
        self.check_label.setWordWrap(True)
        self.check_label.hide()
        layout.addWidget(self.check_label)
        layout.addStretch(0)  # with no file list shown, the spare height goes below, not between lines
        return page

    # ======================================================================= step 1: rotate
    def grace_seconds(self) -> int:
        for seconds, radio in self.grace_buttons.items():
            if radio.isChecked():
                return seconds
        return 0

    def select_grace(self, seconds: int) -> bool:
        radio = self.grace_buttons.get(seconds)
        if radio is None:
            return False
        radio.setChecked(True)
        return True

    def rotate(self) -> None:
        if self._busy or self.new_key is not None:
            return
        self._set_busy(True, "Rotating…")
        self.error_label.hide()
        job = run_in_pool(self._client.rotate_key, self.key.id, grace_seconds=self.grace_seconds(),
                          idempotency_key=self._idempotency_key, name="rotate")
        if self.on_rotated is not None:
            job.succeeded.connect(self.on_rotated)
        job.succeeded.connect(self._rotated)
        job.failed.connect(self._rotate_failed)

    def set_client(self, client: Any) -> None:
        """A new session (after signing in again): Rotate uses it, with the same Idempotency-Key."""
        self._client = client

    def _rotated(self, result: Any) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self._secret = result.secret
        self.new_key = result.key
        self.old_key = result.replaces
        self.rotated.emit(result)
        until = self.old_key.expires_at if self.old_key is not None else None
        if self.grace_seconds() == 0 or until is None:
            old = f"The old key {self.key.redacted} was deactivated"
        else:
            old = f"The old key {self.key.redacted} keeps working until {format_created(until)}"
        self.done_label.setText(
            f"Rotated. The new key {result.key.redacted} is shown once in the Manage MCP Keys window: "
            f"copy it from there if you use it elsewhere. {old}.")
        self.stack.setCurrentIndex(PAGE_UPDATE)
        self.resize(max(self.width(), 720), max(self.height(), 500))
        self.rotate_button.hide()
        self.close_button.setText("Done")
        self.start_scan()

    def _rotate_failed(self, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        message = exc.message if isinstance(exc, HubError) else f"The rotation failed ({type(exc).__name__})."
        if isinstance(exc, AlreadyRotated | KeyInactive):
            self.rotate_button.setEnabled(False)  # the hub's answer will not change: nothing to retry
        if isinstance(exc, AlreadyRotated):
            message = f"{message} The key list is refreshed to show it."
        elif isinstance(exc, KeyInactive):
            message = (f"{message} A deactivated or expired key cannot be rotated: reactivate or extend it "
                       "first, or create a new key. The key list is refreshed to show its state.")
        elif isinstance(exc, HubUnavailable):
            message = f"{message} Press Rotate again: the hub returns the same new key if it made one."
        elif isinstance(exc, AuthenticationError):
            message = "Your session has ended. Sign in again, then press Rotate."
            self.authenticationRequired.emit()
        self.rotateFailed.emit(exc)
        self.error_label.setText(message)
        self.error_label.show()

    # ======================================================================= step 3: clients
    def _shown(self, path: Path) -> str:
        return display_path(path, self._home)

    def start_scan(self) -> None:
        """Look for the old key in every known client config file (worker thread)."""
        self.results = []
        self.rescan_button.setEnabled(False)
        self.files_list.clear()
        self.manual_label.hide()
        self.update_button.setEnabled(False)
        self.scan_label.setText(f"Looking for {self.key.redacted} in the AI clients' config files…")
        job = run_in_pool(scan, self.key.redacted, server_url=self.server_url, name="usage map",
                          **self._scan_kwargs)
        job.succeeded.connect(self._scanned)
        job.failed.connect(lambda exc: self._scan_failed(exc))

    def _scanned(self, report: UsageReport) -> None:
        if not shiboken6.isValid(self):
            return
        self.report = report
        self.rescan_button.setEnabled(True)
        for use in report.literal:
            where = f" (server {', '.join(use.servers)})" if use.servers else ""
            item = QListWidgetItem(f"{use.file.client_name}: {self._shown(use.file.path)}{where}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setData(Qt.ItemDataRole.UserRole, use)
            item.setToolTip(str(use.real_path))
            self.files_list.addItem(item)
        n = len(report.literal)
        if n:
            self.scan_label.setText(
                f"{n} config file{'s' if n != 1 else ''} on this computer "
                f"hold{'s' if n == 1 else ''} the old key. "
                "Check the ones to update; each file is backed up before it changes.")
        elif report.scanned:
            looked = len(report.scanned)
            self.scan_label.setText(
                f"No client config file on this computer holds {self.key.redacted} "
                f"({looked} config file{'s' if looked != 1 else ''} of known AI clients looked at).")
        else:
            self.scan_label.setText(
                f"No client config file on this computer holds {self.key.redacted}: none of the AI "
                "clients this app knows has a config file here.")
        self.files_list.setVisible(bool(n))
        self.update_button.setEnabled(bool(n) and self._secret is not None)
        manual = [f"• {u.file.client_name} ({self._shown(u.file.path)}, server {u.server}): {u.advice}"
                  for u in report.indirect]
        manual += [f"• {p.file.client_name} ({self._shown(p.file.path)}): not looked at: {p.reason}"
                   for p in report.problems]
        if manual:
            self.manual_label.setText("Change by hand:\n" + "\n".join(manual))
            self.manual_label.show()
        self.scanFinished.emit(report)

    def _scan_failed(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.rescan_button.setEnabled(True)
            self.scan_label.setText(f"Could not look through the config files ({type(exc).__name__}: {exc}).")

    def checked_uses(self) -> list[LiteralUse]:
        out = []
        for i in range(self.files_list.count()):
            item = self.files_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def update_clients(self) -> bool:
        """Ask, then replace the old key in the checked files; then check the new key."""
        uses = self.checked_uses()
        if not uses or self._secret is None or self._busy:
            return False
        names = "\n".join(f"• {u.file.path}" for u in uses)
        if not self.confirm(
            "Update client config files?",
            f"Replace the old key {self.key.redacted} with the new key "
            f"{self.new_key.redacted if self.new_key else ''} in:\n{names}\n\n"
            "Each file is backed up next to itself first. Restart the clients afterwards.",
            "Update Files",
        ):
            return False
        self._set_busy(True)
        job = run_in_pool(replace_key, uses, self.key.redacted, self._secret, name="re-wire")
        job.succeeded.connect(self._rewired)
        job.failed.connect(lambda exc: self._rewire_failed(exc))
        return True

    def _rewired(self, results: list[RewireResult]) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self.results = list(results)
        by_path = {r.use.file.path: r for r in results}
        colours = accents()
        for i in range(self.files_list.count()):
            item = self.files_list.item(i)
            use: LiteralUse = item.data(Qt.ItemDataRole.UserRole)
            result = by_path.get(use.file.path)
            if result is None:
                continue
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            item.setData(Qt.ItemDataRole.CheckStateRole, None)
            where = f"{use.file.client_name}: {self._shown(use.file.path)}"
            if result.ok:
                item.setText(f"✓ Updated {where}")
                item.setToolTip(f"Backup of the old file: {result.backup}")
                item.setForeground(colours.success)
            else:
                item.setText(f"✗ Skipped {where}: {result.reason}")
                item.setForeground(colours.danger)
        done = sum(r.ok for r in results)
        skipped = len(results) - done
        text = f"Updated {done} file{'s' if done != 1 else ''}"
        text += " (each old file is kept next to it as <name>.phhub-backup-<time>)." if done else "."
        if skipped:
            text += f" {skipped} skipped (see why above; nothing in them was changed)."
        text += " Restart those clients so they read the new key."
        self.scan_label.setText(text)
        self.update_button.setEnabled(False)
        self.rewireFinished.emit(self.results)
        self.check_new_key()

    def _rewire_failed(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self._set_busy(False)
            self.scan_label.setText(f"Updating the files failed ({type(exc).__name__}: {exc}).")

    def check_new_key(self) -> bool:
        """The real MCP check (initialize, tools/list, whoami) with the new key, on a worker."""
        if self._secret is None or self._check is not None:
            return False
        from ..api.keycheck import CheckStatus, KeyCheck, KeyCheckResult

        check = KeyCheck(self.server_url, self._secret, allow_insecure_http=self._allow_insecure_http)
        self._check = check
        self.check_button.setEnabled(False)
        self.check_label.setText("Checking the new key against the MCP server…")
        self.check_label.setStyleSheet("")
        self.check_label.show()
        job = run_in_pool(check.run, name="key check")
        job.succeeded.connect(self._checked)
        job.failed.connect(lambda exc: self._checked(KeyCheckResult(
            CheckStatus.SERVER_ERROR, f"The check failed ({type(exc).__name__}).", self.server_url)))
        return True

    def _checked(self, result: KeyCheckResult) -> None:
        if not shiboken6.isValid(self):
            return
        self._check = None
        self.check_result = result
        self.check_button.setEnabled(self._secret is not None)
        colours = accents()
        self.check_label.setStyleSheet(f"color: {(colours.success if result.ok else colours.danger).name()};")
        self.check_label.setText(("New key checked. " if result.ok else "The new key check failed: ")
                                 + result.message)
        self.keyCheckFinished.emit(result)

    # ======================================================================= plumbing
    def _set_busy(self, busy: bool, text: str | None = None) -> None:
        self._busy = busy
        self.rotate_button.setEnabled(not busy)
        self.rotate_button.setText(text if busy and text else "Rotate")
        self.update_button.setEnabled(not busy and bool(self.checked_uses()) and self.results == [])

    def forget_secret(self) -> None:
        """Drop the new secret (the window's shown-once panel was dismissed, or we close)."""
        self._secret = None
        self.update_button.setEnabled(False)
        self.check_button.setEnabled(False)
        if self._check is not None:
            self._check.cancel()

    def has_secret(self) -> bool:
        return self._secret is not None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.forget_secret()
        super().closeEvent(event)

    def _restyle(self) -> None:
        self.error_label.setStyleSheet(f"color: {accents().danger.name()};")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)


def display_path(path: Path, home: Path | None = None) -> str:
    """``~/.cursor/mcp.json`` for a file in the home folder (shorter to read), else the full path.
    ``home`` is the folder the scan took as home (this user's unless told otherwise)."""
    try:
        return "~/" + path.relative_to(home or Path.home()).as_posix()
    except ValueError:
        return str(path)
