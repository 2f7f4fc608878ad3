"""The key-hygiene verbs of the scripting CLI against the real hub: keys create with expiry,
keys expiry, keys rotate (with --update-clients on scratch client configs), keys events,
keys expiring (exit 0 / 5), where-used. In-process (``scripting.main``) with a temp HOME, so
the client config files are real files in the test's own home."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import test_scripting
from test_scripting import cli

from phhub_keys import scripting
from phhub_keys.core.config_install import config_path
from phhub_keys.core.keyformat import is_valid_key, redact
from phhub_keys.core.timestamps import parse_ts
from phhub_keys.hygiene_cli import EXIT_SOME

# The scripting tests' fixtures: an isolated HOME and config folder, a memory keyring, signed in.
cli_env = test_scripting.cli_env
signed_in = test_scripting.signed_in


def made(*argv: str) -> dict:
    result = cli("keys", "create", *argv, "--json")
    assert result.code == 0, result
    return result.json()


def near(value: str | None, expected: datetime, slack: float = 5.0) -> bool:
    when = parse_ts(value)
    return when is not None and abs((when - expected).total_seconds()) <= slack


# ---------------------------------------------------------------- create / expiry


def test_create_with_each_expiry_option(signed_in) -> None:
    now = datetime.now(UTC)
    assert near(made("thirty", "--expires-in", "30d")["key"]["expires_at"], now + timedelta(days=30))
    assert near(made("twelve hours", "--expires-in", "12h")["key"]["expires_at"], now + timedelta(hours=12))
    assert made("dated", "--expires-at", "2031-03-01")["key"]["expires_at"] == "2031-03-01T00:00:00Z"
    assert made("forever", "--no-expiry")["key"]["expires_at"] is None
    plain = cli("keys", "create", "plain")
    assert plain.code == 0 and is_valid_key(plain.out.strip())
    table = cli("keys", "list").out.splitlines()
    assert table[0].split()[:6] == ["ID", "KEY", "STATUS", "LABEL", "CREATED", "EXPIRES"]
    by_label = {line.split()[3]: line for line in table[1:]}
    assert "in 29 days" in by_label["thirty"] or "in 30 days" in by_label["thirty"]
    assert "Never" in by_label["forever"]


@pytest.mark.parametrize(("argv", "code", "words"), [
    (["--expires-in", "30d", "--no-expiry"], scripting.EXIT_USAGE, "not allowed with"),
    (["--expires-in", "soon"], scripting.EXIT_USAGE, "not a duration"),
    (["--expires-at", "tomorrow"], scripting.EXIT_USAGE, "not a date"),
    (["--expires-at", "2001-01-01"], scripting.EXIT_ERROR, "in the future"),
    (["--expires-in", "0"], scripting.EXIT_USAGE, "more than 0"),
])
def test_create_refuses_bad_expiry(signed_in, argv, code, words) -> None:
    result = cli("keys", "create", "bad", *argv)
    assert result.code == code, result
    assert words in result.err and result.out == ""
    assert cli("keys", "list", "--json").json() == []


def test_keys_expiry_in_at_never_and_renew(signed_in) -> None:
    key_id = made("change me", "--expires-in", "5d")["key"]["id"]
    result = cli("keys", "expiry", key_id, "--in", "60d", "--json")
    assert result.code == 0, result
    assert near(result.json()["expires_at"], datetime.now(UTC) + timedelta(days=60))
    text = cli("keys", "expiry", key_id, "--at", "2032-01-02")
    assert text.code == 0 and "2032-01-02 00:00 UTC" in text.out and key_id in text.out
    never = cli("keys", "expiry", key_id, "--never")
    assert never.code == 0 and "now expires: Never" in never.out
    assert cli("keys", "expiry", key_id).code == scripting.EXIT_USAGE  # one of --in/--at/--never
    missing = cli("keys", "expiry", "mk_0000000000000000", "--never")
    assert missing.code == scripting.EXIT_ERROR and "No key with id" in missing.err


# ---------------------------------------------------------------- rotate


def test_rotate_prints_the_new_key_once_and_cuts_the_old_with_grace_zero(signed_in, hub) -> None:
    old = made("laptop")
    result = cli("keys", "rotate", old["key"]["id"], "--grace", "0")
    assert result.code == 0, result
    secret = result.out.strip()
    assert is_valid_key(secret) and secret != old["secret"]
    assert secret not in result.err and "stopped working now" in result.err
    keys = {k["id"]: k for k in cli("keys", "list", "--json").json()}
    assert keys[old["key"]["id"]]["status"] == "deactivated"
    (new,) = [k for k in keys.values() if k["replaces"] == old["key"]["id"]]
    assert new["redacted"] == redact(secret) and new["label"] == "laptop"
    again = cli("keys", "rotate", old["key"]["id"])
    assert again.code == scripting.EXIT_ERROR and f"already rotated to {new['id']}" in again.err


def test_rotate_json_with_a_grace_and_a_label(signed_in) -> None:
    old = made("ci")
    result = cli("keys", "rotate", old["key"]["id"], "--grace", "2h", "--label", "ci 2", "--json")
    assert result.code == 0, result
    body = result.json()
    assert set(body) == {"key", "secret", "replaces", "grace_seconds"}
    assert body["grace_seconds"] == 7200 and body["key"]["label"] == "ci 2"
    assert body["replaces"]["status"] == "active" and body["replaces"]["replaced_by"] == body["key"]["id"]
    assert near(body["replaces"]["expires_at"], datetime.now(UTC) + timedelta(hours=2))
    assert is_valid_key(body["secret"])
    assert cli("keys", "rotate", old["key"]["id"], "--grace", "soon").code == scripting.EXIT_USAGE
    too_long = cli("keys", "rotate", body["key"]["id"], "--grace", "31d")
    assert too_long.code == scripting.EXIT_ERROR and "grace_seconds" in too_long.err


def _install(client: str, secret: str, monkeypatch: pytest.MonkeyPatch, *, embed: bool = True) -> Path:
    monkeypatch.setenv(scripting.KEY_ENV, secret)
    result = cli("setup", client, "--install", *(["--embed-key"] if embed else []))
    monkeypatch.delenv(scripting.KEY_ENV)
    assert result.code == 0, result
    return config_path(client)


def test_rotate_update_clients_rewires_this_computers_configs_then_checks_the_new_key(
        signed_in, hub, monkeypatch) -> None:
    old = made("desktop")
    files = {c: _install(c, old["secret"], monkeypatch) for c in ("cursor", "vscode", "claude-desktop")}
    codex = _install("codex", old["secret"], monkeypatch, embed=False)  # reads the key from a variable
    before = {c: p.read_text() for c, p in files.items()}
    assert all(old["secret"] in text for text in before.values())

    result = cli("keys", "rotate", old["key"]["id"], "--grace", "1h", "--update-clients", "--yes", "--json")
    assert result.code == 0, result
    body = result.json()
    new_secret = body["secret"]
    update = body["update_clients"]
    assert sorted(r["client"] for r in update["replaced"]) == ["claude-desktop", "cursor", "vscode"]
    assert update["skipped"] == [] and update["check"]["ok"] is True
    for client, path in files.items():
        text = path.read_text()
        assert new_secret in text and old["secret"] not in text
        assert text == before[client].replace(old["secret"], new_secret)  # nothing else changed
        backups = list(path.parent.glob(path.name + ".phhub-backup-*"))
        assert len(backups) == 1 and old["secret"] in backups[0].read_text()
    indirect = update["usage"]["indirect"]
    assert [(u["client"], u["kind"]) for u in indirect] == [("codex", "env")]
    assert str(codex) == indirect[0]["path"]


def test_rotate_update_clients_without_yes_changes_nothing(signed_in, hub, monkeypatch) -> None:
    old = made("careful")
    path = _install("cursor", old["secret"], monkeypatch)
    before = path.read_text()
    result = cli("keys", "rotate", old["key"]["id"], "--update-clients")
    assert result.code == scripting.EXIT_ERROR, result
    assert is_valid_key(result.out.strip())  # the rotation itself happened and its key is shown once
    assert "pass --yes" in result.err and str(path) in result.err
    assert path.read_text() == before
    assert not list(path.parent.glob(path.name + ".phhub-backup-*"))


# ---------------------------------------------------------------- events


def test_events_account_and_per_key_with_limits(signed_in) -> None:
    key = made("tracked")["key"]["id"]
    cli("keys", "rename", key, "tracked 2")
    cli("keys", "deactivate", key)
    assert cli("keys", "delete", key, "--yes").code == 0
    feed = cli("keys", "events", "--json")
    assert feed.code == 0, feed
    assert [e["kind"] for e in feed.json()["events"]] == ["deleted", "deactivated", "renamed", "created"]
    assert feed.json()["next_before"] is None
    page = cli("keys", "events", key, "--limit", "2", "--json").json()
    assert [e["kind"] for e in page["events"]] == ["deleted", "deactivated"] and page["next_before"]
    table = cli("keys", "events", key)
    assert table.code == 0 and "renamed" in table.out and "tracked -> tracked 2" in table.out
    assert table.out.splitlines()[0].split() == ["AT", "KEY", "LABEL", "EVENT", "DETAIL"]
    assert cli("keys", "events", "--limit", "0").code == scripting.EXIT_USAGE
    unknown = cli("keys", "events", "mk_0000000000000000")
    assert unknown.code == scripting.EXIT_ERROR and "No key with id" in unknown.err


# ---------------------------------------------------------------- expiring


def test_expiring_exit_codes_for_cron(signed_in) -> None:
    none = cli("keys", "expiring")
    assert none.code == 0 and "No key expires within 30 days" in none.out
    soon = made("soon", "--expires-in", "5d")["key"]
    made("later", "--expires-in", "90d")
    made("never", "--no-expiry")
    week = cli("keys", "expiring", "--within", "7d")
    assert week.code == EXIT_SOME, week
    assert soon["id"] in week.out and ("in 4 days" in week.out or "in 5 days" in week.out)
    assert "later" not in week.out
    assert cli("keys", "expiring", "--within", "1d").code == 0
    data = cli("keys", "expiring", "--json")
    assert data.code == EXIT_SOME
    body = data.json()
    assert [k["id"] for k in body["keys"]] == [soon["id"]] and body["within_seconds"] == 30 * 86400
    assert 4 * 86400 < body["keys"][0]["expires_in_seconds"] <= 5 * 86400 + 2  # 1 s clock resolution


# ---------------------------------------------------------------- where-used


def test_where_used_lists_the_configs_and_what_the_hub_saw(signed_in, hub, monkeypatch) -> None:
    used = made("used here")
    unused = made("not here")
    path = _install("cursor", used["secret"], monkeypatch)
    result = cli("where-used", used["key"]["id"])
    assert result.code == 0, result
    assert f"Cursor: {path}" in result.out and "hub: never used" in result.out
    assert used["secret"] not in result.out
    data = cli("where-used", used["key"]["id"], "--json").json()
    (entry,) = data["keys"]
    assert entry["key"]["id"] == used["key"]["id"]
    assert [(u["client"], u["path"]) for u in entry["usage"]["literal"]] == [("cursor", str(path))]
    everything = cli("where-used", "--json").json()
    assert [e["key"]["id"] for e in everything["keys"]] == [used["key"]["id"]]  # only keys found here
    nowhere = cli("where-used", unused["key"]["id"])
    assert nowhere.code == 0 and "No client config on this computer holds" in nowhere.out
    assert cli("where-used", "mk_0000000000000000").code == scripting.EXIT_ERROR


def test_hygiene_verbs_are_in_help(capsys) -> None:
    assert cli("keys", "--help").code == 0
    text = capsys.readouterr().out  # argparse prints --help itself
    for verb in ("expiry", "rotate", "events", "expiring"):
        assert verb in text
    assert cli("where-used", "--help").code == 0
    assert "Scans every client config file" in capsys.readouterr().out


def test_where_used_keeps_a_config_files_text_on_its_line(signed_in, monkeypatch) -> None:
    """A server name in a client config is the file's text: a line break in it must not forge
    a line of the report (escape sequences were already escaped; line breaks were kept)."""
    import json

    used = made("used here")
    path = config_path("cursor")
    path.parent.mkdir(parents=True, exist_ok=True)
    forged = "evil\n  Claude Desktop: /nowhere/config.json - the key is written in the file"
    path.write_text(json.dumps({"mcpServers": {forged: {
        "url": "http://127.0.0.1:1/mcp", "headers": {"Authorization": f"Bearer {used['secret']}"}}}}))
    path.chmod(0o600)
    result = cli("where-used", used["key"]["id"])
    assert result.code == 0, result
    assert "evil\\x0a  Claude Desktop" in result.out, result.out
    assert not any(line.lstrip().startswith("Claude Desktop") for line in result.out.splitlines()), result.out
