"""Set up & integrate: per-client config snippets, "Add to <client>", and "Test a key".

The snippets come from ``core.client_setup`` (where each shape's documentation
source is noted) and "Add to" goes through ``core.config_install`` (backup,
atomic write, refuses unparseable files). The key check runs the official MCP
client on a worker thread (``gui.workers.run_in_pool``), never on the GUI
thread, and can be cancelled.

Secrets: a fresh key handed in by the caller stays in memory only, is embedded
in snippets only when the user ticks "Include my key", is copied with the
clipboard's password-manager hints, and is dropped from every widget when the
dialog closes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..api.keycheck import CheckStatus, KeyCheck, KeyCheckResult
from ..core import client_setup, config_install
from .ask import confirm_for
from .clipboard import SecretClipboard, copy_text
from .theme import accents

_TAB_NAMES = {"openai": "OpenAI API"}
_WHERE = {
    "claude-code": "Run this in a terminal (Claude Code's own command adds the server):",
    "openai": "Add this tool to the request's tools list (Responses API / Agent Builder):",
}




def _home_relative(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


class _ClientTab(QWidget):
    """One client's snippet, its buttons and the result of the last "Add to"."""

    def __init__(self, info: client_setup.ClientInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        cid = info.id
        self.setObjectName(f"setupTab_{cid}")
        layout = QVBoxLayout(self)
        self.where = QLabel(self)
        self.where.setObjectName(f"where_{cid}")
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.where)

        self.text = QPlainTextEdit(self)
        self.text.setObjectName(f"snippet_{cid}")
        self.text.setAccessibleName(f"{info.name} configuration")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setMinimumHeight(150)
        layout.addWidget(self.text, 1)

        self.notes = QLabel(self)
        self.notes.setObjectName(f"notes_{cid}")
        self.notes.setWordWrap(True)
        self.notes.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.notes)

        row = QHBoxLayout()
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName(f"copySnippet_{cid}")
        self.copy_button.setAccessibleName(f"Copy the {info.name} configuration")
        row.addWidget(self.copy_button)
        self.add_button: QPushButton | None = None
        if info.file_based:
            self.add_button = QPushButton(f"Add to {info.name}", self)
            self.add_button.setObjectName(f"addTo_{cid}")
            self.add_button.setAccessibleName(f"Add this server to {info.name}'s configuration file")
            row.addWidget(self.add_button)
        self.link_button: QPushButton | None = None
        if cid == "cursor":
            self.link_button = QPushButton("Install in Cursor", self)
            self.link_button.setObjectName("cursorInstallLink")
            self.link_button.setAccessibleName("Open Cursor's one-click install link")
            self.link_button.setToolTip("Opens Cursor, which asks before adding the server. "
                                        "The link never contains your key.")
            row.addWidget(self.link_button)
        row.addStretch(1)
        self.docs = QLabel(f'<a href="{info.docs_url}">{info.name} documentation</a>', self)
        self.docs.setObjectName(f"docs_{cid}")
        self.docs.setOpenExternalLinks(True)
        row.addWidget(self.docs)
        layout.addLayout(row)

        self.status = QLabel(self)
        self.status.setObjectName(f"installStatus_{cid}")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.hide()
        layout.addWidget(self.status)
        self.snippet: client_setup.Snippet | None = None

    def set_status(self, text: str, *, error: bool = False) -> None:
        colour = accents(self.palette()).danger if error else accents(self.palette()).success
        self.status.setStyleSheet(f"color: {colour.name()};")
        self.status.setText(text)
        self.status.setVisible(bool(text))


class SetupDialog(QDialog):
    """Set up & integrate: a tab per AI client, "Add to <client>", and "Test a key"."""

    keyCheckFinished = Signal(object)  # KeyCheckResult
    installed = Signal(str, object)  # client id, InstallResult

    def __init__(self, server_url: str, secret: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SetupDialog")
        self.setWindowTitle("Set up & integrate")
        self.setAccessibleName("Set up and integrate an AI client")
        self.resize(760, 680)
        self._secret = secret or None
        self._check: KeyCheck | None = None
        self._job: Any = None
        self._clipboard = SecretClipboard(parent=self)
        self._config_paths: dict[str, Path] = {}
        # Replaceable in tests (like the manager window's hooks): nothing pops up.
        self.confirm: Callable[[str, str], bool] = confirm_for(self, QMessageBox.Icon.Question)
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl

        layout = QVBoxLayout(self)
        intro = QLabel(
            "Connect an AI client to your hub: pick the client, copy its configuration or let this app "
            "add it to the client's file, then test your key.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        self.server_url_field = QLineEdit(server_url or "", self)
        self.server_url_field.setObjectName("setupServerUrl")
        self.server_url_field.setAccessibleName("MCP Server URL")
        self.server_url_field.setReadOnly(bool(server_url))
        self.server_url_field.setPlaceholderText("https://hub.example.org/mcp (sign in to fill this in)")
        form.addRow("Server URL:", self.server_url_field)
        self.name_input = QLineEdit(client_setup.DEFAULT_SERVER_NAME, self)
        self.name_input.setObjectName("serverNameInput")
        self.name_input.setAccessibleName("Server name in the client's configuration")
        self.name_input.setMaxLength(64)
        form.addRow("Server name:", self.name_input)
        layout.addLayout(form)

        self.embed_check = QCheckBox("Include my new key in the snippets (otherwise they read it from an "
                                     "environment variable or ask for it)", self)
        self.embed_check.setObjectName("embedKeyCheck")
        self.embed_check.setAccessibleName("Include the new key in the configuration")
        self.embed_check.setVisible(self._secret is not None)
        self.embed_check.setEnabled(self._secret is not None)
        layout.addWidget(self.embed_check)

        self.problem = QLabel(self)
        self.problem.setObjectName("setupProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {accents(self.palette()).danger.name()};")
        self.problem.hide()
        layout.addWidget(self.problem)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("setupTabs")
        self.tabs.setAccessibleName("AI clients")
        self.client_tabs: dict[str, _ClientTab] = {}
        for info in client_setup.CLIENTS.values():
            tab = _ClientTab(info, self.tabs)
            tab.copy_button.clicked.connect(lambda _=False, c=info.id: self.copy_snippet(c))
            if tab.add_button is not None:
                tab.add_button.clicked.connect(lambda _=False, c=info.id: self.add_to_client(c))
            if tab.link_button is not None:
                tab.link_button.clicked.connect(self.open_cursor_link)
            index = self.tabs.addTab(tab, _TAB_NAMES.get(info.id, info.name))
            self.tabs.setTabToolTip(index, info.name)
            self.client_tabs[info.id] = tab
        layout.addWidget(self.tabs, 1)

        layout.addWidget(self._build_test_box())

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setObjectName("setupButtons")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.server_url_field.textChanged.connect(self.refresh_snippets)
        self.name_input.textChanged.connect(self.refresh_snippets)
        self.embed_check.toggled.connect(self.refresh_snippets)
        self.refresh_snippets()

    # ------------------------------------------------------------------ test a key

    def _build_test_box(self) -> QGroupBox:
        box = QGroupBox("Test a key", self)
        box.setObjectName("testKeyGroup")
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        outer = QVBoxLayout(box)
        row = QHBoxLayout()
        self.key_input = QLineEdit(self._secret or "", box)
        self.key_input.setObjectName("testKeyInput")
        self.key_input.setAccessibleName("MCP key to test")
        self.key_input.setPlaceholderText("Paste a key (phk_…)")
        self.key_input.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_input.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.key_input.returnPressed.connect(self.start_key_check)
        row.addWidget(self.key_input, 1)
        self.show_key = QToolButton(box)
        self.show_key.setObjectName("showTestKey")
        self.show_key.setText("Show")
        self.show_key.setCheckable(True)
        self.show_key.setAccessibleName("Show the key")
        normal, hidden = QLineEdit.EchoMode.Normal, QLineEdit.EchoMode.Password
        self.show_key.toggled.connect(lambda on: self.key_input.setEchoMode(normal if on else hidden))
        row.addWidget(self.show_key)
        self.test_button = QPushButton("Test", box)
        self.test_button.setObjectName("testKeyButton")
        self.test_button.setAccessibleName("Test the key against the MCP server")
        self.test_button.clicked.connect(self.start_key_check)
        row.addWidget(self.test_button)
        self.cancel_button = QPushButton("Cancel", box)
        self.cancel_button.setObjectName("cancelTestButton")
        self.cancel_button.setAccessibleName("Cancel the key test")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_key_check)
        row.addWidget(self.cancel_button)
        outer.addLayout(row)

        self.progress = QProgressBar(box)
        self.progress.setObjectName("testKeyProgress")
        self.progress.setRange(0, 0)  # busy indicator
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        outer.addWidget(self.progress)

        self.result_label = QLabel("Checks the key's checksum, then connects to the Server URL like an AI "
                                   "client would (initialize, list tools, whoami).", box)
        self.result_label.setObjectName("testKeyResult")
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.result_label)
        return box

    @property
    def checking(self) -> bool:
        return self._check is not None

    def start_key_check(self) -> None:
        """Check the key in the field: offline checks at once, the MCP exchange on a worker."""
        if self._check is not None:
            return
        check = KeyCheck(self.server_url(), self.key_input.text())
        early = check.precheck()
        if early is not None:  # a typo or a bad URL: no thread, no network
            self._show_result(early)
            return
        from .workers import run_in_pool

        self._check = check
        self.test_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.show()
        self._set_result_text(f"Connecting to {check.server_url}…", None)
        job = run_in_pool(check.run, name="key check")
        job.succeeded.connect(lambda result, c=check: self._check_done(c, result))
        job.failed.connect(lambda exc, c=check: self._check_failed(c, exc))
        self._job = job

    def cancel_key_check(self) -> None:
        if self._check is not None:
            self._check.cancel()
            self.cancel_button.setEnabled(False)
            self._set_result_text("Cancelling…", None)

    def _check_done(self, check: KeyCheck, result: KeyCheckResult) -> None:
        if check is not self._check:
            return
        self._finish_check()
        self._show_result(result)

    def _check_failed(self, check: KeyCheck, exc: BaseException) -> None:
        if check is not self._check:
            return
        self._finish_check()
        self._show_result(KeyCheckResult(CheckStatus.SERVER_ERROR, f"The check failed: {type(exc).__name__}.",
                                         check.server_url))

    def _finish_check(self) -> None:
        self._check = None
        self._job = None
        self.test_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.hide()

    def _show_result(self, result: KeyCheckResult) -> None:
        cancelled = result.status is CheckStatus.CANCELLED
        prefix = "" if cancelled else ("✓ " if result.ok else "✗ ")
        self._set_result_text(prefix + result.message, None if cancelled else result.ok)
        self.last_result = result
        self.keyCheckFinished.emit(result)

    def _set_result_text(self, text: str, ok: bool | None) -> None:
        if ok is None:
            self.result_label.setStyleSheet("")
        else:
            colour = accents(self.palette()).success if ok else accents(self.palette()).danger
            self.result_label.setStyleSheet(f"color: {colour.name()};")
        self.result_label.setText(text)

    # ------------------------------------------------------------------ snippets

    def server_url(self) -> str:
        return self.server_url_field.text().strip()

    def set_config_path(self, client_id: str, path: Path) -> None:
        """Use ``path`` instead of the client's default config file (tests, custom setups)."""
        self._config_paths[client_id] = Path(path)
        self.refresh_snippets()

    def config_path(self, client_id: str) -> Path:
        return self._config_paths.get(client_id) or config_install.config_path(client_id)

    def embeds_secret(self) -> bool:
        return self._secret is not None and self.embed_check.isChecked()

    def refresh_snippets(self) -> None:
        """Regenerate every tab from the Server URL, the server name and the embed choice."""
        url, name = self.server_url(), self.name_input.text().strip()
        secret = self._secret if self.embeds_secret() else None
        problem = None
        if not url:
            problem = "No Server URL yet: sign in to the hub (or paste the Server URL above)."
        for cid, tab in self.client_tabs.items():
            snippet = None
            if problem is None:
                try:
                    snippet = client_setup.generate(cid, url, name=name, secret=secret)
                except client_setup.SetupError as exc:
                    problem = str(exc)
            tab.snippet = snippet
            tab.text.setPlainText(snippet.text if snippet else "")
            tab.notes.setText("\n".join(snippet.notes) if snippet else "")
            tab.copy_button.setEnabled(snippet is not None)
            if tab.add_button is not None:
                tab.add_button.setEnabled(snippet is not None)
            if tab.link_button is not None:
                tab.link_button.setEnabled(snippet is not None)
            if cid in _WHERE:
                tab.where.setText(_WHERE[cid])
            elif tab.info.file_based:
                tab.where.setText(f"Add to {_home_relative(self.config_path(cid))}:")
        self.problem.setText(problem or "")
        self.problem.setVisible(problem is not None)

    def snippet(self, client_id: str) -> client_setup.Snippet | None:
        return self.client_tabs[client_id].snippet

    def copy_snippet(self, client_id: str) -> None:
        snippet = self.snippet(client_id)
        if snippet is None:
            return
        tab = self.client_tabs[client_id]
        if snippet.embeds_secret:
            self._clipboard.copy(snippet.text)  # password-manager hints, cleared after 30 s
            tab.set_status("Copied (it contains your key: the clipboard is cleared in 30 seconds).")
        else:
            copy_text(snippet.text)
            tab.set_status("Copied.")

    def open_cursor_link(self) -> None:
        snippet = self.snippet("cursor")
        if snippet is not None:
            self.open_url(QUrl(snippet.extra["deeplink"]))

    def add_to_client(self, client_id: str) -> config_install.InstallResult | None:
        """Merge the server entry into the client's config file; asks before replacing one."""
        snippet = self.snippet(client_id)
        tab = self.client_tabs[client_id]
        if snippet is None:
            return None
        path = self.config_path(client_id)
        try:
            try:
                result = config_install.install(snippet, path)
            except config_install.EntryExists as exists:
                question = (f"{_home_relative(exists.path)} already has a server named “{exists.name}”.\n\n"
                            "Replace it with this hub's entry? The current file is backed up first.")
                if not self.confirm(f"Replace “{exists.name}”?", question):
                    tab.set_status(f"Left {_home_relative(exists.path)} unchanged.")
                    return None
                result = config_install.install(snippet, path, replace=True)
        except config_install.ConfigInstallError as exc:
            tab.set_status(str(exc), error=True)
            return None
        where = _home_relative(result.path)
        text = {
            "created": f"Created {where}.",
            "added": f"Added to {where}.",
            "replaced": f"Replaced the entry in {where}.",
            "unchanged": f"{where} already has exactly this entry.",
        }[result.action]
        if result.backup is not None:
            text += f" Backup: {result.backup.name}."
        if client_id == "claude-desktop" and not snippet.embeds_secret and result.action != "unchanged":
            text += f" Replace {client_setup.KEY_PLACEHOLDER} in that file with your key."
        text += f" Restart {tab.info.name} (or reload its MCP servers) to use it."
        tab.set_status(text)
        self.installed.emit(client_id, result)
        return result

    # ------------------------------------------------------------------ closing

    def _drop_secret(self) -> None:
        if self._check is not None:
            self._check.cancel()
        self._secret = None
        self.key_input.clear()
        self.embed_check.setChecked(False)
        for tab in self.client_tabs.values():
            if tab.snippet is not None and tab.snippet.embeds_secret:
                tab.text.clear()
                tab.snippet = None

    def done(self, result: int) -> None:
        self._drop_secret()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._drop_secret()
        super().closeEvent(event)
