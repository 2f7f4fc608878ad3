"""AppController: ties the Manage MCP Keys window, sign-in, tray, settings and other windows together.

Why one object: the tray, the single-instance listener and the windows all
ask the same questions (who is signed in? what is the server URL? open the
manager) and must get one answer. The controller owns the session (a
HubClient holding the token in memory; the keyring copy is only for the next
start), decides what closing a window means (hide to the tray, or quit when
there is no tray), and brings sign-in back when the hub answers 401.

Two modes:
- remote: a real hub; the token comes from the OS keyring (per hub URL and
  email) or from the sign-in dialog.
- local (``--local``): the embedded hub (``LocalHub``); signing in mints a
  session straight from the hub's store, no dialog, no keyring.

Every keyring and hub call runs off the GUI thread (``workers.run_in_pool``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ..api.errors import HubError, KeyringUnavailable
from ..core.models import McpKey
from ..core.net import display_host, validate_hub_url
from . import startup
from .ask import ask_yes_cancel
from .settings import LOCAL, REMOTE, AppSettings
from .workers import run_in_pool

if TYPE_CHECKING:
    # requests and keyring load when first needed (the keyring on the worker that reads the
    # token, requests when the session's client is made): a start with a saved key list paints
    # it before either (docs/performance.md, tests/gui/test_startup_imports.py).
    from ..api.client import HubClient
    from ..api.credentials import CredentialStore
    from ..hub.local import LocalHub
    from .manage_window import ManageKeysWindow
    from .reminders import ExpiryReminders, Reminder
    from .signin_dialog import SignInDialog
    from .tray import Tray

SESSION_ENDED = "Your session has ended (signed out or expired). Sign in again to continue."


class AppController(QObject):
    """The app's single point of truth about the session and its windows."""

    signedInChanged = Signal(bool)
    serverUrlChanged = Signal(str)
    windowCreated = Signal(object)  # the new ManageKeysWindow (tests, self-test)
    signInFinished = Signal(bool)  # a sign-in flow ended: True signed in, False cancelled

    def __init__(
        self,
        settings: AppSettings,
        *,
        credentials: CredentialStore | None = None,
        hub_url: str | None = None,
        allow_insecure_http: bool | None = None,
        local: LocalHub | None = None,
        use_tray: bool | None = None,
        client_timeout: float = 10.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self._credentials = credentials
        self._credentials_lock = threading.Lock()
        self.local = local
        self.mode = LOCAL if local is not None else REMOTE
        self.client_timeout = client_timeout
        self._hub_override = hub_url
        self._allow_insecure_override = allow_insecure_http
        self._use_tray = use_tray
        self.client: HubClient | None = None
        self.email = ""
        self.remembered = False
        self.window: ManageKeysWindow | None = None
        self._saved_list_owner: object = None  # the cache file whose list the window shows unconfirmed
        self._session_generation = 0  # bumped by every sign-out (a save in flight then is dropped)
        self.tray: Tray | None = None
        self.reminders: ExpiryReminders | None = None  # expiry reminders, with the tray
        self.sign_in_dialog: SignInDialog | None = None
        self._after_sign_in: list[Callable[[], None]] = []
        self._reauth_window = False
        self._reauth_email = ""
        self._other_windows: list[QWidget] = []
        self._quitting = False
        # Questions the controller asks (tests replace it): (title, text, action button) -> yes?
        self.confirm: Callable[[str, str, str], bool] = self._default_confirm
        self.last_sign_out_job: object | None = None
        # How the event loop is ended (tests replace it: quitting pytest-qt's app would end their loops).
        self.quit_app: Callable[[], None] = QApplication.quit

    def __repr__(self) -> str:
        return f"AppController(mode={self.mode!r}, signed_in={self.signed_in})"

    # ======================================================================= state
    @property
    def signed_in(self) -> bool:
        return self.client is not None and self.client.token is not None

    @property
    def hub_url(self) -> str:
        """The hub this app talks to (normalised), or '' when not configured yet."""
        if self.local is not None and self.local.hub is not None:
            return self.local.url
        if self.client is not None:
            return self.client.base_url
        raw = self._hub_override or self.settings.hub_url
        if not raw:
            return ""
        try:
            return validate_hub_url(raw, allow_insecure_http=True)
        except ValueError:
            return raw

    @property
    def allow_insecure_http(self) -> bool:
        if self._allow_insecure_override is not None:
            return self._allow_insecure_override
        return self.settings.allow_insecure_http

    def account_text(self) -> str:
        """``email on host`` of the signed-in account ('' when signed out)."""
        if not self.signed_in:
            return ""
        where = "local hub" if self.mode == LOCAL else display_host(self.hub_url)
        return f"{self.email} on {where}"

    def hub_text(self) -> str:
        """The hub this instance is for, as people read it ("hub.example.org", "local hub"; '' if none)."""
        if self.mode == LOCAL:
            return "local hub"
        hub = self.hub_url
        return display_host(hub) if hub else ""

    def cached_server_url(self) -> str | None:
        """The MCP server URL last seen from the hub (offline; from the settings file)."""
        if self.mode == LOCAL:
            return self.settings.cached_server_url()
        hub = self.hub_url
        return self.settings.cached_server_url(hub or None)

    # ======================================================================= start
    def start(self, *, new_key: bool = False) -> None:
        """Show the tray (when there is one) and the manager, signing in first when needed.

        In remote mode the token for the last account is read from the keyring
        first (off-thread); ``new_key`` opens the create form once the window shows.
        """
        self.setup_tray()
        first = self.open_create_form if new_key else self.show_manager
        if self.mode == LOCAL:
            first()
            startup.finish()
            return
        hub, email = self.hub_url, self.settings.email
        if hub and email and hub == self._settings_hub():

            def restore() -> None:
                startup.finish()
                job = run_in_pool(lambda: self.credentials.load(hub, email), name="keyring load")
                job.succeeded.connect(lambda token: self._restored(hub, email, token, first))
                job.failed.connect(lambda _exc: self._restored(hub, email, None, first))

            if self._show_saved_list(hub, email) and self.window is not None:
                # The keyring's import on a worker would take the GIL from the first paint. (The
                # window, not the table's viewport: Qt paints both in one pass, and asking for the
                # viewport makes PySide create ~40 widget classes' enums first, ~4 ms.)
                startup.after_first_paint(self.window, restore)
            else:
                restore()
        else:
            first()
            startup.finish()

    def _show_saved_list(self, hub: str, email: str) -> bool:
        """Paint this account's last key list at once (core.key_list_cache), marked as being
        refreshed, while the keyring and the hub are asked; False when none was saved."""
        from ..core import key_list_cache

        saved = key_list_cache.load(hub, email)
        if saved is None or self.window is not None:
            return False
        self._create_window(None, account_text=email)
        assert self.window is not None
        self._saved_list_owner = key_list_cache.cache_path(hub, email)
        self.window.show_saved_list(saved.keys, saved.saved_at)
        self.window.show()
        return True

    def _save_list(self, window: ManageKeysWindow) -> None:
        """Keep the hub's list for the next start (off the GUI thread: it can be 10,000 keys)."""
        from ..core import key_list_cache

        client, email = self.client, self.email
        if self.mode != REMOTE or client is None or not email or window is not self.window:
            return
        hub, keys, generation = client.base_url, window.model.keys(), self._session_generation

        def save() -> None:
            key_list_cache.save(hub, email, keys)
            if generation != self._session_generation:  # signed out meanwhile: not kept
                key_list_cache.clear(hub, email)

        job = run_in_pool(save, name="save key list")
        job.failed.connect(lambda _exc: None)  # only a faster next start is lost

    def _settings_hub(self) -> str:
        raw = self.settings.hub_url
        try:
            return validate_hub_url(raw, allow_insecure_http=True) if raw else ""
        except ValueError:
            return ""

    @property
    def credentials(self) -> CredentialStore:
        """The keyring store, made on first use (importing keyring costs ~60-80 ms: not before
        the first paint; the start reads the token on a worker, which makes it there)."""
        with self._credentials_lock:
            if self._credentials is None:
                from ..api.credentials import CredentialStore

                self._credentials = CredentialStore()
            return self._credentials

    def _restored(self, hub: str, email: str, token: str | None, then: Callable[[], None]) -> None:
        from ..api.client import HubClient

        if token:
            try:
                client = HubClient(hub, token, timeout=self.client_timeout,
                                   allow_insecure_http=self.allow_insecure_http)
            except (ValueError, HubError):
                client = None
            if client is not None:
                self._set_session(client, email, remembered=True)
        then()  # signs in first when the token was missing; a stale one gets 401 -> sign-in

    def setup_tray(self) -> None:
        """Show the tray icon where a tray exists (or always, with use_tray=True) and set the quit policy."""
        from .tray import Tray

        want = self._use_tray if self._use_tray is not None else Tray.available()
        app = QApplication.instance()
        if want and self.tray is None:
            self.tray = Tray(self, self)
            self.signedInChanged.connect(lambda _s: self._rebuild_tray_menu())
            if not self.tray.show() and self._use_tray is None:
                self.tray = None
            else:
                self.tray.messageClicked.connect(self._tray_message_clicked)
                self._start_reminders()
        if isinstance(app, QApplication):
            # With a tray, closing the window keeps the app there; without one the window is the app.
            app.setQuitOnLastWindowClosed(self.tray is None)

    # ======================================================================= expiry reminders
    def _start_reminders(self) -> None:
        """Reminders live with the tray: they need somewhere to appear (see gui.reminders)."""
        from .reminders import STATE_FILE, ExpiryReminders, ReminderStore

        if self.reminders is not None:
            return
        store = ReminderStore(self.settings.path.parent / STATE_FILE)
        self.reminders = ExpiryReminders(store, self.hub_now, thresholds=self.settings.reminder_days,
                                         parent=self)
        self.reminders.reminderDue.connect(self._remind)
        self.reminders.timer.timeout.connect(self._refresh_reminder_keys)
        # Signed in without the window ever showing (a start in the tray): check right away, not in 15 min.
        self.signedInChanged.connect(self._check_reminders_on_sign_in)

    def _check_reminders_on_sign_in(self, signed_in: bool) -> None:
        if signed_in:
            self._refresh_reminder_keys()

    def hub_now(self) -> datetime:
        """The hub's time (from its last answer), this computer's clock before any answer."""
        client = self.client
        return client.hub_now() if client is not None else datetime.now(UTC).replace(microsecond=0)

    def _rebuild_tray_menu(self) -> None:
        if self.tray is not None:
            self.tray.rebuild_menu()

    def _give_reminders_keys(self, hub: str, keys: list[McpKey]) -> None:
        if self.reminders is not None:
            self.reminders.set_keys(hub, keys)

    def _reminder_hub(self) -> str:
        # The local hub's port changes between runs; its keys live in one database all the same.
        return "local" if self.mode == LOCAL else self.hub_url

    def _keys_loaded(self, window: ManageKeysWindow) -> None:
        self._save_list(window)
        if self.reminders is not None and window is self.window:
            self.reminders.set_keys(self._reminder_hub(), window.model.keys())

    def _refresh_reminder_keys(self) -> None:
        """Every check interval: a fresh key list (off-thread), so renewals elsewhere count."""
        client = self.client
        if self.reminders is None or client is None or not self.signed_in:
            return
        hub = self._reminder_hub()
        job = run_in_pool(client.list_keys, name="reminder list")
        job.succeeded.connect(lambda keys: self._give_reminders_keys(hub, keys))
        job.failed.connect(lambda _exc: None)  # the next check tries again; the window shows hub errors

    def _remind(self, reminder: Reminder) -> None:
        if self.tray is not None:
            self.tray.notify(reminder.title, reminder.text, ms=10_000, tag=reminder.key_id)

    def _tray_message_clicked(self, tag: str) -> None:
        if tag:
            self.open_rotation(tag)

    def open_rotation(self, key_id: str) -> None:
        """The manager with ``key_id`` selected and its Rotate dialog open (a reminder was clicked)."""

        def go() -> None:
            self._show_window()
            window = self.window
            if window is None:
                return
            if window.is_loaded():
                window.open_rotate_dialog(key_id)
                return

            def once() -> None:
                window.loaded.disconnect(once)
                window.open_rotate_dialog(key_id)

            window.loaded.connect(once)

        self.ensure_signed_in(go)

    # ======================================================================= session
    def _set_session(self, client: HubClient, email: str, *, remembered: bool) -> None:
        from ..core import key_list_cache

        window = self.window
        if (window is not None and window.is_showing_saved_list()
                and self._saved_list_owner != key_list_cache.cache_path(client.base_url, email)):
            self._close_window()  # another hub or account: never show it someone else's saved list
        self.client = client
        self.email = email
        self.remembered = remembered
        if self.mode == REMOTE:
            self.settings.remember_account(
                client.base_url, email,
                bool(self.allow_insecure_http and urlsplit(client.base_url).scheme == "http"))
        if self.window is not None:
            self.window.set_client(client)
            self.window.set_account_text(self.email)
        self.signedInChanged.emit(True)

    def ensure_signed_in(self, then: Callable[[], None] | None = None, *, message: str = "") -> None:
        """Run ``then`` once signed in (at once if already); shows sign-in when needed."""
        if self.signed_in:
            if then is not None:
                then()
            return
        if then is not None:
            self._after_sign_in.append(then)
        if self.mode == LOCAL:
            self._local_sign_in()
            return
        self._show_sign_in(message)

    def _local_sign_in(self) -> None:
        assert self.local is not None
        from ..api.client import HubClient

        try:
            client = HubClient(self.local.url, self.local.new_token(), timeout=self.client_timeout)
        except Exception as exc:  # the embedded hub is gone: say so rather than crash
            self._after_sign_in.clear()
            self._reauth_window = False
            self._tell("Local hub unavailable", f"The local hub is not running ({exc}). Restart the app.",
                       modal_fallback=True)
            self.signInFinished.emit(False)
            return
        self._set_session(client, self.local.email, remembered=False)
        self._signed_in_now()

    def _show_sign_in(self, message: str = "") -> None:
        from .signin_dialog import SignInDialog

        if self.sign_in_dialog is not None:
            self.sign_in_dialog.show()
            _bring_forward(self.sign_in_dialog)
            return
        parent = self.window if self.window is not None and self.window.isVisible() else None
        dialog = SignInDialog(
            hub_url=self.hub_url, email=self.email or self.settings.email,
            allow_insecure_http=self.allow_insecure_http, credentials=self.credentials, message=message,
            client_timeout=self.client_timeout, parent=parent,
        )
        self.sign_in_dialog = dialog
        app = QApplication.instance()
        if isinstance(app, QApplication):
            # The dialog closing must not count as "last window closed" before the manager shows.
            app.setQuitOnLastWindowClosed(False)
        dialog.finished.connect(lambda result: self._sign_in_finished(dialog, result))
        dialog.show()
        _bring_forward(dialog)

    def _sign_in_finished(self, dialog: SignInDialog, result: int) -> None:
        if self.sign_in_dialog is dialog:
            self.sign_in_dialog = None
        dialog.deleteLater()
        accepted = result == int(dialog.DialogCode.Accepted) and dialog.client is not None
        if accepted:
            assert dialog.client is not None
            self._allow_insecure_override = dialog.allowInsecureCheck.isChecked()
            self._set_session(dialog.client, dialog.email, remembered=dialog.remembered)
            self._signed_in_now()
        else:
            self._after_sign_in.clear()
            self._reauth_window = False
            self.signInFinished.emit(False)
        self._restore_quit_policy()
        if not accepted and self.tray is None and not self._any_window_visible():
            self.quit()  # nothing left on screen and no tray: the user chose to leave

    def _signed_in_now(self) -> None:
        if self._reauth_window and self.window is not None:
            self._reauth_window = False
            if self.email.lower() == self._reauth_email.lower():
                self.window.retry_after_sign_in()
            else:
                # Another account now: what the old one was doing must not run as this one.
                self.window.discard_secret()
                self.window.refresh()
        pending, self._after_sign_in = self._after_sign_in, []
        for action in pending:
            action()
        self.signInFinished.emit(True)

    def _restore_quit_policy(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setQuitOnLastWindowClosed(self.tray is None)

    def _authentication_required(self) -> None:
        """The window got a 401: sign in again (pre-filled), then let it retry what failed."""
        window = self.window
        if window is None:
            return
        stale = self.client
        if stale is not None and stale.token is not None and self.mode == REMOTE:
            hub, email = stale.base_url, self.email
            job = run_in_pool(_forget_token, self.credentials, hub, email, name="forget stale token")
            job.failed.connect(lambda _exc: None)
        self.client = None
        self.signedInChanged.emit(False)
        self._reauth_window = True
        self._reauth_email = self.email
        if self.mode == LOCAL:
            self._local_sign_in()
            return
        if self.sign_in_dialog is None:
            self._show_sign_in(SESSION_ENDED)

    def sign_out(self) -> None:
        """Forget the session: keyring entry removed, token revoked on the hub (best effort)."""
        window = self.window
        if window is not None and window.has_unsaved_secret() and not self.confirm(
            "Sign out and lose the new key?",
            "You have not copied or saved the new key. After signing out it can never be shown again.\n\n"
            "Sign out anyway?",
            "Discard Key and Sign Out",
        ):
            return
        client, email = self.client, self.email
        self._drop_session()
        if client is not None:
            forget = self.mode == REMOTE and bool(email)
            job = run_in_pool(_sign_out, client, self.credentials if forget else None, email, name="sign out")
            job.failed.connect(lambda _exc: None)
            self.last_sign_out_job = job
        self._signed_out("Signed out", "Your session was removed from this computer.")

    def sign_out_everywhere(self) -> None:
        """Ask the hub to end every session of this account (all computers, the app, the CLI),
        then sign out here. Nothing changes locally unless the hub confirmed it."""
        client, email = self.client, self.email
        if client is None or client.token is None:
            return
        where = "the local hub" if self.mode == LOCAL else display_host(client.base_url)
        text = (f"This ends every session of {email or 'this account'} on {where}: this app on every "
                "computer, the phhub-keys command line and any script that signed in. Each of them has "
                "to sign in again, this app too. Your MCP keys keep working.")
        window = self.window
        if window is not None and window.has_unsaved_secret():
            text += ("\n\nYou have not copied or saved the new key shown in the window; after signing "
                     "out it can never be shown again.")
        if not self.confirm("Sign out everywhere?", text, "Sign Out Everywhere"):
            return
        if window is not None:
            window.statusBar().showMessage("Signing out everywhere…")
        job = run_in_pool(client.logout_all, name="sign out everywhere")
        job.succeeded.connect(lambda revoked: self._signed_out_everywhere(client, email, revoked))
        job.failed.connect(lambda exc: self._sign_out_everywhere_failed(client, exc))
        self.last_sign_out_job = job

    def _signed_out_everywhere(self, client: HubClient, email: str, revoked: int) -> None:
        if self.client is not client:
            return  # signed out or in again meanwhile: the hub did its part, nothing to undo here
        self._drop_session()
        if self.mode == REMOTE and email:
            job = run_in_pool(_forget_token, self.credentials, client.base_url, email, name="forget token")
            job.failed.connect(lambda _exc: None)
        sessions = f"{revoked} session{'s' if revoked != 1 else ''}"
        self._signed_out("Signed out everywhere",
                         f"The hub ended {sessions} of {email or 'this account'}; every computer, the app "
                         "and the command line must sign in again.")

    def _sign_out_everywhere_failed(self, client: HubClient, exc: BaseException) -> None:
        from ..api.errors import AuthenticationError

        if self.window is not None:
            self.window.statusBar().clearMessage()
        if isinstance(exc, AuthenticationError):
            text = ("Your session here had already ended, so nothing could be signed out. Sign in again, "
                    "then choose Sign Out Everywhere.")
        else:
            detail = exc.message if isinstance(exc, HubError) else type(exc).__name__
            text = f"Could not sign out everywhere: {detail} You are still signed in; try again."
        self._tell("Not signed out everywhere", text, modal_fallback=True)
        if isinstance(exc, AuthenticationError) and self.client is client:
            self._authentication_required()

    def _drop_session(self) -> None:
        from ..core import key_list_cache

        hub = self.client.base_url if self.client is not None else self.hub_url
        email = self.email or self.settings.email
        self._session_generation += 1
        if self.mode == REMOTE and hub and email:
            key_list_cache.clear(hub, email)  # signing out forgets the saved list
        self.client = None
        self.remembered = False
        self._close_window()

    def _signed_out(self, title: str, text: str) -> None:
        self.signedInChanged.emit(False)
        if self.tray is not None:
            self.tray.notify(title, text)
        else:
            self.show_manager()  # no tray: the sign-in dialog is the app now

    # ======================================================================= windows
    def show_manager(self) -> None:
        """Show (and raise) the Manage MCP Keys window, signing in first when needed."""
        self.ensure_signed_in(self._show_window)

    def open_create_form(self) -> None:
        """The manager with its create form open (tray "New Key…")."""

        def show_form() -> None:
            self._show_window()
            if self.window is not None:
                self.window.open_create_form()

        self.ensure_signed_in(show_form)

    def _show_window(self) -> None:
        if self.client is None:
            return
        if self.window is None:
            self._create_window(self.client)
        window = self.window
        assert window is not None
        if window.isMinimized():
            window.showNormal()
        window.show()
        _bring_forward(window)

    def _create_window(self, client: HubClient | None, account_text: str | None = None) -> None:
        from .manage_window import ManageKeysWindow

        window = ManageKeysWindow(client, account_text=self.email if account_text is None else account_text)
        geometry = self.settings.window_geometry()
        if geometry is not None:
            window.restoreGeometry(geometry)
        window.authenticationRequired.connect(self._authentication_required)
        window.serverUrlChanged.connect(self._server_url_seen)
        window.reviewRequested.connect(lambda: self.open_review(()))
        window.closed.connect(self._window_closed)
        window.quitRequested.connect(self.quit)
        window.signOutRequested.connect(self.sign_out)
        window.signOutEverywhereRequested.connect(self.sign_out_everywhere)
        window.loaded.connect(lambda: self._keys_loaded(window))
        self.window = window
        self.windowCreated.emit(window)

    def _close_window(self) -> None:
        window, self.window = self.window, None
        if window is None:
            return
        self.settings.set_window_geometry(window.saveGeometry())
        window.discard_secret()
        with contextlib.suppress(RuntimeError):
            window.closed.disconnect(self._window_closed)
        window.hide()
        window.deleteLater()

    def _window_closed(self) -> None:
        window = self.window
        if window is not None:
            self.settings.set_window_geometry(window.saveGeometry())
        if self._quitting or self.tray is None:
            return  # without a tray, Qt's quit-on-last-window-closed ends the app
        if not self.settings.tray_hint_shown:
            self.settings.tray_hint_shown = True
            self.tray.notify(
                "MCP Keys is still running",
                "Click the tray icon to copy the MCP server URL; right-click it for keys, review and Quit.",
            )

    def _server_url_seen(self, url: str) -> None:
        if not url:
            return
        self.settings.set_cached_server_url(url, "" if self.mode == LOCAL else self.hub_url)
        self.serverUrlChanged.emit(url)

    def open_review(self, paths: Sequence[str] = ()) -> QWidget | None:
        """Open the offline CSV review window (no network, no sign-in needed).

        One path reviews that file, two compare them (older first); more open
        one window per file. An open review window is reused for the first (or
        only) file(s), so ``phhub-keys review FILE`` never piles up windows.
        Returns the (last) window shown.
        """
        try:
            from .review_window import CsvReviewWindow
        except ImportError:
            self._tell("CSV review is not available", "This build has no CSV review window.")
            return None
        names = [str(p) for p in paths]
        groups = [names] if len(names) <= 2 else [[name] for name in names]
        window: QWidget | None = None
        open_reviews = [w for w in self.other_windows() if isinstance(w, CsvReviewWindow) and w.isVisible()]
        for number, group in enumerate(groups):
            if number == 0 and open_reviews:
                review = open_reviews[-1]
            else:
                review = CsvReviewWindow()
                review.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
            if group:
                review.open_paths(group)
            self._other_windows = [w for w in self._other_windows if _alive(w) and w is not review] + [review]
            if review.isMinimized():
                review.showNormal()
            review.show()
            _bring_forward(review)
            window = review
        return window

    def open_setup(self, secret: str | None = None) -> QWidget | None:
        """The "Set up & integrate" dialog for this hub's server URL (works offline from the cache)."""
        try:
            from .setup_dialog import SetupDialog
        except ImportError:
            self._tell("Client setup is not available", "This build has no client setup dialog.")
            return None
        live = self.window.server_url() if self.window is not None else None
        url = live or self.cached_server_url() or ""
        dialog = SetupDialog(url, secret, allow_insecure_http=self.allow_insecure_http)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self._other_windows = [w for w in self._other_windows if _alive(w)] + [dialog]
        dialog.show()
        _bring_forward(dialog)
        return dialog

    def other_windows(self) -> list[QWidget]:
        """Open review windows and setup dialogs (oldest first)."""
        self._other_windows = [w for w in self._other_windows if _alive(w)]
        return list(self._other_windows)

    def handle_message(self, argv: list[str]) -> None:
        """A second launch forwarded its arguments: bring this instance forward or do what they ask."""
        if argv[:1] == ["review"]:
            self.open_review([a for a in argv[1:] if not a.startswith("-")])
        elif "--new-key" in argv:
            self.open_create_form()
        else:
            self.show_manager()

    # ======================================================================= quit
    def quit(self) -> None:
        """Leave the app (asks first when a new key's secret would be lost)."""
        window = self.window
        if window is not None and window.has_unsaved_secret() and not self.confirm(
            "Quit and lose the new key?",
            "You have not copied or saved the new key. After quitting it can never be shown again.\n\n"
            "Quit anyway?",
            "Discard Key and Quit",
        ):
            return
        self._quitting = True
        if window is not None:
            self.settings.set_window_geometry(window.saveGeometry())
            window.discard_secret()
        if self.sign_in_dialog is not None:
            self.sign_in_dialog.reject()
        if self.tray is not None:
            self.tray.hide()
        QTimer.singleShot(0, self.quit_app)

    def shutdown(self) -> None:
        """After the event loop: close windows and stop the local hub (called by app.main)."""
        self._close_window()
        for window in self._other_windows:
            if _alive(window):
                window.close()
        if self.local is not None:
            self.local.stop()

    # ======================================================================= helpers
    def _any_window_visible(self) -> bool:
        return any(w.isVisible() and w.isWindow() for w in QApplication.topLevelWidgets())

    def _tell(self, title: str, text: str, *, modal_fallback: bool = False) -> None:
        """Tell the user something without blocking: tray message, else status bar, else a message box."""
        if self.tray is not None:
            self.tray.notify(title, text)
        elif self.window is not None and self.window.isVisible():
            self.window.statusBar().showMessage(text, 8000)
        elif modal_fallback:
            box = QMessageBox(QMessageBox.Icon.Critical, title, text)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()  # not exec(): the event loop (and any waiting test) keeps running

    def _default_confirm(self, title: str, text: str, action: str) -> bool:
        return ask_yes_cancel(self.window, title, text, yes_text=action)


def _bring_forward(widget: QWidget) -> None:
    """Raise and activate, where the platform has windows to raise (not offscreen/minimal)."""
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return
    widget.raise_()
    widget.activateWindow()


def _alive(widget: QWidget) -> bool:
    import shiboken6

    return shiboken6.isValid(widget)


def _forget_token(credentials: CredentialStore, hub: str, email: str) -> None:
    with contextlib.suppress(KeyringUnavailable, ValueError):
        credentials.delete(hub, email)


def _sign_out(client: HubClient, credentials: CredentialStore | None, email: str) -> None:
    """Worker: drop the keyring entry first (instant), then revoke on the hub (may be slow or down)."""
    if credentials is not None:
        _forget_token(credentials, client.base_url, email)
    with contextlib.suppress(HubError):
        client.logout()
    client.token = None
