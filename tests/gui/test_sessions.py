"""Sessions (issue 10 item 14): sign out everywhere, password change revokes, live-session cap.

Over real HTTP against the local hub; ``hub set-password`` as a real subprocess; the CLI's
``logout --everywhere`` in-process; the app's "Sign Out Everywhere" through the controller,
its tray and its window with pytest-qt.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from fixtures_hub import Creds, add_test_user
from PySide6.QtWidgets import QMessageBox
from test_gui_app import remembered_session, wait_window
from test_scripting import cli, cli_env  # noqa: F401 (cli_env is a fixture)

from phhub_keys.api.client import HubClient
from phhub_keys.api.credentials import CredentialStore
from phhub_keys.api.errors import AuthenticationError
from phhub_keys.gui.ask import question_box
from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.settings import HubSettings

API = "/api/v1"


def sign_in(url: str, creds: Creds, password: str | None = None) -> requests.Response:
    return requests.post(f"{url}{API}/auth/login", timeout=10,
                         json={"email": creds.email, "password": password or creds.password})


def token_for(url: str, creds: Creds) -> str:
    response = sign_in(url, creds)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def me_status(url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{url}{API}/me", headers=headers, timeout=10).status_code


# --------------------------------------------------------------------------- the hub


def test_logout_all_revokes_every_session_of_the_caller_and_no_one_else(hub: EmbeddedHub, make_user) -> None:
    ada, bob = make_user(name="Ada"), make_user(name="Bob")
    ada_tokens = [token_for(hub.url, ada) for _ in range(3)]
    bob_token = token_for(hub.url, bob)
    response = requests.post(f"{hub.url}{API}/auth/logout-all", timeout=10,
                             headers={"Authorization": f"Bearer {ada_tokens[1]}"})
    assert response.status_code == 200 and response.json() == {"revoked": 3}
    assert [me_status(hub.url, t) for t in ada_tokens] == [401, 401, 401]
    assert me_status(hub.url, bob_token) == 200
    again = requests.post(f"{hub.url}{API}/auth/logout-all", timeout=10,
                          headers={"Authorization": f"Bearer {ada_tokens[0]}"})
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_token"
    assert requests.post(f"{hub.url}{API}/auth/logout-all", timeout=10).status_code == 401
    assert me_status(hub.url, token_for(hub.url, ada)) == 200  # signing in again works


def test_live_sessions_are_capped_per_user_oldest_revoked_first(
    start_hub: Callable[..., EmbeddedHub],
) -> None:
    small = start_hub(max_sessions_per_user=3)
    creds, other = add_test_user(small), add_test_user(small)
    other_token = token_for(small.url, other)
    tokens = [token_for(small.url, creds) for _ in range(5)]
    assert [me_status(small.url, t) for t in tokens] == [401, 401, 200, 200, 200]
    assert me_status(small.url, other_token) == 200  # the cap is per user
    assert small.store is not None
    assert small.store.live_session_count(creds.user_id) == 3


def test_the_shipped_cap_is_ten_live_sessions(hub: EmbeddedHub, make_user) -> None:
    """The issue's case: 22 sign-ins left 21 live week-long tokens; now the newest 10 live."""
    assert HubSettings().max_sessions_per_user == 10
    creds = make_user()
    tokens = [token_for(hub.url, creds) for _ in range(22)]
    assert [me_status(hub.url, t) for t in tokens] == [401] * 12 + [200] * 10


def _hub_cli(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phhub_keys", "hub", *args], input=stdin, text=True,
                          capture_output=True, timeout=60, env=dict(os.environ))


def test_hub_set_password_changes_it_and_revokes_that_users_sessions(
    start_hub: Callable[..., EmbeddedHub], tmp_path: Path
) -> None:
    db = tmp_path / "set-password.db"
    running = start_hub(db)  # the hub keeps serving while the operator changes the password
    creds, bystander = add_test_user(running), add_test_user(running)
    tokens = [token_for(running.url, creds) for _ in range(2)]
    bystander_token = token_for(running.url, bystander)

    result = _hub_cli("set-password", creds.email, "--db", str(db), stdin="brand new password\n")
    assert result.returncode == 0, result.stderr
    assert "signed out 2 sessions" in result.stdout and "brand new" not in result.stdout + result.stderr
    assert [me_status(running.url, t) for t in tokens] == [401, 401]  # at once, on the running hub
    assert me_status(running.url, bystander_token) == 200
    assert sign_in(running.url, creds).status_code == 401  # the old password is gone
    assert sign_in(running.url, creds, "brand new password").status_code == 200

    unknown = _hub_cli("set-password", "nobody@example.org", "--db", str(db), stdin="x\n")
    assert unknown.returncode == 1 and "no user with the email nobody@example.org" in unknown.stderr
    empty = _hub_cli("set-password", creds.email, "--db", str(db), stdin="")
    assert empty.returncode == 1 and "password" in empty.stderr
    assert sign_in(running.url, creds, "brand new password").status_code == 200  # unchanged
    missing = tmp_path / "no-such.db"
    nodb = _hub_cli("set-password", creds.email, "--db", str(missing), stdin="x\n")
    assert nodb.returncode == 1 and "no hub database" in nodb.stderr and not missing.exists()
    assert "Traceback" not in unknown.stderr + empty.stderr + nodb.stderr


def test_set_password_has_no_password_option() -> None:
    result = _hub_cli("set-password", "a@example.org", "--password", "x", stdin="")
    assert result.returncode == 2


# --------------------------------------------------------------------------- the API client and CLI


def test_client_logout_all_counts_and_forgets_the_token(hub: EmbeddedHub, make_user) -> None:
    creds = make_user()
    other = token_for(hub.url, creds)
    with HubClient(hub.url) as client:
        client.login(creds.email, creds.password)
        assert client.logout_all() == 2
        assert client.token is None
    assert me_status(hub.url, other) == 401
    with HubClient(hub.url, other) as stale, pytest.raises(AuthenticationError):
        stale.logout_all()  # a dead token revokes nothing: said, not swallowed


def test_cli_logout_everywhere(cli_env, hub: EmbeddedHub, make_user) -> None:  # noqa: F811 (the fixture)
    creds = make_user()
    assert cli("login", "--hub", hub.url, "--email", creds.email, stdin=creds.password + "\n").code == 0
    laptop = token_for(hub.url, creds)
    result = cli("logout", "--everywhere")
    assert result.code == 0, result
    assert "Signed out everywhere: ended 2 sessions" in result.out
    assert me_status(hub.url, laptop) == 401
    assert CredentialStore().load(hub.url, creds.email) is None
    again = cli("logout", "--everywhere")
    assert again.code == 3 and "login" in again.err  # nothing to sign out with: say how to go on

    assert cli("login", "--hub", hub.url, "--email", creds.email, stdin=creds.password + "\n").code == 0
    as_json = cli("logout", "--everywhere", "--json")
    assert as_json.code == 0 and as_json.json()["revoked"] == 1 and as_json.json()["everywhere"] is True


# --------------------------------------------------------------------------- the app


def test_the_question_names_its_button_for_the_action(qtbot) -> None:
    box = question_box(None, "Sign out everywhere?", "text", yes_text="Sign Out Everywhere")
    assert box.button(QMessageBox.StandardButton.Yes).text() == "Sign Out Everywhere"
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    box.deleteLater()


def test_app_sign_out_everywhere_from_the_tray_and_the_window(
    qtbot, hub: EmbeddedHub, make_user, mem_credentials, app_settings, make_controller, tmp_path: Path
) -> None:
    creds = make_user()
    remembered_session(hub, creds, mem_credentials, app_settings)
    elsewhere = token_for(hub.url, creds)  # the CLI, another computer...
    controller = make_controller(settings=app_settings, credentials=mem_credentials, use_tray=True)
    asked: list[tuple[str, str, str]] = []
    answers = [False, True]
    controller.confirm = (
        lambda title, text, button: asked.append((title, text, button)) or answers.pop(0))
    controller.start()
    window = wait_window(qtbot, controller)

    # The window's More menu has it next to Sign Out, and it reaches the controller.
    names = [a.objectName() for a in window.more_button.menu().actions()]
    assert names.index("signOutEverywhereAction") == names.index("signOutAction") + 1
    window.sign_out_everywhere_action.trigger()
    assert asked[-1][2] == "Sign Out Everywhere" and creds.email in asked[-1][1]
    assert controller.signed_in and me_status(hub.url, elsewhere) == 200  # cancelled: nothing happened

    tray = controller.tray
    names = tray.action_names()
    assert names.index("traySignOutEverywhere") == names.index("traySignOut") + 1
    messages: list[tuple[str, str]] = []
    tray.messageShown.connect(lambda title, text: messages.append((title, text)))
    tray.action("traySignOutEverywhere").trigger()
    # The end of the flow is the notice (the client drops its token on the worker a moment earlier).
    qtbot.waitUntil(lambda: bool(messages), timeout=10_000)
    assert not controller.signed_in and controller.window is None
    assert messages and messages[-1][0] == "Signed out everywhere" and "2 sessions" in messages[-1][1]
    assert me_status(hub.url, elsewhere) == 401
    qtbot.waitUntil(lambda: mem_credentials.load(hub.url, creds.email) is None, timeout=5000)
    assert not tray.action("traySignOutEverywhere").isEnabled()


def test_app_sign_out_everywhere_with_the_hub_down_stays_signed_in_and_says_so(
    qtbot, start_hub: Callable[..., EmbeddedHub], mem_credentials, app_settings, make_controller
) -> None:
    own = start_hub()
    creds = add_test_user(own)
    remembered_session(own, creds, mem_credentials, app_settings)
    controller = make_controller(settings=app_settings, credentials=mem_credentials, use_tray=True)
    controller.confirm = lambda title, text, button: True
    controller.start()
    wait_window(qtbot, controller)
    messages: list[tuple[str, str]] = []
    controller.tray.messageShown.connect(lambda title, text: messages.append((title, text)))
    own.stop()
    controller.sign_out_everywhere()
    qtbot.waitUntil(lambda: bool(messages), timeout=15_000)
    title, text = messages[-1]
    assert title == "Not signed out everywhere" and "still signed in" in text
    assert controller.signed_in and controller.window is not None
    assert mem_credentials.load(own.url, creds.email)  # the remembered session is kept
