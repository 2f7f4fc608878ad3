"""Hub figures: MCP throughput with and without auth, and the 10,000-key list request.

The hub runs in its own process (hub_child) and the load comes from this one,
so on a 2-core machine server and client each have a core.
"""

from __future__ import annotations

import statistics
import time

import requests

from .context import Context
from .hubproc import HubProcess
from .mcp_load import run_load
from .measure import Stats, cpu_seconds, ratio_of
from .report import Row, ms, ms_spread, verdict

MCP_TITLE = "hub: MCP tools/call whoami per second, authenticated (concurrent client)"
LIST_TITLE = "hub: key list of {n} keys, request -> JSON received"


def mcp_throughput(ctx: Context) -> Row:
    """Authenticated vs no-auth whoami calls/s, in alternating windows so drift hits both alike."""
    s = ctx.sizes
    hub = ctx.seeded(ctx.sizes.startup_keys)
    auth_rates: list[float] = []
    base_rates: list[float] = []
    cpu: dict[str, list[float]] = {"auth": [], "bare": []}  # server CPU ms per call
    errors = 0
    with HubProcess(hub.db_path) as auth, \
            HubProcess(hub.db_path, mode="mcp-noauth", mcp_secret=hub.mcp_secret) as bare:
        for _ in range(s.mcp_rounds):
            for name, target, secret, rates in (("auth", auth, hub.mcp_secret, auth_rates),
                                                ("bare", bare, None, base_rates)):
                assert target.proc is not None
                result = run_load(target.port, secret, hub.email, workers=s.mcp_workers,
                                  seconds=s.mcp_seconds, warmup=min(1.0, s.mcp_seconds),
                                  on_window=lambda pid=target.proc.pid: cpu_seconds(pid))
                errors += result.errors
                rates.append(result.per_second)
                if result.calls:
                    cpu[name].append(result.window_value * 1000 / result.calls)
    value, baseline = statistics.median(auth_rates), statistics.median(base_rates)
    # The ratio is the median of per-round ratios: the two windows of a round run back to
    # back, so a burst of load on a shared machine hits both and cancels out.
    r = statistics.median(ratio_of(a, b, "MCP auth / no auth")
                          for a, b in zip(auth_rates, base_rates, strict=True))
    row = Row(
        MCP_TITLE,
        value=f"{value:.0f}/s ({min(auth_rates):.0f}-{max(auth_rates):.0f})",
        baseline=f"{baseline:.0f}/s ({min(base_rates):.0f}-{max(base_rates):.0f}) no auth",
        ratio=f"{r:.2f}x", target=">= 0.9x", verdict=verdict(r >= 0.9 and errors == 0, ctx.quick),
    )
    row.notes.append(f"{s.mcp_workers} concurrent sessions, {s.mcp_rounds} rounds of back-to-back "
                     f"{s.mcp_seconds:.1f} s windows; ratio = median of per-round ratios; "
                     f"{errors} failed calls")
    if cpu["auth"] and cpu["bare"]:
        a, b = statistics.median(cpu["auth"]), statistics.median(cpu["bare"])
        row.notes.append(f"hub CPU per call {a:.2f} ms with auth vs {b:.2f} ms without ({b / a:.2f}x): "
                         "the load-independent view of the same ratio")
    if errors:
        row.verdict = "ERROR"
    return row


def key_list(ctx: Context) -> Row:
    """GET /api/v1/mcp/keys of a ``keys``-key account: request sent -> whole body received.

    The client's JSON parse is the GUI figure's business; it is reported in a note.
    """
    hub = ctx.seeded(ctx.sizes.keys)
    samples: list[float] = []
    parse: list[float] = []
    with HubProcess(hub.db_path) as proc, requests.Session() as session:
        url = proc.url + "/api/v1/mcp/keys"
        headers = {"Authorization": f"Bearer {hub.token}"}
        for i in range(ctx.sizes.list_requests + 2):
            start = time.perf_counter()
            response = session.get(url, headers=headers, timeout=30)
            body = response.content
            received = time.perf_counter()
            keys = response.json()["keys"]
            parsed = time.perf_counter()
            if response.status_code != 200 or len(keys) != hub.keys:
                raise RuntimeError(f"list answered {response.status_code} with {len(keys)} keys")
            if i >= 2:  # two warm-up requests (first connection, SQLite page cache)
                samples.append(received - start)
                parse.append(parsed - received)
    stats = Stats.of(samples, "key list request -> body")
    row = Row(LIST_TITLE.format(n=f"{hub.keys:,}"), value=ms_spread(stats.median, stats.min, stats.max),
              target="< 100 ms", verdict=verdict(stats.median < 0.100, ctx.quick))
    row.notes.append(f"{len(body) / 1e6:.1f} MB body; client json.loads {ms(statistics.median(parse))} "
                     f"(not included); {stats.n} requests")
    return row
