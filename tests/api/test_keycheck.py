"""'Test a key' with the official mcp client against the real local hub, and every way it fails."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phhub_keys.api.keycheck import CheckStatus, KeyCheck, check_key
from phhub_keys.core.keyformat import generate_key


@pytest.fixture
def server_url(signed_in_session) -> str:
    return signed_in_session.get(signed_in_session.api("/mcp/config"), timeout=10).json()["server_url"]


def _flip_last(secret: str) -> str:
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


def test_a_working_key_reports_account_label_tools_and_latency(signed_in_session, server_url) -> None:
    created = signed_in_session.create_key("Cursor on laptop")
    result = check_key(server_url, created["secret"])
    assert result.ok, result.message
    assert result.status is CheckStatus.OK
    assert result.account_email == signed_in_session.creds.email
    assert result.account_name == signed_in_session.creds.name
    assert result.key_label == "Cursor on laptop"
    assert result.key_id == created["key"]["id"]
    assert result.tool_count is not None and result.tool_count >= 2
    assert result.latency_ms is not None and result.latency_ms > 0
    assert created["secret"] not in repr(result) and created["secret"] not in str(result.to_json())
    assert result.key_preview == created["key"]["redacted"]
    # The hub saw an MCP client: the key's last use names our checker.
    keys = signed_in_session.get(signed_in_session.api("/mcp/keys"), timeout=10).json()["keys"]
    used = next(k for k in keys if k["id"] == created["key"]["id"])
    assert used["last_used_at"] is not None
    assert used["last_used_client"].startswith("phhub-keys key check")


def test_bad_checksum_is_caught_offline_and_instantly() -> None:
    # Port 9 is closed: had the check gone to the network it would say "unreachable".
    result = check_key("http://127.0.0.1:9/mcp", _flip_last(generate_key()))
    assert result.status is CheckStatus.BAD_FORMAT
    assert "checksum" in result.message
    for bad in ("", "phs_" + "a" * 43, "phk_short", "sk-" + "x" * 40):
        assert check_key("http://127.0.0.1:9/mcp", bad).status is CheckStatus.BAD_FORMAT


def test_unknown_key_is_rejected(server_url) -> None:
    result = check_key(server_url, generate_key())
    assert result.status is CheckStatus.REJECTED
    assert result.http_status == 401
    assert "deactivated" in result.message


def test_deactivated_then_reactivated(signed_in_session, server_url) -> None:
    created = signed_in_session.create_key("flip")
    key_id = created["key"]["id"]
    api = signed_in_session.api
    signed_in_session.post(api(f"/mcp/keys/{key_id}/deactivate"), timeout=10).raise_for_status()
    assert check_key(server_url, created["secret"]).status is CheckStatus.REJECTED
    signed_in_session.post(api(f"/mcp/keys/{key_id}/reactivate"), timeout=10).raise_for_status()
    assert check_key(server_url, created["secret"]).ok


def test_unreachable_hub() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connection refused
        result = check_key(f"http://127.0.0.1:{port}/mcp", generate_key())
    assert result.status is CheckStatus.UNREACHABLE
    assert "reach" in result.message


def test_wrong_path_is_a_server_error(hub_url) -> None:
    result = check_key(f"{hub_url}/not-mcp", generate_key())
    assert result.status is CheckStatus.SERVER_ERROR
    assert result.http_status == 404


def test_plain_http_to_another_host_is_refused_before_sending_the_key() -> None:
    result = check_key("http://192.0.2.10/mcp", generate_key())  # TEST-NET: would hang if tried
    assert result.status is CheckStatus.INSECURE_URL
    assert check_key("ftp://x/mcp", generate_key()).status is CheckStatus.INVALID_URL
    assert check_key("not a url", generate_key()).status is CheckStatus.INVALID_URL


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    yield srv.getsockname()[1]
    srv.close()


def test_timeout(silent_server: int) -> None:
    started = time.monotonic()
    result = check_key(f"http://127.0.0.1:{silent_server}/mcp", generate_key(), timeout=1.0)
    assert result.status is CheckStatus.TIMEOUT
    assert time.monotonic() - started < 10


def test_cancel_from_another_thread_stops_promptly(silent_server: int) -> None:
    check = KeyCheck(f"http://127.0.0.1:{silent_server}/mcp", generate_key(), timeout=60)
    threading.Timer(0.3, check.cancel).start()
    started = time.monotonic()
    result = check.run()
    assert result.status is CheckStatus.CANCELLED
    assert time.monotonic() - started < 10  # not the 60 s timeout


def test_cancel_before_start() -> None:
    check = KeyCheck("http://127.0.0.1:9/mcp", generate_key())
    check.cancel()
    assert check.run().status is CheckStatus.CANCELLED


def test_https_to_a_plain_http_server_is_a_tls_error(hub_url) -> None:
    result = check_key(hub_url.replace("http://", "https://") + "/mcp", generate_key())
    assert result.status is CheckStatus.TLS_ERROR


@pytest.fixture
def untrusted_tls_server(tmp_path: Path) -> Iterator[int]:
    """A TLS server with a self-signed certificate nobody trusts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join(5)
    srv.close()


def test_untrusted_certificate_is_a_tls_error(untrusted_tls_server: int) -> None:
    result = check_key(f"https://127.0.0.1:{untrusted_tls_server}/mcp", generate_key(), timeout=5)
    assert result.status is CheckStatus.TLS_ERROR
    assert "certificate" in result.message


def test_repr_never_shows_the_key() -> None:
    key = generate_key()
    check = KeyCheck("http://127.0.0.1:9/mcp", key)
    assert key not in repr(check)
