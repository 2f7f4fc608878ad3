"""``phhub-keys hub serve|add-user``: passwords never on argv, safe binding, a real server."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from phhub_keys.hub import cli
from phhub_keys.hub.settings import default_db_path
from phhub_keys.hub.store import HubStore

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - the address the hub must refuse without TLS


def test_add_user_reads_password_from_stdin(tmp_path, monkeypatch, capsys):
    db = tmp_path / "hub.db"
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret pass\n"))
    code = cli.main(["add-user", "ann@example.org", "--name", "Ann", "--facility", "ALS", "--facility", "APS",
                     "--db", str(db)])
    assert code == 0
    out = capsys.readouterr().out
    assert "ann@example.org" in out and "s3cret" not in out
    with HubStore(db) as store:
        user = store.check_password("ann@example.org", "s3cret pass")
        assert user is not None and user.name == "Ann" and user.facilities == ("ALS", "APS")


def test_add_user_refuses_duplicates_and_empty_passwords(tmp_path, monkeypatch, capsys):
    db = tmp_path / "hub.db"
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw\n"))
    assert cli.main(["add-user", "ann@example.org", "--db", str(db)]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw\n"))
    assert cli.main(["add-user", "ANN@example.org", "--db", str(db)]) == 1
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(["add-user", "bob@example.org", "--db", str(db)]) == 1
    assert "password" in capsys.readouterr().err


def test_add_user_prompts_on_a_terminal(tmp_path, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["typed-pw", "typed-pw"])
    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    assert cli.main(["add-user", "tty@example.org", "--db", str(tmp_path / "h.db")]) == 0
    with HubStore(tmp_path / "h.db") as store:
        assert store.check_password("tty@example.org", "typed-pw") is not None
    mismatch = iter(["one", "two"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(mismatch))
    assert cli.main(["add-user", "other@example.org", "--db", str(tmp_path / "h.db")]) == 1


def test_there_is_no_password_option():
    with pytest.raises(SystemExit):
        cli.main(["add-user", "a@example.org", "--password", "x"])


@pytest.mark.parametrize(("host", "public_url", "refused"), [
    ("127.0.0.1", None, False),
    ("::1", None, False),
    ("localhost", "http://localhost:8750", False),
    (ALL_INTERFACES, None, True),
    (ALL_INTERFACES, "http://hub.example.org", True),
    ("192.168.1.5", "https://hub.example.org", False),
    ("127.0.0.1", "ftp://hub", True),
    ("127.0.0.1", "https://hub.example.org/some/path", True),
])
def test_binding_rules(host, public_url, refused):
    assert (cli.check_public_url(host, public_url) is not None) is refused


def test_serve_refuses_non_loopback_without_https_and_says_why(capsys):
    assert cli.main(["serve", "--host", ALL_INTERFACES]) == 2
    err = capsys.readouterr().err
    assert "Refusing to listen on 0.0.0.0" in err and "--public-url https://" in err


def test_default_database_is_in_the_user_data_dir():
    path = default_db_path()
    assert path.name == "hub.db" and "phhub-keys" in str(path)


def test_serve_runs_a_real_hub_and_stops_on_ctrl_c(tmp_path):
    db = tmp_path / "hub.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "phhub_keys", "hub", "serve", "--port", "0", "--db", str(db),
         "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        first = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match, first + proc.stderr.read()
        base = match.group(0)
        assert f"MCP endpoint: {base}/mcp" in proc.stdout.readline()
        assert "add-user" in proc.stdout.readline()  # empty database: says how to add a user
        assert requests.get(f"{base}/openapi.json", timeout=10).status_code == 200
        assert requests.get(f"{base}/api/v1/me", timeout=10).status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Hub stopped." in out
    assert "Traceback" not in err


@pytest.mark.parametrize("port", ["99999", "-1", "eighty"])
def test_serve_rejects_a_bad_port_as_usage_not_a_traceback(port, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--port", port])
    assert exit_info.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_a_db_that_is_not_a_database_is_a_clear_error(tmp_path, monkeypatch, capsys):
    not_db = tmp_path / "notes.txt"
    not_db.write_bytes(b"not sqlite at all\n" * 100)
    for db in (not_db, tmp_path):  # another kind of file, a folder
        assert cli.main(["serve", "--port", "0", "--db", str(db)]) == 1
        err = capsys.readouterr().err
        assert f"cannot open the database {db}" in err and "--db" in err
        monkeypatch.setattr(sys, "stdin", io.StringIO("pw\n"))
        assert cli.main(["add-user", "ann@example.org", "--db", str(db)]) == 1
        assert f"cannot open the database {db}" in capsys.readouterr().err
    assert not_db.read_bytes() == b"not sqlite at all\n" * 100


def test_ctrl_c_at_the_password_prompt_is_130_without_a_traceback(tmp_path, monkeypatch, capsys):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def interrupted(prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr(cli.getpass, "getpass", interrupted)
    db = tmp_path / "h.db"
    assert cli.main(["add-user", "tty@example.org", "--db", str(db)]) == 130
    assert "interrupted; no user added" in capsys.readouterr().err
    assert not db.exists()


def _serve(db, *flags: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "phhub_keys", "hub", "serve", "--port", "0", "--db", str(db),
         "--log-level", "warning", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    first = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
    if not match:
        proc.kill()
        pytest.fail(first + proc.stderr.read())
    return proc, match.group(0)


def test_serve_key_policy_flags_reach_the_config(tmp_path):
    db = tmp_path / "hub.db"
    with HubStore(db, password_cost=2**4) as store:
        store.add_user("pol@example.org", "policy pw")
    proc, base = _serve(db, "--default-key-lifetime", "30", "--max-key-lifetime", "180",
                        "--max-rotation-grace", "7")
    try:
        token = requests.post(f"{base}/api/v1/auth/login", json={"email": "pol@example.org",
                                                                 "password": "policy pw"}, timeout=10).json()
        config = requests.get(f"{base}/api/v1/mcp/config", timeout=10,
                              headers={"Authorization": f"Bearer {token['token']}"}).json()
        assert config["key_policy"] == {"default_lifetime_days": 30, "max_lifetime_days": 180,
                                        "max_rotation_grace_days": 7}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


@pytest.mark.parametrize(("flags", "words"), [
    (["--max-key-lifetime", "30"], "default key lifetime"),  # the default (90) exceeds the maximum
    (["--default-key-lifetime", "none", "--max-key-lifetime", "30"], "needs a default"),
])
def test_serve_refuses_an_inconsistent_policy(tmp_path, capsys, flags, words):
    assert cli.main(["serve", "--port", "0", "--db", str(tmp_path / "hub.db"), *flags]) == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-3", "ninety"])
def test_serve_rejects_bad_policy_numbers_as_usage(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--max-key-lifetime", value])
    assert exit_info.value.code == 2
    assert "--max-key-lifetime" in capsys.readouterr().err
