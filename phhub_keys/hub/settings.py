"""Tunable limits of the local hub, in one frozen object so tests can lower them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..core.expiry import KeyPolicy
from ..core.net import format_netloc


@dataclass(frozen=True, slots=True)
class HubSettings:
    """Everything an operator (or a test) may want to change without touching code.

    ``public_url`` is the base URL clients use to reach the hub (``server_url`` and
    ``docs_url`` are derived from it, and its host is allowed by the MCP endpoint's
    Host-header check). EmbeddedHub and the CLI fill it in from the bound port.
    """

    public_url: str = "http://127.0.0.1:8750"
    session_ttl_seconds: int = 7 * 24 * 3600
    # Live sessions per user; a sign-in beyond it revokes that user's oldest session. Ten covers
    # a person's computers, the CLI and a few scripts, while a leaked password that is used
    # to sign in over and over cannot pile up week-long tokens.
    max_sessions_per_user: int = 10
    max_keys_per_user: int = 10_000
    # Rate limits: at most ``count`` events per sliding ``window`` seconds.
    login_failures_per_account: int = 10
    login_failures_per_ip: int = 50
    login_failure_window: float = 300.0
    mcp_auth_failures_per_ip: int = 30
    mcp_auth_failure_window: float = 60.0
    creates_per_user: int = 120
    create_window: float = 60.0
    idempotency_ttl: float = 600.0  # the in-memory replay (same key and secret)
    # The persisted record of what a create made (never its secret): a retry after the replay
    # is gone (hub restart, or past idempotency_ttl) is told which key was made, for this long.
    idempotency_record_ttl: float = 24 * 3600.0
    # last_used_at is written at most this often per key (unless client or address changed).
    last_used_interval: float = 60.0
    max_api_body_bytes: int = 64 * 1024
    max_mcp_body_bytes: int = 1024 * 1024
    extra_allowed_hosts: tuple[str, ...] = field(default=())
    # Peers (IP addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are believed:
    # the TLS-terminating proxy in front of the hub. Empty: the TCP peer is the client, always.
    trusted_proxies: tuple[str, ...] = field(default=())
    # scrypt N for passwords set through this hub (2**14 in production; tests use less).
    password_cost: int = 2**14
    # Key policy (docs/hub-api.md "Expiry, rotation and activity"); None = no limit.
    default_key_lifetime_days: int | None = 90
    max_key_lifetime_days: int | None = None
    max_rotation_grace_days: int = 30
    event_retention_days: int = 365

    def __post_init__(self) -> None:
        problem = self.key_policy.problem()
        if problem:
            raise ValueError(f"Key policy: {problem}.")

    @property
    def key_policy(self) -> KeyPolicy:
        return KeyPolicy(default_lifetime_days=self.default_key_lifetime_days,
                         max_lifetime_days=self.max_key_lifetime_days,
                         max_rotation_grace_days=self.max_rotation_grace_days)

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def mcp_url(self) -> str:
        return self.base_url + "/mcp"

    @property
    def docs_url(self) -> str:
        return self.base_url + "/docs/mcp"

    def allowed_hosts(self) -> list[str]:
        """Host header values the MCP endpoint accepts (``host:*`` means any port)."""
        hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
        parts = urlsplit(self.public_url)
        if parts.hostname:
            name = format_netloc(parts.hostname)
            default_port = 443 if parts.scheme == "https" else 80
            port = parts.port or default_port
            hosts.append(f"{name}:{port}")
            if port == default_port:
                hosts.append(name)
        hosts.extend(self.extra_allowed_hosts)
        return list(dict.fromkeys(hosts))

    def allowed_origins(self) -> list[str]:
        """Origin header values the MCP endpoint accepts (browsers send one; most clients none)."""
        origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
        parts = urlsplit(self.public_url)
        if parts.scheme and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
        return list(dict.fromkeys(origins))


def default_db_path() -> Path:
    """Where the hub keeps its database unless told otherwise (per-user data dir)."""
    from ..core import paths

    return paths.hub_db_path()
