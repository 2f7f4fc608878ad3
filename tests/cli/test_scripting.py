"""The scripting CLI (login, logout, keys, check-key, setup) against the real local hub.

In-process tests call ``scripting.main(argv, io)`` with string streams and an
in-memory keyring; the subprocess tests run ``python -m phhub_keys`` with the
test file keyring (never the machine's keyring) to prove argv, stdin, stdout,
stderr and exit codes for real.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx2
import keyring
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from phhub_keys import scripting
from phhub_keys.api.credentials import CredentialStore, MemoryKeyring
from phhub_keys.core.keyformat import generate_key, is_valid_key

TESTS_DIR = Path(__file__).resolve().parents[1]  # tests/
SECRET_RE = re.compile(r"ph[ks]_[0-9A-Za-z_-]{30,}")


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self):  # type: ignore[no-untyped-def]
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"Run(code={self.code}, out={self.out[:200]!r}, err={self.err[:300]!r})"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Isolated config dir and home, an in-memory keyring, no inherited key/hub variables."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in (scripting.KEY_ENV, scripting.HUB_ENV, scripting.EMAIL_ENV):
        monkeypatch.delenv(name, raising=False)
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def scripting_clients() -> list[str]:
    from phhub_keys.core.client_setup import CLIENTS

    return list(CLIENTS)


def cli(*argv: str, stdin: str = "") -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = scripting.main(list(argv), scripting.Io(io.StringIO(stdin), out, err))
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def signed_in(cli_env, hub, make_user):  # type: ignore[no-untyped-def]
    creds = make_user(name="Cli User")
    result = cli("login", "--hub", hub.url, "--email", creds.email, stdin=creds.password + "\n")
    assert result.code == 0, result
    return creds


# ---------------------------------------------------------------- login / logout


def test_login_reads_the_password_from_stdin_and_keeps_the_token_in_the_keyring(
    cli_env, hub, make_user, tmp_path: Path
) -> None:
    creds = make_user(name="Ada")
    result = cli("login", "--hub", hub.url, "--email", creds.email, stdin=creds.password + "\n")
    assert result.code == 0, result
    assert f"as {creds.email} (Ada)" in result.out
    token = CredentialStore().load(hub.url, creds.email)
    assert token and token.startswith("phs_")
    state_file = tmp_path / "config" / "phhub-keys" / "account.json"
    state = json.loads(state_file.read_text())["remote"]  # the app's own account state
    assert state["hub_url"] == hub.url and state["email"] == creds.email
    assert state["server_url"] == f"{hub.url}/mcp"
    assert not SECRET_RE.search(state_file.read_text())
    assert token not in result.out + result.err


def test_login_with_a_wrong_password_is_exit_3_and_stores_nothing(cli_env, hub, make_user) -> None:
    creds = make_user()
    result = cli("login", "--hub", hub.url, "--email", creds.email, stdin="wrong password\n")
    assert result.code == scripting.EXIT_AUTH
    assert result.err.startswith("phhub-keys: ") and result.out == ""
    assert CredentialStore().load(hub.url, creds.email) is None


def test_login_needs_hub_email_and_password(cli_env, hub) -> None:
    assert cli("login", "--email", "a@example.org", stdin="pw\n").code == scripting.EXIT_USAGE
    assert cli("login", "--hub", hub.url, stdin="pw\n").code == scripting.EXIT_USAGE
    result = cli("login", "--hub", hub.url, "--email", "a@example.org", stdin="")
    assert result.code == scripting.EXIT_USAGE and "password" in result.err


def test_ctrl_c_at_the_password_prompt_is_exit_130_on_its_own_line(
    cli_env, hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def interrupted(prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(scripting.getpass, "getpass", interrupted)
    out, err = io.StringIO(), io.StringIO()
    argv = ["login", "--hub", hub.url, "--email", "a@example.org"]
    code = scripting.main(argv, scripting.Io(Tty(), out, err))
    assert code == 130
    assert err.getvalue() == "\nphhub-keys: interrupted\n" and out.getvalue() == ""


def test_a_hub_address_with_an_extra_path_is_not_a_deleted_key(cli_env, hub, make_user) -> None:
    creds = make_user()
    result = cli("login", "--hub", hub.url + "/some/path", "--email", creds.email,
                 stdin=creds.password + "\n")
    assert result.code == scripting.EXIT_ERROR, result
    assert "no sign-in address" in result.err and "base address" in result.err
    assert "key" not in result.err.lower().replace("phhub-keys", "")


def test_plain_http_to_another_host_is_refused(cli_env) -> None:
    result = cli("login", "--hub", "http://hub.example.org", "--email", "a@example.org", stdin="pw\n")
    assert result.code == scripting.EXIT_ERROR
    assert "http://" in result.err
    # README names the app's spelling, --allow-insecure-http; the scripting commands take it too.
    for flag in ("--insecure-http", "--allow-insecure-http"):
        allowed = cli("login", "--hub", "http://hub.invalid", "--email", "a@example.org", flag, stdin="pw\n")
        assert allowed.code == scripting.EXIT_ERROR, allowed
        assert "Refusing" not in allowed.err and "hub.invalid" in allowed.err


def test_https_to_a_plain_http_port_says_no_tls_not_a_certificate_problem(cli_env, hub, make_user) -> None:
    creds = make_user()
    url = hub.url.replace("http://", "https://", 1)
    result = cli("login", "--hub", url, "--email", creds.email, stdin=creds.password + "\n")
    assert result.code == scripting.EXIT_ERROR, result
    assert "no TLS handshake" in result.err and "http:// or https://" in result.err
    assert "certificate" not in result.err


def test_logout_revokes_and_forgets(signed_in, hub) -> None:
    token = CredentialStore().load(hub.url, signed_in.email)
    result = cli("logout")
    assert result.code == 0, result
    assert result.out.startswith("Signed out of ")
    assert CredentialStore().load(hub.url, signed_in.email) is None
    again = cli("logout")  # idempotent, but says there was nothing to do
    assert again.code == 0 and "nothing to sign out" in again.out, again
    assert cli("logout", "--json").json()["was_signed_in"] is False
    # The hub no longer accepts the old token.
    import requests

    response = requests.get(f"{hub.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 401
    assert cli("keys", "list").code == scripting.EXIT_AUTH


def test_a_revoked_session_is_exit_3_and_forgotten(signed_in, hub) -> None:
    from phhub_keys.api.client import HubClient

    token = CredentialStore().load(hub.url, signed_in.email)
    HubClient(hub.url, token).logout()  # revoked behind the CLI's back (e.g. signed out in the app)
    result = cli("keys", "list")
    assert result.code == scripting.EXIT_AUTH
    assert "expired or was revoked" in result.err
    assert CredentialStore().load(hub.url, signed_in.email) is None


def test_not_signed_in_is_exit_3(cli_env, hub) -> None:
    result = cli("keys", "list", "--hub", hub.url, "--email", "nobody@example.org")
    assert result.code == scripting.EXIT_AUTH
    assert "login" in result.err


def test_an_older_apps_settings_file_is_migrated_once_with_qts_own_decoding(
    cli_env, hub, tmp_path: Path
) -> None:
    """An older app kept the account in settings.ini; it is read through QSettings (not by hand)."""
    from PySide6.QtCore import QSettings

    from phhub_keys.api.client import HubClient

    email = "ada\\lovelace@example.org"  # a backslash: the hand-written INI reader changed it
    hub.store.add_user(email, "correct horse battery")
    settings = tmp_path / "config" / "phhub-keys" / "settings.ini"
    settings.parent.mkdir(parents=True)
    qs = QSettings(str(settings), QSettings.Format.IniFormat)
    qs.setValue("remote/hub_url", hub.url)
    qs.setValue("remote/email", email)
    qs.sync()
    client = HubClient(hub.url)
    CredentialStore().save(hub.url, email, client.login(email, "correct horse battery").token)
    result = cli("keys", "list", "--json")
    assert result.code == 0, result
    assert result.json() == []
    state = json.loads((settings.parent / "account.json").read_text())["remote"]
    assert state["hub_url"] == hub.url and state["email"] == email
    # Once migrated, the old file no longer decides: a later edit of it is ignored.
    qs.setValue("remote/email", "someone-else@example.org")
    qs.sync()
    assert cli("keys", "list", "--json").code == 0


def test_an_older_cli_json_is_migrated_once(cli_env, hub, make_user, tmp_path: Path) -> None:
    creds = make_user()
    folder = tmp_path / "config" / "phhub-keys"
    folder.mkdir(parents=True)
    (folder / "cli.json").write_text(json.dumps({"hub_url": hub.url, "email": creds.email,
                                                 "server_url": f"{hub.url}/mcp"}))
    from phhub_keys.api.client import HubClient

    CredentialStore().save(hub.url, creds.email, HubClient(hub.url).login(creds.email, creds.password).token)
    assert cli("keys", "list", "--json").code == 0
    state = json.loads((folder / "account.json").read_text())["remote"]
    assert (state["hub_url"], state["email"], state["server_url"]) == (hub.url, creds.email, f"{hub.url}/mcp")


def test_cli_and_app_share_one_sign_in(cli_env, qtbot, hub, make_user, make_controller) -> None:
    """'login' on the command line, then the app: no sign-in dialog; sign out in the app ends both."""
    from phhub_keys.gui.settings import AppSettings

    creds = make_user()
    assert cli("login", "--hub", hub.url, "--email", creds.email, stdin=creds.password + "\n").code == 0
    settings = AppSettings()  # the app's default files, in this test's config dir
    assert (settings.hub_url, settings.email) == (hub.url, creds.email)
    controller = make_controller(settings=settings, credentials=CredentialStore())
    controller.start()
    qtbot.waitUntil(lambda: controller.window is not None, timeout=10000)
    assert controller.sign_in_dialog is None and controller.email == creds.email
    controller.sign_out()
    qtbot.waitUntil(lambda: controller.last_sign_out_job.done, timeout=10000)
    result = cli("keys", "list")
    assert result.code == scripting.EXIT_AUTH and "login" in result.err
    assert (AppSettings().hub_url, AppSettings().email) == (hub.url, creds.email)  # still remembered


# ---------------------------------------------------------------- keys


def test_keys_lifecycle(signed_in, hub, tmp_path: Path) -> None:
    created = cli("keys", "create", "  Build server  ")
    assert created.code == 0, created
    secret = created.out.strip()
    assert is_valid_key(secret) and created.out == secret + "\n"  # stdout holds the secret only
    assert "only time" in created.err and secret not in created.err

    listing = cli("keys", "list", "--json").json()
    assert [k["label"] for k in listing] == ["Build server"]
    key_id = listing[0]["id"]
    assert listing[0]["redacted"] == f"phk_{secret[4:8]}...{secret[-6:]}"
    table = cli("keys", "list").out
    assert "Build server" in table and key_id in table and secret not in table and "never" in table

    renamed = cli("keys", "rename", key_id, "CI runner", "--json")
    assert renamed.code == 0 and renamed.json()["label"] == "CI runner"

    bad = cli("keys", "rename", key_id, "evil\u202elabel")
    assert bad.code == scripting.EXIT_USAGE and bad.err
    assert cli("keys", "list", "--json").json()[0]["label"] == "CI runner"

    active_delete = cli("keys", "delete", key_id, "--yes")
    assert active_delete.code == scripting.EXIT_ERROR
    assert "deactivate" in active_delete.err.lower()

    assert cli("keys", "deactivate", key_id).code == 0
    assert cli("keys", "list", "--json").json()[0]["status"] == "deactivated"
    assert cli("keys", "reactivate", key_id, "--json").json()["status"] == "active"
    assert cli("keys", "deactivate", key_id).code == 0

    no_confirm = cli("keys", "delete", key_id)
    assert no_confirm.code == scripting.EXIT_USAGE and "--yes" in no_confirm.err
    assert cli("keys", "delete", key_id, "--yes").code == 0
    assert cli("keys", "list", "--json").json() == []

    missing = cli("keys", "deactivate", key_id)
    assert missing.code == scripting.EXIT_ERROR and missing.err
    for verb in (("rename", "mk_typo", "x"), ("deactivate", "mk_typo"), ("reactivate", "mk_typo"),
                 ("delete", "mk_typo", "--yes")):
        typo = cli("keys", *verb)
        assert typo.code == scripting.EXIT_ERROR, typo
        # names the id the user typed and where to find the right one (not the window's "Refresh the list")
        assert "'mk_typo'" in typo.err and "keys list" in typo.err and "Refresh" not in typo.err
        empty = cli("keys", verb[0], "", *verb[2:])
        assert empty.code == scripting.EXIT_USAGE and "key ID" in empty.err, empty  # was a traceback


def test_keys_create_json_and_invalid_label(signed_in) -> None:
    result = cli("keys", "create", "json key", "--json")
    data = result.json()
    assert is_valid_key(data["secret"]) and data["key"]["label"] == "json key"
    assert "only time" in result.err
    assert cli("keys", "create", "").code == scripting.EXIT_USAGE
    assert cli("keys", "create", "x" * 101).code == scripting.EXIT_USAGE


def test_keys_create_and_rename_refuse_invisible_characters_and_split_secrets(signed_in) -> None:
    """The CLI applies the same label rules as the hub and the window (core.labels), before sending."""
    key_id = cli("keys", "create", "Cursor", "--json").json()["key"]["id"]
    secret = generate_key()
    for label, expected in (("Cur\u200bsor", "invisible character (U+200B)"),
                            ("\u3164", "invisible character (U+3164)"),
                            (f"{secret[:9]}\u200b{secret[9:]}", "looks like an MCP key")):
        for argv in (("keys", "create", label), ("keys", "rename", key_id, label)):
            result = cli(*argv)
            assert result.code == scripting.EXIT_USAGE and expected in result.err, result
            assert secret not in result.err + result.out
    assert [k["label"] for k in cli("keys", "list", "--json").json()] == ["Cursor"]


def test_keys_export_writes_the_key_list_csv_owner_only(signed_in, tmp_path: Path) -> None:
    secret = cli("keys", "create", "=cmd|' /C calc'!A0").out.strip()
    target = tmp_path / "keys.csv"
    result = cli("keys", "export", str(target))
    assert result.code == 0, result
    text = target.read_bytes().decode("utf-8")
    assert text.splitlines()[0] == "id,label,key,status,created_at,last_used_at,expires_at,replaces"
    assert "'=cmd" in text  # formula-escaped
    assert secret not in text and f"phk_{secret[4:8]}...{secret[-6:]}" in text
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert cli("keys", "export", "-").out == text


def test_a_reader_that_leaves_early_is_exit_1_without_a_traceback(signed_in) -> None:
    """`keys export - | head -1`: the write fails with EPIPE; no traceback, nothing on stderr."""
    cli("keys", "create", "piped")

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    err = io.StringIO()
    for argv in (["keys", "export", "-"], ["keys", "list", "--json"]):
        code = scripting.main(argv, scripting.Io(io.StringIO(), ClosedPipe(), err))
        assert code == scripting.EXIT_ERROR
    assert err.getvalue() == ""


def test_usage_errors_are_exit_2() -> None:
    cases = (["keys"], ["keys", "bogus"], ["keys", "rename", "only-id"], ["setup"], ["check-key", "--nope"],
             *(["check-key", "--timeout", t] for t in ("-1", "0", "nan", "inf", "abc")))
    for argv in cases:
        result = cli(*argv)
        assert result.code == scripting.EXIT_USAGE, (argv, result)
        assert result.err and result.out == ""


# ---------------------------------------------------------------- check-key


def test_check_key_reads_env_or_stdin_never_argv(signed_in, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = cli("keys", "create", "checked").out.strip()
    ok = cli("check-key", stdin=secret + "\n")
    assert ok.code == 0 and "The key works" in ok.out and signed_in.email in ok.out
    monkeypatch.setenv(scripting.KEY_ENV, secret)
    ok = cli("check-key", "--json", stdin="ignored\n")
    data = ok.json()
    assert ok.code == 0 and data["ok"] and data["key_label"] == "checked" and data["tool_count"] >= 2
    assert secret not in ok.out
    # There is no way to pass the key on the command line, and a key put there is not echoed back.
    on_argv = cli("check-key", secret)
    assert on_argv.code == scripting.EXIT_USAGE
    assert secret not in on_argv.err and secret[-6:] in on_argv.err and scripting.KEY_ENV in on_argv.err


def test_check_key_bad_checksum_is_exit_4_offline(cli_env) -> None:
    key = generate_key()
    bad = key[:-1] + ("A" if key[-1] != "A" else "B")
    result = cli("check-key", "--url", "http://127.0.0.1:9/mcp", stdin=bad + "\n")
    assert result.code == scripting.EXIT_REJECTED
    assert "checksum" in result.err


def test_check_key_unknown_key_is_exit_4(cli_env, hub) -> None:
    result = cli("check-key", "--url", f"{hub.url}/mcp", stdin=generate_key() + "\n")
    assert result.code == scripting.EXIT_REJECTED
    assert "rejected" in result.err


def test_check_key_unreachable_is_exit_1_and_no_key_is_exit_2(cli_env) -> None:
    result = cli("check-key", "--url", "http://127.0.0.1:9/mcp", stdin=generate_key() + "\n")
    assert result.code == scripting.EXIT_ERROR and "reach" in result.err
    assert cli("check-key", "--url", "http://127.0.0.1:9/mcp", stdin="").code == scripting.EXIT_USAGE
    assert cli("check-key", stdin=generate_key() + "\n").code == scripting.EXIT_USAGE  # no URL known


# ---------------------------------------------------------------- setup


@pytest.mark.parametrize("client", list(scripting_clients()))
def test_setup_print_every_client(signed_in, hub, client: str) -> None:
    result = cli("setup", client)
    assert result.code == 0, result
    assert f"{hub.url}/mcp" in result.out
    assert result.err.startswith("note: ")
    if client == "codex":
        assert tomllib.loads(result.out)["mcp_servers"]["performance-hub"]["url"] == f"{hub.url}/mcp"
    elif client in ("continue", "goose"):
        assert f"{hub.url}/mcp" in result.out
    elif client != "claude-code":
        json.loads(result.out)
    data = cli("setup", client, "--json").json()
    assert data["text"] == result.out and data["server_url"] == f"{hub.url}/mcp"


def test_setup_without_a_session_uses_url_or_cache(cli_env) -> None:
    result = cli("setup", "cursor", "--url", "https://hub.example.org/mcp")
    assert result.code == 0 and "https://hub.example.org/mcp" in result.out
    assert cli("setup", "cursor").code == scripting.EXIT_USAGE  # nothing known yet
    assert cli("setup", "emacs", "--url", "https://x/mcp").code == scripting.EXIT_USAGE
    assert cli("setup", "cursor", "--url", "https://x/mcp", "--name", "bad name").code == scripting.EXIT_USAGE


def test_setup_print_needs_no_keyring(signed_in, hub) -> None:
    """The Server URL is known from the last sign-in: printing a snippet needs no session,
    even when the keyring cannot be used at all (issue 11)."""
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    result = cli("setup", "gemini", "--print")
    assert result.code == 0, result
    assert json.loads(result.out)["mcpServers"]["performance-hub"]["url"] == f"{hub.url}/mcp"


def test_setup_project_scope_writes_the_projects_file(signed_in, hub, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    result = cli("setup", "claude-code", "--project", str(project), "--install", "--json")
    assert result.code == 0, result
    data = json.loads((project / ".mcp.json").read_text())
    assert data["mcpServers"]["performance-hub"] == {
        "type": "http", "url": f"{hub.url}/mcp", "headers": {"Authorization": "Bearer ${PHHUB_MCP_KEY}"}}
    printed = cli("setup", "continue", "--project", str(project))
    assert printed.code == 0 and "type: streamable-http" in printed.out
    assert cli("setup", "continue", "--project", str(project), "--install").code == 0
    assert (project / ".continue" / "mcpServers" / "performance-hub.yaml").is_file()
    refused = cli("setup", "zed", "--project", str(project))
    assert refused.code == scripting.EXIT_USAGE and "project" in refused.err
    missing = cli("setup", "gemini", "--project", str(tmp_path / "nope"), "--install")
    assert missing.code == scripting.EXIT_USAGE and "not a folder" in missing.err


def test_setup_install_same_name_and_replace(signed_in, hub, tmp_path: Path) -> None:
    target = tmp_path / "cfg" / "mcp.json"
    target.parent.mkdir()
    target.write_text('{"mcpServers": {"performance-hub": {"url": "http://old/mcp"}, "other": {"url": "x"}}}')
    before = target.read_text()
    refused = cli("setup", "cursor", "--install", "--file", str(target))
    assert refused.code == scripting.EXIT_ERROR and "--replace" in refused.err
    assert target.read_text() == before
    done = cli("setup", "cursor", "--install", "--file", str(target), "--replace", "--json")
    assert done.code == 0, done
    data = done.json()
    assert data["action"] == "replaced" and Path(data["backup"]).read_text() == before
    servers = json.loads(target.read_text())["mcpServers"]
    assert servers["other"] == {"url": "x"} and servers["performance-hub"]["url"] == f"{hub.url}/mcp"


def test_setup_install_defaults_to_the_clients_path(signed_in, tmp_path: Path) -> None:
    result = cli("setup", "windsurf", "--install")
    assert result.code == 0, result
    path = tmp_path / "home" / ".codeium" / "windsurf" / "mcp_config.json"
    assert "serverUrl" in json.loads(path.read_text())["mcpServers"]["performance-hub"]
    assert cli("setup", "claude-code", "--install").code == scripting.EXIT_ERROR


def test_setup_refuses_an_unparseable_file(signed_in, tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    target.write_text("[mcp_servers\n")
    result = cli("setup", "codex", "--install", "--file", str(target))
    assert result.code == scripting.EXIT_ERROR and "left untouched" in result.err
    assert target.read_text() == "[mcp_servers\n"


def test_setup_embed_key(signed_in, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_key()
    monkeypatch.setenv(scripting.KEY_ENV, key)
    target = tmp_path / "claude.json"
    result = cli("setup", "claude-desktop", "--install", "--embed-key", "--file", str(target))
    assert result.code == 0, result
    entry = json.loads(target.read_text())["mcpServers"]["performance-hub"]
    assert entry["env"]["AUTH_HEADER"] == f"Bearer {key}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    monkeypatch.setenv(scripting.KEY_ENV, key[:-2])
    assert cli("setup", "cursor", "--embed-key").code == scripting.EXIT_REJECTED


# ---------------------------------------------------------------- subprocess, end to end


def run_cli(env: dict[str, str], *argv: str, stdin: str = "") -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "phhub_keys", *argv], input=stdin, capture_output=True, text=True,
        env=env, timeout=90, cwd=str(TESTS_DIR.parent),
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def sub_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (scripting.KEY_ENV, scripting.HUB_ENV)}
    env.update({
        "PYTHONPATH": str(TESTS_DIR),
        "PYTHON_KEYRING_BACKEND": "keyring_backends.FileKeyring",
        "PHHUB_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path / "home"),
    })
    return env


async def _whoami(url: str, headers: dict[str, str]) -> dict:
    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(15))
    async with http, Client(streamable_http_client(url, http_client=http), mode="legacy") as client:
        result = await client.call_tool("whoami", {})
    assert not result.is_error
    return result.structured_content


@pytest.mark.slow
def test_end_to_end_cli_key_to_cursor_config_to_mcp_and_back(sub_env, hub, make_user, tmp_path: Path) -> None:
    creds = make_user(name="End To End")
    login = run_cli(sub_env, "login", "--hub", hub.url, "--email", creds.email, stdin=creds.password + "\n")
    assert login.code == 0, login

    created = run_cli(sub_env, "keys", "create", "e2e cursor")
    assert created.code == 0, created
    secret = created.out.strip()
    assert is_valid_key(secret) and "only time" in created.err

    setup = run_cli(sub_env, "setup", "cursor", "--install")
    assert setup.code == 0, setup
    config_file = tmp_path / "home" / ".cursor" / "mcp.json"
    entry = json.loads(config_file.read_text())["mcpServers"]["performance-hub"]
    assert secret not in config_file.read_text()  # the config references the env var, not the key

    # Do what Cursor does: interpolate ${env:NAME} in url and headers, then connect.
    env_for_cursor = {"PHHUB_MCP_KEY": secret}

    def interpolate(value: str) -> str:
        return re.sub(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env_for_cursor[m.group(1)], value)

    url = interpolate(entry["url"])
    headers = {name: interpolate(value) for name, value in entry["headers"].items()}
    assert url == f"{hub.url}/mcp" and headers == {"Authorization": f"Bearer {secret}"}
    who = asyncio.run(_whoami(url, headers))
    assert who["email"] == creds.email and who["key_label"] == "e2e cursor"

    ok = run_cli({**sub_env, "PHHUB_MCP_KEY": secret}, "check-key")
    assert ok.code == 0 and "The key works" in ok.out

    key_id = json.loads(run_cli(sub_env, "keys", "list", "--json").out)[0]["id"]
    assert run_cli(sub_env, "keys", "deactivate", key_id).code == 0

    rejected = run_cli(sub_env, "check-key", "--json", stdin=secret + "\n")
    assert rejected.code == scripting.EXIT_REJECTED, rejected
    report = json.loads(rejected.out)
    assert report["status"] == "rejected" and "deactivated" in report["message"]

    # The secret went through stdin/env/stdout only: not into the CLI's state or any config.
    for path in (tmp_path / "config").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
    assert secret not in config_file.read_text()
    assert secret not in login.out + login.err + setup.out + setup.err + rejected.out + rejected.err


def test_subprocess_wrong_password_and_help(sub_env, hub, make_user) -> None:
    creds = make_user()
    bad = run_cli(sub_env, "login", "--hub", hub.url, "--email", creds.email, stdin="nope\n")
    assert bad.code == scripting.EXIT_AUTH and bad.out == "" and bad.err
    assert run_cli(sub_env, "keys", "--help").code == 0


# ---------------------------------------------------------------- headless: PHHUB_TOKEN, rate limits


def test_no_keyring_at_all_works_with_a_printed_token_in_phhub_token(sub_env, hub, make_user,
                                                                     tmp_path) -> None:
    """CI/headless: 'login --print-token' stores nothing; PHHUB_TOKEN is used as given and never written."""
    creds = make_user()
    env = {**sub_env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}  # no keyring whatsoever
    plain = run_cli(env, "login", "--hub", hub.url, "--email", creds.email, stdin=creds.password + "\n")
    assert plain.code == scripting.EXIT_ERROR and "can't be kept" in plain.err  # no keyring: says so
    assert "--print-token" in plain.err and scripting.TOKEN_ENV in plain.err  # ... and how to go on
    printed = run_cli(env, "login", "--print-token", "--hub", hub.url, "--email", creds.email,
                      stdin=creds.password + "\n")
    assert printed.code == 0, printed
    token = printed.out.strip()
    assert token.startswith("phs_") and printed.out == token + "\n" and token not in printed.err
    with_token = {**env, scripting.TOKEN_ENV: token, scripting.HUB_ENV: hub.url}
    created = run_cli(with_token, "keys", "create", "from CI")
    assert created.code == 0, created
    listed = run_cli(with_token, "keys", "list", "--json")
    assert listed.code == 0 and [k["label"] for k in listed.json()] == ["from CI"]
    # A stored sign-in cannot be made or ended while the variable decides.
    refused = run_cli(with_token, "logout")
    assert refused.code == scripting.EXIT_USAGE and scripting.TOKEN_ENV in refused.err
    ended = run_cli(with_token, "logout", "--token-from-env")
    assert ended.code == 0, ended
    after = run_cli(with_token, "keys", "list")
    assert after.code == scripting.EXIT_AUTH and scripting.TOKEN_ENV in after.err
    written = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "hub" not in p.name)
    assert token.encode() not in written


def test_keys_retry_on_rate_limit_waits_as_the_hub_asks(cli_env, start_hub, make_user, monkeypatch) -> None:
    limited = start_hub(creates_per_user=2, create_window=2.0)
    limited.store.add_user("bulk@example.org", "correct horse battery")
    assert cli("login", "--hub", limited.url, "--email", "bulk@example.org",
               stdin="correct horse battery\n").code == 0
    assert cli("keys", "create", "one").code == 0 and cli("keys", "create", "two").code == 0
    refused = cli("keys", "create", "three")
    assert refused.code == scripting.EXIT_ERROR and "--retry-on-rate-limit" in refused.err
    waits: list[float] = []
    import time as time_module

    real_sleep = time_module.sleep
    monkeypatch.setattr(time_module, "sleep", lambda s: (waits.append(s), real_sleep(s)))
    result = cli("keys", "create", "three", "--retry-on-rate-limit")
    assert result.code == 0, result
    assert waits and all(0 < w <= 2 for w in waits)  # the hub's Retry-After, not a guess
    assert "rate limited by the hub; waiting" in result.err and "retry 1 of at most" in result.err
    listed = cli("keys", "list", "--json")
    assert sorted(k["label"] for k in listed.json()) == ["one", "three", "two"]  # one "three", not two


def test_retry_on_rate_limit_is_bounded(cli_env, start_hub, monkeypatch) -> None:
    limited = start_hub(creates_per_user=1, create_window=3600.0)
    limited.store.add_user("bulk@example.org", "correct horse battery")
    assert cli("login", "--hub", limited.url, "--email", "bulk@example.org",
               stdin="correct horse battery\n").code == 0
    assert cli("keys", "create", "one").code == 0
    import time as time_module

    waits: list[float] = []
    monkeypatch.setattr(time_module, "sleep", waits.append)  # the hub asks for ~an hour: do not wait it
    result = cli("keys", "create", "two", "--retry-on-rate-limit")
    assert result.code == scripting.EXIT_ERROR and "giving up" in result.err
    assert sum(waits) <= scripting.RATE_LIMIT_MAX_WAIT


# ---------------------------------------------------------------- terminal escapes from a hostile hub

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # "write this to the clipboard"
RETITLE = "\x1b]0;pwned\x07"
C1_CSI = "\x9b2J"  # the 8-bit "clear screen"


def test_hub_supplied_text_never_reaches_the_terminal_raw(sub_env, start_hub) -> None:
    """A hub that does not clean its data (or a hostile one): labels, client and user names holding
    ESC / OSC 52 are printed escaped by login, keys list and the key verbs; --json stays exact."""
    import sqlite3

    from phhub_keys.core.timestamps import format_ts, utcnow

    hostile_hub = start_hub()
    user = hostile_hub.store.add_user("mallory@example.org", "correct horse battery", name="Mallory")
    db = sqlite3.connect(hostile_hub.db_path)
    with db:
        db.execute("UPDATE users SET name = ? WHERE id = ?", (f"{RETITLE}Mallory{OSC52}", user.id))
    login = run_cli(sub_env, "login", "--hub", hostile_hub.url, "--email", "mallory@example.org",
                    stdin="correct horse battery\n")
    assert login.code == 0, login
    created = run_cli(sub_env, "keys", "create", "laptop")
    assert created.code == 0, created
    key_id = run_cli(sub_env, "keys", "list", "--json").json()[0]["id"]
    label = f"lap{OSC52}top\nfake line{C1_CSI}"
    client = f"Cursor{RETITLE}\r1.0"
    with db:
        db.execute("UPDATE keys SET label = ?, last_used_client = ?, last_used_at = ? WHERE id = ?",
                   (label, client, format_ts(utcnow()), key_id))
    db.close()

    listing = run_cli(sub_env, "keys", "list")
    deactivated = run_cli(sub_env, "keys", "deactivate", key_id)
    relogin = run_cli(sub_env, "login", stdin="correct horse battery\n")
    runs = {"keys list": listing, "deactivate": deactivated, "login": relogin}
    for name, result in runs.items():
        assert result.code == 0, (name, result)
        for raw in ("\x1b", "\x07", "\x9b", "\r"):
            assert raw not in result.out + result.err, (name, raw, result)
    assert "\\x1b]52;c;cm0gLXJmIH4K\\x07" in listing.out and "\\x9b2J" in listing.out
    assert "Cursor\\x1b]0;pwned\\x07\\x0d1.0" in listing.out
    assert len(listing.out.strip().splitlines()) == 2  # the label's line break did not forge a row
    assert "\\x1b]52" in deactivated.out and "\\x0afake line" in deactivated.out
    assert "(\\x1b]0;pwned\\x07Mallory\\x1b]52" in relogin.out
    as_json = run_cli(sub_env, "keys", "list", "--json")
    assert as_json.json()[0]["label"] == label  # JSON carries the exact text, safely escaped by JSON
    assert "\x1b" not in as_json.out


def test_a_server_url_with_control_characters_is_refused_before_any_snippet(cli_env) -> None:
    """A Server URL (from --url or a hub's /mcp/config) lands in snippets printed to a terminal and
    pasted into shells: control and invisible characters in it are refused, and the error is escaped."""
    for url in ("http://127.0.0.1:8750/mcp\x1b]52;c;cm0gLXJmIH4K\x07", "http://127.0.0.1:8750/m\u202ecp"):
        result = cli("setup", "claude-code", "--url", url)
        assert result.code == scripting.EXIT_USAGE, result
        assert "control or invisible characters" in result.err
        assert result.out == "" and "\x1b" not in result.err and "\u202e" not in result.err
