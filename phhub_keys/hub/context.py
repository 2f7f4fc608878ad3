"""The per-app state every endpoint needs: store, settings, limiters, replay cache."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from .idempotency import IdempotencyCache
from .ratelimit import SlidingWindowLimiter
from .refusals import RecentRefusals
from .settings import HubSettings
from .store import HubStore


@dataclass(slots=True)
class HubContext:
    store: HubStore
    settings: HubSettings
    login_account: SlidingWindowLimiter = field(init=False)
    login_ip: SlidingWindowLimiter = field(init=False)
    creates: SlidingWindowLimiter = field(init=False)
    mcp_failures: SlidingWindowLimiter = field(init=False)
    idempotency: IdempotencyCache = field(init=False)
    mcp_refusals: RecentRefusals = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.login_account = SlidingWindowLimiter(s.login_failures_per_account, s.login_failure_window)
        self.login_ip = SlidingWindowLimiter(s.login_failures_per_ip, s.login_failure_window)
        self.creates = SlidingWindowLimiter(s.creates_per_user, s.create_window)
        self.mcp_failures = SlidingWindowLimiter(s.mcp_auth_failures_per_ip, s.mcp_auth_failure_window)
        self.idempotency = IdempotencyCache(s.idempotency_ttl)
        self.mcp_refusals = RecentRefusals()


async def hub_context(request: Request) -> HubContext:
    """FastAPI dependency: the HubContext of the app serving this request."""
    return request.app.state.hub


def client_address(scope_client: tuple[str, int] | None) -> str:
    return scope_client[0] if scope_client else "unknown"
