"""Rotate -> clients re-wired -> new key checked, end to end (what Rotate… and
``keys rotate --update-clients`` do, issue 14).

Each run, on a hub in its own process: a fresh key is created (not measured) and written into
the scratch home's client config files the way ``usage_figures`` writes them (the key in two of
the registry's files, 25 servers a file); then the measured span: ``HubClient.rotate_key``
(grace 0), ``core.usage_map.scan`` for the old key, ``core.rewire.replace_key`` on the files
that hold it, and ``api.keycheck.KeyCheck`` (initialize, tools/list, whoami with the official
MCP client) with the new key. The baseline, interleaved in the same run, is that key check
alone with a working key: the one step no implementation can skip, so the ratio is what
rotating, scanning and rewriting add to it.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from .context import Context
from .hubproc import HubProcess
from .measure import Stats, check_part, ratio_of
from .report import Row, ms, ms_spread, verdict
from .usage_figures import SERVER_URL, write_home

TITLE = "rotate -> {n} client files re-wired -> new key checked (end to end)"


def _home_for(template: Path, home: Path, placeholder: str, secret: str) -> None:
    """A copy of the template home with the placeholder key replaced by ``secret``."""
    if home.exists():
        shutil.rmtree(home)
    shutil.copytree(template, home)
    for path in home.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if placeholder in text:
                path.write_text(text.replace(placeholder, secret), encoding="utf-8")


def rotate_rewire_check(ctx: Context) -> Row:
    from phhub_keys.api.client import HubClient
    from phhub_keys.api.keycheck import KeyCheck
    from phhub_keys.core import rewire, usage_map
    from phhub_keys.core.keyformat import redact

    hub = ctx.seeded(ctx.sizes.startup_keys)
    servers = 4 if ctx.quick else 25
    template = ctx.workdir / "rotate-template"
    placeholder, scan_kwargs, _paths = write_home(template, servers)
    home = ctx.workdir / "rotate-home"
    scan_kwargs = {**scan_kwargs, "home": home, "env": {"XDG_CONFIG_HOME": str(home / ".config")}}
    flow: list[float] = []
    parts: dict[str, list[float]] = {"rotate": [], "scan": [], "rewire": [], "check": []}
    base: list[float] = []
    files = 0
    with HubProcess(hub.db_path) as proc, HubClient(proc.url, hub.token, timeout=30) as client:
        mcp_url = proc.url + "/mcp"
        for i in range(ctx.sizes.repeats + 1):
            made = client.create_key(f"bench rotate {i}")
            _home_for(template, home, placeholder, made.secret)
            # -- the flow --------------------------------------------------------------------
            t0 = time.perf_counter()
            rotated = client.rotate_key(made.key.id, grace_seconds=0)
            t1 = time.perf_counter()
            report = usage_map.scan(redact(made.secret), server_url=SERVER_URL, **scan_kwargs)
            t2 = time.perf_counter()
            outcomes = rewire.replace_key(report.literal, redact(made.secret), rotated.secret)
            t3 = time.perf_counter()
            check = KeyCheck(mcp_url, rotated.secret, allow_insecure_http=True).run()
            t4 = time.perf_counter()
            files = sum(o.ok for o in outcomes)
            if len(report.literal) != 2 or files != 2 or not check.ok:
                raise RuntimeError(f"rotate flow: {len(report.literal)} files found, {files} re-wired, "
                                   f"check {check.status}: {check.message}")
            # -- the baseline: the same check alone, with a key that works --------------------
            b0 = time.perf_counter()
            alone = KeyCheck(mcp_url, hub.mcp_secret, allow_insecure_http=True).run()
            b1 = time.perf_counter()
            if not alone.ok:
                raise RuntimeError(f"the baseline key check failed: {alone.message}")
            if i:  # the first run imports the MCP SDK and warms the hub: not measured
                flow.append(t4 - t0)
                for name, span in (("rotate", t1 - t0), ("scan", t2 - t1), ("rewire", t3 - t2),
                                   ("check", t4 - t3)):
                    parts[name].append(span)
                base.append(b1 - b0)
    value = Stats.of(flow, "rotate flow")
    baseline = Stats.of(base, "key check alone")
    medians = {name: Stats.of(spans, name).median for name, spans in parts.items()}
    for name, span in medians.items():
        check_part(span, max(flow), f"rotate flow: {name}")
    r = ratio_of(value.median, baseline.median, "rotate flow")
    row = Row(TITLE.format(n=files), value=ms_spread(value.median, value.min, value.max),
              baseline=ms_spread(baseline.median, baseline.min, baseline.max) + " key check alone",
              ratio=f"{r:.2f}x", target="<= 2x and < 1 s",
              verdict=verdict(r <= 2 and value.median < 1.0, ctx.quick))
    row.notes.append("median parts: " + ", ".join(f"{name} {ms(span)}" for name, span in medians.items())
                     + f"; {value.n} runs, grace 0, {servers} servers a file")
    return row
