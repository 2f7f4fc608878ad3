"""The key-hygiene verbs of the scripting CLI: expiry, rotate (and re-wire this computer's
clients), events, expiring, where-used. Wired into ``scripting``'s parser; same session,
same output rules (people by default, ``--json`` for scripts, errors on stderr).

Times are the hub's: "expires in 6 days" and "expired" are computed from the hub's clock
(``HubClient.hub_now``, from its last answer), never from this computer's.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from .core.expiry import SECONDS_PER_DAY, duration_text, expiry_text, parse_date, parse_duration
from .scripting import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    CliError,
    Io,
    Session,
    _json_out,
    _quoted,
    _retrying,
)
from .terminal import printable

EXIT_SOME = 5  # keys expiring: some are (for cron and CI)
DEFAULT_GRACE = SECONDS_PER_DAY
DEFAULT_EXPIRING_WINDOW = 30 * SECONDS_PER_DAY
MAX_EVENTS = 10_000


# ---------------------------------------------------------------- arguments


def duration(text: str) -> int:
    """argparse type: ``90d``, ``12h``, ``2w``, ``30m``, ``0`` -> seconds."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def date(text: str) -> datetime:
    """argparse type: ``2027-03-01`` (midnight UTC) or an RFC 3339 time."""
    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_expiry_options(parser: argparse.ArgumentParser, *, verb: str) -> None:
    """``--expires-in/--expires-at/--no-expiry`` (create) or ``--in/--at/--never`` (expiry)."""
    group = parser.add_mutually_exclusive_group(required=verb == "expiry")
    if verb == "create":
        group.add_argument("--expires-in", type=duration, metavar="DURATION",
                           help="lifetime, e.g. 30d, 90d, 12h (default: the hub's policy)")
        group.add_argument("--expires-at", type=date, metavar="DATE",
                           help="e.g. 2027-03-01 (UTC) or RFC 3339")
        group.add_argument("--no-expiry", action="store_true", help="never expires (if the hub allows it)")
    else:
        group.add_argument("--in", dest="expires_in", type=duration, metavar="DURATION",
                           help="expire this long from now (the hub's time), e.g. 30d")
        group.add_argument("--at", dest="expires_at", type=date, metavar="DATE", help="expire at DATE")
        group.add_argument("--never", dest="no_expiry", action="store_true", help="never expire")


def add_parsers(verbs: Any, keys_common: argparse.ArgumentParser, common: argparse.ArgumentParser,
                sub: Any) -> None:
    """The hygiene verbs under ``keys`` and the top-level ``where-used``."""
    p = verbs.add_parser("expiry", parents=[keys_common],
                         help="change when a key expires (renews an expired one)")
    p.set_defaults(handler=run_expiry)
    p.add_argument("id")
    add_expiry_options(p, verb="expiry")
    p = verbs.add_parser(
        "rotate", parents=[keys_common], help="replace a key by a new one; prints the new key once",
        description="Makes a new key with the old key's label and lifetime; the old key keeps working for "
                    "the grace period (0: stops at once). With --update-clients, client config files on this "
                    "computer that hold the old key are switched to the new one (each with a backup; asks "
                    "first unless --yes), and the new key is checked against the MCP server.")
    p.set_defaults(handler=run_rotate)
    p.add_argument("id")
    p.add_argument("--grace", type=duration, default=None, metavar="DURATION",
                   help="how long the old key keeps working: 0, 1h, 1d, 7d... (default 1d, or the hub's "
                        "maximum if smaller)")
    p.add_argument("--label", help="the new key's label (default: the old key's)")
    p.add_argument("--update-clients", action="store_true",
                   help="put the new key into this computer's client configs that hold the old one")
    p.add_argument("--yes", action="store_true",
                   help="with --update-clients: change the files without asking")
    p.add_argument("--url", metavar="SERVER_URL", help="MCP Server URL for the check (default: from the hub)")
    p = verbs.add_parser("events", parents=[keys_common], help="activity: the account's, or one key's",
                         description="Newest first; deleted keys' history included.")
    p.set_defaults(handler=run_events)
    p.add_argument("id", nargs="?", help="only this key's events (a deleted key's too)")
    p.add_argument("--limit", type=_limit, default=50, metavar="N",
                   help=f"at most N events (default 50, up to {MAX_EVENTS:,})")
    p = verbs.add_parser("expiring", parents=[keys_common],
                         help="keys that expire soon (exit 5 when there are any, 0 when none)",
                         description="Lists active keys that expire within the window, and expired keys that "
                                     "were not replaced by a rotation. Exit 0: none; 5: some (for cron/CI).")
    p.set_defaults(handler=run_expiring)
    p.add_argument("--within", type=duration, default=DEFAULT_EXPIRING_WINDOW, metavar="DURATION",
                   help="the window, e.g. 7d (default 30d)")
    p = sub.add_parser("where-used", parents=[keys_common],
                       help="which client configs on this computer hold a key (the usage map)",
                       description="Scans every client config file the setup command knows for the key (by "
                                   "its preview; the secret never leaves this computer), lists configs that "
                                   "take it from an environment variable or prompt, and adds what the hub "
                                   "saw (last client, last addresses). Without ID: every key of the account.")
    p.add_argument("id", nargs="?")
    p.add_argument("--url", metavar="SERVER_URL", help="MCP Server URL (default: from the hub)")


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= MAX_EVENTS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_EVENTS:,}, not {value}")
    return value


# ---------------------------------------------------------------- create / expiry


def expiry_kwargs(args: argparse.Namespace, client: Any) -> dict[str, Any]:
    """HubClient.create_key's expiry arguments from ``--expires-in/--expires-at/--no-expiry``."""
    seconds = getattr(args, "expires_in", None)
    if seconds is not None:
        if seconds <= 0:
            raise CliError("--expires-in must be more than 0.", EXIT_USAGE)
        if seconds % SECONDS_PER_DAY == 0:
            return {"expires_in_days": seconds // SECONDS_PER_DAY}
        client.me()  # an answer carries the hub's clock: the expiry is counted from its "now"
        return {"expires_at": client.hub_now() + timedelta(seconds=seconds)}
    if getattr(args, "expires_at", None) is not None:
        return {"expires_at": args.expires_at}
    if getattr(args, "no_expiry", False):
        return {"no_expiry": True}
    return {}


def run_expiry(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    if args.no_expiry:
        when = None
    elif args.expires_at is not None:
        when = args.expires_at
    else:
        if args.expires_in <= 0:
            raise CliError("--in must be more than 0 (use keys deactivate to stop a key now).", EXIT_USAGE)
        client.me()  # the hub's clock
        when = client.hub_now() + timedelta(seconds=args.expires_in)
    key = _retrying(args, io, lambda: client.set_expiry(args.id, when))
    if args.json:
        _json_out(io, key.to_json())
    else:
        text = expiry_text(key.expires_at, client.hub_now())
        io.out(f"{key.id} ({key.redacted}, {_quoted(key.label)}) now expires: {text}"
               + (f" ({key.expires_at:%Y-%m-%d %H:%M} UTC)" if key.expires_at else "")
               + ("" if key.is_active or key.expires_at is None else f"; status {key.status.display}") + ".")
    return EXIT_OK


# ---------------------------------------------------------------- rotate


def run_rotate(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    from .api.errors import AlreadyRotated

    grace = args.grace
    if grace is None:
        policy = client.key_policy()
        grace = min(DEFAULT_GRACE, policy.max_grace_seconds) if policy is not None else DEFAULT_GRACE
    if args.label is not None:
        from .core.labels import label_problem

        problem = label_problem(args.label)
        if problem:
            raise CliError(problem, EXIT_USAGE)
    try:
        rotated = _retrying(args, io,
                            lambda: client.rotate_key(args.id, grace_seconds=grace, label=args.label))
    except AlreadyRotated as exc:
        hint = (f" to {exc.successor}: rotate that key instead (or renew this one with "
                f"'{PROG} keys expiry {args.id} --in 30d')") if exc.successor else ""
        raise CliError(f"{args.id} was already rotated{hint}.") from None
    old, new = rotated.replaces, rotated.key
    report: dict[str, Any] = {"key": new.to_json(), "secret": rotated.secret,
                              "replaces": old.to_json() if old else None, "grace_seconds": grace}
    if args.json is False:
        io.out(rotated.secret)  # stdout: the new key alone, so it can be piped
    now = client.hub_now()
    if old is not None:
        until = ("stopped working now" if grace == 0 else
                 f"keeps working for {duration_text(grace)} ({expiry_text(old.expires_at, now)})")
        io.err(f"Rotated {old.id} to {new.id} {_quoted(new.label)}. The old key {old.redacted} {until}. "
               "This is the only time the new key is shown: store it now.")
    exit_code = EXIT_OK
    if args.update_clients:
        update = _update_clients(args, io, session, old.redacted if old else "", rotated.secret)
        report["update_clients"] = update
        if update.get("skipped") or (update.get("check") and not update["check"]["ok"]):
            exit_code = EXIT_ERROR
    if args.json:
        _json_out(io, report)
    return exit_code


def _update_clients(args: argparse.Namespace, io: Io, session: Session, old_preview: str,
                    new_secret: str) -> dict[str, Any]:
    """Scan this computer's client configs for the old key, replace it after a yes, check the new key."""
    from .core import rewire, usage_map

    server_url = _server_url(session, args)
    report = usage_map.scan(old_preview, server_url=server_url)
    result: dict[str, Any] = {"usage": report.to_json(), "replaced": [], "skipped": [], "check": None}
    for ind in report.indirect:
        where = printable(f"{ind.file.client_name}: {ind.file.path} (server {ind.server}) - {ind.advice}")
        io.err(f"  to change by hand: {where}")
    for problem in report.problems:
        where = printable(f"{problem.file.client_name}: {problem.file.path} - {problem.reason}")
        io.err(f"  not scanned: {where}")
    if not report.literal:
        io.err(f"No client config on this computer holds the old key {old_preview}.")
        return result
    io.err("Client configs holding the old key:")
    for use in report.literal:
        io.err("  " + printable(f"{use.file.client_name}: {use.file.path}"))
    go = args.yes
    if not go and io.interactive():
        go = io.ask(f"Put the new key into {len(report.literal)} file(s) (each backed up first)? [y/N] "
                    ).lower() in ("y", "yes")
    if not go:
        io.err("Not changed" + ("" if io.interactive() else " (pass --yes to change them)")
               + f". The old key works until its grace ends; '{PROG} where-used' lists these files again.")
        result["skipped"] = [{**u.file.to_json(), "reason": "not confirmed"} for u in report.literal]
        return result
    outcomes = rewire.replace_key(report.literal, old_preview, new_secret)
    for outcome in outcomes:
        io.err("  " + printable(outcome.line()))
        (result["replaced"] if outcome.ok else result["skipped"]).append(outcome.to_json())
    if any(o.ok for o in outcomes) and server_url:
        from .api.keycheck import KeyCheck

        check = KeyCheck(server_url, new_secret, allow_insecure_http=session.allow_insecure_http).run()
        result["check"] = check.to_json()
        io.err(("Key check: " if check.ok else f"{PROG}: key check failed: ") + check.message)
    return result


def _server_url(session: Session, args: argparse.Namespace) -> str | None:
    try:
        return session.server_url(getattr(args, "url", None))
    except CliError:
        return None


# ---------------------------------------------------------------- events


def run_events(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    events: list[Any] = []
    before: str | None = None
    while len(events) < args.limit:
        want = min(200, args.limit - len(events))
        if args.id:
            page = _retrying(args, io, partial(client.key_events, args.id, limit=want, before=before))
        else:
            page = _retrying(args, io, partial(client.account_events, limit=want, before=before))
        events.extend(page.events)
        before = page.next_before
        if before is None:
            break
    more = before if len(events) >= args.limit else None
    if args.json:
        _json_out(io, {"events": [e.to_json() for e in events], "next_before": more})
        return EXIT_OK
    if not events:
        io.out("No activity yet." if not args.id else f"No activity for {args.id}.")
        return EXIT_OK
    rows: list[tuple[str, ...]] = [("AT", "KEY", "LABEL", "EVENT", "DETAIL")]
    for e in events:
        rows.append(tuple(map(printable, (f"{e.at:%Y-%m-%d %H:%M:%S}", e.key_id, e.key_label, e.kind,
                                          event_detail(e)))))
    io.out(_table(rows))
    if more:
        io.err(f"(more: --limit {min(MAX_EVENTS, args.limit * 2)} shows older events)")
    return EXIT_OK


def event_detail(event: Any) -> str:
    """One line for an event's detail, as a person reads it."""
    d, kind = event.detail, event.kind
    if kind == "renamed":
        return f"{d.get('from')!s} -> {d.get('to')!s}"
    if kind == "expiry_changed":
        text = f"{d.get('from') or 'never'} -> {d.get('to') or 'never'}"
        return text + (" (renewed)" if d.get("renewed") else "")
    if kind == "rotated":
        if "to" in d:
            return f"to {d['to']}, grace {duration_text(int(d.get('grace_seconds') or 0))}"
        return f"from {d.get('from')}"
    if kind == "created":
        return f"expires {d.get('expires_at') or 'never'}"
    if kind == "first_use_by_client":
        return str(d.get("client", ""))
    if kind == "new_address":
        return str(d.get("ip", ""))
    if kind == "expired":
        return f"at {d.get('expires_at')}"
    if kind == "deleted":
        return str(d.get("redacted", ""))
    return ", ".join(f"{k}={v}" for k, v in d.items())


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
             for row in rows]
    return "\n".join(line.rstrip() for line in lines)


# ---------------------------------------------------------------- expiring


def run_expiring(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    from .core.models import KeyStatus

    keys = _retrying(args, io, client.list_keys)
    now = client.hub_now()
    horizon = now + timedelta(seconds=args.within)
    due = [k for k in keys
           if (k.status is KeyStatus.ACTIVE and k.expires_at is not None and k.expires_at <= horizon)
           or (k.status is KeyStatus.EXPIRED and k.replaced_by is None)]
    due.sort(key=lambda k: k.expires_at or now)
    if args.json:
        _json_out(io, {"now": now.isoformat().replace("+00:00", "Z"), "within_seconds": args.within,
                       "keys": [{**k.to_json(),
                                 "expires_in_seconds": int((k.expires_at - now).total_seconds())}
                                for k in due if k.expires_at is not None]})
    elif due:
        rows: list[tuple[str, ...]] = [("ID", "KEY", "LABEL", "EXPIRES")]
        for k in due:
            rows.append(tuple(map(printable, (k.id, k.redacted, k.label, expiry_text(k.expires_at, now)))))
        io.out(_table(rows))
    else:
        io.out(f"No key expires within {duration_text(args.within)}.")
    return EXIT_SOME if due else EXIT_OK


# ---------------------------------------------------------------- where-used


def run_where_used(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    from .core import usage_map

    keys = _retrying(args, io, client.list_keys)
    if args.id:
        chosen = [k for k in keys if k.id == args.id.strip()]
        if not chosen:
            raise CliError(f"No key with id {args.id!r}: check the ID column of '{PROG} keys list'.")
    else:
        chosen = _keys_found_here(keys)
    server_url = _server_url(session, args)
    results = []
    for key in chosen:
        report = usage_map.scan(key.redacted, server_url=server_url)
        results.append((key, report))
    if args.json:
        _json_out(io, {"keys": [{"key": key.to_json(), "usage": report.to_json()}
                                for key, report in results]})
        return EXIT_OK
    if not results:
        io.out(f"No client config on this computer holds any of your {len(keys)} key(s).")
        return EXIT_OK
    now = client.hub_now()
    for n, (key, report) in enumerate(results):
        if n:
            io.out("")
        io.out(printable(f"{key.id} {key.redacted}") + f" {_quoted(key.label)} "
               f"({key.status.display.lower()}, expires {expiry_text(key.expires_at, now).lower()})")
        for line in report.summary_lines():  # the files' text (server names, paths): one line each
            io.out(f"  {printable(line)}")
        seen = (f"  hub: last used {key.last_used_at:%Y-%m-%d %H:%M} UTC" if key.last_used_at
                else "  hub: never used")
        if key.last_used_client:
            seen += f" by {key.last_used_client}"
        if key.last_used_ips:
            seen += "; from " + ", ".join(a.ip for a in key.last_used_ips)
        io.out(printable(seen))
    return EXIT_OK


def _keys_found_here(keys: Sequence[Any]) -> list[Any]:
    """The account's keys that some known client config holds, reading each file once."""
    from .core import usage_map
    from .core.keyformat import KEY_IN_TEXT, redact

    by_preview = {k.redacted: k for k in keys}
    found: dict[str, Any] = {}
    for item in usage_map.known_config_files():
        try:
            read = usage_map.read_config_bytes(item.path)
            if read is None:
                continue
            text = usage_map.decode_config(read[1])
        except usage_map._Unreadable:  # reported by the per-key scan
            continue
        for match in KEY_IN_TEXT.findall(text):
            key = by_preview.get(redact(match))
            if key is not None:
                found[key.id] = key
    return [k for k in keys if k.id in found]
