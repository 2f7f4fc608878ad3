"""``repr``/``str`` of every object that holds a secret show at most its redacted form, and the
clipboard copy of a secret carries the password-manager hints and is cleared only while it is ours.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QClipboard, QGuiApplication

from phhub_keys.api.client import HubClient, LoginResult
from phhub_keys.api.credentials import CredentialStore, MemoryKeyring
from phhub_keys.api.errors import HubUnavailable
from phhub_keys.api.keycheck import KeyCheck
from phhub_keys.core import client_setup
from phhub_keys.core.csvio import CsvRow
from phhub_keys.core.keyformat import generate_key, generate_session_token, redact
from phhub_keys.core.models import KeyStatus, McpKey, NewKey, User
from phhub_keys.core.timestamps import parse_ts
from phhub_keys.gui import clipboard
from phhub_keys.gui.clipboard import DEFAULT_CLEAR_MS, SecretClipboard
from phhub_keys.hub.idempotency import IdempotencyCache, Replay

SECRET = generate_key()
TOKEN = generate_session_token()
KEY = McpKey("mk_0123456789abcdef", "laptop", redacted=redact(SECRET), status=KeyStatus.ACTIVE,
             created_at=parse_ts("2026-01-02T03:04:05Z"))
USER = User.from_json({"id": "u_1", "email": "a@example.org", "name": "A", "facilities": []})


def _holders() -> dict[str, object]:
    store = MemoryKeyring()
    credentials = CredentialStore(store)
    credentials.save("http://127.0.0.1:1", "a@example.org", TOKEN)
    cache = IdempotencyCache(60)
    cache.put("create", "u_1", "ikey", "laptop", {"key": {}, "secret": SECRET})
    error = HubUnavailable("lost")
    error.idempotency_key = "ikey"
    return {
        "NewKey": NewKey(key=KEY, secret=SECRET),
        "LoginResult": LoginResult(token=TOKEN, expires_at=None, user=USER),
        "HubClient with token": HubClient("http://127.0.0.1:1", token=TOKEN),
        "CredentialStore": credentials,
        "MemoryKeyring": store,
        "KeyCheck": KeyCheck("http://127.0.0.1:1/mcp", SECRET),
        "CsvRow": CsvRow(2, "mk_1", "laptop", SECRET),
        "Replay": cache.get("create", "u_1", "ikey"),
        "Replay direct": Replay("laptop", {"secret": SECRET}),
        "Snippet": client_setup.generate("cursor", "http://127.0.0.1:1/mcp", secret=SECRET),
        "HubUnavailable": error,
    }


@pytest.mark.parametrize("name", list(_holders()))
def test_repr_and_str_show_only_the_redacted_form(name: str) -> None:
    holder = _holders()[name]
    for text in (repr(holder), str(holder), f"{holder}", f"{holder!r}"):
        for value in (SECRET, TOKEN, SECRET[8:-6], TOKEN[8:-6]):
            found = value in text  # a bool, so a failure never prints the secret
            assert not found, f"{name}: secret material in {text[:20]!r}..."


def test_the_holders_really_hold_the_secrets() -> None:
    """The test above would pass for empty objects: prove each one holds what it must hide."""
    h = _holders()
    assert h["NewKey"].secret == SECRET and h["LoginResult"].token == TOKEN  # type: ignore[attr-defined]
    assert h["HubClient with token"].token == TOKEN  # type: ignore[attr-defined]
    assert h["CredentialStore"].load("http://127.0.0.1:1", "a@example.org") == TOKEN  # type: ignore[attr-defined]
    assert h["CsvRow"].key == SECRET and h["Replay"].body["secret"] == SECRET  # type: ignore[attr-defined]
    assert SECRET in h["Snippet"].text  # type: ignore[attr-defined]
    assert redact(SECRET) in repr(h["NewKey"]) and redact(TOKEN) in repr(h["LoginResult"])


# --------------------------------------------------------------------------- clipboard


def test_secret_mime_data_carries_every_password_manager_hint() -> None:
    data = clipboard.secret_mime_data(SECRET)
    assert data.text() == SECRET
    assert bytes(data.data("x-kde-passwordManagerHint")) == b"secret"
    for fmt in (clipboard.WIN_EXCLUDE, clipboard.WIN_HISTORY, clipboard.WIN_CLOUD):
        assert data.hasFormat(fmt)
    assert 'value="ExcludeClipboardContentFromMonitorProcessing"' in clipboard.WIN_EXCLUDE
    assert bytes(data.data(clipboard.WIN_HISTORY)) == b"\0\0\0\0"  # CanIncludeInClipboardHistory = 0
    assert bytes(data.data(clipboard.WIN_CLOUD)) == b"\0\0\0\0"  # CanUploadToCloudClipboard = 0
    assert data.hasFormat("org.nspasteboard.ConcealedType")


def test_default_clear_is_thirty_seconds_and_a_copy_starts_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    assert DEFAULT_CLEAR_MS == 30_000
    board = SecretClipboard()
    board.copy(SECRET)
    try:
        # (a coarse Qt timer may report a little over its interval)
        assert board.clear_pending and 25_000 < board.remaining_ms() <= 31_000
        assert QGuiApplication.clipboard().text() == SECRET
        assert SECRET not in repr(vars(board))  # only a digest is kept
    finally:
        board.clear_if_ours()
    assert QGuiApplication.clipboard().text() == ""


@pytest.mark.parametrize("meanwhile", ["nothing", "other text", "other mime data", "same text, no hints"])
def test_timed_clear_only_removes_our_secret(qtbot, meanwhile: str) -> None:  # type: ignore[no-untyped-def]
    board = QGuiApplication.clipboard()
    secrets = SecretClipboard(150)
    with qtbot.waitSignal(secrets._timer.timeout, timeout=5000):
        secrets.copy(SECRET)
        if meanwhile == "other text":
            board.setText("the user's own text")
        elif meanwhile == "other mime data":
            data = QMimeData()
            data.setHtml("<b>copied from a page</b>")
            data.setText("copied from a page")
            board.setMimeData(data, QClipboard.Mode.Clipboard)
        elif meanwhile == "same text, no hints":
            board.setText(SECRET)  # the user copied the key again from elsewhere: still that secret
    expected = {"nothing": "", "other text": "the user's own text", "other mime data": "copied from a page",
                "same text, no hints": ""}[meanwhile]
    assert board.text() == expected
    assert not secrets.clear_pending
    board.clear()


def test_a_second_copy_restarts_the_timer(qtbot) -> None:  # type: ignore[no-untyped-def]
    secrets = SecretClipboard(400)
    secrets.copy(SECRET)
    qtbot.wait(250)
    other = generate_key()
    secrets.copy(other)
    qtbot.wait(250)  # 500 ms after the first copy: the first timer would have fired
    assert QGuiApplication.clipboard().text() == other
    with qtbot.waitSignal(secrets.cleared, timeout=5000):
        pass
    assert QGuiApplication.clipboard().text() == ""
