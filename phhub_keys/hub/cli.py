"""``phhub-keys hub serve|add-user|set-password``: run the local reference hub standalone."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import ipaddress
import logging
import sqlite3
import sys
from pathlib import Path
from urllib.parse import urlsplit

from ..core.net import format_base_url, is_loopback_host
from .settings import HubSettings, default_db_path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phhub-keys hub", description="The local reference hub.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the hub (API, MCP endpoint, docs) until Ctrl+C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8750, help="port (default 8750; 0 picks a free one)")
    serve.add_argument("--db", type=Path, default=None, help=f"database file (default {default_db_path()})")
    serve.add_argument("--public-url", default=None,
                       help="base URL clients use, e.g. https://hub.example.org (required off loopback)")
    serve.add_argument("--trusted-proxy", action="append", default=[], type=_proxy_address, metavar="ADDR",
                       help="the TLS-terminating proxy in front of the hub (IP address or network, "
                            "repeatable): only its X-Forwarded-For is believed (default: none)")
    serve.add_argument("--access-log", action="store_true", help="log every request (method, path, status)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    policy = serve.add_argument_group("key policy (announced in /api/v1/mcp/config)")
    policy.add_argument("--default-key-lifetime", type=_days_or_none, default=90, metavar="DAYS|none",
                        help="the expiry a new key gets when none is chosen and no-expiry is not allowed, "
                             "and the app's preset (default 90)")
    policy.add_argument("--max-key-lifetime", type=_days_or_none, default=None, metavar="DAYS|none",
                        help="longest key lifetime; 'none' (default) also allows keys without expiry")
    policy.add_argument("--max-rotation-grace", type=_days, default=30, metavar="DAYS",
                        help="longest time an old key keeps working after a rotation (default 30)")
    add = sub.add_parser("add-user", help="create an account (password from a prompt, or stdin when piped)")
    add.add_argument("email")
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--facility", action="append", default=[], metavar="NAME",
                     help="a facility the user can reach (repeat for several)")
    add.add_argument("--db", type=Path, default=None, help=f"database file (default {default_db_path()})")
    pw = sub.add_parser("set-password",
                        help="change a user's password and sign them out everywhere (password from a "
                             "prompt, or stdin when piped)")
    pw.add_argument("email")
    pw.add_argument("--db", type=Path, default=None, help=f"database file (default {default_db_path()})")
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535 (0 picks a free one), not {value}")
    return value


def _proxy_address(text: str) -> str:
    """An IP address or network (``10.0.0.5``, ``10.0.0.0/24``, ``::1``), normalised."""
    try:
        network = ipaddress.ip_network(text.strip().strip("[]"), strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--trusted-proxy takes the proxy's IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24), "
            f"not {text!r}") from None
    if network.prefixlen == 0:
        raise argparse.ArgumentTypeError(
            f"--trusted-proxy {text} would believe every peer's X-Forwarded-For; name the proxy's address")
    single = network.prefixlen == network.max_prefixlen
    return str(network.network_address) if single else str(network)


def _days_or_none(text: str) -> int | None:
    if text.strip().lower() in ("none", "never", "no"):
        return None
    return _days(text)


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of days or 'none', not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a number of days is not negative: {value}")
    return value


class _BadDatabase(Exception):
    """The --db file cannot be opened as the hub's database (a folder, another kind of file...)."""


def _open_store(db_path: Path):  # type: ignore[no-untyped-def]
    from .store import HubStore

    try:
        return HubStore(db_path)
    except (sqlite3.Error, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _BadDatabase(f"cannot open the database {db_path}: {reason} "
                           "(--db must name an SQLite file of this hub, or a new file)") from None


def check_public_url(host: str, public_url: str | None) -> str | None:
    """Why this bind/URL combination is refused, or None when it is fine."""
    if public_url is not None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"--public-url must be an absolute http(s) URL, got {public_url!r}."
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            return "--public-url is the hub's base URL (scheme, host and port only), without a path."
    if is_loopback_host(host):
        return None
    if public_url is None or urlsplit(public_url).scheme != "https":
        return (
            f"Refusing to listen on {host}: off this machine, MCP keys, passwords and session tokens "
            "would cross the network in plain text. Serve it behind a TLS-terminating proxy and pass "
            "--public-url https://<your-host>, or listen on 127.0.0.1."
        )
    return None


def _read_password(prompt: str = "Password for the new user: ") -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if first != getpass.getpass("Repeat the password: "):
            raise ValueError("The passwords do not match.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def add_user(args: argparse.Namespace) -> int:
    try:
        password = _read_password()
        with _open_store(args.db or default_db_path()) as store:
            user = store.add_user(args.email, password, name=args.name, facilities=args.facility)
    except (ValueError, EOFError, _BadDatabase) as exc:
        print(f"phhub-keys hub add-user: {exc or 'no password given'}", file=sys.stderr)
        return 1
    print(f"Added {user.email} ({user.id}) to {args.db or default_db_path()}")
    return 0


def set_password(args: argparse.Namespace) -> int:
    """A new password, and every session of that user revoked (a password change is how an
    operator locks out whoever may hold the old one)."""
    db_path = args.db or default_db_path()
    try:
        if not db_path.is_file():
            raise _BadDatabase(f"there is no hub database at {db_path} (give it with --db)")
        with _open_store(db_path) as store:
            if store.user_by_email(args.email) is None:
                raise ValueError(f"no user with the email {args.email.strip()} in {db_path}")
            password = _read_password(f"New password for {args.email.strip()}: ")
            user, revoked = store.set_password(args.email, password)
    except (ValueError, EOFError, _BadDatabase) as exc:
        print(f"phhub-keys hub set-password: {exc or 'no password given'}", file=sys.stderr)
        return 1
    print(f"Changed the password of {user.email} ({user.id}); signed out {revoked} "
          f"session{'s' if revoked != 1 else ''}.")
    return 0


def serve(args: argparse.Namespace) -> int:
    problem = check_public_url(args.host, args.public_url)
    if problem:
        print(f"phhub-keys hub serve: {problem}", file=sys.stderr)
        return 2
    # Logging first: the MCP SDK configures logging itself when nothing has.
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import uvicorn

    from .app import create_app
    from .embedded import bind_socket, uvicorn_config

    db_path = args.db or default_db_path()
    try:
        store = _open_store(db_path)
    except _BadDatabase as exc:
        print(f"phhub-keys hub serve: {exc}", file=sys.stderr)
        return 1
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        store.close()
        print(f"phhub-keys hub serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    local_url = format_base_url(args.host, sock.getsockname()[1])
    try:
        settings = HubSettings(public_url=(args.public_url or local_url).rstrip("/"),
                               default_key_lifetime_days=args.default_key_lifetime,
                               max_key_lifetime_days=args.max_key_lifetime,
                               max_rotation_grace_days=args.max_rotation_grace,
                               trusted_proxies=tuple(dict.fromkeys(args.trusted_proxy)))
    except ValueError as exc:
        store.close()
        sock.close()
        print(f"phhub-keys hub serve: {exc}", file=sys.stderr)
        return 2
    store.event_retention_days = settings.event_retention_days
    with store:
        app = create_app(store, settings)
        print(f"Hub listening on {local_url} (database {db_path})", flush=True)
        print(f"MCP endpoint: {settings.mcp_url}   docs: {settings.docs_url}", flush=True)
        if not store.has_any_user():
            print(f"No users yet: add one with  phhub-keys hub add-user EMAIL --db {db_path}", flush=True)
        if settings.trusted_proxies:
            print(f"Believing X-Forwarded-For only from: {', '.join(settings.trusted_proxies)}", flush=True)
        server = uvicorn.Server(uvicorn_config(app, log_level=args.log_level, access_log=args.access_log,
                                               trusted_proxies=settings.trusted_proxies))
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl+C after shutting down
            server.run(sockets=[sock])
    print("Hub stopped.", flush=True)
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "set-password":
        try:
            return set_password(args)
        except KeyboardInterrupt:  # Ctrl+C at the password prompt: nothing was changed
            print("\nphhub-keys hub set-password: interrupted; password not changed", file=sys.stderr)
            return 130
    try:
        return add_user(args)
    except KeyboardInterrupt:  # Ctrl+C at the password prompt: nothing was added
        print("\nphhub-keys hub add-user: interrupted; no user added", file=sys.stderr)
        return 130
