"""Every answer's ``Date`` header states the hub's own clock (``HubStore.clock``).

Why: clients count "in 6 days" and "expired" from the hub's time, which they learn from the
``Date`` of its last answer (``HubClient.hub_now``). Uvicorn's own ``Date`` reads the machine's
clock, which is the same clock in production but not when a hub's clock is moved (tests) or
replaced; one source of time keeps the header and the ``expired`` status in agreement.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HubDateHeader:
    """Sets ``Date`` (RFC 9110 IMF-fixdate, 1 s resolution) on every HTTP answer from ``clock``."""

    def __init__(self, app: ASGIApp, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                stamp = format_datetime(self.clock(), usegmt=True).encode("latin-1")
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", stamp)]}
            await send(message)

        await self.app(scope, receive, send_with_date)
