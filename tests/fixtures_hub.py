"""Fixtures for tests that need a real hub on loopback (imported by conftest.py).

- ``hub``: one EmbeddedHub for the whole session, on a temp database.
- ``hub_url``: its base URL.
- ``make_user``: a factory creating a fresh, unique user on ``hub`` -> Creds.
- ``signed_in_session``: a requests.Session signed in as a fresh user (``.api(path)`` builds URLs).
- ``start_hub``: a factory for extra hubs with custom HubSettings (low limits), stopped after the test;
  ``add_test_user(hub)`` puts a fresh user on one; ``clocked_hub(start_hub, **settings)`` gives one
  with a movable ``HubClock`` and a signed-in session on it.
- ``mcp_open`` / ``mcp_call`` / ``mcp_post_status``: the official MCP client (or a raw POST) against /mcp.

At the end of the session the hub's database (and WAL) and everything the hub
logged are searched for anything shaped like a plaintext MCP key or session
token; finding one fails the run.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from mcp import Client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from mcp.types import Implementation

from phhub_keys.core.keyformat import is_valid_key
from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.settings import HubSettings

__all__ = [
    "Creds",
    "HubLogCapture",
    "SignedInSession",
    "add_test_user",
    "clocked_hub",
    "find_plaintext_secrets",
    "hub",
    "hub_log",
    "hub_url",
    "make_user",
    "mcp_call",
    "mcp_open",
    "mcp_post_status",
    "new_creds",
    "signed_in_session",
    "start_hub",
]

KEY_PATTERN = re.compile(rb"phk_[0-9A-Za-z]{36}")
SESSION_PATTERN = re.compile(rb"phs_[0-9A-Za-z_-]{43}")
# Every test talks to the shared hub from 127.0.0.1, so per-address limits would
# make one test's deliberate failures throttle another's; they are tested on
# separate hubs (start_hub). Per-account and per-user limits stay as shipped.
# Passwords use a lower scrypt cost (same code path; the cost is stored in each hash) to keep
# the many per-test sign-ins fast.
TEST_PASSWORD_COST = 2**10
SHARED_HUB_SETTINGS = HubSettings(mcp_auth_failures_per_ip=1_000_000, login_failures_per_ip=1_000_000,
                                  password_cost=TEST_PASSWORD_COST)


@dataclass(frozen=True)
class Creds:
    """A user's sign-in; repr hides the password."""

    email: str
    password: str = field(repr=False)
    name: str = ""
    facilities: tuple[str, ...] = ()
    user_id: str = ""


class HubLogCapture(logging.Handler):
    """Keeps every formatted record (with exception text) the hub process logs."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a capture must never break the code under test
            self.lines.append(f"{record.name} unformattable record")

    def text(self) -> str:
        return "\n".join(self.lines)


def find_plaintext_secrets(data: bytes) -> list[str]:
    """Anything in ``data`` that is a well-formed MCP key or session token (redacted forms never match)."""
    found = [m.decode() for m in KEY_PATTERN.findall(data) if is_valid_key(m.decode())]
    found += [m.decode() for m in SESSION_PATTERN.findall(data)]
    return found


def _db_files(db_path: Path) -> list[Path]:
    return [p for p in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")) if p.exists()]


def new_creds(name: str = "Test User", facilities: tuple[str, ...] = ("ALS", "SSRL")) -> Creds:
    """Unique credentials (not yet on any hub)."""
    return Creds(email=f"user-{uuid.uuid4().hex[:12]}@example.org", password=secrets.token_urlsafe(12),
                 name=name, facilities=tuple(facilities))


def add_test_user(hub: EmbeddedHub, name: str = "Test User",
                  facilities: tuple[str, ...] = ("ALS", "SSRL")) -> Creds:
    """A fresh user on any running EmbeddedHub (``make_user`` is the same for the shared ``hub``)."""
    return _add(hub, new_creds(name, facilities))


def _add(hub: EmbeddedHub, creds: Creds) -> Creds:
    assert hub.store is not None
    user = hub.store.add_user(creds.email, creds.password, name=creds.name, facilities=creds.facilities)
    return Creds(creds.email, creds.password, creds.name, creds.facilities, user.id)


@pytest.fixture(scope="session")
def hub_log() -> Iterator[HubLogCapture]:
    """Everything the hub, the MCP SDK and uvicorn log during the session (hub at DEBUG)."""
    capture = HubLogCapture()
    levels = {"phhub_keys": logging.DEBUG, "mcp": logging.INFO, "uvicorn": logging.INFO}
    saved = {}
    for name, level in levels.items():
        lg = logging.getLogger(name)
        saved[name] = lg.level
        lg.setLevel(level)
        lg.addHandler(capture)
    yield capture
    for name, level in saved.items():
        lg = logging.getLogger(name)
        lg.removeHandler(capture)
        lg.setLevel(level)


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory, hub_log: HubLogCapture) -> Iterator[EmbeddedHub]:
    """A running hub for the whole test session on a temp database."""
    db_path = tmp_path_factory.mktemp("hub") / "hub.db"
    embedded = EmbeddedHub(db_path, settings=SHARED_HUB_SETTINGS).start()
    try:
        yield embedded
    finally:
        leaks = [(p.name, s[:8]) for p in _db_files(db_path) for s in find_plaintext_secrets(p.read_bytes())]
        embedded.stop()
        leaks += [(p.name, s[:8]) for p in _db_files(db_path) for s in find_plaintext_secrets(p.read_bytes())]
        leaks += [("hub log", s[:8]) for s in find_plaintext_secrets(hub_log.text().encode())]
    assert not leaks, f"plaintext secrets found after the session (file, prefix): {leaks}"


@pytest.fixture
def hub_url(hub: EmbeddedHub) -> str:
    return hub.url


@pytest.fixture
def make_user(hub: EmbeddedHub) -> Callable[..., Creds]:
    """``make_user(name="...", facilities=(...)) -> Creds``: a fresh account on ``hub``."""

    def make(name: str = "Test User", facilities: tuple[str, ...] = ("ALS", "SSRL")) -> Creds:
        return _add(hub, new_creds(name, facilities))

    return make


class HubClock:
    """A hub's clock for a test (``hub.store.clock = HubClock()``): real time plus an offset the
    test moves (``advance(days=3)``), so "a day later" takes no time and a hub can run days away
    from this computer's clock."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def __call__(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


class SignedInSession(requests.Session):
    """A requests.Session carrying a session token; ``api("/me")`` -> full URL."""

    def __init__(self, base_url: str, creds: Creds) -> None:
        super().__init__()
        self.base_url = base_url
        self.creds = creds
        response = self.post(self.api("/auth/login"), json={"email": creds.email, "password": creds.password},
                             timeout=10)
        response.raise_for_status()
        body = response.json()
        self.token: str = body["token"]
        self.user: dict[str, Any] = body["user"]
        self.headers["Authorization"] = f"Bearer {self.token}"

    def api(self, path: str) -> str:
        return f"{self.base_url}/api/v1{path}"

    def create_key(self, label: str = "test key") -> dict[str, Any]:
        """POST a key; returns ``{"key": ..., "secret": ...}`` (asserting 201)."""
        response = self.post(self.api("/mcp/keys"), json={"label": label}, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def __repr__(self) -> str:
        return f"SignedInSession({self.base_url!r}, {self.creds.email!r})"


def clocked_hub(start_hub: Callable[..., EmbeddedHub], **settings: Any
                ) -> tuple[EmbeddedHub, HubClock, SignedInSession]:
    """A hub of its own (``start_hub(**settings)``) with a movable clock, and a signed-in user on it."""
    hub = start_hub(**settings)
    clock = HubClock()
    assert hub.store is not None
    hub.store.clock = clock
    return hub, clock, SignedInSession(hub.url, add_test_user(hub))


@pytest.fixture
def signed_in_session(hub: EmbeddedHub, make_user: Callable[..., Creds]) -> Iterator[SignedInSession]:
    session = SignedInSession(hub.url, make_user())
    yield session
    session.close()


@pytest.fixture
def start_hub(tmp_path: Path) -> Iterator[Callable[..., EmbeddedHub]]:
    """``start_hub(db_path=None, public_url=None, **HubSettings fields) -> EmbeddedHub``:
    a separate running hub for this test only (stopped afterwards)."""
    started: list[EmbeddedHub] = []

    def start(db_path: Path | None = None, public_url: str | None = None, **overrides: Any) -> EmbeddedHub:
        path = db_path or tmp_path / f"hub-{len(started)}.db"
        overrides.setdefault("password_cost", TEST_PASSWORD_COST)
        embedded = EmbeddedHub(path, public_url=public_url, settings=HubSettings(**overrides)).start()
        started.append(embedded)
        return embedded

    yield start
    for embedded in started:
        embedded.stop()


# -- MCP helpers (official mcp client over Streamable HTTP) ------------------------

@asynccontextmanager
async def mcp_open(base_url: str, headers: dict[str, str], *, mode: str = "auto",
                   client_name: str = "pytest-client", client_version: str = "1.0") -> AsyncIterator[Client]:
    """An official MCP client session against ``base_url``/mcp with ``headers`` on every request.

    ``mode``: "auto" (the SDK's default, 2026-era per-request envelope when the server speaks it)
    or "legacy" (the initialize handshake most deployed clients use).
    """
    async with create_mcp_http_client(headers=headers) as http:
        transport = streamable_http_client(f"{base_url}/mcp", http_client=http)
        client_info = Implementation(name=client_name, version=client_version)
        async with Client(transport, mode=mode, client_info=client_info) as client:
            yield client


def mcp_call(base_url: str, secret: str, tool: str = "whoami", *, header: str = "authorization",
             mode: str = "auto", client_name: str = "pytest-client", client_version: str = "1.0"
             ) -> dict[str, Any]:
    """Call one tool with an MCP key and return its structured result (raises if refused)."""
    value = f"Bearer {secret}" if header.lower() == "authorization" else secret

    async def run() -> dict[str, Any]:
        async with mcp_open(base_url, {header: value}, mode=mode, client_name=client_name,
                            client_version=client_version) as client:
            result = await client.call_tool(tool, {})
            assert not result.is_error, result
            return dict(result.structured_content or {})

    return asyncio.run(run())


def mcp_post_status(base_url: str, headers: dict[str, str]) -> requests.Response:
    """A raw MCP ``initialize`` POST with ``headers`` (to check how /mcp answers at the HTTP level)."""
    body = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "raw-probe", "version": "0"}},
    }
    return requests.post(f"{base_url}/mcp", json=body, timeout=10,
                         headers={"Accept": "application/json, text/event-stream", **headers})
