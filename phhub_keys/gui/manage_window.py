"""The Manage MCP Keys window: the hub's web dialog (see the seed doc) as a native window.

The window lays out, renders and forwards intent; ``KeysSession`` (gui/keys_session.py) runs
every hub call on a worker thread and signals each outcome, and the view changes only from
the hub's answers: a returned Key replaces its row, a create
inserts the hub's Key, a delete removes the row once the hub said 204, and a
refresh re-lists. Failures show in ``errorBanner`` with Retry; a 401 emits
``authenticationRequired`` and keeps the failed action for
``retry_after_sign_in()``.

Things a test (or the app controller) may replace on an instance:
``confirm(title, text, action) -> bool``, ``open_url(QUrl) -> bool``,
``ask_save_path(caption, suggested_name) -> str | None`` and
``warn(title, text)``; by default they use QMessageBox, QDesktopServices and
QFileDialog.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QEvent, QMetaMethod, QModelIndex, QObject, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..api.errors import (
    AuthenticationError,
    HubError,
    IdempotencyReplayUnavailable,
    InvalidExpiry,
    RateLimited,
)
from ..api.messages import failure_text
from ..core.expiry import KeyPolicy
from ..core.models import KeyStatus, McpConfig, McpKey, NewKey
from ..core.net import display_host, openable_url
from ..core.safefile import write_private_text
from ..core.wording import plural
from . import elide
from .accessibility import announce, name_clear_button, name_popup_lists
from .ask import confirm_for
from .clipboard import DEFAULT_CLEAR_MS, SecretClipboard
from .create_form import CreateKeyForm
from .error_banner import ErrorBanner
from .expiry_banner import ExpiryBanner
from .key_hygiene import KeyHygiene
from .keyboard import EnterPressesButtons, focus_visibly, set_enabled_keeping_focus
from .keys_model import HEADERS, Col, KeysModel, format_absolute
from .keys_session import KeysSession
from .keys_view import KeysTableView
from .message_page import MessagePage
from .names import REVIEW_CSV, SET_UP_CLIENT
from .new_key_panel import NewKeyPanel
from .open_link import open_link, refuse_link
from .resources import icon
from .save_status import SAVED_NOTICE_MS, SaveStatus
from .server_panel import ServerConfigPanel
from .sort_menu import add_sort_menu

if TYPE_CHECKING:
    from ..api.client import HubClient
    from .rotate_dialog import RotateDialog

RELATIVE_TIME_REFRESH_MS = 30_000
PAGE_LOADING, PAGE_EMPTY, PAGE_TABLE = 0, 1, 2


def _default_ask_save_path(parent: QWidget) -> Callable[[str, str], str | None]:
    def ask(caption: str, suggested: str) -> str | None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(parent, caption, str(Path.home() / suggested),
                                              "CSV files (*.csv);;All files (*)")
        return path or None

    return ask


def _slug(text: str) -> str:
    """The label as a file name part: at most 40 characters, cut between words, not inside one."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    if len(slug) > 40:
        cut = slug.rfind("-", 0, 41)
        slug = slug[:cut] if cut > 0 else slug[:40]
    return slug or "key"


class ManageKeysWindow(QMainWindow):
    """The Manage MCP Keys window. See the module docstring and docs in ui-spec.md."""

    authenticationRequired = Signal()
    serverUrlChanged = Signal(str)
    keysChanged = Signal(int)
    reviewRequested = Signal()
    setupRequested = Signal()
    closed = Signal()
    quitRequested = Signal()  # Ctrl+Q: the app decides (asks first when a new key would be lost)
    signOutRequested = Signal()  # the app owns the session
    signOutEverywhereRequested = Signal()
    loaded = Signal()  # a key list from the hub was applied
    busyChanged = Signal(bool)
    # A short status by the filter row ("Changes Saved", a refused label...): (text, ok). The label
    # clears itself after a few seconds; tests wait on this instead of polling a transient text.
    saveStatusShown = Signal(str, bool)

    def __init__(self, client: HubClient | None, *, account_text: str = "",
                 parent: QWidget | None = None) -> None:
        """``client`` None: the window shows a saved list (``show_saved_list``) until ``set_client``."""
        super().__init__(parent)
        self.setObjectName("ManageKeysWindow")
        self.setWindowTitle("Manage MCP Keys")
        self.setAccessibleName("Manage MCP Keys")
        EnterPressesButtons(self)
        self._client = client
        self._account_text = account_text
        self._config: McpConfig | None = None
        self._new_key: NewKey | None = None
        self._secret_copied = False
        self._secret_saved = False
        self._loaded = False
        self._saved_list_shown = False  # the rows are a saved list the hub has not confirmed yet
        self._banner_action: Callable[[], object] | None = None
        self._pending_retry: Callable[[], object] | None = None
        self._saved_tokens: dict[str, int] = {}
        self._count = 0
        self._secret_setup_dialog: QWidget | None = None  # a SetupDialog holding the new secret

        self.confirm: Callable[[str, str, str], bool] = confirm_for(self)
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.ask_save_path: Callable[[str, str], str | None] = _default_ask_save_path(self)
        self.warn: Callable[[str, str], object] = lambda title, text: QMessageBox.warning(self, title, text)

        self.secret_clipboard = SecretClipboard(DEFAULT_CLEAR_MS, self)
        self.secret_clipboard.cleared.connect(self._on_clipboard_cleared)
        self.model = KeysModel(self)
        self.model.renameRequested.connect(self._rename)
        self.model.labelRejected.connect(self._on_label_rejected)
        self.model.modelReset.connect(self._update_counts)
        self.model.rowsInserted.connect(self._update_counts)
        self.model.rowsRemoved.connect(self._update_counts)
        self.hygiene = KeyHygiene(self)  # Rotate…, Change expiry…, usage map, activity
        self.session = KeysSession(client, self)  # the hub calls; the window renders their outcomes

        self._build_actions()
        self._build_ui()
        self._connect_session()
        self._restyle()
        self._apply_state()

        self._time_timer = QTimer(self)
        self._time_timer.setInterval(RELATIVE_TIME_REFRESH_MS)
        self._time_timer.timeout.connect(self.refresh_times)
        self._time_timer.start()
        # Panels appear and disappear; a fixed minimum keeps the window from re-negotiating its
        # size hints with the window system each time (and from jumping in size).
        main_layout = self.layout()
        if main_layout is not None:
            main_layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        margins = self._root_layout.contentsMargins()
        table_width = self.table.minimum_content_width() + margins.left() + margins.right()
        self.setMinimumSize(max(760, table_width), 520)
        self.resize(max(1040, table_width), 680)

    # ======================================================================= construction
    def _build_actions(self) -> None:
        def action(text: str, name: str, slot: Callable[[], Any], shortcuts: Sequence[str] = (),
                   icon_name: str | None = None) -> QAction:
            act = QAction(text, self)
            act.setObjectName(name)
            if shortcuts:
                act.setShortcuts([QKeySequence(s) for s in shortcuts])
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            if icon_name:
                act.setProperty("iconName", icon_name)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.create_action = action("Create Key", "createKeyAction", self.open_create_form, ("Ctrl+N",),
                                    "plus")
        self.refresh_action = action("Refresh", "refreshAction", self.refresh, ("F5", "Ctrl+R"), "refresh")
        self.filter_action = action("Filter Keys", "filterAction", self.focus_filter, ("Ctrl+F",), "search")
        self.docs_action = action("View MCP Docs", "viewDocsAction", self.open_docs, (), "docs")
        self.download_action = action("Download CSV…", "downloadCsvAction", self.download_csv, (), "download")
        self.review_action = action(REVIEW_CSV, "reviewCsvAction", self.request_review, (), "review")
        self.setup_action = action(SET_UP_CLIENT, "setupClientAction", self.request_setup, (), "setup")
        self.activity_action = action("Account activity…", "accountActivityAction",
                                      lambda: self.hygiene.open_activity(None), (), "review")
        # Ctrl+W closes the window (the app stays in the tray when there is one), Ctrl+Q quits.
        self.close_action = action("Close Window", "closeWindowAction", self.close, ("Ctrl+W",))
        self.quit_action = action("Quit", "quitAction", self.request_quit, ("Ctrl+Q",))
        self.sign_out_action = action("Sign Out", "signOutAction", self.signOutRequested.emit)
        self.sign_out_everywhere_action = action(
            "Sign Out Everywhere…", "signOutEverywhereAction", self.signOutEverywhereRequested.emit)
        self.sign_out_everywhere_action.setToolTip(
            "End every session of this account on the hub: all computers, the app and the command line")

    def _build_ui(self) -> None:
        central = QWidget(self)
        central.setObjectName("centralWidget")
        root = QVBoxLayout(central)
        self._root_layout = root
        root.setContentsMargins(16, 14, 16, 8)
        root.setSpacing(10)
        self.setCentralWidget(central)

        # -- header -------------------------------------------------------------------------
        header = QHBoxLayout()
        header.setSpacing(8)
        title_box = QVBoxLayout()
        title_box.setSpacing(2)
        self.title_label = QLabel("Manage MCP Keys", central)
        self.title_label.setObjectName("windowTitleLabel")
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setBold(True)
        self.title_label.setFont(font)
        title_box.addWidget(self.title_label)
        self.subtitle_label = QLabel(
            "Personal API keys that let AI clients reach Performance Hub through its MCP server.", central
        )
        self.subtitle_label.setObjectName("windowSubtitleLabel")
        self.subtitle_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.subtitle_label.setWordWrap(True)
        title_box.addWidget(self.subtitle_label)
        header.addLayout(title_box, 1)

        self.create_button = self._header_button("Create Key", "createKeyButton", self.create_action,
                                                 "Create a new MCP key (Ctrl+N)")
        self.docs_button = self._header_button("View MCP Docs", "viewDocsButton", self.docs_action,
                                               "Open the MCP documentation in your browser")
        self.download_button = self._header_button("Download CSV", "downloadCsvButton", self.download_action,
                                                   "Save your key list (no secrets) as a CSV file")
        self.refresh_button = QToolButton(central)
        self.refresh_button.setObjectName("refreshButton")
        self.refresh_button.setAccessibleName("Refresh")
        self.refresh_button.setToolTip("Refresh the key list (F5)")
        self.refresh_button.setAutoRaise(True)
        self.refresh_button.clicked.connect(self.refresh_action.trigger)
        self.more_button = QToolButton(central)
        self.more_button.setObjectName("moreButton")
        self.more_button.setAccessibleName("More actions")
        # Read after the name by screen readers: say what is in the menu, not the name again.
        self.more_button.setToolTip("Set up a client, review CSV files, account activity, sign out")
        self.more_button.setText("More")
        self.more_button.setAutoRaise(True)
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.more_button)
        menu.setObjectName("moreMenu")
        for act in (self.setup_action, self.review_action, self.activity_action):
            menu.addAction(act)
        menu.addSeparator()
        for act in (self.refresh_action, self.filter_action):
            menu.addAction(act)
        # Sort By goes here once the table exists (it drives the table's header).
        self._more_menu, self._sort_menu_before = menu, menu.addSeparator()
        for act in (self.sign_out_action, self.sign_out_everywhere_action):
            menu.addAction(act)
        self.more_button.setMenu(menu)
        # The primary action first: the screen order is the Tab order (see _set_tab_order).
        for widget in (self.create_button, self.docs_button, self.download_button):
            header.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.create_button.setDefault(False)

        # -- busy + banner ------------------------------------------------------------------
        # The busy line sits tight under the header and keeps its 3 px when hidden (nothing
        # jumps when it comes and goes), so no empty band opens when the rows below are hidden.
        top = QVBoxLayout()
        top.setSpacing(4)
        top.addLayout(header)
        self.busy_bar = QProgressBar(central)
        self.busy_bar.setObjectName("busyIndicator")
        self.busy_bar.setAccessibleName("Working")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setFixedHeight(3)
        policy = self.busy_bar.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.busy_bar.setSizePolicy(policy)
        self.busy_bar.hide()
        top.addWidget(self.busy_bar)
        root.addLayout(top)
        self.error_banner = ErrorBanner(central)
        self.error_banner.actionRequested.connect(self._on_banner_action)
        root.addWidget(self.error_banner)
        self.expiry_banner = ExpiryBanner(central)
        self.expiry_banner.showRequested.connect(self._filter_to)
        root.addWidget(self.expiry_banner)

        # -- panels -------------------------------------------------------------------------
        self.server_panel = ServerConfigPanel(central)
        self.server_panel.copied.connect(lambda _url: self.statusBar().showMessage("Server URL copied", 3000))
        root.addWidget(self.server_panel)
        self.create_form = CreateKeyForm(central)
        self.create_form.expiry.today = lambda: self.hub_now().astimezone().date()
        self.create_form.submitted.connect(self._create)
        self.create_form.cancelled.connect(lambda: focus_visibly(self.table))
        root.addWidget(self.create_form)
        self.new_key_panel = NewKeyPanel(central)
        self.new_key_panel.copyRequested.connect(self.copy_new_key)
        self.new_key_panel.saveRequested.connect(self._ask_and_save_new_key)
        self.new_key_panel.setupRequested.connect(self._setup_with_new_key)
        self.new_key_panel.dismissRequested.connect(self.dismiss_new_key)
        root.addWidget(self.new_key_panel)

        # -- filter row (hidden as a whole with no keys: no empty band above the empty state) --
        self.filter_bar = QWidget(central)
        self.filter_bar.setObjectName("keysFilterBar")
        filter_row = QHBoxLayout(self.filter_bar)
        filter_row.setContentsMargins(0, 0, 0, 0)
        filter_row.setSpacing(10)
        self.filter_input = QLineEdit(self.filter_bar)
        self.filter_input.setObjectName("keysFilterInput")
        self.filter_input.setAccessibleName("Filter keys")
        self.filter_input.setPlaceholderText("Filter: label, key, status, expiry  (Ctrl+F)")
        name_clear_button(self.filter_input, "Clear the filter")
        # A fixed width: a message appearing on the right never squeezes the filter.
        self.filter_input.setFixedWidth(self.filter_input.fontMetrics().averageCharWidth() * 44)
        self.filter_input.textChanged.connect(self._on_filter_changed)
        self.filter_input.installEventFilter(self)
        filter_row.addWidget(self.filter_input)
        self.count_label = QLabel(self.filter_bar)
        self.count_label.setObjectName("keysCountLabel")
        filter_row.addWidget(self.count_label)
        filter_row.addSpacing(12)
        # Messages take only the room left (elided, the whole text in the tooltip).
        self.save_status = SaveStatus(self.filter_bar)
        filter_row.addWidget(self.save_status, 1)
        root.addWidget(self.filter_bar)

        # -- table / empty / loading --------------------------------------------------------
        self.stack = QStackedWidget(central)
        self.stack.setObjectName("keysStack")
        self.loading_page = MessagePage("keysLoadingPage", "Loading your keys…", "", None, self)
        self.empty_page = MessagePage(
            "keysEmptyState",
            "No MCP keys yet",
            "An MCP key lets an AI client such as Cursor, Claude Desktop or OpenAI Agent Builder "
            "connect to Performance Hub with your account's access. Create one to get started.",
            self.create_action,
            self,
        )
        self.table: KeysTableView = KeysTableView(central)
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSortIndicator(Col.CREATED, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)
        sortable = (Col.STATUS, Col.LABEL, Col.CREATED, Col.LAST_USED, Col.EXPIRES)
        add_sort_menu(self._more_menu, self.table.horizontalHeader(), ((c, HEADERS[c]) for c in sortable),
                      before=self._sort_menu_before)
        self.table.actionRequested.connect(self.trigger_action_for_key)
        self.table.customContextMenuRequested.connect(self._table_menu)
        self.stack.addWidget(self.loading_page)
        self.stack.addWidget(self.empty_page)
        self.stack.addWidget(self.table)
        root.addWidget(self.stack, 1)

        # -- status bar ---------------------------------------------------------------------
        status = self.statusBar()
        status.setObjectName("statusBar")
        status.setAccessibleName("Status")
        status.setSizeGripEnabled(True)
        status.messageChanged.connect(lambda text: announce(status, text))  # "Created …", "Deleted …"
        self.account_label = QLabel(status)
        self.account_label.setObjectName("accountLabel")
        self.account_label.setAccessibleDescription("Account and hub")
        status.addPermanentWidget(self.account_label)
        self._update_account_label()

        self._set_tab_order()

    def _set_tab_order(self) -> None:
        """Tab walks the window as it reads: header (Create Key first), banner, panels, filter, list."""
        chain: list[QWidget] = [
            self.create_button, self.docs_button, self.download_button, self.refresh_button, self.more_button,
            self.error_banner.action_button, self.error_banner.close_button,
            self.server_panel.url_field, self.server_panel.copy_button,
            self.create_form.label_input, self.create_form.confirm_button, self.create_form.cancel_button,
            self.create_form.expiry.combo, self.create_form.expiry.date_edit,
            self.new_key_panel.secret_field, self.new_key_panel.copy_button, self.new_key_panel.save_button,
            self.new_key_panel.setup_button, self.new_key_panel.dismiss_button,
            self.filter_input, self.table,
        ]
        if self.empty_page.button is not None:
            chain.append(self.empty_page.button)
        for first, second in pairwise(chain):
            self.setTabOrder(first, second)

    def _header_button(self, text: str, name: str, act: QAction, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(text)
        button.setToolTip(tip)
        button.setProperty("iconName", act.property("iconName"))
        button.clicked.connect(act.trigger)
        return button

    def _restyle(self) -> None:
        for button in self.findChildren(QPushButton) + self.findChildren(QToolButton):
            name = button.property("iconName")
            if name:
                button.setIcon(icon(str(name)))
        for act in self.actions():
            name = act.property("iconName")
            if name:
                act.setIcon(icon(str(name)))
        self.refresh_button.setIcon(icon("refresh"))
        self.empty_page.restyle()
        self.loading_page.restyle()
        self.save_status.restyle()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._restyle()
            self.table.viewport().update()
        super().changeEvent(event)

    # ======================================================================= public API
    def client(self) -> HubClient | None:
        """The signed-in client; None while a saved list is shown before any sign-in."""
        return self._client

    def set_client(self, client: HubClient) -> None:
        """Use a new client (e.g. after sign-in); call ``retry_after_sign_in`` or ``refresh`` next
        (a window showing a saved list asks the hub at once)."""
        self._client = client
        self.session.client = client
        self._update_account_label()
        self.hygiene.set_client(client)
        if self._saved_list_shown and not self.session.list_in_flight() and self.isVisible():
            self._start_list()

    def show_saved_list(self, keys: list[McpKey], saved_at: datetime) -> None:
        """Paint the list saved at the last start (core.key_list_cache) until the hub answers.

        Every row is busy (no action runs on a saved row), Create waits too, and the status
        line says the list is being refreshed; the hub's answer replaces it all.
        """
        self.model.set_keys(keys, busy=True)
        self._saved_list_shown = True
        self.create_button.setEnabled(False)
        self._apply_state()
        when = saved_at.astimezone().strftime("%d %b %H:%M")
        self.statusBar().showMessage(f"Showing the list saved {when}: refreshing from the hub…")

    def is_showing_saved_list(self) -> bool:
        """Rows on screen come from the saved list, not (yet) from the hub."""
        return self._saved_list_shown

    def set_account_text(self, text: str) -> None:
        self._account_text = text
        self._update_account_label()

    def hub_now(self) -> datetime:
        """The hub's time (from its last answer's Date header): what "expired" and "in 6 days" use.

        Before any client (a saved list on screen), this computer's clock.
        """
        client = self._client
        return client.hub_now() if client is not None else datetime.now(UTC).replace(microsecond=0)

    def key_policy(self) -> KeyPolicy | None:
        """The hub's key policy from the last config (None: a v1 hub, or not loaded yet)."""
        return self._config.key_policy if self._config else None

    def hub_host(self) -> str:
        return display_host(getattr(self._client, "base_url", "") or "")

    def show_status(self, text: str, ok: bool = True) -> None:
        """A short note by the filter row (the same place as "Changes Saved")."""
        self._show_save_status(text, ok)

    def refresh_times(self) -> None:
        """Recompute relative times by the hub's clock (timer), and the expiry banner with them."""
        # A saved list before the hub answered has no hub time: no key is called expired by this
        # computer's clock alone.
        self.model.refresh_times(self.hub_now(), hub_time=not self._saved_list_shown)
        self._update_expiry_banner()

    def select_key(self, key_id: str) -> bool:
        """Make ``key_id`` the current row (clearing a filter that hides it); False when unknown."""
        if self.model.key_by_id(key_id) is None:
            return False
        if self.model.row_of(key_id) is None:
            self.filter_input.clear()
        index = self.index_for_key(key_id, Col.LABEL)
        if not index.isValid():
            return False
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        return True

    def open_rotate_dialog(self, key_id: str) -> RotateDialog | None:
        """Rotate… for a key (row action, menu, tray reminder)."""
        self.select_key(key_id)
        return self.hygiene.open_rotate(key_id)

    def show_rotated_key(self, new_key: NewKey, old: McpKey | None) -> None:
        """A rotation's new key: shown once in the panel, like a created key."""
        if self._new_key is not None:
            self._forget_secret()
        self._show_new_key(new_key)
        if old is not None:
            until = ("it was deactivated" if old.status is KeyStatus.DEACTIVATED or old.expires_at is None
                     else f"it keeps working until {format_absolute(old.expires_at)}")
            self.new_key_panel.set_status(f"This key replaces {old.redacted}; {until}.")
        self._mutated()
        self._apply_state()
        self.statusBar().showMessage(f"Rotated “{new_key.key.label}”", 4000)

    def key_changed(self, key: McpKey, verb: str) -> None:
        """A key changed through a hygiene dialog (the model already holds the hub's answer)."""
        self._replaced(key, verb)

    def retry_after_sign_in(self) -> None:
        """Re-run the action a 401 interrupted (or reload the list when there was none)."""
        action, self._pending_retry = self._pending_retry, None
        self.error_banner.hide()
        if action is not None:
            action()
        else:
            self._start_list()

    def reload_list(self) -> None:
        """List again, keeping a shown new key on screen (a dialog learnt from the hub that the
        list is out of date: a key rotated, deactivated or expired elsewhere)."""
        self._start_list()

    def has_unsaved_secret(self) -> bool:
        """A new key's secret is on screen and was neither copied nor saved."""
        return self._new_key is not None and not (self._secret_copied or self._secret_saved)

    def is_loaded(self) -> bool:
        """A key list from the hub has been shown at least once."""
        return self._loaded

    def is_busy(self) -> bool:
        return self.session.is_busy()

    def server_url(self) -> str | None:
        return self._config.server_url if self._config else None

    def docs_url(self) -> str | None:
        return self._config.docs_url if self._config else None

    def key_count(self) -> int:
        """How many keys the account has (shown or filtered out)."""
        return self.model.total_count()

    def refresh(self) -> bool:
        """Reload config and keys from the hub; asks first if an unsaved secret would be lost."""
        if self.has_unsaved_secret() and not self.confirm(
            "Refresh and lose the new key?",
            "You have not copied or saved the new key. After a refresh it can never be shown again.\n\n"
            "Refresh anyway?",
            "Discard Key and Refresh",
        ):
            return False
        self._forget_secret()
        self.error_banner.hide()
        self._start_list()
        return True

    def open_create_form(self) -> None:
        """Show the inline create form and focus its Label field."""
        if not self.isVisible():
            self.show()
        self.create_form.open()

    def create_key(self, label: str) -> None:
        """Fill the form and submit it, as if typed (used by scripts and the self-test)."""
        self.open_create_form()
        self.create_form.label_input.setText(label)
        self.create_form.submit()

    def rename_key(self, key_id: str, label: str) -> bool:
        """Rename as the in-place editor does (validation, then a hub call)."""
        row = self.model.row_of(key_id)
        if row is None:
            return False
        return self.model.setData(self.model.index(row, Col.LABEL), label, Qt.ItemDataRole.EditRole)

    def trigger_action(self, row: int, action: str) -> bool:
        """Run a row's action by *view* row number (what the user sees), without pixels."""
        if not 0 <= row < self.model.rowCount():
            return False
        key = self.model.key_at(row)
        return self.trigger_action_for_key(key.id, action)

    def trigger_action_for_key(self, key_id: str, action: str) -> bool:
        """Deactivate / reactivate / delete a key; returns False when refused or cancelled."""
        key = self.model.key_by_id(key_id)
        if key is None or self.model.is_busy(key_id):
            return False
        if action == "deactivate" and key.is_active:
            self._deactivate(key_id)
            return True
        if action == "reactivate" and key.status is KeyStatus.DEACTIVATED:
            self._reactivate(key_id)
            return True
        if action == "rotate":
            return self.open_rotate_dialog(key_id) is not None
        if action == "delete":
            if key.is_active:
                label = elide.middle(key.label)
                self._show_save_status(
                    f"Deactivate “{label}” before deleting it: active keys cannot be deleted.", ok=False
                )
                return False
            if not self.confirm(
                "Delete MCP key?",
                f"Delete the key “{key.label}” ({key.redacted})?\n\n"
                "This permanently removes the key and cannot be undone.",
                "Delete Key",
            ):
                return False
            self._delete(key_id)
            return True
        return False

    def request_quit(self) -> None:
        """Ctrl+Q: the app quits (it asks first about an unsaved key); alone, the window closes and quits."""
        if self._has_receivers("quitRequested()"):
            self.quitRequested.emit()
        elif self.close():
            app = QApplication.instance()
            if app is not None:
                app.quit()

    def focus_filter(self) -> None:
        self.filter_input.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_input.selectAll()

    def open_docs(self) -> bool:
        url = self.docs_url()
        if not url:
            self.statusBar().showMessage("The documentation link is not known yet: refresh first.", 4000)
            return False
        if openable_url(url) is None:  # the hub's word, not ours: only http(s) reaches the desktop
            refuse_link(self, url, "The MCP documentation")
            return False
        return open_link(self, self.open_url, url, "The MCP documentation")

    def download_csv(self) -> Path | None:
        if not self.model.total_count():
            return None
        path = self.ask_save_path("Download key list", f"mcp-keys-{date.today().isoformat()}.csv")
        return self.save_key_list_csv(path) if path else None

    def save_key_list_csv(self, path: str | Path) -> Path | None:
        """Write the key list CSV (hub-api.md format, redacted keys only) to ``path``, owner-only."""
        from ..core.csvio import write_key_list_csv  # (on first use: not on the start-up path)

        keys = self.model.keys()
        try:
            written = write_key_list_csv(path, keys)
        except OSError as exc:
            self.warn("Could not save the key list", f"{path}: {exc.strerror or exc}")
            return None
        self.statusBar().showMessage(f"Saved {plural(len(keys), 'key')} to {written}", 5000)
        return written

    def copy_new_key(self) -> bool:
        if self._new_key is None:
            return False
        self.secret_clipboard.copy(self._new_key.secret)
        self._secret_copied = True
        seconds = self.secret_clipboard.clear_after_ms // 1000
        when = f" It will be cleared from the clipboard in {seconds} s." if seconds else ""
        self.new_key_panel.copy_feedback.flash()
        self.new_key_panel.set_status("Copied to the clipboard." + when)
        return True

    def save_new_key_csv(self, path: str | Path) -> Path | None:
        """Save the shown-once CSV (label, key, server URL, created) readable only by the owner."""
        if self._new_key is None:
            return None
        from ..core.csvio import new_secret_csv  # (on first use: not on the start-up path)

        text = new_secret_csv(self._new_key, self.server_url() or "")
        try:
            written = write_private_text(path, text)
        except OSError as exc:
            self.new_key_panel.set_status(f"Could not save {path}: {exc.strerror or exc}", ok=False)
            return None
        finally:
            del text
        self._secret_saved = True
        self.new_key_panel.set_status(f"Saved to {written} (readable only by you).")
        return written

    def dismiss_new_key(self) -> bool:
        """Close the shown-once panel; asks first when the secret was neither copied nor saved."""
        if self._new_key is None:
            self.new_key_panel.clear()
            return True
        if self.has_unsaved_secret() and not self.confirm(
            "Dismiss the new key?",
            "You have not copied or saved the new key. Once dismissed it can never be shown again.\n\n"
            "Dismiss anyway?",
            "Discard Key",
        ):
            return False
        self._forget_secret()
        focus_visibly(self.table)
        return True

    def discard_secret(self) -> None:
        """Forget the new key's secret without asking (sign-out, app quit)."""
        self._forget_secret()

    def request_review(self) -> None:
        """Ask the app to open CSV review (or open it here when nothing listens)."""
        handled = self._has_receivers("reviewRequested()")
        self.reviewRequested.emit()
        if not handled:
            try:
                from .review_window import CsvReviewWindow
            except ImportError:
                self.statusBar().showMessage("CSV review is not available in this build.", 4000)
                return
            self._review = CsvReviewWindow()
            self._review.show()

    def request_setup(self) -> None:
        """Ask the app to open client setup (or open it here when nothing listens)."""
        handled = self._has_receivers("setupRequested()")
        self.setupRequested.emit()
        if not handled:
            self._open_setup_dialog(None)

    # ======================================================================= hub calls
    # KeysSession runs them (gui/keys_session.py); here: what the window shows for each outcome.
    def _connect_session(self) -> None:
        session = self.session
        session.busyChanged.connect(lambda _busy: self._apply_busy())
        session.listBusyChanged.connect(lambda _busy: self._apply_busy())
        session.keyBusy.connect(self.model.set_busy)
        session.succeeded.connect(self._call_succeeded)
        session.listed.connect(self._listed)
        session.created.connect(self._created)
        session.createFailed.connect(lambda: self.create_form.set_busy(False))
        session.createRefused.connect(self._create_refused)
        session.renamed.connect(self._renamed)
        session.renameFailed.connect(self.model.revert_pending)
        session.renameRefused.connect(self._on_label_rejected)
        session.changed.connect(self._replaced)
        session.deleted.connect(self._deleted)
        session.keyGone.connect(self._gone)
        session.deleteRefused.connect(lambda message: self._show_save_status(message, ok=False))
        session.unseenKey.connect(self._show_unseen_key)
        session.failed.connect(self._show_failure)

    def _start_list(self) -> None:
        if self._client is None:  # a saved list on screen, no session yet: sign in first
            self.authenticationRequired.emit()
            return
        self.session.list()
        if not self._loaded:
            self._set_loading_text("Loading your keys…")

    def _mutated(self) -> None:
        """A change was made while a list may be in flight: re-list once it lands."""
        self.session.mutated()

    def _call_succeeded(self, name: str) -> None:
        if self._banner_action is not None and name != "list":
            self.error_banner.hide()

    def _listed(self, config: McpConfig, keys: list[McpKey]) -> None:
        self._apply_config(config)
        self.model.set_keys(keys, now=self.hub_now())
        if self._saved_list_shown:  # the hub's answer replaces the saved list: actions are back
            self._saved_list_shown = False
            self.create_button.setEnabled(True)
            self.statusBar().clearMessage()
        self._loaded = True
        self.error_banner.hide()
        self._banner_action = None
        self._apply_state()
        self.loaded.emit()

    def _create(self, label: str) -> None:
        if self.session.create_in_flight():
            return
        if self._new_key is not None:
            if self.has_unsaved_secret() and not self.confirm(
                "Replace the new key?",
                "You have not copied or saved the key shown above. Creating another key hides it for "
                "good.\n\nCreate anyway?",
                "Discard Key and Create",
            ):
                return
            self._forget_secret()
        if self.session.create(label, self.create_form.expiry_request(), retry=lambda: self._create(label)):
            self.create_form.set_busy(True)

    def _created(self, new_key: NewKey) -> None:
        self.create_form.set_busy(False)
        self.create_form.reset()
        self.create_form.hide()
        self.model.upsert_key(new_key.key)
        self._show_new_key(new_key)
        self._apply_state()
        self._select_key(new_key.key.id)
        self.statusBar().showMessage(f"Created “{new_key.key.label}”", 4000)

    def _create_refused(self, exc: HubError) -> None:
        if isinstance(exc, InvalidExpiry):
            self.create_form.show_expiry_error(exc.message)
            self.create_form.open()
        elif isinstance(exc, RateLimited):
            self.create_form.show_error(exc.message)  # the banner offers Retry
        else:  # InvalidLabel, KeyLimit
            self.create_form.show_error(exc.message)
            self.create_form.open()

    def _rename(self, key_id: str, label: str) -> None:
        self.session.rename(key_id, label, retry=lambda: self.rename_key(key_id, label))
        # setData marked the row busy for the pending label; the call's busy flag is released on finish.

    def _renamed(self, key: McpKey) -> None:
        self.model.upsert_key(key)
        self.model.set_save_state(key.id, "saved")
        token = self._saved_tokens.get(key.id, 0) + 1
        self._saved_tokens[key.id] = token
        QTimer.singleShot(SAVED_NOTICE_MS, self, lambda: self._expire_saved(key.id, token))
        self._show_save_status("Changes Saved", ok=True)

    def _deactivate(self, key_id: str) -> None:
        self.session.deactivate(key_id, retry=lambda: self.trigger_action_for_key(key_id, "deactivate"))

    def _reactivate(self, key_id: str) -> None:
        self.session.reactivate(key_id, retry=lambda: self.trigger_action_for_key(key_id, "reactivate"))

    def _delete(self, key_id: str) -> None:
        key = self.model.key_by_id(key_id)
        self.session.delete(key_id, key.label if key else key_id)

    def _deleted(self, key_id: str, label: str) -> None:
        if self._new_key is not None and self._new_key.key.id == key_id:
            self._forget_secret()  # the shown-once panel must not offer to copy or set up a deleted key
        self.model.remove_key(key_id)
        self._apply_state()
        self.statusBar().showMessage(f"Deleted “{label}”", 4000)

    def _replaced(self, key: McpKey, verb: str) -> None:
        self.model.upsert_key(key)
        self._mutated()
        self._apply_state()
        self.statusBar().showMessage(f"{verb} “{key.label}”", 4000)

    def _gone(self, key_id: str) -> None:
        """The hub no longer has the key; the session is listing again."""
        self.statusBar().showMessage(
            "That key no longer exists on the hub (deleted elsewhere?); the list was refreshed.", 6000
        )

    # ======================================================================= failures
    def _show_failure(self, exc: BaseException, retry: Callable[[], object]) -> None:
        hub = display_host(getattr(self._client, "base_url", "") or "")
        if isinstance(exc, AuthenticationError):
            self._pending_retry = retry
            self._banner_action = self.authenticationRequired.emit
            self.error_banner.show_error(
                "Your session has ended (signed out or expired). Sign in again to continue; "
                "what you were doing will be finished then.",
                "Sign in…",
            )
            self.authenticationRequired.emit()
            return
        message = failure_text(exc, hub)
        self._banner_action = retry
        self.error_banner.show_error(message, "Retry")
        if not self._loaded:
            self._set_loading_text("Couldn't load your keys.")

    def _show_unseen_key(self, exc: IdempotencyReplayUnavailable) -> None:
        """A retried create made a key whose secret the hub can no longer send: say so, list
        that key, and offer to deactivate it (the label stays in the form for a new create)."""
        key = exc.key
        if key is None:
            self._banner_action = None
            self.error_banner.show_error(exc.message, None)
            return
        self.model.upsert_key(key)
        self._mutated()
        self._apply_state()
        if not key.is_active:
            self._banner_action = None
            self.error_banner.show_error(
                f"Your earlier try already created “{key.label}” ({key.redacted}), but its answer was "
                "lost and its secret can't be shown again. That key is already deactivated: create a "
                "new key.", None)
            return
        # Deactivate is idempotent on the hub, and works before the refreshed list has the row.
        self._banner_action = lambda: self._deactivate(key.id)
        self.error_banner.show_error(
            f"Your earlier try already created “{key.label}” ({key.redacted}), but its answer was lost "
            "and the hub can no longer send the key (it restarted or too much time passed): its "
            "secret can't be shown again. Deactivate it so nobody can use it, then create a new key.",
            "Deactivate key",
        )

    def _on_banner_action(self) -> None:
        action, self._banner_action = self._banner_action, None
        self.error_banner.hide()
        if action is not None:
            action()

    def _on_label_rejected(self, key_id: str, message: str, text: str | None = None) -> None:
        """A refused label: back in the cell's editor with the typed text and the rule under it.

        Only a rename that did not come from the editor (``rename_key``) gets the
        message beside the filter instead.
        """
        typed = self.table.label_delegate.take_committed(key_id)
        text = typed if typed is not None else text
        if text is None:
            self._show_save_status(f"Label not changed: {message}", ok=False)
            return
        self.saveStatusShown.emit(f"Label not changed: {message}", False)
        # After the closing editor is gone (this may run inside its commit).
        QTimer.singleShot(0, self, lambda: self._reopen_label_editor(key_id, text, message))

    def _reopen_label_editor(self, key_id: str, text: str, message: str) -> None:
        index = self.table.index_for_key(key_id, Col.LABEL)
        if not index.isValid() or self.model.is_busy(key_id):
            self._show_save_status(f"Label not changed: {message}", ok=False)
            return
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        self.table.edit(index)
        editor = self.table.indexWidget(index) or self.table.findChild(QLineEdit, "labelEditor")
        if not isinstance(editor, QLineEdit):
            self._show_save_status(f"Label not changed: {message}", ok=False)
            return
        editor.setText(text)
        editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self.table.label_delegate.show_problem(editor, message)

    # ======================================================================= secret handling
    def _show_new_key(self, new_key: NewKey) -> None:
        self._new_key = new_key
        self._secret_copied = False
        self._secret_saved = False
        self.new_key_panel.show_secret(new_key.key.label, new_key.secret)

    def _forget_secret(self) -> None:
        """Drop the secret from every widget and attribute we hold."""
        self._new_key = None
        self._secret_copied = False
        self._secret_saved = False
        self.new_key_panel.clear()
        self.hygiene.forget_secret()
        dialog, self._secret_setup_dialog = self._secret_setup_dialog, None
        if dialog is not None and shiboken6.isValid(dialog):
            dialog.close()  # it was given the secret: it goes with it (WA_DeleteOnClose)

    def _ask_and_save_new_key(self) -> None:
        if self._new_key is None:
            return
        suggested = f"mcp-key-{_slug(self._new_key.key.label)}.csv"
        path = self.ask_save_path("Save the new MCP key", suggested)
        if path:
            self.save_new_key_csv(path)

    def _setup_with_new_key(self) -> None:
        self._open_setup_dialog(self._new_key.secret if self._new_key else None)

    def _open_setup_dialog(self, secret: str | None) -> None:
        try:
            from .setup_dialog import SetupDialog
        except ImportError:
            self.statusBar().showMessage("Client setup is not available in this build.", 4000)
            return
        dialog = SetupDialog(self.server_url() or "", secret, parent=self,
                             allow_insecure_http=bool(getattr(self._client, "allow_insecure_http", False)))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if secret is not None:
            previous, self._secret_setup_dialog = self._secret_setup_dialog, dialog
            if previous is not None and shiboken6.isValid(previous):
                previous.close()
        dialog.show()

    def _on_clipboard_cleared(self) -> None:
        if self._new_key is not None:
            self.new_key_panel.set_status("The clipboard was cleared.")
        self.statusBar().showMessage("The copied key was cleared from the clipboard.", 4000)

    # ======================================================================= view state
    def _apply_config(self, config: McpConfig) -> None:
        changed = self._config is None or self._config.server_url != config.server_url
        self._config = config
        self.server_panel.set_server_url(config.server_url)
        self.create_form.set_policy(config.key_policy)
        self.model.set_rotation_supported(config.key_policy is not None)
        if changed:
            self.serverUrlChanged.emit(config.server_url)

    def _apply_state(self) -> None:
        count = self.model.total_count()
        has_keys = count > 0
        self.server_panel.setVisible(self._loaded and has_keys)
        exportable = has_keys and not self._saved_list_shown  # a saved list is not what the hub holds
        self.download_button.setEnabled(exportable)
        self.download_action.setEnabled(exportable)
        self.docs_button.setEnabled(self._config is not None)
        self.docs_action.setEnabled(self._config is not None)
        empty = self._loaded and not has_keys
        # One Create Key at a time: the empty state's own button replaces the header's.
        focus_lost = (self.create_button.hasFocus() or self.table.hasFocus()) and empty
        self.create_button.setVisible(not empty)
        if not self._loaded and not self._saved_list_shown:
            self.stack.setCurrentIndex(PAGE_LOADING)
        else:
            self.stack.setCurrentIndex(PAGE_TABLE if has_keys else PAGE_EMPTY)
        focus = QApplication.focusWidget()
        if empty and self.empty_page.button is not None and (
            focus_lost or focus is None or focus is self.table or not focus.isVisible()
        ) and self.isActiveWindow():
            focus_visibly(self.empty_page.button)
        self.filter_bar.setVisible(has_keys)
        self._update_counts()
        self._update_expiry_banner()
        if count != self._count:
            self._count = count
            self.keysChanged.emit(count)

    def _apply_busy(self) -> None:
        busy = self.session.is_busy()
        if busy != self.busy_bar.isVisible():
            self.busy_bar.setVisible(busy)
            self.busyChanged.emit(busy)
        listing = self.session.list_in_flight()
        self.refresh_action.setEnabled(not listing)
        set_enabled_keeping_focus(self.refresh_button, not listing)

    def _update_counts(self, *_args: object) -> None:
        total = self.model.total_count()
        shown = self.model.rowCount()
        if not self._loaded:
            text = ""
        elif self.model.filter_text() and shown != total:
            text = f"{shown} of {total} keys match"
        else:
            text = f"{total} key" + ("" if total == 1 else "s")
        self.count_label.setText(text)
        needle = self.filter_input.text().strip()
        hint = (f"No keys match “{needle}”.\nSearch looks at the label, the key preview and the status "
                "(“expired” and “expiring” find keys by expiry); press Esc to clear the filter.")
        self.table.set_empty_text(hint if needle and total and not shown else "")

    def _update_expiry_banner(self) -> None:
        expiring, expired = self.model.expiry_counts() if self._loaded else (0, 0)
        self.expiry_banner.set_counts(expiring, expired)

    def _filter_to(self, word: str) -> None:
        self.filter_input.setText(word)
        focus_visibly(self.table)

    def _update_account_label(self) -> None:
        hub = display_host(getattr(self._client, "base_url", "") or "")
        who = f"Signed in as {self._account_text}" if self._account_text else "Signed in"
        self.account_label.setText(f"{who} · {hub}" if hub else who)

    def _set_loading_text(self, text: str) -> None:
        self.loading_page.set_title(text)

    def _on_filter_changed(self, text: str) -> None:
        current = self.table.current_key_id()
        self.model.set_filter(text)
        if current is not None:  # the reset dropped the current row: keep it if still shown
            index = self.index_for_key(current, max(0, self.table.currentIndex().column()))
            if index.isValid():
                self.table.setCurrentIndex(index)
        self._update_counts()

    def _show_save_status(self, text: str, ok: bool) -> None:
        self.save_status.show_status(text, ok)
        self.saveStatusShown.emit(text, ok)

    def save_status_text(self) -> str:
        return self.save_status.text()

    def _expire_saved(self, key_id: str, token: int) -> None:
        if self._saved_tokens.get(key_id) == token:
            self._saved_tokens.pop(key_id, None)
            if self.model.save_state(key_id) == "saved":
                self.model.set_save_state(key_id, None)

    def _table_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        key = self.model.key_at(index.row())
        menu = QMenu(self)
        rename = menu.addAction("Rename")
        rename.triggered.connect(lambda: self.table.edit(self.model.index(index.row(), Col.LABEL)))
        if key.is_active:
            menu.addAction("Deactivate").triggered.connect(
                lambda: self.trigger_action_for_key(key.id, "deactivate"))
            if key.replaced_by is None and self.key_policy() is not None:
                rotate = menu.addAction("Rotate…")
                rotate.setObjectName("rotateKeyAction")
                rotate.triggered.connect(lambda: self.trigger_action_for_key(key.id, "rotate"))
        else:
            if key.status is KeyStatus.DEACTIVATED:
                menu.addAction("Reactivate").triggered.connect(
                    lambda: self.trigger_action_for_key(key.id, "reactivate"))
            menu.addAction("Delete…").triggered.connect(lambda: self.trigger_action_for_key(key.id, "delete"))
        if key.status is not KeyStatus.DEACTIVATED and self.key_policy() is not None:
            extend = "Renew (change expiry)…" if key.status is KeyStatus.EXPIRED else "Change expiry…"
            menu.addAction(extend).triggered.connect(lambda: self.hygiene.open_change_expiry(key.id))
        menu.addSeparator()
        menu.addAction("Where is this key used?").triggered.connect(
            lambda: self.hygiene.open_usage_map(key.id))
        menu.addAction("Activity…").triggered.connect(lambda: self.hygiene.open_activity(key.id))
        for act in menu.actions():
            act.setEnabled(not self.model.is_busy(key.id))
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def _has_receivers(self, signature: str) -> bool:
        meta = self.metaObject()
        method = meta.method(meta.indexOfSignal(signature))
        return self.isSignalConnected(method) if isinstance(method, QMetaMethod) else False

    def _select_key(self, key_id: str) -> None:
        """Make a key's row current and selected, and scroll it into view (e.g. a new key)."""
        index = self.index_for_key(key_id, Col.LABEL)
        if not index.isValid():
            return
        self.table.setCurrentIndex(index)
        self._root_layout.activate()  # panels just shown or hidden: scroll in the table's final size
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)

    def index_for_key(self, key_id: str, column: int = 0) -> QModelIndex:
        """The view index of a key's cell (invalid when filtered out)."""
        row = self.model.row_of(key_id)
        if row is None:
            return QModelIndex()
        return self.model.index(row, column)

    # ======================================================================= Qt events
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        name_popup_lists(self)
        if not self._loaded and not self.session.list_in_flight() and self._client is not None:
            self._start_list()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.filter_input
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Escape
            and self.filter_input.text()
        ):
            self.filter_input.clear()
            return True
        return super().eventFilter(watched, event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.has_unsaved_secret() and not self.confirm(
            "Close and lose the new key?",
            "You have not copied or saved the new key. Once this window closes it can never be shown "
            "again.\n\nClose anyway?",
            "Discard Key and Close",
        ):
            event.ignore()
            return
        self._forget_secret()
        self.hygiene.close_all()
        self.create_form.cancel()
        event.accept()
        super().closeEvent(event)
        self.closed.emit()
