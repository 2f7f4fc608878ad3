"""HubStore: schema versioning, file safety, hashing, ownership rules and the usage throttle."""

from __future__ import annotations

import sqlite3
import stat
import threading

import pytest
from fixtures_hub import find_plaintext_secrets

from phhub_keys.core.keyformat import hash_secret, is_valid_key
from phhub_keys.hub.mcp_gate import UsageRecorder, client_from_body, credential_from_headers
from phhub_keys.hub.middleware import host_allowed
from phhub_keys.hub.schema import SCHEMA_VERSION, SchemaTooNew
from phhub_keys.hub.security import client_description, hash_password, verify_password
from phhub_keys.hub.settings import HubSettings
from phhub_keys.hub.store import HubStore, KeyLimitReached, KeyStillActive

FAST = 2**8  # scrypt cost for these tests


@pytest.fixture
def store(tmp_path):
    with HubStore(tmp_path / "data" / "hub.db", password_cost=FAST) as s:
        yield s


def test_new_database_is_private_wal_and_current(tmp_path):
    path = tmp_path / "new" / "hub.db"
    with HubStore(path, password_cost=FAST) as s:
        s.add_user("a@example.org", "pw")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        wal = path.with_name("hub.db-wal")
        assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_reopening_keeps_data_and_does_not_remigrate(tmp_path):
    path = tmp_path / "hub.db"
    with HubStore(path, password_cost=FAST) as s:
        user = s.add_user("a@example.org", "pw", name="Ann", facilities=["ALS"])
        record, _ = s.create_key(user.id, "kept", max_keys=10)
    with HubStore(path, password_cost=FAST) as s:
        assert s.get_user(user.id) == user
        assert s.get_key(user.id, record.id) == record
        assert s.integrity_check() == "ok"


def test_database_from_a_newer_hub_is_refused(tmp_path):
    path = tmp_path / "hub.db"
    HubStore(path, password_cost=FAST).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNew, match="newer"):
        HubStore(path)


def test_existing_version_zero_file_is_migrated(tmp_path):
    path = tmp_path / "hub.db"
    sqlite3.connect(path).close()  # an empty SQLite file, user_version 0
    with HubStore(path, password_cost=FAST) as s:
        assert s.add_user("a@example.org", "pw").email == "a@example.org"


def test_users(store):
    user = store.add_user("  Ann@Example.org ", "pw", name="Ann", facilities=["ALS", "", "SSRL"])
    assert user.email == "Ann@Example.org" and user.facilities == ("ALS", "SSRL")
    assert store.has_user("ann@example.org") and not store.has_user("bob@example.org")
    with pytest.raises(ValueError, match="already exists"):
        store.add_user("ANN@example.org", "other")
    for email in ("", "no-at-sign", "a b@c.d", "x" * 400 + "@e.org"):
        with pytest.raises(ValueError):
            store.add_user(email, "pw")
    with pytest.raises(ValueError):
        store.add_user("c@example.org", "")
    assert store.check_password("ann@example.org", "pw") == user
    assert store.check_password("ann@example.org", "PW") is None
    assert store.check_password("nobody@example.org", "pw") is None


def test_passwords_are_salted_scrypt_hashes(store):
    store.add_user("a@example.org", "correct horse")
    store.add_user("b@example.org", "correct horse")
    hashes = [row[0] for row in store._query("SELECT password_hash FROM users")]
    assert all(h.startswith("scrypt$") and "correct horse" not in h for h in hashes)
    assert hashes[0] != hashes[1]
    assert verify_password("correct horse", hashes[0]) and not verify_password("wrong", hashes[0])
    assert not verify_password("x", "md5$abc") and not verify_password("x", "garbage")
    assert hash_password("x").startswith("scrypt$16384$")


def test_sessions_store_only_hashes_and_expire(store):
    user = store.add_user("a@example.org", "pw")
    token, _expires = store.create_session(user.id, ttl_seconds=3600)
    assert store.session_user(token) == user
    assert store._query("SELECT token_hash FROM sessions") == [(hash_secret(token),)]
    store.revoke_session(token)
    assert store.session_user(token) is None
    expired, _ = store.create_session(user.id, ttl_seconds=-1)
    assert store.session_user(expired) is None


def test_keys_store_only_hash_and_preview(store):
    user = store.add_user("a@example.org", "pw")
    record, secret = store.create_key(user.id, "label", max_keys=10)
    assert is_valid_key(secret)
    row = store._query("SELECT secret_hash, redacted FROM keys")[0]
    assert row == (hash_secret(secret), record.redacted)
    identity = store.authenticate_key(secret)
    assert identity is not None and identity.user == user and identity.key.id == record.id
    assert store.authenticate_key(secret[:-1] + "0") is None


def test_key_rules_are_per_owner(store):
    alice = store.add_user("a@example.org", "pw")
    bob = store.add_user("b@example.org", "pw")
    record, _ = store.create_key(alice.id, "alice's", max_keys=10)
    assert store.get_key(bob.id, record.id) is None
    assert store.rename_key(bob.id, record.id, "stolen") is None
    assert store.set_key_active(bob.id, record.id, False) is None
    assert store.delete_key(bob.id, record.id) is False
    assert store.get_key(alice.id, record.id) == record
    with pytest.raises(KeyStillActive):
        store.delete_key(alice.id, record.id)
    off = store.set_key_active(alice.id, record.id, False)
    assert off is not None and off.status == "deactivated"
    assert store.delete_key(alice.id, record.id) is True
    assert store.list_keys_json(alice.id) == []


def test_key_cap_holds_under_concurrent_creates(store):
    user = store.add_user("a@example.org", "pw")
    outcomes: list[str] = []

    def create() -> None:
        try:
            store.create_key(user.id, "x", max_keys=5)
            outcomes.append("ok")
        except KeyLimitReached:
            outcomes.append("limit")

    threads = [threading.Thread(target=create) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 5 and store.count_keys(user.id) == 5


def test_nothing_secret_in_the_files(tmp_path):
    path = tmp_path / "hub.db"
    with HubStore(path, password_cost=FAST) as s:
        user = s.add_user("a@example.org", "hunter2-password")
        token, _ = s.create_session(user.id, 3600)
        secrets_made = [s.create_key(user.id, f"k{i}", max_keys=100)[1] for i in range(20)]
        files = [p for p in tmp_path.iterdir()]
        data = b"".join(p.read_bytes() for p in files)
        assert {p.name for p in files} >= {"hub.db", "hub.db-wal"}
        for secret in [*secrets_made, token, "hunter2-password"]:
            assert secret.encode() not in data
        assert find_plaintext_secrets(data) == []


class CountingStore:
    def __init__(self) -> None:
        self.writes: list[tuple[str, str | None, str | None]] = []

    def record_key_use(self, key_id: str, client: str | None, ip: str | None) -> None:
        self.writes.append((key_id, client, ip))


def test_usage_is_written_at_most_once_per_interval_unless_something_changed():
    fake = CountingStore()
    usage = UsageRecorder(fake, interval=60)
    usage.record("mk_1", "Cursor 1.0", "127.0.0.1")
    usage.record("mk_1", "Cursor 1.0", "127.0.0.1")
    usage.record("mk_1", None, "127.0.0.1")  # a later request of the same session
    assert len(fake.writes) == 1
    usage.record("mk_1", "Claude 2", "127.0.0.1")  # another client: written at once
    usage.record("mk_1", "Claude 2", "10.0.0.5")  # another address: written at once
    usage.record("mk_2", None, "127.0.0.1")  # another key
    assert fake.writes == [("mk_1", "Cursor 1.0", "127.0.0.1"), ("mk_1", "Claude 2", "127.0.0.1"),
                           ("mk_1", "Claude 2", "10.0.0.5"), ("mk_2", None, "127.0.0.1")]


def test_gate_helpers():
    from starlette.datastructures import Headers

    assert credential_from_headers(Headers({"authorization": "Bearer  phk_x "})) == "phk_x"
    assert credential_from_headers(Headers({"authorization": "bearer phk_x"})) == "phk_x"
    assert credential_from_headers(Headers({"x-api-key": "phk_y"})) == "phk_y"
    assert credential_from_headers(Headers({"authorization": "Basic abc"})) == ""
    assert credential_from_headers(Headers({})) is None
    allowed = HubSettings(public_url="https://hub.example.org").allowed_hosts()
    assert host_allowed("127.0.0.1:8750", allowed) and host_allowed("localhost:1", allowed)
    assert host_allowed("[::1]:9", allowed) and host_allowed("hub.example.org", allowed)
    assert not host_allowed("127.0.0.1:80x", allowed) and not host_allowed("127.0.0.1.nip.io:80", allowed)
    assert not host_allowed(None, allowed) and not host_allowed("hub.example.org:80", allowed)
    init = (b'{"jsonrpc":"2.0","id":1,"method":"initialize",'
            b'"params":{"clientInfo":{"name":"Cursor","version":"1.7"}}}')
    assert client_from_body(init) == "Cursor 1.7"
    modern = (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":'
              b'{"io.modelcontextprotocol/clientInfo":{"name":"Codex"}}}}')
    assert client_from_body(modern) == "Codex"
    assert client_from_body(b"[" + init + b"]") == "Cursor 1.7"
    assert client_from_body(b"not json") is None and client_from_body(b'{"params": 1}') is None
    assert client_description({"name": "x" * 500, "version": "1"}).startswith("x" * 80 + " ")
    assert client_description({"name": 5}) is None and client_description("Cursor") is None
