"""core.paths and core.account: one home for the folders and one shared, secret-free account state."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from phhub_keys.core import paths
from phhub_keys.core.account import LOCAL, REMOTE, AccountState, SecretInSettings


def test_every_folder_comes_from_one_place_with_the_same_app_folder() -> None:
    config, data = paths.config_dir(), paths.data_dir()
    assert config.name == data.name == paths.APP_NAME
    assert paths.account_state_path().parent == paths.settings_path().parent == config
    assert paths.hub_db_path().parent == paths.local_hub_db_path().parent == data
    from phhub_keys.gui.settings import default_settings_path
    from phhub_keys.hub.local import default_db_path as local_default
    from phhub_keys.hub.settings import default_db_path as hub_default

    assert (local_default(), hub_default(), default_settings_path()) == (
        paths.local_hub_db_path(), paths.hub_db_path(), paths.settings_path())


def test_round_trip_per_profile_and_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    state = AccountState.load(path)
    assert state.remote.hub_url == "" and not path.exists()  # nothing to migrate: nothing written
    state.update(REMOTE, hub_url="https://hub.example.org", email="ada\\x@example.org")
    state.update(LOCAL, server_url="http://127.0.0.1:8750/mcp")
    again = AccountState.load(path)
    assert (again.remote.hub_url, again.remote.email) == ("https://hub.example.org", "ada\\x@example.org")
    assert again.local.server_url == "http://127.0.0.1:8750/mcp" and again.local.email == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["version"] == 1


def test_update_keeps_what_another_process_wrote_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    app = AccountState.load(path)
    app.update(REMOTE, hub_url="https://hub.example.org")
    AccountState.load(path).update(REMOTE, email="cli@example.org")  # e.g. 'phhub-keys login'
    app.update(REMOTE, server_url="https://hub.example.org/mcp")
    final = AccountState.load(path).remote
    assert (final.email, final.server_url) == ("cli@example.org", "https://hub.example.org/mcp")


def test_a_secret_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    state = AccountState.load(path)
    state.update(REMOTE, email="ada@example.org")
    before = path.read_bytes()
    with pytest.raises(SecretInSettings):
        state.update(REMOTE, hub_url="https://hub.example.org", email="phs_" + "a" * 43)
    assert path.read_bytes() == before
    # A secret put into the file by hand is not taken back in either.
    path.write_text(json.dumps({"remote": {"email": "phk_" + "b" * 36}}))
    assert AccountState.load(path).remote.email == ""


def test_damaged_file_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    path.write_text("{not json")
    assert AccountState.load(path).remote.hub_url == ""


def test_migration_takes_the_newer_file_and_runs_once(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    cli_state = {"hub_url": "https://cli.example.org", "email": "cli@x.org"}
    (tmp_path / "cli.json").write_text(json.dumps(cli_state))
    ini = tmp_path / "settings.ini"
    ini.write_text("")
    old = time.time() - 100
    os.utime(tmp_path / "cli.json", (old, old))  # the app's file is newer: its values win

    def read_ini(_path: Path) -> dict:
        return {"remote": {"hub_url": "https://app.example.org", "email": "app@x.org", "server_url": ""},
                "local": {"server_url": "http://127.0.0.1:8750/mcp"}}

    state = AccountState.load(path, legacy_ini=ini, read_legacy_ini=read_ini)
    assert (state.remote.hub_url, state.remote.email) == ("https://app.example.org", "app@x.org")
    assert state.local.server_url == "http://127.0.0.1:8750/mcp"
    assert path.exists()
    (tmp_path / "cli.json").write_text(json.dumps({"hub_url": "https://later.example.org"}))
    assert AccountState.load(path, legacy_ini=ini, read_legacy_ini=read_ini).remote.hub_url == \
        "https://app.example.org"


def test_a_new_folder_for_the_account_file_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    """account.json says which hub the app signs in to: another user who can replace it (a folder
    made group- or world-writable by a umask of 002 or 000) could send the next password to their
    own hub. The folder the app makes for it is 0700, as the other state folders are."""
    path = tmp_path / "fresh" / "phhub-keys" / "account.json"
    old = os.umask(0o002)
    try:
        AccountState.load(path).update(REMOTE, hub_url="https://hub.example.org", email="ada@example.org")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
