"""SignInDialog against the real local hub: good and bad credentials, insecure http, no keyring."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from keyring.backends import null
from keyring_backends import LockedKeyring
from PySide6.QtCore import Qt

from phhub_keys.api.credentials import CredentialStore, MemoryKeyring
from phhub_keys.gui.signin_dialog import SignInDialog
from phhub_keys.gui.workers import wait_idle
from phhub_keys.hub.embedded import EmbeddedHub

# The offscreen platform cannot pass window size hints on; that warning is about the test platform.


@pytest.fixture
def mem_store() -> CredentialStore:
    return CredentialStore(MemoryKeyring())


def make_dialog(qtbot, store: CredentialStore, **kwargs) -> SignInDialog:
    dialog = SignInDialog(credentials=store, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def fill(qtbot, dialog: SignInDialog, hub: str, email: str, password: str) -> None:
    fields = ((dialog.hubUrlInput, hub), (dialog.emailInput, email), (dialog.passwordInput, password))
    for field, text in fields:
        field.clear()
        qtbot.keyClicks(field, text)


def click_sign_in(qtbot, dialog: SignInDialog) -> None:
    qtbot.mouseClick(dialog.signInButton, Qt.MouseButton.LeftButton)


def test_good_credentials_store_the_token_and_sign_in_off_the_gui_thread(qtbot, hub, make_user, mem_store):
    creds = make_user(name="Ada")
    dialog = make_dialog(qtbot, mem_store)
    fill(qtbot, dialog, hub.url, creds.email, creds.password)
    with qtbot.waitSignal(dialog.accepted, timeout=15000):
        click_sign_in(qtbot, dialog)
    assert dialog.client is not None and dialog.client.token
    assert dialog.remembered is True
    assert dialog.hub_url == hub.url and dialog.email == creds.email
    assert mem_store.load(hub.url, creds.email) == dialog.client.token
    assert dialog.passwordInput.text() == ""  # the password does not linger in the widget
    assert dialog.client.calls and not any(c.on_main_thread for c in dialog.client.calls)
    assert dialog.client.me().email == creds.email
    assert dialog.keyringNote.isHidden()
    assert dialog.client.token not in repr(dialog.login_result)


def test_enter_in_the_password_field_signs_in(qtbot, hub, make_user, mem_store):
    creds = make_user()
    dialog = make_dialog(qtbot, mem_store, hub_url=hub.url, email=creds.email)
    assert dialog.hubUrlInput.text() == hub.url and dialog.emailInput.text() == creds.email
    assert dialog.focusWidget() is dialog.passwordInput
    qtbot.keyClicks(dialog.passwordInput, creds.password)
    with qtbot.waitSignal(dialog.accepted, timeout=15000):
        qtbot.keyClick(dialog.passwordInput, Qt.Key.Key_Return)
    assert mem_store.load(hub.url, creds.email) == dialog.client.token


def test_enter_after_a_wrong_password_signs_in_instead_of_cancelling(qtbot, hub, make_user, mem_store):
    """While signing in, Sign In is disabled; Qt moved the default to Cancel and Enter then cancelled."""
    creds = make_user()
    dialog = make_dialog(qtbot, mem_store, hub_url=hub.url, email=creds.email)
    qtbot.keyClicks(dialog.passwordInput, creds.password + "-wrong")
    qtbot.keyClick(dialog.passwordInput, Qt.Key.Key_Return)
    assert dialog.busy
    qtbot.waitUntil(lambda: not dialog.busy, timeout=15000)
    assert dialog.isVisible() and dialog.error_text()
    assert dialog.signInButton.isDefault() and not dialog.cancelButton.isDefault()
    focused = dialog.focusWidget()
    assert focused is dialog.passwordInput
    dialog.passwordInput.clear()
    qtbot.keyClicks(focused, creds.password)
    rejected: list[bool] = []
    dialog.rejected.connect(lambda: rejected.append(True))
    with qtbot.waitSignal(dialog.accepted, timeout=15000):
        qtbot.keyClick(focused, Qt.Key.Key_Return)
    assert not rejected
    assert dialog.client is not None and mem_store.load(hub.url, creds.email) == dialog.client.token


def test_bad_credentials_show_the_error_line_and_store_nothing(qtbot, hub, make_user, mem_store):
    creds = make_user()
    dialog = make_dialog(qtbot, mem_store)
    fill(qtbot, dialog, hub.url, creds.email, creds.password + "-wrong")
    click_sign_in(qtbot, dialog)
    assert dialog.busy and not dialog.signInButton.isEnabled()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=15000)
    assert dialog.isVisible() and dialog.result() != SignInDialog.DialogCode.Accepted
    assert "not correct" in dialog.signInError.text()
    assert dialog.signInError.isVisible()
    assert dialog.signInButton.isEnabled() and dialog.passwordInput.isEnabled()
    assert dialog.client is None
    assert mem_store.load(hub.url, creds.email) is None
    # Typing again clears the stale error.
    qtbot.keyClicks(dialog.passwordInput, "x")
    assert dialog.signInError.text() == "" and dialog.signInError.isHidden()


def test_missing_fields_are_explained_without_a_request(qtbot, mem_store):
    dialog = make_dialog(qtbot, mem_store)
    click_sign_in(qtbot, dialog)
    assert "hub address" in dialog.signInError.text()
    fill(qtbot, dialog, "https://hub.example.org", "", "")
    click_sign_in(qtbot, dialog)
    assert "email" in dialog.signInError.text()
    fill(qtbot, dialog, "https://hub.example.org", "a@example.org", "")
    click_sign_in(qtbot, dialog)
    assert "password" in dialog.signInError.text()
    assert not dialog.busy


def test_unreachable_hub_says_so(qtbot, mem_store):
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dialog = make_dialog(qtbot, mem_store, client_timeout=3.0)
    fill(qtbot, dialog, f"http://127.0.0.1:{port}", "a@example.org", "pw")
    click_sign_in(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=20000)
    assert "reach" in dialog.signInError.text().lower() or "connect" in dialog.signInError.text().lower()
    assert dialog.isVisible()


def test_plain_http_to_another_host_is_refused_unless_ticked(qtbot, mem_store):
    dialog = make_dialog(qtbot, mem_store)
    fill(qtbot, dialog, "http://example.com", "a@example.org", "pw")
    click_sign_in(qtbot, dialog)
    assert not dialog.busy  # refused before any request
    assert "http://" in dialog.signInError.text() and "example.com" in dialog.signInError.text()
    assert "Allow insecure" in dialog.signInError.text()
    assert not dialog.allowInsecureCheck.isChecked()


def _non_loopback_ipv4() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_ticking_allow_insecure_signs_in_over_plain_http(qtbot, tmp_path: Path, mem_store):
    address = _non_loopback_ipv4()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to serve a hub on")
    with EmbeddedHub(tmp_path / "lan.db", host=address) as lan_hub:
        assert lan_hub.store is not None
        lan_hub.store.add_user("lan@example.org", "lan-password-1")
        dialog = make_dialog(qtbot, mem_store)
        fill(qtbot, dialog, lan_hub.url, "lan@example.org", "lan-password-1")
        click_sign_in(qtbot, dialog)
        assert "Refusing plain http://" in dialog.signInError.text()
        qtbot.mouseClick(dialog.allowInsecureCheck, Qt.MouseButton.LeftButton)
        assert dialog.allowInsecureCheck.isChecked() and dialog.signInError.text() == ""
        with qtbot.waitSignal(dialog.accepted, timeout=15000):
            click_sign_in(qtbot, dialog)
        assert dialog.client is not None and dialog.client.me().email == "lan@example.org"
        dialog.client.close()
        wait_idle()


def test_no_keyring_says_it_wont_be_remembered_and_still_signs_in(qtbot, hub, make_user):
    store = CredentialStore(null.Keyring())
    creds = make_user()
    dialog = make_dialog(qtbot, store)
    qtbot.waitUntil(dialog.keyringNote.isVisible, timeout=5000)
    assert "can't be remembered" in dialog.keyringNote.text()
    assert "continue without remembering" in dialog.keyringNote.text()
    fill(qtbot, dialog, hub.url, creds.email, creds.password)
    with qtbot.waitSignal(dialog.accepted, timeout=15000):
        click_sign_in(qtbot, dialog)
    assert dialog.remembered is False
    assert dialog.client is not None and dialog.client.me().email == creds.email


def test_locked_keyring_offers_to_continue_without_remembering(qtbot, hub, make_user):
    store = CredentialStore(LockedKeyring())
    creds = make_user()
    dialog = make_dialog(qtbot, store)
    fill(qtbot, dialog, hub.url, creds.email, creds.password)
    click_sign_in(qtbot, dialog)
    qtbot.waitUntil(dialog.keyringNote.isVisible, timeout=15000)
    assert "locked" in dialog.keyringNote.text()
    assert "can't be remembered" in dialog.keyringNote.text()
    assert dialog.isVisible() and dialog.signInButton.text() == "Continue without remembering"
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        click_sign_in(qtbot, dialog)
    assert dialog.remembered is False and dialog.client is not None
    assert dialog.client.me().email == creds.email


def test_cancel_during_sign_in_stores_nothing(qtbot, hub, make_user, mem_store):
    creds = make_user()
    dialog = make_dialog(qtbot, mem_store)
    fill(qtbot, dialog, hub.url, creds.email, creds.password)
    click_sign_in(qtbot, dialog)
    dialog.reject()
    assert wait_idle()
    assert dialog.client is None
    assert mem_store.load(hub.url, creds.email) is None


def test_session_expired_message_and_http_refusal_both_show_in_full(qtbot, mem_store):
    """Was a screenshot saved to /tmp that nothing looked at: now the state it showed is checked.
    The reason for the dialog and the (long, wrapped) http refusal both show, whole, inside the
    dialog; nothing was sent."""
    dialog = make_dialog(qtbot, mem_store, hub_url="http://example.com", email="ada@example.org",
                         message="Your session expired. Sign in again to continue.")
    click_sign_in(qtbot, dialog)
    assert dialog.messageLabel.isVisible()
    assert dialog.messageLabel.text() == "Your session expired. Sign in again to continue."
    assert dialog.signInError.isVisible()
    assert dialog.signInError.text().startswith("Refusing plain http:// to example.com")
    assert dialog.focusWidget() is dialog.hubUrlInput  # where the fix is typed
    assert dialog.client is None
    inside = dialog.rect()
    for label in (dialog.messageLabel, dialog.signInError):
        box = label.geometry()
        box.moveTopLeft(label.mapTo(dialog, box.topLeft() - label.pos()))
        assert inside.contains(box), label.objectName()
        # Word-wrapped labels get the height their text needs (not clipped to one line).
        assert label.height() >= label.heightForWidth(label.width())
