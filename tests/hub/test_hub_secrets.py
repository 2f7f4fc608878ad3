"""After a full session, no plaintext key, session token or password is in the hub's files or logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests
from fixtures_hub import (
    HubLogCapture,
    SignedInSession,
    add_test_user,
    find_plaintext_secrets,
    mcp_call,
    mcp_post_status,
)

from phhub_keys.core.keyformat import generate_key
from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.settings import HubSettings

SERVER_LOGGERS = ("phhub_keys", "mcp.server", "uvicorn", "uvicorn.error", "uvicorn.access", "fastapi",
                  "starlette")


@pytest.fixture
def verbose_logs():
    """Every server-side logger at DEBUG, captured (access log included)."""
    capture = HubLogCapture()
    saved = []
    for name in SERVER_LOGGERS:
        lg = logging.getLogger(name)
        saved.append((lg, lg.level))
        lg.setLevel(logging.DEBUG)
        lg.addHandler(capture)
    yield capture
    for lg, level in saved:
        lg.removeHandler(capture)
        lg.setLevel(level)


def _files(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))


def test_full_session_leaves_no_plaintext_secret(tmp_path, verbose_logs, capfd):
    db = tmp_path / "hub.db"
    settings = HubSettings(password_cost=2**10)
    hub = EmbeddedHub(db, settings=settings, access_log=True, log_level="debug").start()
    try:
        creds = add_test_user(hub)
        wrong = {"email": creds.email, "password": "wrong-" + creds.password}
        requests.post(f"{hub.url}/api/v1/auth/login", json=wrong, timeout=10)
        s = SignedInSession(hub.url, creds)
        idem = {"Idempotency-Key": "abc"}
        first = s.post(s.api("/mcp/keys"), json={"label": "laptop"}, headers=idem, timeout=10).json()
        second = s.create_key("ci")
        secrets = [first["secret"], second["secret"]]
        mcp_call(hub.url, first["secret"], mode="legacy", client_name="Cursor", client_version="1")
        mcp_call(hub.url, second["secret"], header="X-API-Key")
        near_miss = first["secret"][:-1] + ("A" if first["secret"][-1] != "A" else "B")
        for bad in (near_miss, s.token, generate_key()):
            mcp_post_status(hub.url, {"Authorization": f"Bearer {bad}"})
        as_key = {"Authorization": f"Bearer {first['secret']}"}
        requests.get(f"{hub.url}/api/v1/me", headers=as_key, timeout=10)
        key_id = first["key"]["id"]
        s.patch(s.api(f"/mcp/keys/{key_id}"), json={"label": "renamed"}, timeout=10)
        s.post(s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10)
        mcp_post_status(hub.url, {"Authorization": f"Bearer {first['secret']}"})
        s.delete(s.api(f"/mcp/keys/{key_id}"), timeout=10)
        s.get(s.api("/mcp/keys"), timeout=10)
        token = s.token
        s.post(s.api("/auth/logout"), timeout=10)
        while_running = _files(db)
        assert Path(f"{db}-wal").exists()
    finally:
        hub.stop()
    after_stop = _files(db)
    logs = verbose_logs.text()
    out, err = capfd.readouterr()

    assert "signed in" in logs and "created key" in logs  # the capture did see the hub's logs
    assert "POST /api/v1/mcp/keys" in logs  # ... and the access log
    plaintexts = [*secrets, near_miss, token, creds.password]
    # The parts a redacted preview hides must not appear either.
    hidden_parts = [secret[8:-6] for secret in secrets]
    for where, data in (("db while running", while_running), ("db after stop", after_stop),
                        ("logs", logs.encode()), ("stdout/stderr", (out + err).encode())):
        for value in plaintexts + hidden_parts:
            assert value.encode() not in data, f"secret material found in {where}"
        assert find_plaintext_secrets(data) == [], where
