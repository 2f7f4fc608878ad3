"""Network and HTTP hardening (issue 10, items 1-7) and core.net's rules, against real
servers on loopback: the real hub, real misbehaving servers, real subprocesses."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from fixtures_hub import mcp_post_status
from PySide6.QtCore import Qt

from phhub_keys.api.client import HubClient
from phhub_keys.api.errors import HubTimeout, ProtocolError
from phhub_keys.api.keycheck import KeyCheck
from phhub_keys.core import net

TESTS_DIR = Path(__file__).resolve().parents[1]  # tests/
PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


class Listener:
    """A TCP server on loopback that records every connection and the bytes it was sent
    (as a proxy would see them), answering nothing useful: whatever reaches it is a leak."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="leak-listener", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(1.0)
                data = b""
                try:
                    while b"\r\n\r\n" not in data and len(data) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                self.received.append(data)
                with contextlib.suppress(OSError):  # a proxy refusing: the client fails, never waits
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def leak() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


# ---------------------------------------------------------------- core.net: one home for URL rules


def test_loopback_rule_is_one_rule() -> None:
    for host in ("127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "LOCALHOST", "localhost.",
                 "::ffff:127.0.0.1"):
        assert net.is_loopback_host(host), host
    for host in ("", None, "0.0.0.0", "10.0.0.1", "localhost.evil.org", "127.0.0.1.nip.io", "::2"):  # noqa: S104
        assert not net.is_loopback_host(host), host
    assert net.is_loopback_url("http://[::1]:8750/mcp") and not net.is_loopback_url("http://hub.example.org")
    # The hub's old twin missed these two; the client's did not: now both are one function.
    from phhub_keys.hub import cli as hub_cli

    assert hub_cli.is_loopback_host is net.is_loopback_host
    assert hub_cli.check_public_url("LOCALHOST", None) is None


def test_base_url_formatting() -> None:
    assert net.format_base_url("127.0.0.1", 8750) == "http://127.0.0.1:8750"
    assert net.format_base_url("::1", 1) == "http://[::1]:1"
    assert net.format_base_url("[::1]", 1, "https") == "https://[::1]:1"
    assert net.display_host("https://hub.example.org:8443/x") == "hub.example.org:8443"
    assert net.validate_hub_url("[::1]:8750") == "http://[::1]:8750"


def test_http_rule() -> None:
    assert net.http_refusal("http://127.0.0.1:8750/mcp") is None
    assert net.http_refusal("https://hub.example.org/mcp") is None
    assert net.http_refusal("http://hub.example.org/mcp", allow_insecure_http=True) is None
    refusal = net.http_refusal("http://hub.example.org/mcp")
    assert refusal and "hub.example.org" in refusal and "https://" in refusal
    with pytest.raises(net.InsecureUrlError):
        net.validate_hub_url("http://hub.example.org")


def test_proxy_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PROXY_VARS, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert net.proxy_for("https://hub.example.org") is None
    monkeypatch.setenv("ALL_PROXY", "http://proxy.example.org:3128")
    assert net.proxy_for("https://hub.example.org") == "http://proxy.example.org:3128"
    monkeypatch.setenv("https_proxy", "http://tls-proxy.example.org:3128")
    assert net.proxy_for("https://hub.example.org") == "http://tls-proxy.example.org:3128"
    assert net.proxies_for("https://hub.example.org") == dict.fromkeys(("http", "https", "all"),
                                                                       "http://tls-proxy.example.org:3128")
    monkeypatch.setenv("no_proxy", "example.org")
    assert net.proxy_for("https://hub.example.org") is None
    monkeypatch.setenv("no_proxy", "intranet.example, 10.0.0.0/8")
    assert net.proxy_for("https://10.1.2.3:8443") is None
    assert net.proxy_for("https://hub.intranet.example") is None
    assert net.proxy_for("https://11.1.2.3") == "http://tls-proxy.example.org:3128"
    monkeypatch.delenv("no_proxy")
    for url in ("http://127.0.0.1:8750/mcp", "http://localhost:1", "http://[::1]:2/mcp"):
        assert net.proxy_for(url) is None, url
        assert net.proxies_for(url) == {"http": None, "https": None, "all": None}


def test_only_http_links_are_openable() -> None:
    assert net.openable_url("https://hub.example.org/docs/mcp") == "https://hub.example.org/docs/mcp"
    assert net.openable_url("http://127.0.0.1:8750/docs/mcp")
    for bad in ("file:///etc/passwd", "smb://evil/share", "javascript:alert(1)", "ftp://x/y", "",
                "https://", "//evil.example.org/x", "https://a b", None, 42, "data:text/html,hi"):
        assert net.openable_url(bad) is None, bad


def test_no_module_keeps_its_own_copy_of_the_rules() -> None:
    """The twins the architecture review found are gone (one home: core/net.py)."""
    root = TESTS_DIR.parent / "phhub_keys"
    for path in root.rglob("*.py"):
        if path.name == "net.py" and path.parent.name == "core":
            continue
        text = path.read_text(encoding="utf-8")
        for twin in ("def is_loopback_host", "def validate_hub_url", "def format_base_url", "def _hub_host",
                     "def _host(", "def is_loopback_url", "def proxies_for"):
            assert twin not in text, f"{path.relative_to(root.parent)} defines {twin}"


# ---------------------------------------------------------------- 2: no proxy for a local hub


def _proxied_env(proxy_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_PROXY", "no_proxy", "PHHUB_MCP_KEY")}
    env.update(dict.fromkeys(PROXY_VARS, proxy_url))
    return env


def test_check_key_cli_never_sends_the_key_through_an_environment_proxy(signed_in_session, hub,
                                                                        leak: Listener) -> None:
    """A real ``phhub-keys check-key`` subprocess, every proxy variable pointing at a
    listener: the check talks to the local hub directly and the listener sees nothing."""
    secret = signed_in_session.create_key("proxy check")["secret"]
    env = {**_proxied_env(leak.url), "PHHUB_MCP_KEY": secret, "PYTHONPATH": str(TESTS_DIR),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    proc = subprocess.run([sys.executable, "-m", "phhub_keys", "check-key", "--url", f"{hub.url}/mcp"],
                          capture_output=True, text=True, env=env, timeout=90, cwd=str(TESTS_DIR.parent))
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "The key works" in proc.stdout
    assert leak.received == [], "the key check went through the environment's proxy"


def test_key_check_and_client_follow_the_same_proxy_rule(signed_in_session, hub, leak: Listener,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The setup dialog's "Test a key" (KeyCheck, in process) and HubClient, same env."""
    secret = signed_in_session.create_key("proxy check 2")["secret"]
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    for name in PROXY_VARS:
        monkeypatch.setenv(name, leak.url)
    result = KeyCheck(f"{hub.url}/mcp", secret).run()
    assert result.ok, result.message
    with HubClient(hub.url) as client:
        client.login(signed_in_session.creds.email, signed_in_session.creds.password)
        assert client.list_keys()
    assert leak.received == []


# ---------------------------------------------------------------- 4: /mcp and deeply nested JSON


@pytest.mark.parametrize("shape", ["array", "object", "params", "batch"])
def test_deeply_nested_mcp_body_is_400_and_the_hub_stays_up(signed_in_session, hub, hub_log,
                                                             shape: str) -> None:
    secret = signed_in_session.create_key(f"nested {shape}")["secret"]
    deep = 100_000
    body = {
        "array": b"[" * deep + b"]" * deep,
        "object": b'{"a":' * deep + b"1" + b"}" * deep,
        "params": b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"clientInfo":'
                  + b"[" * deep + b"]" * deep + b"}}",
        "batch": b'[{"jsonrpc":"2.0","id":1,"method":"ping","params":' + b"[" * deep + b"]" * deep + b"}]",
    }[shape]
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json",
               "Accept": "application/json, text/event-stream"}
    logged = len(hub_log.lines)
    response = requests.post(f"{hub.url}/mcp", data=body, headers=headers, timeout=30)
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert response.json()["error"]["code"] == "invalid_request"
    assert "Traceback" not in response.text
    assert not any("Recursion" in line for line in hub_log.lines[logged:])
    # Still up, and the same key still works.
    assert mcp_post_status(hub.url, {"Authorization": f"Bearer {secret}"}).status_code == 200


# ---------------------------------------------------------------- 1: X-Forwarded-For is not believed


def _xff(i: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{i}", "X-Forwarded-Proto": "https"}


def test_rotating_forwarded_for_does_not_escape_the_signin_limit(start_hub) -> None:
    limited = start_hub(login_failures_per_ip=3, login_failures_per_account=1000)
    statuses = []
    for i in range(6):
        body = {"email": f"nobody-{i}@example.org", "password": "wrong"}
        response = requests.post(f"{limited.url}/api/v1/auth/login", json=body, headers=_xff(i), timeout=10)
        statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429, 429, 429]


def test_rotating_forwarded_for_does_not_escape_the_mcp_failure_limit(start_hub) -> None:
    from phhub_keys.core.keyformat import generate_key

    limited = start_hub(mcp_auth_failures_per_ip=3)
    statuses = [mcp_post_status(limited.url, {"Authorization": f"Bearer {generate_key()}", **_xff(i)})
                .status_code for i in range(6)]
    assert statuses == [401, 401, 401, 429, 429, 429]


def _last_used_ip_after_forwarded_call(base_url: str, email: str, password: str) -> str | None:
    with HubClient(base_url) as client:
        client.login(email, password)
        created = client.create_key("forwarded")
        assert mcp_post_status(base_url, {"Authorization": f"Bearer {created.secret}",
                                          **_xff(77)}).status_code == 200
        return next(k for k in client.list_keys() if k.id == created.key.id).last_used_ip


@pytest.mark.parametrize(("trusted", "expected"), [((), "127.0.0.1"), (("127.0.0.2",), "127.0.0.1"),
                                                   (("127.0.0.1",), "203.0.113.77"),
                                                   (("127.0.0.0/8",), "203.0.113.77")])
def test_embedded_hub_believes_forwarded_for_only_from_a_trusted_proxy(start_hub, trusted, expected) -> None:
    from fixtures_hub import add_test_user

    embedded = start_hub(trusted_proxies=trusted)
    creds = add_test_user(embedded)
    assert _last_used_ip_after_forwarded_call(embedded.url, creds.email, creds.password) == expected


@contextlib.contextmanager
def _served(db: Path, *extra: str) -> Iterator[str]:
    """``phhub-keys hub serve`` in a real subprocess; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "phhub_keys", "hub", "serve", "--port", "0", "--db", str(db),
         "--log-level", "warning", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(TESTS_DIR.parent),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match, first + (proc.stderr.read() if proc.stderr else "")
        yield match.group(0)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert "Traceback" not in err, err


@pytest.mark.parametrize(("extra", "expected"), [((), "127.0.0.1"),
                                                 (("--trusted-proxy", "127.0.0.2"), "127.0.0.1"),
                                                 (("--trusted-proxy", "127.0.0.1"), "203.0.113.77")])
def test_hub_serve_believes_forwarded_for_only_with_trusted_proxy(tmp_path: Path, extra, expected) -> None:
    from fixtures_hub import TEST_PASSWORD_COST, new_creds

    from phhub_keys.hub.store import HubStore

    db, creds = tmp_path / "hub.db", new_creds()
    with HubStore(db, password_cost=TEST_PASSWORD_COST) as store:
        store.add_user(creds.email, creds.password, name=creds.name)
    with _served(db, *extra) as base:
        assert _last_used_ip_after_forwarded_call(base, creds.email, creds.password) == expected


@pytest.mark.parametrize("bad", ["*", "0.0.0.0/0", "proxy.example.org", "::/0", ""])
def test_trusted_proxy_must_name_an_address(bad: str, capsys) -> None:
    from phhub_keys.hub import cli as hub_cli

    with pytest.raises(SystemExit) as exit_info:
        hub_cli.main(["serve", "--trusted-proxy", bad])
    assert exit_info.value.code == 2
    assert "--trusted-proxy" in capsys.readouterr().err


# ---------------------------------------------------------------- 5: Host and Origin on the whole hub


def test_a_rebound_host_name_is_refused_on_every_path(hub, make_user) -> None:
    """A page that rebinds evil.example to 127.0.0.1 reaches the hub with its own name in Host."""
    creds = make_user()
    port = hub.port
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.nip.io:{port}"):
        headers = {"Host": host}
        login = requests.post(f"{hub.url}/api/v1/auth/login", headers=headers, timeout=10,
                              json={"email": creds.email, "password": creds.password})
        assert login.status_code == 421, login.status_code  # (never print an answer: it may hold a token)
        assert login.json()["error"]["code"] == "invalid_host" and "token" not in login.text
        for path in ("/api/v1/me", "/api/v1/mcp/keys", "/api/v1/mcp/config", "/openapi.json", "/docs/mcp"):
            response = requests.get(f"{hub.url}{path}", headers=headers, timeout=10)
            assert response.status_code == 421, (host, path, response.status_code)
    # This hub's own names still work.
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        ok = requests.post(f"{hub.url}/api/v1/auth/login", headers={"Host": host}, timeout=10,
                           json={"email": creds.email, "password": creds.password})
        assert ok.status_code == 200, (host, ok.text)


def test_a_foreign_origin_is_refused_on_signin_and_every_state_change(signed_in_session, hub) -> None:
    s = signed_in_session
    key_id = s.create_key("target")["key"]["id"]
    calls = [
        ("POST", "/auth/login", {"email": s.creds.email, "password": s.creds.password}),
        ("POST", "/mcp/keys", {"label": "from evil"}),
        ("PATCH", f"/mcp/keys/{key_id}", {"label": "renamed by evil"}),
        ("POST", f"/mcp/keys/{key_id}/deactivate", None),
        ("DELETE", f"/mcp/keys/{key_id}", None),
        ("POST", "/auth/logout", None),
    ]
    for origin in ("https://evil.example", "http://evil.example:8750", "null", f"http://evil.example:{hub.port}"):
        for method, path, body in calls:
            response = s.request(method, s.api(path), json=body, headers={"Origin": origin}, timeout=10)
            assert response.status_code == 403, (origin, method, path, response.status_code)
            assert response.json()["error"]["code"] == "invalid_origin"
    keys = s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]
    assert [(k["id"], k["label"], k["status"]) for k in keys] == [(key_id, "target", "active")]
    # The hub's own origin (its docs page), and no Origin at all (the app, the CLI), are fine.
    renamed = s.patch(s.api(f"/mcp/keys/{key_id}"), json={"label": "mine"}, headers={"Origin": hub.url},
                      timeout=10)
    assert renamed.status_code == 200, renamed.text
    assert s.post(s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10).status_code == 200


def test_every_operation_of_the_schema_checks_host_and_origin(signed_in_session, hub) -> None:
    """Every operation /openapi.json lists (rotate, expiry PATCH, logout-all, the feeds... and any
    added later), not a hand-kept list: a foreign Host is 421 on each, a foreign Origin 403 on each
    state-changing one, and nothing changes."""
    s = signed_in_session
    key_id = s.create_key("target")["key"]["id"]
    schema = s.get(f"{hub.url}/openapi.json", timeout=10).json()
    bodies = {"/api/v1/auth/login": {"email": s.creds.email, "password": s.creds.password},
              "/api/v1/mcp/keys": {"label": "from evil"}, "/api/v1/mcp/keys/{key_id}": {"expires_at": None},
              "/api/v1/mcp/keys/{key_id}/rotate": {"grace_seconds": 0}}
    operations = [(method.upper(), path) for path, item in schema["paths"].items() for method in item]
    assert ("POST", "/api/v1/mcp/keys/{key_id}/rotate") in operations and len(operations) >= 14
    changing = 0
    for method, path in operations:
        url = hub.url + path.replace("{key_id}", key_id)
        body = bodies.get(path)
        foreign_host = s.request(method, url, json=body, headers={"Host": "evil.example"}, timeout=10)
        assert foreign_host.status_code == 421, (method, path, foreign_host.status_code)
        if method in ("GET", "HEAD", "OPTIONS"):
            continue
        changing += 1
        for origin in ("https://evil.example", "null"):
            response = s.request(method, url, json=body, headers={"Origin": origin}, timeout=10)
            assert response.status_code == 403, (origin, method, path, response.status_code)
            assert response.json()["error"]["code"] == "invalid_origin"
    assert changing >= 9
    keys = s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]
    assert [(k["id"], k["label"], k["status"], k["replaced_by"]) for k in keys] == [
        (key_id, "target", "active", None)]
    assert s.get(s.api("/me"), timeout=10).status_code == 200  # logout / logout-all were refused too


# ---------------------------------------------------------------- 3: size cap and overall deadline


class BadServer:
    """A hostile HTTP server on loopback. Modes:

    - ``huge``: announces 2 GiB and streams zeros as fast as the client takes them;
    - ``huge_chunked``: the same without a length (chunked, endless);
    - ``drip_body``: sends headers, then one body byte every ``interval`` s, forever;
    - ``drip_headers``: sends the status line and headers one byte every ``interval`` s.

    ``sent`` counts the bytes the client accepted, which bounds what it read.
    """

    def __init__(self, mode: str, interval: float = 0.3) -> None:
        self.mode, self.interval = mode, interval
        self.sent = 0
        self.connections = 0
        self._stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._threads = [threading.Thread(target=self._accept, daemon=True, name=f"bad-{mode}")]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(worker)
            worker.start()

    def _send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                request += chunk
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            if self.mode == "huge":
                self._send(conn, head + b"Content-Length: 2147483648\r\n\r\n")
                block = b"0" * 65536
                while not self._stop.is_set():
                    self._send(conn, block)
            elif self.mode == "huge_chunked":
                self._send(conn, head + b"Transfer-Encoding: chunked\r\n\r\n")
                block = b"10000\r\n" + b"0" * 65536 + b"\r\n"
                while not self._stop.is_set():
                    self._send(conn, block)
            elif self.mode == "drip_body":
                self._send(conn, head + b"Content-Length: 1000000\r\n\r\n")
                while not self._stop.wait(self.interval):
                    self._send(conn, b" ")
            elif self.mode == "drip_headers":
                for byte in head + b"X-Slow: " + b"a" * 100000:
                    if self._stop.wait(self.interval):
                        return
                    self._send(conn, bytes([byte]))

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def bad_server() -> Iterator[Callable[..., BadServer]]:
    servers: list[BadServer] = []

    def start(mode: str, interval: float = 0.3) -> BadServer:
        servers.append(BadServer(mode, interval))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("mode", ["huge", "huge_chunked"])
def test_a_huge_answer_is_refused_after_the_cap(bad_server, mode: str) -> None:
    server = bad_server(mode)
    client = HubClient(server.url, token="phs_" + "a" * 43, timeout=5)
    for call in (lambda: client.login("someone@example.org", "pw"), client.list_keys):
        with pytest.raises(ProtocolError) as info:
            call()
        assert info.value.code == "too_large" and "larger than" in info.value.message
    # The client stopped reading near the cap (socket buffers add a few MB), not at 2 GiB.
    assert server.sent < net.MAX_RESPONSE_BYTES * 2 + 16 * 1024 * 1024


def test_a_list_of_10000_keys_fits_well_under_the_cap() -> None:
    key = {"id": "mk_0123456789abcdef", "label": "L" * 100, "redacted": "phk_abcd...uvwxyz",
           "status": "active", "created_at": "2026-11-26T10:04:05Z", "last_used_at": "2026-11-26T10:04:05Z",
           "last_used_client": "C" * 120, "last_used_ip": "2001:db8::1234:5678", "deactivated_at": None}
    size = len(json.dumps({"keys": [key] * 10_000}).encode())
    assert size * 4 < net.MAX_RESPONSE_BYTES, size


@pytest.mark.parametrize("mode", ["drip_body", "drip_headers"])
def test_a_dripping_server_cannot_hold_a_call_past_its_deadline(bad_server, mode: str) -> None:
    server = bad_server(mode, interval=0.3)  # each byte well inside the 2 s read timeout
    client = HubClient(server.url, timeout=2.0, deadline=3.0)
    started = time.monotonic()
    with pytest.raises(HubTimeout) as info:
        client.login("someone@example.org", "pw")
    elapsed = time.monotonic() - started
    assert 2.5 < elapsed < 6.0, elapsed
    assert "within 3 seconds" in info.value.message
    assert client.calls[-1].outcome == "HubTimeout"


def test_default_deadline_is_three_timeouts() -> None:
    assert HubClient("http://127.0.0.1:9", timeout=10).deadline == 30


def test_login_cli_against_a_huge_answer_exits_with_one_clear_line(bad_server, tmp_path: Path) -> None:
    server = bad_server("huge")
    env = {**{k: v for k, v in os.environ.items() if k not in ("PHHUB_HUB", "PHHUB_TOKEN")},
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path / "home"),
           "PYTHONPATH": str(TESTS_DIR), "PYTHON_KEYRING_BACKEND": "keyring_backends.FileKeyring",
           "PHHUB_TEST_KEYRING_FILE": str(tmp_path / "keyring.json")}
    proc = subprocess.run(
        [sys.executable, "-m", "phhub_keys", "login", "--hub", server.url, "--email", "a@example.org"],
        input="password\n", capture_output=True, text=True, env=env, timeout=120, cwd=str(TESTS_DIR.parent))
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "larger than this app reads" in proc.stderr and "Traceback" not in proc.stderr
    assert server.sent < net.MAX_RESPONSE_BYTES * 2 + 16 * 1024 * 1024


def test_the_hub_itself_still_answers_normally_with_the_caps(signed_in_session, hub) -> None:
    with HubClient(hub.url) as client:
        client.login(signed_in_session.creds.email, signed_in_session.creds.password)
        created = client.create_key("capped")
        assert [k.id for k in client.list_keys()] == [created.key.id]
        assert all(c.outcome == "ok" for c in client.calls)


@pytest.mark.parametrize("mode", ["huge", "huge_chunked"])
def test_key_check_stops_reading_a_huge_answer(bad_server, mode: str) -> None:
    from phhub_keys.api.keycheck import CheckStatus
    from phhub_keys.core.keyformat import generate_key

    server = bad_server(mode)
    started = time.monotonic()
    result = KeyCheck(f"{server.url}/mcp", generate_key(), timeout=20).run()
    assert result.status is CheckStatus.SERVER_ERROR and "larger than this app reads" in result.message
    assert time.monotonic() - started < 15
    assert server.sent < net.MAX_RESPONSE_BYTES * 2 + 16 * 1024 * 1024


@pytest.mark.parametrize("mode", ["drip_body", "drip_headers"])
def test_key_check_has_one_overall_deadline(bad_server, mode: str) -> None:
    from phhub_keys.api.keycheck import CheckStatus
    from phhub_keys.core.keyformat import generate_key

    server = bad_server(mode, interval=0.3)
    started = time.monotonic()
    result = KeyCheck(f"{server.url}/mcp", generate_key(), timeout=3).run()
    assert result.status is CheckStatus.TIMEOUT, result.message
    assert time.monotonic() - started < 6


# ---------------------------------------------------------------- 7: only http(s) docs links are opened


@pytest.mark.parametrize("docs_url", ["file:///etc/passwd", "smb://evil.example/share/x.lnk",
                                      "javascript:alert(1)", "FILE:///C:/Windows/System32/calc.exe",
                                      "vscode://x/y"])
def test_a_docs_link_that_is_not_http_is_refused_and_the_user_told(qtbot, hub, signed_in_client,
                                                                   window_recorder, docs_url: str) -> None:
    """The real window, talking to the real hub through a proxy that rewrites /mcp/config."""
    from faultproxy import FaultProxy
    from fixtures_gui import close_manage_window, open_manage_window
    from PySide6.QtWidgets import QAbstractButton, QMessageBox

    config = json.dumps({"server_url": f"{hub.url}/mcp", "docs_url": docs_url, "key_prefix": "phk_"})
    with FaultProxy(hub.url) as proxy:
        proxy.respond(200, config, {"Content-Type": "application/json"}, method="GET",
                      path="/api/v1/mcp/config", times=None)
        client = HubClient(proxy.url, token=signed_in_client.token)
        window = open_manage_window(qtbot, client, window_recorder, signed_in_client.creds.email)
        try:
            qtbot.waitUntil(lambda: window.docs_url() == docs_url, timeout=10_000)
            button = window.findChild(QAbstractButton, "viewDocsButton")
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            assert window.rec.urls == []  # never handed to the desktop
            box = window.findChild(QMessageBox, "linkRefusedBox")
            assert box is not None and box.isVisible()
            assert "was not opened" in box.text() and "http" in box.text()
            assert box.informativeText() == docs_url
            box.close()
        finally:
            close_manage_window(window)
            client.close()


def test_an_http_docs_link_still_opens(qtbot, manage_window, signed_in_client) -> None:
    from PySide6.QtWidgets import QAbstractButton

    qtbot.mouseClick(manage_window.findChild(QAbstractButton, "viewDocsButton"), Qt.MouseButton.LeftButton)
    assert manage_window.rec.urls == [signed_in_client.mcp_config().docs_url]


# ---------------------------------------------------------------- 6: setup follows the client's http rule

REMOTE_HTTP = "http://hub.example.org:8750/mcp"


def test_generate_refuses_plain_http_to_another_computer_unless_allowed() -> None:
    from phhub_keys.core import client_setup as cs

    for client_id in cs.client_ids():
        with pytest.raises(cs.InsecureServerUrl) as info:
            cs.generate(client_id, REMOTE_HTTP)
        assert "hub.example.org" in str(info.value) and "your MCP key" in str(info.value)
        assert cs.generate(client_id, REMOTE_HTTP, allow_insecure_http=True).text
        assert cs.generate(client_id, "http://127.0.0.1:8750/mcp").text


def _setup_env(tmp_path: Path, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PHHUB_HUB", "PHHUB_TOKEN", "PHHUB_MCP_KEY")}
    env.update({"XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path / "home"),
                "PYTHONPATH": str(TESTS_DIR), "PYTHON_KEYRING_BACKEND": "keyring_backends.FileKeyring",
                "PHHUB_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"), "PHHUB_MCP_KEY": key})
    return env


def _setup_cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phhub_keys", "setup", *argv], capture_output=True,
                          text=True, env=env, timeout=90, cwd=str(TESTS_DIR.parent))


def test_setup_cli_never_writes_a_key_for_plain_http_without_allow_insecure_http(tmp_path: Path) -> None:
    from phhub_keys.core.keyformat import generate_key

    key = generate_key()
    env = _setup_env(tmp_path, key)
    target = tmp_path / "claude.json"
    refused = _setup_cli(env, "claude-desktop", "--install", "--embed-key", "--url", REMOTE_HTTP,
                         "--file", str(target))
    assert refused.returncode == 2, refused
    assert "Refusing plain http://" in refused.stderr and "--allow-insecure-http" in refused.stderr
    assert key not in refused.stdout + refused.stderr
    assert not target.exists()
    printed = _setup_cli(env, "cursor", "--print", "--url", REMOTE_HTTP)
    assert printed.returncode == 2 and printed.stdout == "", printed

    allowed = _setup_cli(env, "claude-desktop", "--install", "--embed-key", "--url", REMOTE_HTTP,
                         "--file", str(target), "--allow-insecure-http")
    assert allowed.returncode == 0, allowed
    entry = json.loads(target.read_text())["mcpServers"]["performance-hub"]
    assert REMOTE_HTTP in entry["args"] and "--allow-http" in entry["args"]
    local = _setup_cli(env, "claude-desktop", "--print", "--url", "http://127.0.0.1:8750/mcp")
    assert local.returncode == 0 and "--allow-http" not in local.stdout


def test_setup_dialog_offers_no_snippet_add_or_test_for_plain_http_unless_allowed(qtbot, tmp_path: Path,
                                                                                monkeypatch) -> None:
    from PySide6.QtWidgets import QLabel

    from phhub_keys.api.keycheck import CheckStatus
    from phhub_keys.core.keyformat import generate_key
    from phhub_keys.gui.setup_dialog import SetupDialog

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    key = generate_key()
    dialog = SetupDialog(REMOTE_HTTP, key)
    qtbot.addWidget(dialog)
    dialog.embed_check.setChecked(True)
    dialog.refresh_snippets()
    problem = dialog.findChild(QLabel, dialog.problem.objectName())
    assert problem is not None and "Refusing plain http://" in problem.text()
    for client_id, tab in dialog.client_tabs.items():
        assert dialog.snippet(client_id) is None and not tab.copy_button.isEnabled()
        if tab.add_button is not None:
            assert not tab.add_button.isEnabled()
        assert dialog.add_to_client(client_id) is None  # "Add to" writes nothing
    assert not any((tmp_path / "home").rglob("*.json"))
    dialog.key_input.setText(key)
    dialog.start_key_check()  # refused offline: the key never leaves
    assert dialog.last_result.status is CheckStatus.INSECURE_URL and not dialog.checking

    # 0.0.0.0 is not loopback for the rule, yet connecting to it stays on this machine (port 9: closed).
    not_loopback = "http://0.0.0.0:9/mcp"
    allowed = SetupDialog(not_loopback, key, allow_insecure_http=True)
    qtbot.addWidget(allowed)
    allowed.refresh_snippets()
    assert all(allowed.snippet(cid) is not None for cid in allowed.client_tabs)
    allowed.key_input.setText(key)
    with qtbot.waitSignal(allowed.keyCheckFinished, timeout=30_000) as finished:
        allowed.start_key_check()  # allowed: it really tries
    assert finished.args[0].status is CheckStatus.UNREACHABLE
