"""Account activity feed: the first page of an account with 100,000 events (what the activity view
and ``keys events`` ask for first).

Two accounts on one hub database, in the hub's own process: one with ``feed_events`` events
(renames, expiry changes, rotations, uses from new addresses, over 300 days, across 500 keys,
some deleted), one with a single page's worth. The value is ``GET /api/v1/mcp/events?limit=50``
of the big account, request sent -> whole body received; the baseline is the very same request
for the small account, in the same run and interleaved with it. The ratio shows what the history
costs: the feed is paged by event id over an index (user, id), so the first page should cost the
same whatever lies behind it. The events are inserted in one transaction with the hub's own
column layout (as seeding.py does for keys); the accounts are made through HubStore.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from datetime import timedelta

import requests

from .context import Context
from .hubproc import HubProcess
from .measure import Stats, ratio_of
from .report import Row, ms_spread, verdict

TITLE = "hub: account feed with {n} events, first page"
PAGE = 50
KINDS = ("renamed", "expiry_changed", "new_address", "first_use_by_client", "rotated", "deactivated",
         "reactivated", "created")


def _seed_events(conn: sqlite3.Connection, user_id: str, count: int, rng: random.Random) -> None:
    from phhub_keys.core.timestamps import format_ts, utcnow

    now = utcnow()
    start = now - timedelta(days=300)
    step = timedelta(days=300) / max(count, 1)
    rows = []
    for i in range(count):
        kind = KINDS[rng.randrange(len(KINDS))]
        key_n = rng.randrange(500)
        detail: dict[str, object] = {}
        if kind == "renamed":
            detail = {"from": f"key {key_n}", "to": f"key {key_n} (renamed)"}
        elif kind == "new_address":
            detail = {"ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"}
        elif kind == "first_use_by_client":
            detail = {"client": rng.choice(("Cursor 1.7.2", "Claude Desktop 0.9", "Codex 0.40"))}
        elif kind == "expiry_changed":
            detail = {"from": None, "to": format_ts(now + timedelta(days=rng.randrange(1, 365)))}
        actor = "hub" if kind in ("new_address", "first_use_by_client") else "session"
        rows.append((user_id, f"mk_{key_n:016x}", f"key {key_n}", format_ts(start + step * i), kind,
                     json.dumps(detail), actor))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO key_events (user_id, key_id, key_label, at, kind, detail, actor)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")


def _account(db_path, email: str, events: int, rng: random.Random) -> str:  # type: ignore[no-untyped-def]
    """A user with ``events`` events; returns a session token."""
    from phhub_keys.hub.store import HubStore

    with HubStore(db_path, password_cost=2**4) as store:
        user = store.add_user(email, "feed-bench-password")
        token, _ = store.create_session(user.id, 3600)
    conn = sqlite3.connect(str(db_path), isolation_level=None)
    try:
        _seed_events(conn, user.id, events, rng)
    finally:
        conn.close()
    return token


def feed_first_page(ctx: Context) -> Row:
    big_n = 2_000 if ctx.quick else 100_000
    rng = random.Random(21)
    db_path = ctx.workdir / "feed.db"
    big = _account(db_path, "feed-big@example.org", big_n, rng)
    small = _account(db_path, "feed-small@example.org", PAGE, rng)
    runs = ctx.sizes.list_requests * 2
    times: dict[str, list[float]] = {"big": [], "small": []}
    with HubProcess(db_path) as proc, requests.Session() as session:
        url = f"{proc.url}/api/v1/mcp/events?limit={PAGE}"
        for i in range(runs + 2):
            for name, token in (("big", big), ("small", small)):  # interleaved: same load for both
                start = time.perf_counter()
                response = session.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
                body = response.content
                took = time.perf_counter() - start
                events = response.json()["events"] if response.status_code == 200 else None
                if events is None or len(events) != PAGE:
                    raise RuntimeError(f"feed answered {response.status_code}: {body[:200]!r}")
                if i >= 2:  # two warm-ups (first connection, SQLite page cache, the daily prune)
                    times[name].append(took)
        # Paging on: the page after, and a page deep in the history (cursor well behind the top).
        deep = json.loads(session.get(url + f"&before=ev_{big_n // 2}", timeout=30,
                                      headers={"Authorization": f"Bearer {big}"}).content)
    value, base = Stats.of(times["big"], "big feed"), Stats.of(times["small"], "small feed")
    r = ratio_of(value.median, base.median, "feed first page")
    row = Row(TITLE.format(n=f"{big_n:,}"), value=ms_spread(value.median, value.min, value.max),
              baseline=ms_spread(base.median, base.min, base.max) + f" same page, {PAGE}-event account",
              ratio=f"{r:.2f}x", target="< 50 ms and <= 1.5x",
              verdict=verdict(value.median < 0.050 and r <= 1.5, ctx.quick))
    row.notes.append(f"{len(body) / 1024:.1f} KB page; {value.n} requests each, interleaved; a page from "
                     f"the middle of the history returned {len(deep['events'])} events")
    return row
