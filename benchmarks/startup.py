"""Whole-process figures: cold start to the key list painted, and resident memory with 10,000 keys.

Both run the real app (``benchmarks.app_probe app``) signed in to an
already-running hub (its own process), the way a returning user starts it: hub
URL and email in the settings file, the session token in the keyring (a
benchmark-only file backend, see bench_keyring.py). The baseline is a bare
PySide6 script showing an empty QDialog, spawned in the same loop.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

from .context import Context
from .hubproc import HubProcess
from .measure import ChildRun, Stats, bench_env, check_part, ratio_of, run_child, time_process
from .report import Row, mb, ms_spread, verdict
from .secret_service import secret_service, store_token
from .seeding import SeededHub

STARTUP_TITLE = "cold start to a usable key list painted ({n} keys, hub already running)"
MEMORY_TITLE = "resident memory after loading {n} keys"


def _app_env(ctx: Context, hub: SeededHub, hub_url: str, name: str,
             desktop_keyring: dict[str, str] | None = None) -> dict[str, str]:
    """A private config/data home holding the settings and keyring of a signed-in user.

    ``desktop_keyring``: the environment of a running Secret Service (secret_service.py); the
    token goes there and the app finds the keyring as on a desktop. Without it, a file backend
    named by PYTHON_KEYRING_BACKEND (bench_keyring.py) holds the token.
    """
    home = ctx.workdir / f"home-{name}"
    config = home / "config"
    (config / "phhub-keys").mkdir(parents=True, exist_ok=True)
    from phhub_keys.api.credentials import service_name

    # The account state as the app writes it (core.account, profile "remote").
    from phhub_keys.core.account import REMOTE, AccountState

    AccountState.load(config / "phhub-keys" / "account.json").update(REMOTE, hub_url=hub_url, email=hub.email)
    dirs = {
        "XDG_CONFIG_HOME": str(config),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_RUNTIME_DIR": str(home / "run"),
    }
    if desktop_keyring is not None:
        env = bench_env({**dirs, **desktop_keyring})
        for name in ("PYTHON_KEYRING_BACKEND", "XDG_CURRENT_DESKTOP", "DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(name, None)
        store_token(env, service_name(hub_url), hub.email, hub.token)
        return env
    keyring_file = home / "keyring.json"
    fd = os.open(keyring_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({service_name(hub_url): {hub.email: hub.token}}, out)
    return bench_env({
        **dirs,
        "PYTHON_KEYRING_BACKEND": "benchmarks.bench_keyring.BenchKeyring",
        "PHHUB_BENCH_KEYRING_FILE": str(keyring_file),
    })


def _ensure_runtime_dir(env: dict[str, str]) -> None:
    Path(env["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)


def _app_argv(hub_url: str, settle_ms: int = 0) -> list[str]:
    return [sys.executable, "-m", "benchmarks.app_probe", "app", "--settle-ms", str(settle_ms),
            "--", "--hub", hub_url]


def _bare_argv(settle_ms: int = 0) -> list[str]:
    return [sys.executable, "-m", "benchmarks.app_probe", "bare", "--settle-ms", str(settle_ms)]


FLOORS = (("label", "the bare dialog + one text label (the font database loads)"),
          ("table", "a plain QTableView of the same 50 x 6 text cells"),
          ("imports", "the app's start-up step and modules imported, then the bare dialog"))


def _floor_argv(what: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.app_probe", "floor", "--", what]


def _check_rows(children: list[ChildRun], expected: int) -> None:
    for child in children:
        rows = int(child.values.get("rows", "-1"))
        if rows != expected:
            raise RuntimeError(f"the app painted {rows} rows, expected {expected}:\n{child.stderr[-2000:]}")


def cold_start(ctx: Context) -> Row:
    s = ctx.sizes
    hub = ctx.seeded(s.startup_keys)
    with HubProcess(hub.db_path) as proc, secret_service(ctx.workdir / "home-keyring") as desktop:
        env = _app_env(ctx, hub, proc.url, "startup", desktop)
        _ensure_runtime_dir(env)
        app_samples: list[float] = []
        confirmed_samples: list[float] = []
        bare_samples: list[float] = []
        floor_samples: dict[str, list[float]] = {what: [] for what, _ in FLOORS}
        # Interleaved, so a burst of load on the machine hits both alike; one unmeasured
        # warm-up of each fills the page cache.
        for i in range(s.process_runs + 1):
            bare_stats, _ = time_process(_bare_argv(), "painted", 1, env=env, warmup=0)
            for what, _ in FLOORS:
                floor_stats, _ = time_process(_floor_argv(what), "painted", 1, env=env, warmup=0)
                if i:
                    floor_samples[what].append(floor_stats.median)
            app_stats, children = time_process(_app_argv(proc.url), "painted", 1, env=env, warmup=0)
            _check_rows(children, hub.keys)
            confirmed = children[0].marks.get("confirmed")
            if confirmed is None:
                raise RuntimeError("the app never reported the hub-confirmed list's paint")
            if i:  # (the warm-up run also leaves the app's saved list for the measured runs)
                bare_samples.append(bare_stats.median)
                app_samples.append(check_part(app_stats.median, confirmed, "usable list within confirmed"))
                confirmed_samples.append(confirmed)
    app = Stats.of(app_samples, "app: spawn -> painted")
    bare = Stats.of(bare_samples, "bare: spawn -> painted")
    hub_list = Stats.of(confirmed_samples, "app: spawn -> hub-confirmed list painted")
    r = ratio_of(app.median, bare.median, "cold start")
    r_hub = ratio_of(hub_list.median, bare.median, "cold start, hub-confirmed list")
    row = Row(STARTUP_TITLE.format(n=hub.keys), value=ms_spread(app.median, app.min, app.max),
              baseline=ms_spread(bare.median, bare.min, bare.max) + " bare QDialog", ratio=f"{r:.2f}x",
              target="<= 1.5x", verdict=verdict(r <= 1.5, ctx.quick))
    row.notes.append(f"spawn -> first completed paint of a usable list (the list the app saved at its last "
                     f"start, marked as refreshing, actions waiting), median of {app.n} interleaved runs "
                     "each (min-max)")
    row.notes.append("spawn -> first paint of the hub-confirmed list: "
                     f"{ms_spread(hub_list.median, hub_list.min, hub_list.max)}, "
                     f"{r_hub:.2f}x the bare dialog")
    floors = "; ".join(
        f"{text} {ms_spread(st.median, st.min, st.max)}, {ratio_of(st.median, bare.median, what):.2f}x"
        for (what, text), st in ((pair, Stats.of(floor_samples[pair[0]], pair[0])) for pair in FLOORS))
    row.notes.append(f"where the floor is, same runs, spawn -> first paint: {floors}")
    row.notes.append("the token came from " + (
        "gnome-keyring's Secret Service on a private D-Bus session, the keyring found as on a desktop"
        if desktop is not None else
        "a file backend named by PYTHON_KEYRING_BACKEND (no dbus-daemon + gnome-keyring-daemon here): "
        "finding the OS keyring is not part of the hub-confirmed figure"))
    return row


def memory(ctx: Context) -> Row:
    s = ctx.sizes
    hub = ctx.seeded(s.keys)
    settle = 300
    with HubProcess(hub.db_path) as proc:
        env = _app_env(ctx, hub, proc.url, "memory")
        _ensure_runtime_dir(env)
        app_rss: list[float] = []
        bare_rss: list[float] = []
        for _ in range(max(1, min(3, s.process_runs))):
            bare = run_child(_bare_argv(settle), env=env)
            app = run_child(_app_argv(proc.url, settle), env=env, timeout=120)
            for child in (bare, app):
                if "rss" not in child.values:
                    raise RuntimeError(f"no RSS reported (exit {child.returncode}):\n{child.stderr[-2000:]}")
            _check_rows([app], hub.keys)
            bare_rss.append(float(bare.values["rss"]))
            app_rss.append(float(app.values["rss"]))
    value, baseline = statistics.median(app_rss), statistics.median(bare_rss)
    delta = value - baseline
    row = Row(MEMORY_TITLE.format(n=f"{hub.keys:,}"), value=mb(value),
              baseline=mb(baseline) + " bare QDialog",
              ratio=f"+{delta / 2**20:.1f} MB", target="<= baseline + 60 MB",
              verdict=verdict(delta <= 60 * 2**20, ctx.quick))
    row.notes.append(f"VmRSS {settle} ms after the first paint with all rows, median of {len(app_rss)} runs")
    return row
