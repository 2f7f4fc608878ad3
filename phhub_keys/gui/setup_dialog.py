"""Set up & integrate: per-client config snippets, "Add to <client>", and "Test a key".

The clients are picked from a list (14 of them: a row of tabs would not fit), each
with its own page; clients with a project-level file (Claude Code, Gemini CLI,
Continue, Cursor, VS Code) can target a project folder instead of the user's file.

The snippets come from ``core.client_setup`` (where each shape's documentation
source is noted) and "Add to" goes through ``core.config_install`` (backup,
atomic write, refuses unparseable files). The key check runs the official MCP
client on a worker thread (``gui.workers.run_in_pool``), never on the GUI
thread, and can be cancelled.

Secrets: a key at hand (the fresh key handed in by the caller, or a well-formed
key typed into "Test a key") stays in memory only, is embedded in snippets only
when the user ticks "Include my key", is copied with the clipboard's
password-manager hints, and is dropped from every widget when the dialog closes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..api.keycheck import CheckStatus, KeyCheck, KeyCheckResult
from ..core import client_setup, config_install
from ..core.keyformat import key_problem
from .accessibility import announce, name_popup_lists
from .ask import confirm_for
from .clipboard import SecretClipboard, copy_text
from .names import OPENAI_CLIENT
from .open_link import open_link
from .theme import accents

_LIST_NAMES = {"openai": OPENAI_CLIENT, "jetbrains": "JetBrains AI"}
_WHERE = {
    "claude-code": "Run this in a terminal (Claude Code's own command adds the server):",
    "openai": "Add this tool to the request's tools list (Responses API / Agent Builder):",
    "jetbrains": "Paste this in Settings | Tools | AI Assistant | Model Context Protocol (MCP):",
}
_LINKS = {"cursor": ("cursorInstallLink", "Install in Cursor", "Cursor"),
          "lmstudio": ("lmstudioInstallLink", "Add to LM Studio (link)", "LM Studio")}
_SCOPE_TEXT = {client_setup.USER: "Your settings (every project)", client_setup.PROJECT: "One project folder"}




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
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(f"<b>{info.name}</b>", self)
        self.title.setObjectName(f"clientTitle_{cid}")
        layout.addWidget(self.title)
        self.scope: QComboBox | None = None
        self.folder_button: QPushButton | None = None
        if len(info.scopes) > 1:
            row = QHBoxLayout()
            self.scope = QComboBox(self)
            # On Linux a combo box's accessible name is its current text; what it is for comes
            # from the label it is the buddy of, so it needs a visible one.
            where = QLabel("Where:", self)
            where.setBuddy(self.scope)
            row.addWidget(where)
            self.scope.setObjectName(f"scope_{cid}")
            self.scope.setAccessibleName(f"Where {info.name} gets the server")
            for scope in info.scopes:
                self.scope.addItem(_SCOPE_TEXT[scope], scope)
            row.addWidget(self.scope)
            self.folder_button = QPushButton("Choose folder…", self)
            self.folder_button.setObjectName(f"chooseProject_{cid}")
            self.folder_button.setAccessibleName(f"Choose the project folder for {info.name}")
            self.folder_button.setVisible(False)
            row.addWidget(self.folder_button)
            row.addStretch(1)
            layout.addLayout(row)
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
        self.text.setMinimumHeight(90)
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
        if info.file_based or len(info.scopes) > 1:
            self.add_button = QPushButton(f"Add to {info.name}", self)
            self.add_button.setObjectName(f"addTo_{cid}")
            self.add_button.setAccessibleName(f"Add this server to {info.name}'s configuration file")
            row.addWidget(self.add_button)
        self.link_button: QPushButton | None = None
        if cid in _LINKS:
            object_name, text, app = _LINKS[cid]
            self.link_button = QPushButton(text, self)
            self.link_button.setObjectName(object_name)
            self.link_button.setAccessibleName(f"Open {app}'s one-click install link")
            self.link_button.setToolTip(f"Opens {app}, which asks before adding the server. "
                                        "The link never contains your key.")
            row.addWidget(self.link_button)
        row.addStretch(1)
        self.both_ways: QLabel | None = None
        if self.add_button is not None and self.link_button is not None:
            app = _LINKS[cid][2]
            self.both_ways = QLabel(
                f"Two ways, use either: “Add to {app}” writes the server into {app}'s configuration "
                f"file for you (after a backup); “{self.link_button.text()}” opens {app}, which asks you "
                "to confirm.", self)
            self.both_ways.setObjectName(f"bothWays_{cid}")
            self.both_ways.setWordWrap(True)
        # A button that looks like a link: Tab reaches it and Enter/Space press it (a QLabel link
        # took two Tab stops and no Enter), and the dialog opens it, saying so when no browser
        # answers (QLabel's own opener failed silently).
        self.docs = QPushButton("Documentation", self)
        self.docs.setObjectName(f"docs_{cid}")
        self.docs.setFlat(True)
        self.docs.setCursor(Qt.CursorShape.PointingHandCursor)
        self.docs.setStyleSheet(
            "QPushButton { color: palette(link); text-decoration: underline; border: 1px solid transparent;"
            " border-radius: 3px; padding: 2px 4px; }"
            " QPushButton:focus { border-color: palette(highlight); }")
        self.docs.setToolTip(info.docs_url)
        self.docs.setAccessibleName(f"{info.name} documentation")
        self.docs.setAccessibleDescription(f"Opens {info.docs_url} in your browser")
        row.addWidget(self.docs)
        layout.addLayout(row)
        if self.both_ways is not None:
            layout.addWidget(self.both_ways)

        self.status = QLabel(self)
        self.status.setObjectName(f"installStatus_{cid}")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.hide()
        layout.addWidget(self.status)
        self.snippet: client_setup.Snippet | None = None

    def chosen_scope(self) -> str:
        return self.scope.currentData() if self.scope is not None else client_setup.USER

    def set_status(self, text: str, *, error: bool = False) -> None:
        colour = accents(self.palette()).danger if error else accents(self.palette()).success
        self.status.setStyleSheet(f"color: {colour.name()};")
        self.status.setText(text)
        self.status.setVisible(bool(text))
        announce(self.status, text, assertive=error)


class SetupDialog(QDialog):
    """Set up & integrate: a tab per AI client, "Add to <client>", and "Test a key"."""

    keyCheckFinished = Signal(object)  # KeyCheckResult
    installed = Signal(str, object)  # client id, InstallResult

    def __init__(self, server_url: str, secret: str | None = None, parent: QWidget | None = None, *,
                 allow_insecure_http: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("SetupDialog")
        # The user's own choice at sign-in; without it a plain-http Server URL to another
        # computer gets no snippet, no "Add to" and no key test (core.net.http_refusal).
        self.allow_insecure_http = allow_insecure_http
        self.setWindowTitle("Set up & integrate")
        self.setAccessibleName("Set up and integrate an AI client")
        self.resize(820, 700)
        self.setMinimumSize(660, 600)
        self._secret = secret or None
        self._check: KeyCheck | None = None
        self._job: Any = None
        self._clipboard = SecretClipboard(parent=self)
        self._config_paths: dict[str, Path] = {}
        self._project_dirs: dict[str, Path] = {}
        # Replaceable in tests (like the manager window's hooks): nothing pops up.
        self.confirm: Callable[[str, str, str], bool] = confirm_for(self, QMessageBox.Icon.Question)
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.choose_folder: Callable[[str], Path | None] = self._ask_for_folder

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
        # Said by screen readers after the name; without it Qt reads the placeholder, whose
        # "sign in to fill this in" is wrong once the field is filled.
        self.server_url_field.setAccessibleDescription(
            "The address AI clients connect to; every snippet below uses it" if server_url
            else "Paste your hub's MCP address (https://…/mcp), or sign in and it is filled in")
        form.addRow("Server URL:", self.server_url_field)
        self.name_input = QLineEdit(client_setup.DEFAULT_SERVER_NAME, self)
        self.name_input.setObjectName("serverNameInput")
        self.name_input.setAccessibleName("Server name in the client's configuration")
        self.name_input.setMaxLength(64)
        form.addRow("Server name:", self.name_input)
        layout.addLayout(form)

        self.embed_check = QCheckBox("Include my key in the snippets", self)
        self.embed_check.setObjectName("embedKeyCheck")
        self.embed_check.setAccessibleName("Include my key in the configuration")
        self.embed_check.setToolTip("Puts the key at hand (the one you just created, or a whole key typed "
                                    "into Test a key below) into the snippets. Otherwise they read it from "
                                    "an environment variable, ask for it, or show YOUR_MCP_KEY to replace.")
        layout.addWidget(self.embed_check)

        self.problem = QLabel(self)
        self.problem.setObjectName("setupProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {accents(self.palette()).danger.name()};")
        self.problem.hide()
        layout.addWidget(self.problem)

        picker = QHBoxLayout()
        self.client_list = QListWidget(self)
        self.client_list.setObjectName("setupClientList")
        self.client_list.setAccessibleName("AI clients")
        self.client_list.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.pages = QStackedWidget(self)
        self.pages.setObjectName("setupClientPages")
        self.client_tabs: dict[str, _ClientTab] = {}
        for info in client_setup.CLIENTS.values():
            tab = _ClientTab(info, self.pages)
            tab.copy_button.clicked.connect(lambda _=False, c=info.id: self.copy_snippet(c))
            if tab.add_button is not None:
                tab.add_button.clicked.connect(lambda _=False, c=info.id: self.add_to_client(c))
            if tab.link_button is not None:
                tab.link_button.clicked.connect(lambda _=False, c=info.id: self.open_install_link(c))
            tab.docs.clicked.connect(lambda _=False, c=info: open_link(self, self.open_url, c.docs_url,
                                                                      f"The {c.name} documentation"))
            if tab.scope is not None:
                tab.scope.currentIndexChanged.connect(lambda _=0, c=info.id: self._scope_changed(c))
            if tab.folder_button is not None:
                tab.folder_button.clicked.connect(lambda _=False, c=info.id: self.pick_project(c))
            item = QListWidgetItem(_LIST_NAMES.get(info.id, info.name), self.client_list)
            item.setData(Qt.ItemDataRole.UserRole, info.id)
            item.setToolTip(info.name)
            self.pages.addWidget(tab)
            self.client_tabs[info.id] = tab
        width = max(self.client_list.sizeHintForColumn(0), 120) + 2 * self.client_list.frameWidth() + 24
        self.client_list.setFixedWidth(width)
        self.client_list.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.client_list.setCurrentRow(0)
        picker.addWidget(self.client_list)
        picker.addWidget(self.pages, 1)
        layout.addLayout(picker, 1)

        layout.addWidget(self._build_test_box())

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setObjectName("setupButtons")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.server_url_field.textChanged.connect(self.refresh_snippets)
        self.name_input.textChanged.connect(self.refresh_snippets)
        self.embed_check.toggled.connect(self.refresh_snippets)
        self.key_input.textChanged.connect(self._key_input_changed)
        self._key_input_changed()
        self.refresh_snippets()
        name_popup_lists(self)

    # ------------------------------------------------------------------ picking a client

    def select_client(self, client_id: str) -> _ClientTab:
        """Show ``client_id``'s page (as a click in the list would)."""
        self.client_list.setCurrentRow(list(self.client_tabs).index(client_id))
        return self.client_tabs[client_id]

    def current_client(self) -> str:
        return list(self.client_tabs)[self.pages.currentIndex()]

    def _ask_for_folder(self, client_id: str) -> Path | None:
        name = client_setup.get_client(client_id).name
        chosen = QFileDialog.getExistingDirectory(self, f"Project folder for {name}")
        return Path(chosen) if chosen else None

    def pick_project(self, client_id: str) -> Path | None:
        """Ask for the project folder whose file ``client_id`` should get; None when cancelled."""
        folder = self.choose_folder(client_id)
        if folder is not None:
            self._project_dirs[client_id] = Path(folder)
        self.refresh_snippets()
        return folder

    def _scope_changed(self, client_id: str) -> None:
        tab = self.client_tabs[client_id]
        project = tab.chosen_scope() == client_setup.PROJECT
        if tab.folder_button is not None:
            tab.folder_button.setVisible(project)
        if project and client_id not in self._project_dirs and self.isVisible():
            self.pick_project(client_id)
        self.refresh_snippets()

    # ------------------------------------------------------------------ the key at hand

    def key_at_hand(self) -> str | None:
        """The fresh key handed in, else a well-formed key typed into "Test a key"."""
        if self._secret:
            return self._secret
        typed = self.key_input.text().strip()
        return typed if typed and key_problem(typed) is None else None

    def _key_input_changed(self) -> None:
        has_key = self.key_at_hand() is not None
        self.embed_check.setVisible(has_key)
        self.embed_check.setEnabled(has_key)
        if not has_key and self.embed_check.isChecked():
            self.embed_check.setChecked(False)  # refreshes the snippets
        elif self.embed_check.isChecked():
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
        keep = self.progress.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # showing it moves nothing
        self.progress.setSizePolicy(keep)
        self.progress.hide()
        outer.addWidget(self.progress)

        self.result_label = QLabel("Checks the key's checksum, then connects to the Server URL like an AI "
                                   "client would (initialize, list tools, whoami).", box)
        self.result_label.setObjectName("testKeyResult")
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Room for three lines whatever the result says, so the row above never moves.
        self.result_label.setFixedHeight(self.result_label.fontMetrics().lineSpacing() * 3 + 4)
        self.result_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        outer.addWidget(self.result_label)
        return box

    @property
    def checking(self) -> bool:
        return self._check is not None

    def start_key_check(self) -> None:
        """Check the key in the field: offline checks at once, the MCP exchange on a worker."""
        if self._check is not None:
            return
        check = KeyCheck(self.server_url(), self.key_input.text(),
                         allow_insecure_http=self.allow_insecure_http)
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
        self.result_label.setToolTip(text)  # all of it, should it need more than its three lines
        announce(self.result_label, text, assertive=ok is False)

    # ------------------------------------------------------------------ snippets

    def server_url(self) -> str:
        return self.server_url_field.text().strip()

    def set_config_path(self, client_id: str, path: Path) -> None:
        """Use ``path`` instead of the client's default config file (tests, custom setups)."""
        self._config_paths[client_id] = Path(path)
        self.refresh_snippets()

    def config_path(self, client_id: str) -> Path | None:
        """The file "Add to" writes: an override, the chosen project's file, or the user's file
        (None when a project scope is chosen but no folder yet)."""
        if client_id in self._config_paths:
            return self._config_paths[client_id]
        tab = self.client_tabs[client_id]
        if tab.chosen_scope() == client_setup.PROJECT:
            folder = self._project_dirs.get(client_id)
            if folder is None:
                return None
            name = self.name_input.text().strip()
            try:
                return config_install.config_path(client_id, scope=client_setup.PROJECT, project_dir=folder,
                                                  name=name)
            except (config_install.ConfigInstallError, client_setup.SetupError):
                return None
        return config_install.config_path(client_id)

    def embeds_secret(self) -> bool:
        return self.key_at_hand() is not None and self.embed_check.isChecked()

    def refresh_snippets(self) -> None:
        """Regenerate every tab from the Server URL, the server name and the embed choice."""
        url, name = self.server_url(), self.name_input.text().strip()
        secret = self.key_at_hand() if self.embeds_secret() else None
        problem = None
        if not url:
            problem = "No Server URL yet: sign in to the hub (or paste the Server URL above)."
        for cid, tab in self.client_tabs.items():
            snippet = None
            if problem is None:
                try:
                    snippet = client_setup.generate(cid, url, name=name, secret=secret,
                                                    scope=tab.chosen_scope(),
                                                    allow_insecure_http=self.allow_insecure_http)
                except client_setup.InsecureServerUrl as exc:
                    problem = (f"{exc} Sign in with “Allow insecure http://” ticked only if you trust "
                               "every network between the AI client and the hub.")
                except client_setup.SetupError as exc:
                    problem = str(exc)
            tab.snippet = snippet
            tab.text.setPlainText(snippet.text if snippet else "")
            tab.notes.setText("\n".join(snippet.notes) if snippet else "")
            tab.copy_button.setEnabled(snippet is not None)
            path = self.config_path(cid) if snippet is not None and snippet.file_based else None
            if tab.add_button is not None:
                tab.add_button.setVisible(snippet is None or snippet.file_based)
                tab.add_button.setEnabled(path is not None)
            if tab.link_button is not None:
                tab.link_button.setEnabled(snippet is not None)
            project = tab.chosen_scope() == client_setup.PROJECT
            if tab.folder_button is not None:
                tab.folder_button.setVisible(project)
            if project and path is None and cid not in self._config_paths:
                tab.where.setText("Choose the project folder, then add this to its "
                                  f"{tab.info.project_file} (or copy it there):")
            elif project and path is not None:
                tab.where.setText(f"Add to {path}:")
            elif cid in _WHERE:
                tab.where.setText(_WHERE[cid])
            elif tab.info.file_based:
                tab.where.setText(f"Add to {_home_relative(self.config_path(cid) or Path())}:")
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

    def open_install_link(self, client_id: str) -> None:
        """Cursor's or LM Studio's one-click install link (never with the key in it)."""
        snippet = self.snippet(client_id)
        if snippet is not None and "deeplink" in snippet.extra:
            app = _LINKS[client_id][2]
            scheme = QUrl(snippet.extra["deeplink"]).scheme()
            hint = f"“Add to {app}” writes {app}'s configuration file instead." \
                if self.client_tabs[client_id].add_button is not None else ""
            open_link(self, self.open_url, snippet.extra["deeplink"], f"{app}'s install link",
                      f"no app on this computer opens {scheme}:// links (is {app} installed?).", hint)

    def add_to_client(self, client_id: str) -> config_install.InstallResult | None:
        """Merge the server entry into the client's config file; asks before replacing one."""
        snippet = self.snippet(client_id)
        tab = self.client_tabs[client_id]
        if snippet is None:
            return None
        path = self.config_path(client_id)
        if path is None:
            if self.pick_project(client_id) is None:
                return None
            path = self.config_path(client_id)
            snippet = self.snippet(client_id)
            if path is None or snippet is None:
                return None
        try:
            try:
                result = config_install.install(snippet, path)
            except config_install.EntryExists as exists:
                question = (f"{_home_relative(exists.path)} already has a server named “{exists.name}”.\n\n"
                            "Replace it with this hub's entry? The current file is backed up first.")
                if not self.confirm(f"Replace “{exists.name}”?", question, "Replace"):
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
        if snippet.needs_key and result.action != "unchanged":
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
