"""The sign-in dialog: hub address, email, password -> a signed-in HubClient.

Why it is built this way:
- The hub call (and the keyring write, which may wait on a D-Bus unlock
  prompt) run on a worker thread (``workers.run_in_pool``), so a slow hub
  never freezes the dialog.
- Plain http:// to a host other than this computer is refused unless the user
  ticks an explicit "Allow insecure http://" box (``validate_hub_url``).
- The token goes to the OS keyring. Where no keyring is usable the session
  lives in memory only, and the dialog says so before and after signing in;
  it never writes the token to a file.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..api.client import HubClient, LoginResult
from ..api.credentials import CredentialStore
from ..api.errors import (
    AuthenticationError,
    HubError,
    HubUnavailable,
    InsecureTransportError,
    KeyringUnavailable,
)
from ..core.net import InsecureUrlError, validate_hub_url
from .accessibility import announce
from .theme import accents
from .workers import Job, run_in_pool

HUB_PLACEHOLDER = "https://hub.example.org"


@dataclass(frozen=True)
class _Outcome:
    """What the worker hands back: the login and, when the keyring failed, why."""

    login: LoginResult
    keyring_problem: str | None


def _error_colour(widget: QWidget) -> str:
    """A red that reads well on the widget's background (light or dark palette)."""
    return accents(widget.palette()).danger.name()


class SignInDialog(QDialog):
    """Ask for hub, email and password; sign in off the GUI thread; store the token.

    After ``accepted``: ``client`` is a HubClient holding the new session token,
    ``hub_url``/``email`` are what was used, ``remembered`` says whether the
    token is in the OS keyring.
    """

    signedIn = Signal()

    def __init__(
        self,
        *,
        hub_url: str = "",
        email: str = "",
        allow_insecure_http: bool = False,
        credentials: CredentialStore | None = None,
        message: str = "",
        client_timeout: float = 10.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SignInDialog")
        self.setWindowTitle("Sign in to Performance Hub")
        self.setAccessibleName("Sign in to Performance Hub")
        self.setModal(True)
        self._credentials = credentials if credentials is not None else CredentialStore()
        self._client_timeout = client_timeout
        self._job: Job | None = None
        self._cancelled: threading.Event | None = None
        self._confirming_no_keyring = False
        self._keyring_warned = False
        self.client: HubClient | None = None
        self.login_result: LoginResult | None = None
        self.hub_url = ""
        self.email = ""
        self.remembered = False

        self.messageLabel = QLabel(message)
        self.messageLabel.setObjectName("signInMessage")
        self.messageLabel.setWordWrap(True)
        font = self.messageLabel.font()
        font.setBold(True)
        self.messageLabel.setFont(font)
        self.messageLabel.setVisible(bool(message))

        self.hubUrlInput = QLineEdit(hub_url)
        self.hubUrlInput.setObjectName("hubUrlInput")
        self.hubUrlInput.setAccessibleName("Hub address")
        self.hubUrlInput.setPlaceholderText(HUB_PLACEHOLDER)
        self.emailInput = QLineEdit(email)
        self.emailInput.setObjectName("emailInput")
        self.emailInput.setAccessibleName("Email")
        self.emailInput.setPlaceholderText("name@example.org")
        self.passwordInput = QLineEdit()
        self.passwordInput.setObjectName("passwordInput")
        self.passwordInput.setAccessibleName("Password")
        self.passwordInput.setEchoMode(QLineEdit.EchoMode.Password)
        self.allowInsecureCheck = QCheckBox("Allow insecure http:// (unencrypted)")
        self.allowInsecureCheck.setToolTip(
            "Plain http:// to another computer sends your password and keys unencrypted. "
            "Tick this only for a hub on a network you trust."
        )
        self.allowInsecureCheck.setObjectName("allowInsecureCheck")
        self.allowInsecureCheck.setAccessibleName("Allow insecure http")
        self.allowInsecureCheck.setChecked(allow_insecure_http)

        self.keyringNote = QLabel()
        self.keyringNote.setObjectName("keyringNote")
        self.keyringNote.setWordWrap(True)
        self.keyringNote.setVisible(False)
        self.signInError = QLabel()
        self.signInError.setObjectName("signInError")
        self.signInError.setAccessibleDescription("Sign-in error")  # its name is the message itself
        self.signInError.setWordWrap(True)
        self.signInError.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.signInError.setStyleSheet(f"color: {_error_colour(self)};")
        self.signInError.setVisible(False)

        self.signInButton = QPushButton("Sign In")
        self.signInButton.setObjectName("signInButton")
        self.signInButton.setAccessibleName("Sign in")
        self.signInButton.setDefault(True)
        self.cancelButton = QPushButton("Cancel")
        self.cancelButton.setObjectName("cancelSignInButton")
        # Enter must never mean Cancel: an auto-default Cancel became the default while Sign In
        # was disabled during a request, and stayed so (Enter after a wrong password cancelled).
        self.cancelButton.setAutoDefault(False)
        buttons = QDialogButtonBox()
        buttons.addButton(self.signInButton, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.cancelButton, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("&Hub address:", self.hubUrlInput)
        form.addRow("&Email:", self.emailInput)
        form.addRow("&Password:", self.passwordInput)
        form.addRow("", self.allowInsecureCheck)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messageLabel)
        layout.addLayout(form)
        layout.addWidget(self.keyringNote)
        layout.addWidget(self.signInError)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

        for field in (self.hubUrlInput, self.emailInput, self.passwordInput):
            field.textEdited.connect(self._clear_error)
        self.allowInsecureCheck.toggled.connect(self._clear_error)
        empty = [f for f in (self.hubUrlInput, self.emailInput) if not f.text()]
        (empty[0] if empty else self.passwordInput).setFocus()
        self._check_keyring()

    # -- state ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._job is not None

    def error_text(self) -> str:
        """The error line as shown ('' when there is none)."""
        return self.signInError.text()

    def _show_error(self, text: str, focus: QLineEdit | None = None) -> None:
        changed = text != self.signInError.text()
        self.signInError.setText(text)
        self.signInError.setVisible(bool(text))
        if changed:
            self._fit()
            announce(self.signInError, text, assertive=True)
        if focus is not None:
            focus.setFocus()
            focus.selectAll()

    def _clear_error(self) -> None:
        self._show_error("")

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.hubUrlInput, self.emailInput, self.passwordInput, self.allowInsecureCheck):
            widget.setEnabled(not busy)
        self.signInButton.setEnabled(not busy)
        self.signInButton.setText("Signing in…" if busy else "Sign In")
        if not busy:
            self.signInButton.setDefault(True)  # Qt drops the default from a disabled button
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)

    def _note_keyring(self, problem: str) -> None:
        self._keyring_warned = True
        self.keyringNote.setText(problem)  # says why, that the session can't be remembered, and what to do
        self.keyringNote.setVisible(True)
        self._fit()

    def _fit(self) -> None:
        """Grow to fit a message that appeared (not every platform resizes a shown dialog by itself)."""
        if self.isVisible():
            self.adjustSize()

    def _check_keyring(self) -> None:
        """Say up front when there is no usable keyring (off-thread: detection may touch D-Bus)."""
        job = run_in_pool(self._credentials.check, name="keyring check")
        job.failed.connect(self._keyring_check_failed)
        self._keyring_job = job

    def _keyring_check_failed(self, exc: object) -> None:
        if isinstance(exc, KeyringUnavailable) and not self._keyring_warned:
            self._note_keyring(exc.message)

    # -- sign in ----------------------------------------------------------------

    def _submit(self) -> None:
        if self._confirming_no_keyring:
            self._finish()
            return
        if self.busy:
            return
        allow = self.allowInsecureCheck.isChecked()
        try:
            url = validate_hub_url(self.hubUrlInput.text(), allow_insecure_http=allow)
        except InsecureUrlError as exc:
            self._show_error(str(exc) + " Tick “Allow insecure http://” only if you trust the network.",
                             self.hubUrlInput)
            return
        except ValueError as exc:
            self._show_error(str(exc), self.hubUrlInput)
            return
        email = self.emailInput.text().strip()
        password = self.passwordInput.text()
        if not email or "@" not in email:
            self._show_error("Enter the email address of your hub account.", self.emailInput)
            return
        if not password:
            self._show_error("Enter your password.", self.passwordInput)
            return
        self._clear_error()
        self._set_busy(True)
        client = HubClient(url, timeout=self._client_timeout, allow_insecure_http=allow)
        cancelled = threading.Event()
        self._cancelled = cancelled
        job = run_in_pool(_sign_in, client, self._credentials, url, email, password, cancelled,
                          name="sign in")
        job.succeeded.connect(lambda outcome: self._signed_in(job, client, url, email, outcome))
        job.failed.connect(lambda exc: self._sign_in_failed(job, exc))
        self._job = job

    def _signed_in(self, job: Job, client: HubClient, url: str, email: str, outcome: _Outcome) -> None:
        if job is not self._job:
            return
        self._job = None
        self._set_busy(False)
        self.passwordInput.clear()
        self.client = client
        self.login_result = outcome.login
        self.hub_url = url
        self.email = email
        self.remembered = outcome.keyring_problem is None
        if outcome.keyring_problem is not None and not self._keyring_warned:
            # The keyring looked usable but refused (e.g. locked): say so and let the user continue.
            self._note_keyring("You are signed in, but this session can't be remembered. "
                               + outcome.keyring_problem)
            self._confirming_no_keyring = True
            for widget in (self.hubUrlInput, self.emailInput, self.passwordInput, self.allowInsecureCheck):
                widget.setEnabled(False)
            self.signInButton.setText("Continue without remembering")
            self.signInButton.setFocus()
            return
        self._finish()

    def _finish(self) -> None:
        self._confirming_no_keyring = False
        self.signedIn.emit()
        self.accept()

    def _sign_in_failed(self, job: Job, exc: object) -> None:
        if job is not self._job:
            return
        self._job = None
        self._set_busy(False)
        if isinstance(exc, AuthenticationError):
            self._show_error(exc.message, self.passwordInput)
        elif isinstance(exc, InsecureTransportError | HubUnavailable):
            self._show_error(exc.message, self.hubUrlInput)
        elif isinstance(exc, HubError):
            self._show_error(exc.message, self.passwordInput)
        else:
            self._show_error(f"Signing in failed unexpectedly ({type(exc).__name__}).", self.passwordInput)

    def reject(self) -> None:
        if self._cancelled is not None:
            self._cancelled.set()  # a login still in flight is logged out, not stored
        self._job = None
        if self._confirming_no_keyring and self.client is not None:
            # Signed in but the user backed out: revoke the unused session (best effort, off-thread).
            run_in_pool(_best_effort_logout, self.client, name="discard session")
            self.client = None
        self._confirming_no_keyring = False
        super().reject()


def _best_effort_logout(client: HubClient) -> None:
    with contextlib.suppress(HubError):
        client.logout()


def _sign_in(client: HubClient, credentials: CredentialStore, url: str, email: str, password: str,
             cancelled: threading.Event) -> _Outcome:
    """Worker: log in, then store the token (unless the dialog was cancelled meanwhile)."""
    login = client.login(email, password)
    if cancelled.is_set():
        _best_effort_logout(client)
        raise HubError("Signing in was cancelled.", code="cancelled")
    try:
        credentials.save(url, email, login.token)
    except KeyringUnavailable as exc:
        return _Outcome(login, exc.message)
    return _Outcome(login, None)
