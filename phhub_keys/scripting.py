"""The scripting CLI: ``phhub-keys login|logout|keys|check-key|setup`` over HubClient.

Same hub API and the same keyring entry (hub URL + email) as the app, so signing
in once in either works for both. Secrets never come from argv: the password is
read from a prompt (or stdin when it is not a terminal), an MCP key from the
environment variable PHHUB_MCP_KEY or stdin.

Output is for people by default and JSON with ``--json``; errors go to stderr.
Exit codes: 0 ok, 1 hub or user error, 2 usage, 3 sign-in needed,
4 key rejected or malformed (check-key), 5 some keys expire soon (keys expiring).

The non-secret account state (hub URL, email, last Server URL) is the app's
own (``core.account``, ``account.json``): signing in with either is signing in
with both, and so is signing out.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from .core.account import REMOTE
from .pipes import silence_closed_stdout
from .terminal import printable

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_REJECTED = 4

KEY_ENV = "PHHUB_MCP_KEY"
HUB_ENV = "PHHUB_HUB_URL"
EMAIL_ENV = "PHHUB_EMAIL"
TOKEN_ENV = "PHHUB_TOKEN"  # noqa: S105 - the variable's name; a session token for CI / machines without a keyring; never stored
# --retry-on-rate-limit: at most this many waits, and this much waiting in all.
RATE_LIMIT_RETRIES = 20
RATE_LIMIT_MAX_WAIT = 600.0

PROG = "phhub-keys"
URL_HELP = "MCP Server URL (default: from the hub, or the last known)"


class CliError(Exception):
    """A failure to report on stderr with an exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ---------------------------------------------------------------- account state


def load_account_state():  # type: ignore[no-untyped-def]
    """The account state shared with the app (core.account), migrated once from older files."""
    from .core import paths
    from .core.account import AccountState

    def read_app_settings(path: Path) -> Any:
        # Only for the one-time migration of an older app's settings.ini: Qt decodes its own format
        # (a hand-written INI parser changed emails holding a backslash).
        from .gui.settings import read_legacy_account

        return read_legacy_account(path)

    return AccountState.load(paths.account_state_path(), legacy_ini=paths.settings_path(),
                             read_legacy_ini=read_app_settings)


# ---------------------------------------------------------------- helpers


class Io:
    """Where the CLI reads and writes; replaced in unit tests."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 stderr: TextIO | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    def out(self, text: str = "") -> None:
        """A human-readable line: control characters from a hub or a file are shown escaped."""
        print(printable(text, multiline=True), file=self.stdout)

    def err(self, text: str) -> None:
        print(printable(text, multiline=True), file=self.stderr)

    def interactive(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    def secret(self, prompt: str) -> str:
        """A secret from a hidden prompt on a terminal, else the first line of stdin."""
        if self.interactive():
            return getpass.getpass(prompt)
        line = self.stdin.readline()
        return line.rstrip("\r\n")

    def ask(self, prompt: str) -> str:
        self.stderr.write(printable(prompt, multiline=True))
        self.stderr.flush()
        return self.stdin.readline().strip()


def _json_out(io: Io, data: Any) -> None:
    """JSON escapes control characters itself (and must stay parseable), so it skips ``printable``."""
    print(json.dumps(data, indent=2, ensure_ascii=False), file=io.stdout)


def _quoted(label: str) -> str:
    """A label from the hub inside a message, on one line whatever it holds."""
    return f"“{printable(label)}”"


def _read_mcp_key(io: Io) -> str:
    """The MCP key from $PHHUB_MCP_KEY, else stdin (hidden prompt on a terminal)."""
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        key = io.secret("MCP key (input hidden): ").strip()
    if not key:
        raise CliError(f"No MCP key given: set {KEY_ENV} or pass the key on stdin.", EXIT_USAGE)
    return key


# ---------------------------------------------------------------- sessions


class Session:
    """Resolves hub, account and token, and builds a signed-in HubClient."""

    def __init__(self, args: argparse.Namespace, io: Io) -> None:
        self.args = args
        self.io = io
        self.state = load_account_state()
        self.account = self.state.remote
        hub = getattr(args, "hub", None) or os.environ.get(HUB_ENV) or self.account.hub_url or ""
        email = getattr(args, "email", None) or os.environ.get(EMAIL_ENV) or self.account.email or ""
        self.hub_url, self.email = hub.strip(), email.strip()
        self.allow_insecure_http = bool(getattr(args, "insecure_http", False)) or (
            self.account.allow_insecure_http and self.hub_url == self.account.hub_url
        )

    def store(self):  # type: ignore[no-untyped-def]
        from .api.credentials import CredentialStore

        return CredentialStore()

    def need_account(self) -> None:
        if not self.hub_url:
            raise CliError(f"No hub chosen: run '{PROG} login --hub URL' (or set {HUB_ENV}).", EXIT_AUTH)
        if not self.email:
            raise CliError(f"No account chosen: run '{PROG} login --email EMAIL' first.", EXIT_AUTH)

    def client(self, token: str | None = None):  # type: ignore[no-untyped-def]
        from .api.client import HubClient

        try:
            return HubClient(self.hub_url, token, allow_insecure_http=self.allow_insecure_http)
        except ValueError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None

    @staticmethod
    def env_token() -> str:
        """``$PHHUB_TOKEN`` (stripped), or ''. Used as given, never written anywhere."""
        return os.environ.get(TOKEN_ENV, "").strip()

    def signed_in_client(self):  # type: ignore[no-untyped-def]
        token = self.env_token()
        if token:
            if not self.hub_url:
                raise CliError(f"{TOKEN_ENV} is set but no hub is chosen: pass --hub URL (or set {HUB_ENV}).",
                               EXIT_USAGE)
            return self.client(token)
        self.need_account()
        token = self.store().load(self.hub_url, self.email)
        if not token:
            raise CliError(
                f"Not signed in to {self.hub_url} as {self.email}: run '{PROG} login'.", EXIT_AUTH
            )
        return self.client(token)

    def forget_token(self) -> None:
        if self.env_token():
            return  # the token came from the environment: there is nothing stored to forget
        with contextlib.suppress(Exception):
            self.store().delete(self.hub_url, self.email)
        from .core import key_list_cache

        key_list_cache.clear(self.hub_url, self.email)  # signing out forgets the app's saved list too

    def remember_server_url(self, server_url: str) -> None:
        """Cache the Server URL of the remembered hub (another --hub's URL is not remembered)."""
        if not server_url or self.hub_url != self.account.hub_url:
            return
        if server_url != self.account.server_url or self.account.server_url_hub != self.hub_url:
            with contextlib.suppress(OSError, ValueError):
                self.state.update(REMOTE, server_url=server_url, server_url_hub=self.hub_url)

    def server_url(self, explicit: str | None) -> str:
        """--url, else the hub's current config (signed in), else the cached Server URL.

        Never needs a session: without one (or without a usable keyring) the Server URL
        remembered from the last sign-in is used."""
        if explicit:
            return explicit.strip()
        from .api.errors import HubError, KeyringUnavailable

        if self.hub_url and (self.email or self.env_token()):
            try:
                client = self.signed_in_client()
                with client:
                    url = client.mcp_config().server_url
                self.remember_server_url(url)
                return url
            except (CliError, HubError, KeyringUnavailable):
                pass
        cached = self.account.cached_server_url(self.hub_url or None)
        if cached:
            return cached
        raise CliError(
            f"No Server URL known: pass --url SERVER_URL, or run '{PROG} login' to fetch it.", EXIT_USAGE
        )


def _hub_error_code(exc: Exception) -> int:
    from .api.errors import AuthenticationError

    return EXIT_AUTH if isinstance(exc, AuthenticationError) else EXIT_ERROR


# ---------------------------------------------------------------- commands


def keyring_advice(exc: Any) -> str:
    """Why the session can't be kept (a KeyringUnavailable) and how to go on from the command line."""
    problem = exc.problem.rstrip(". ")
    return (f"{problem}, so the session can't be kept on this computer. Either make a system keyring "
            "available (e.g. start gnome-keyring or KWallet, or unlock it) and run "
            f"'{PROG} login' again, or sign in with '{PROG} login --print-token' and pass the printed "
            f"token as {TOKEN_ENV} (it is never stored).")


def _refuse_with_env_token(what: str) -> None:
    if Session.env_token():
        raise CliError(f"{TOKEN_ENV} is set, and commands use it instead of a stored sign-in. "
                       f"Unset it to {what}.", EXIT_USAGE)


def cmd_login(args: argparse.Namespace, io: Io) -> int:
    if not args.print_token:
        _refuse_with_env_token("sign in and keep the session in the keyring")
    session = Session(args, io)
    if not session.hub_url:
        if io.interactive():
            session.hub_url = io.ask("Hub URL: ")
        if not session.hub_url:
            raise CliError(f"Which hub? Pass --hub URL (or set {HUB_ENV}).", EXIT_USAGE)
    if not session.email:
        if io.interactive():
            session.email = io.ask("Email: ")
        if not session.email:
            raise CliError("Which account? Pass --email EMAIL.", EXIT_USAGE)
    client = session.client()
    from .api.errors import KeyringUnavailable

    if not args.print_token:
        session.store().check()  # no trusted keyring: say so (and what to do) before asking the password
    password = io.secret(f"Password for {session.email}: ")
    if not password:
        raise CliError("No password given (a prompt on a terminal, or the first line of stdin).", EXIT_USAGE)

    with client:
        result = client.login(session.email, password)
        del password
        if args.print_token:
            # For $PHHUB_TOKEN on a machine without a keyring: the token goes to stdout only.
            io.out(result.token)
            io.err(f"Signed in to {client.base_url} as {result.user.email}. The session token was printed, "
                   f"not stored: pass it as {TOKEN_ENV}, keep it secret, end it with "
                   f"'{TOKEN_ENV}=... {PROG} logout --token-from-env'.")
            return EXIT_OK
        try:
            session.store().save(client.base_url, session.email, result.token)
        except KeyringUnavailable as exc:
            with contextlib.suppress(Exception):
                client.logout()  # a session nobody can reuse must not stay valid on the hub
            raise CliError(f"Signed in, but the session could not be kept, so it was ended again. "
                           f"{keyring_advice(exc)}") from None
        config = None
        with contextlib.suppress(Exception):
            config = client.mcp_config()
    values: dict[str, Any] = {"hub_url": client.base_url, "email": session.email,
                              "allow_insecure_http": session.allow_insecure_http}
    if config is not None:
        values.update(server_url=config.server_url, server_url_hub=client.base_url)
    try:
        session.state.update(REMOTE, **values)
    except (OSError, ValueError) as exc:
        io.err(f"{PROG}: warning: could not remember the hub and account: {exc}")
    if args.json:
        _json_out(io, {"hub_url": client.base_url, "user": result.user.to_json(),
                       "expires_at": result.expires_at.isoformat() if result.expires_at else None,
                       "server_url": config.server_url if config else None})
    else:
        io.out(f"Signed in to {client.base_url} as {printable(result.user.email)}"
               + (f" ({printable(result.user.name)})" if result.user.name else "") + ".")
    return EXIT_OK


def cmd_logout(args: argparse.Namespace, io: Io) -> int:
    session = Session(args, io)
    if args.everywhere:
        return _logout_everywhere(args, io, session)
    if args.token_from_env:
        return _logout_env_token(args, io, session)
    _refuse_with_env_token("sign out the stored session (or pass --token-from-env to end that token)")
    session.need_account()
    token = session.store().load(session.hub_url, session.email)
    if token:
        from .api.errors import HubError

        try:
            with session.client(token) as client:
                client.logout()
        except HubError as exc:
            raise CliError(
                f"Could not sign out on the hub ({exc}); the session was kept so you can try again."
            ) from None
        session.forget_token()
    if args.json:
        _json_out(io, {"hub_url": session.hub_url, "email": session.email, "signed_out": True,
                       "was_signed_in": bool(token)})
    elif token:
        io.out(f"Signed out of {session.hub_url} ({session.email}).")
    else:
        io.out(f"Not signed in to {session.hub_url} as {session.email}; nothing to sign out.")
    return EXIT_OK


def _logout_everywhere(args: argparse.Namespace, io: Io, session: Session) -> int:
    """End every session of the account on the hub (all computers, the app, scripts), this one too."""
    if session.env_token() and not args.token_from_env:
        _refuse_with_env_token("sign out everywhere with the stored session (or pass --token-from-env "
                               "to use that token)")
    from .api.errors import AuthenticationError

    with session.signed_in_client() as client:
        try:
            revoked = client.logout_all()
        except AuthenticationError:
            session.forget_token()
            raise CliError(
                f"Your session for {session.hub_url} had already ended, so nothing could be signed out "
                f"from here: run '{PROG} login', then '{PROG} logout --everywhere'.", EXIT_AUTH
            ) from None
    session.forget_token()
    who = session.email or "this account"
    if args.json:
        _json_out(io, {"hub_url": session.hub_url, "email": session.email or None, "signed_out": True,
                       "everywhere": True, "revoked": revoked})
    else:
        io.out(f"Signed out everywhere: ended {revoked} session{'s' if revoked != 1 else ''} of {who} on "
               f"{session.hub_url} (every computer, the app and the command line). Your MCP keys keep "
               "working.")
    return EXIT_OK


def _logout_env_token(args: argparse.Namespace, io: Io, session: Session) -> int:
    """End the session of $PHHUB_TOKEN on the hub (nothing is stored locally for it)."""
    if not session.env_token():
        raise CliError(f"--token-from-env needs {TOKEN_ENV} set.", EXIT_USAGE)
    from .api.errors import AuthenticationError

    with session.signed_in_client() as client:
        try:
            client.logout()
        except AuthenticationError:
            raise CliError(f"The hub no longer accepts {TOKEN_ENV} (already ended or expired).",
                           EXIT_AUTH) from None
    if args.json:
        _json_out(io, {"hub_url": session.hub_url, "signed_out": True, "was_signed_in": True})
    else:
        io.out(f"Ended the {TOKEN_ENV} session on {session.hub_url}.")
    return EXIT_OK


def _with_client(args: argparse.Namespace, io: Io, action: Callable[[Any, Session], int]) -> int:
    from .api.errors import AuthenticationError

    session = Session(args, io)
    client = session.signed_in_client()
    try:
        with client:
            return action(client, session)
    except AuthenticationError:
        if session.env_token():
            raise CliError(f"The hub refused {TOKEN_ENV} (expired or revoked): get a new session token.",
                           EXIT_AUTH) from None
        session.forget_token()
        raise CliError(
            f"Your session for {session.hub_url} has expired or was revoked: run '{PROG} login'.", EXIT_AUTH
        ) from None


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 1 else f"{value:.1f} s"


def _retrying(args: argparse.Namespace, io: Io, call: Callable[[], Any]) -> Any:
    """``call()``; with --retry-on-rate-limit a 429 waits as the hub asks (Retry-After) and tries again.

    A refused request changed nothing on the hub, so trying it again is safe. Bounded by
    RATE_LIMIT_RETRIES waits and RATE_LIMIT_MAX_WAIT seconds in all; progress goes to stderr.
    """
    import time

    from .api.errors import RateLimited

    waited, attempt = 0.0, 0
    while True:
        try:
            return call()
        except RateLimited as exc:
            if not getattr(args, "retry_on_rate_limit", False):
                raise CliError(f"{exc.message} (--retry-on-rate-limit waits and retries by itself)") from None
            attempt += 1
            wait = exc.retry_after if exc.retry_after and exc.retry_after > 0 else min(2.0 ** attempt, 60.0)
            if attempt > RATE_LIMIT_RETRIES or waited + wait > RATE_LIMIT_MAX_WAIT:
                raise CliError(f"The hub is still rate limiting after {attempt - 1} retries and "
                               f"{_seconds(waited)} of waiting; giving up.") from None
            io.err(f"{PROG}: rate limited by the hub; waiting {_seconds(wait)} "
                   f"(retry {attempt} of at most {RATE_LIMIT_RETRIES})…")
            time.sleep(wait)
            waited += wait


def _last_used(key: Any) -> str:
    if key.last_used_at is None:
        return "never"
    text = key.last_used_at.strftime("%Y-%m-%d %H:%M")
    if key.last_used_client:
        text += f" by {key.last_used_client}"
    return text


def _key_table(keys: Sequence[Any], now: Any) -> str:
    """The ``keys list`` table; EXPIRES counts from ``now``, the hub's time."""
    from .core.expiry import expiry_text

    rows: list[tuple[str, ...]] = [("ID", "KEY", "STATUS", "LABEL", "CREATED", "EXPIRES", "LAST USED")]
    for k in keys:  # every cell comes from the hub: one line each, control characters escaped
        rows.append(tuple(map(printable, (k.id, k.redacted, k.status.display, k.label,
                                          k.created_at.strftime("%Y-%m-%d %H:%M"),
                                          expiry_text(k.expires_at, now), _last_used(k)))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
             for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def cmd_keys(args: argparse.Namespace, io: Io) -> int:
    """``keys VERB``: the verb's handler (``set_defaults(handler=...)`` in build_parser) with a client."""
    if getattr(args, "id", None) is not None and not args.id.strip():
        raise CliError(f"Give a key ID (the ID column of '{PROG} keys list').", EXIT_USAGE)

    from .api.errors import NotFound

    try:
        return _with_client(args, io, lambda client, session: args.handler(args, io, client, session))
    except NotFound:
        if getattr(args, "id", None) is None:
            raise
        # The client's text ("... Refresh the list.") is the window's; here the id came from the user.
        raise CliError(f"No key with id {args.id!r}: check the ID column of '{PROG} keys list'.") from None


def _checked_label(label: str) -> str:
    from .core.labels import label_problem

    problem = label_problem(label)
    if problem:
        raise CliError(problem, EXIT_USAGE)
    return label


def keys_list(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    keys = _retrying(args, io, client.list_keys)
    if args.json:
        _json_out(io, [k.to_json() for k in keys])
    elif keys:
        io.out(_key_table(keys, client.hub_now()))
    else:
        io.out("No keys yet. Create one with: phhub-keys keys create LABEL")
    return EXIT_OK


def keys_create(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    label = _checked_label(args.label)
    from .api.errors import IdempotencyReplayUnavailable
    from .hygiene_cli import expiry_kwargs

    expiry = expiry_kwargs(args, client)
    try:
        new = _retrying(args, io, lambda: client.create_key(label, **expiry))
    except IdempotencyReplayUnavailable as exc:
        return _made_but_unseen(client, io, args, exc)
    with contextlib.suppress(Exception):
        session.remember_server_url(client.mcp_config().server_url)
    if args.json:
        _json_out(io, {"key": new.key.to_json(), "secret": new.secret})
    else:
        io.out(new.secret)
    io.err(f"Created key {new.key.id} {_quoted(new.key.label)}. This is the only time the key is "
           "shown: store it now (e.g. in a password manager).")
    return EXIT_OK


def keys_rename(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    label = _checked_label(args.label)
    key = _retrying(args, io, lambda: client.rename_key(args.id, label))
    return _report_key(io, args, key, f"Renamed {key.id} to {_quoted(key.label)}.")


def keys_deactivate(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    key = _retrying(args, io, lambda: client.deactivate_key(args.id))
    return _report_key(io, args, key, f"Deactivated {key.id} ({key.redacted}, {_quoted(key.label)}).")


def keys_reactivate(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    key = _retrying(args, io, lambda: client.reactivate_key(args.id))
    return _report_key(io, args, key, f"Reactivated {key.id} ({key.redacted}, {_quoted(key.label)}).")


def keys_delete(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    if not args.yes:
        if not io.interactive():
            raise CliError("Deleting a key cannot be undone: pass --yes to confirm.", EXIT_USAGE)
        answer = io.ask(f"Delete key {args.id} for good? This cannot be undone. [y/N] ")
        if answer.lower() not in ("y", "yes"):
            io.err("Not deleted.")
            return EXIT_ERROR
    _retrying(args, io, lambda: client.delete_key(args.id))
    if args.json:
        _json_out(io, {"id": args.id, "deleted": True})
    else:
        io.out(f"Deleted {args.id}.")
    return EXIT_OK


def keys_export(args: argparse.Namespace, io: Io, client: Any, session: Session) -> int:
    from .core.csvio import key_list_csv, write_key_list_csv

    keys = _retrying(args, io, client.list_keys)
    if args.file == "-":
        io.stdout.write(key_list_csv(keys))
        return EXIT_OK
    try:
        write_key_list_csv(Path(args.file), keys)
    except OSError as exc:
        raise CliError(f"Cannot write {args.file}: {exc.strerror or exc}") from None
    if args.json:
        _json_out(io, {"file": str(Path(args.file).resolve()), "keys": len(keys)})
    else:
        from .core.wording import plural

        io.out(f"Saved {plural(len(keys), 'key')} to {args.file}.")
    return EXIT_OK


def _made_but_unseen(client: Any, io: Io, args: argparse.Namespace, exc: Any) -> int:
    """A create's answer was lost and the hub can no longer send the secret of the key it made
    (409 idempotency_replay_unavailable): name that key and deactivate it if the user agrees."""
    key = exc.key
    if key is None:  # a hub that did not say which key: all we can do is pass its words on
        raise CliError(exc.message)
    import shlex

    key_id = shlex.quote(key.id)
    io.err(f"{PROG}: the hub made key {key.id} ({key.redacted}, {_quoted(key.label)}) for this create, "
           "but its answer was lost and the hub can no longer send the key itself (it restarted or too much "
           "time passed): the secret can't be shown again.")
    if not key.is_active:
        io.err(f"It is already deactivated. Create a new key with: "
               f"{PROG} keys create {shlex.quote(args.label)}")
        if args.json:
            _json_out(io, {"error": exc.code, "key": key.to_json(), "deactivated": True})
        return EXIT_ERROR
    deactivate = args.yes
    if not deactivate and io.interactive():
        deactivate = io.ask(f"Deactivate {key.id} now? [y/N] ").lower() in ("y", "yes")
    if not deactivate:
        io.err(f"Deactivate it with: {PROG} keys deactivate {key_id}   then create a new key. (With "
               "--yes, 'keys create' deactivates such a key by itself.)")
        if args.json:
            _json_out(io, {"error": exc.code, "key": key.to_json(), "deactivated": False})
        return EXIT_ERROR
    done = client.deactivate_key(key.id)
    io.err(f"Deactivated {done.id} ({done.redacted}). Create a new key with: "
           f"{PROG} keys create {shlex.quote(args.label)}")
    if args.json:
        _json_out(io, {"error": exc.code, "key": done.to_json(), "deactivated": True})
    return EXIT_ERROR


def _report_key(io: Io, args: argparse.Namespace, key: Any, text: str) -> int:
    if args.json:
        _json_out(io, key.to_json())
    else:
        io.out(text)
    return EXIT_OK


def cmd_check_key(args: argparse.Namespace, io: Io) -> int:
    from .api.keycheck import CheckStatus, KeyCheck

    key = _read_mcp_key(io)
    check = KeyCheck("", key, timeout=args.timeout)
    early = check.precheck()  # a typo is reported before anything else (offline)
    if early is not None and early.status is CheckStatus.BAD_FORMAT:
        result = early
    else:
        session = Session(args, io)
        url = session.server_url(args.url)
        result = KeyCheck(url, key, timeout=args.timeout,
                          allow_insecure_http=session.allow_insecure_http).run()
    del key
    if args.json:
        _json_out(io, result.to_json())
    elif result.ok:
        io.out(result.message)
    else:
        io.err(f"{PROG}: {result.message}")
    return {
        CheckStatus.OK: EXIT_OK,
        CheckStatus.REJECTED: EXIT_REJECTED,
        CheckStatus.BAD_FORMAT: EXIT_REJECTED,
        CheckStatus.INVALID_URL: EXIT_USAGE,
        CheckStatus.CANCELLED: 130,
    }.get(result.status, EXIT_ERROR)


def cmd_setup(args: argparse.Namespace, io: Io) -> int:
    from .core import client_setup, config_install
    from .core.keyformat import key_problem

    try:
        client_setup.get_client(args.client)
        client_setup.validate_server_name(args.name)
    except client_setup.SetupError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    secret = None
    if args.embed_key:
        secret = _read_mcp_key(io)
        problem = key_problem(secret)
        if problem:
            raise CliError(problem, EXIT_REJECTED)
    scope = client_setup.PROJECT if args.project else client_setup.USER
    project = Path(args.project).expanduser() if args.project else None
    if scope not in client_setup.get_client(args.client).scopes:
        raise CliError(f"{client_setup.get_client(args.client).name} has no project configuration; "
                       "drop --project.", EXIT_USAGE)
    if project is not None and args.install and not project.is_dir():
        raise CliError(f"{project} is not a folder: --project takes the project's root folder.", EXIT_USAGE)
    session = Session(args, io)
    url = session.server_url(args.url)
    try:
        snippet = client_setup.generate(args.client, url, name=args.name, secret=secret, scope=scope,
                                        allow_insecure_http=session.allow_insecure_http)
    except client_setup.InsecureServerUrl as exc:
        raise CliError(f"{exc} Pass --allow-insecure-http only if you trust every network between the "
                       "AI client and the hub.", EXIT_USAGE) from None
    except client_setup.SetupError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if not args.install:
        if args.json:
            _json_out(io, {"client": args.client, "scope": scope, "server_url": url, "text": snippet.text,
                           "notes": list(snippet.notes), **snippet.extra})
        else:
            io.stdout.write(snippet.text)
            for note in snippet.notes:
                io.err(f"note: {note}")
        return EXIT_OK
    if not snippet.file_based:
        raise CliError(f"{snippet.client.name} has no config file to write; use --print and follow it.")
    try:
        path = Path(args.file).expanduser() if args.file else config_install.config_path(
            args.client, scope=scope, project_dir=project, name=args.name)
    except config_install.ConfigInstallError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    replace = args.replace
    try:
        try:
            result = config_install.install(snippet, path, replace=replace)
        except config_install.EntryExists as exists:
            if not io.interactive():
                raise CliError(f"{exists} Pass --replace to replace it.") from None
            answer = io.ask(f"{exists} Replace it? [y/N] ")
            if answer.lower() not in ("y", "yes"):
                io.err("Left unchanged.")
                return EXIT_ERROR
            result = config_install.install(snippet, path, replace=True)
    except config_install.ConfigInstallError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        _json_out(io, {"client": args.client, "path": str(result.path), "action": result.action,
                       "backup": str(result.backup) if result.backup else None, "server_url": url})
    else:
        what = {"created": "Created", "added": "Added the server to", "replaced": "Replaced the server in",
                "unchanged": "Already set up in"}[result.action]
        io.out(f"{what} {result.path}" + (f" (backup: {result.backup.name})" if result.backup else "") + ".")
        if snippet.needs_key:
            io.err(f"note: replace {client_setup.KEY_PLACEHOLDER} in {result.path} with your key "
                   "(or run again with --embed-key).")
        for note in snippet.notes:
            io.err(f"note: {note}")
    return EXIT_OK


# ---------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        from .core.keyformat import SECRET_SHAPE, redact

        # argparse repeats what it did not understand; a key typed on argv must not be echoed back.
        shown, found = SECRET_SHAPE.subn(lambda m: redact(m.group()), message)
        if found:
            shown += f" (secrets are never read from the command line: set ${KEY_ENV} or pipe it on stdin)"
        raise CliError(f"{self.prog}: error: {shown}", EXIT_USAGE)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 3600:  # also rejects nan and inf
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3600 seconds, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--hub", metavar="URL", help=f"hub base URL (default: ${HUB_ENV}, or the last one)")
    common.add_argument("--email", metavar="EMAIL", help="account email (default: the last one used)")
    common.add_argument("--insecure-http", "--allow-insecure-http", dest="insecure_http", action="store_true",
                        help="allow plain http:// to a hub that is not on this computer (unsafe)")
    common.add_argument("--json", action="store_true", help="machine-readable output")

    parser = _Parser(prog=PROG, description="Scripting commands for Performance Hub MCP keys.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("login", parents=[common], help="sign in; the session goes to the OS keyring",
                       description="Sign in. The password is read from a hidden prompt, or from the first "
                                   "line of stdin when it is not a terminal (never from the command line). "
                                   "The app and the command line share this sign-in.")
    p.add_argument("--print-token", action="store_true",
                   help=f"print the session token on stdout instead of storing it (for ${TOKEN_ENV} on a "
                        "machine without a keyring)")
    p = sub.add_parser("logout", parents=[common],
                       help="sign out on this computer, for the app and the command line alike",
                       description="Ends the session on the hub and removes it from the keyring; the app and "
                                   "the command line share it, so both need to sign in again. The hub and "
                                   "email stay remembered.")
    p.add_argument("--token-from-env", action="store_true", help=f"end the session of ${TOKEN_ENV} instead")
    p.add_argument("--everywhere", action="store_true",
                   help="end every session of the account on the hub: all computers, the app, the command "
                        "line and scripts (MCP keys keep working)")

    keys_common = _Parser(add_help=False, parents=[common])
    keys_common.add_argument(
        "--retry-on-rate-limit", action="store_true",
        help=f"when the hub says 'too many requests', wait as long as it asks and try again (progress on "
             f"stderr; at most {RATE_LIMIT_RETRIES} times and {RATE_LIMIT_MAX_WAIT:.0f} s in all)")
    keys = sub.add_parser("keys", help="list and manage your MCP keys")
    verbs = keys.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    verbs.add_parser("list", parents=[keys_common], help="list keys (newest first)").set_defaults(
        handler=keys_list)
    p = verbs.add_parser("create", parents=[keys_common], help="create a key; prints the secret once")
    p.set_defaults(handler=keys_create)
    p.add_argument("label")
    p.add_argument("--yes", action="store_true",
                   help="if the hub made the key but can no longer send it (its answer was lost and the hub "
                        "restarted), deactivate that key without asking")
    from . import hygiene_cli

    hygiene_cli.add_expiry_options(p, verb="create")
    p = verbs.add_parser("rename", parents=[keys_common], help="change a key's label")
    p.set_defaults(handler=keys_rename)
    p.add_argument("id")
    p.add_argument("label")
    for verb, text, handler in (("deactivate", "stop a key working (reversible)", keys_deactivate),
                                ("reactivate", "undo deactivate", keys_reactivate)):
        p = verbs.add_parser(verb, parents=[keys_common], help=text)
        p.set_defaults(handler=handler)
        p.add_argument("id")
    p = verbs.add_parser("delete", parents=[keys_common], help="delete a deactivated key for good")
    p.set_defaults(handler=keys_delete)
    p.add_argument("id")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = verbs.add_parser("export", parents=[keys_common], help="save the key list as CSV ('-' for stdout)")
    p.set_defaults(handler=keys_export)
    p.add_argument("file")
    hygiene_cli.add_parsers(verbs, keys_common, common, sub)

    p = sub.add_parser("check-key", parents=[common], help="prove a key works against the MCP server",
                       description=f"Reads the key from ${KEY_ENV} or stdin (never from the command line), "
                                   "validates its checksum offline, then runs initialize, tools/list and "
                                   "whoami against the Server URL.")
    p.add_argument("--url", metavar="SERVER_URL", help=URL_HELP)
    p.add_argument("--timeout", type=_positive_seconds, default=15.0, metavar="SECONDS")

    from .core.client_setup import CLIENTS, DEFAULT_SERVER_NAME

    p = sub.add_parser("setup", parents=[common], help="print or install an AI client's MCP config",
                       description="Clients: " + ", ".join(f"{c.id} ({c.name})" for c in CLIENTS.values()))
    p.add_argument("client", choices=list(CLIENTS), metavar="CLIENT")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--print", dest="install", action="store_false", help="print the snippet (default)")
    mode.add_argument("--install", dest="install", action="store_true",
                      help="add it to the client's config file (backup first)")
    p.set_defaults(install=False)
    p.add_argument("--name", default=DEFAULT_SERVER_NAME, help=f"server name (default {DEFAULT_SERVER_NAME})")
    p.add_argument("--url", metavar="SERVER_URL", help=URL_HELP)
    p.add_argument("--project", metavar="DIR",
                   help="the project-level config in DIR (claude-code: .mcp.json, gemini: "
                        ".gemini/settings.json, continue: .continue/mcpServers/NAME.yaml, cursor, vscode)")
    p.add_argument("--file", metavar="PATH", help="config file to write instead of the client's default")
    p.add_argument("--replace", action="store_true", help="replace an existing server of the same name")
    p.add_argument("--embed-key", action="store_true",
                   help=f"put the key itself in the config (read from ${KEY_ENV} or stdin)")
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace, Io], int]] = {
    "login": cmd_login,
    "logout": cmd_logout,
    "keys": cmd_keys,
    "check-key": cmd_check_key,
    "setup": cmd_setup,
    "where-used": lambda args, io: cmd_where_used(args, io),
}


def cmd_where_used(args: argparse.Namespace, io: Io) -> int:
    from .hygiene_cli import run_where_used

    if args.id is not None and not args.id.strip():
        raise CliError(f"Give a key ID (the ID column of '{PROG} keys list').", EXIT_USAGE)
    return _with_client(args, io, lambda client, session: run_where_used(args, io, client, session))


def main(argv: Sequence[str], io: Io | None = None) -> int:
    """Run one scripting command; ``argv`` starts at the command name (e.g. ``["keys", "list"]``)."""
    io = io or Io()
    try:
        args = build_parser().parse_args(list(argv))
    except CliError as exc:
        io.err(exc.message)
        return exc.code
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if not hasattr(args, "json"):
        args.json = False
    from .api.errors import HubError, KeyringUnavailable

    try:
        return COMMANDS[args.command](args, io)
    except CliError as exc:
        io.err(f"{PROG}: {exc.message}" if not exc.message.startswith(PROG) else exc.message)
        return exc.code
    except HubError as exc:
        io.err(f"{PROG}: {exc.message}")
        return _hub_error_code(exc)
    except KeyringUnavailable as exc:
        io.err(f"{PROG}: {keyring_advice(exc)}")
        return EXIT_ERROR
    except BrokenPipeError:  # e.g. `keys export - | head`: the reader left; no traceback, no message
        silence_closed_stdout(io.stdout)
        return EXIT_ERROR
    except KeyboardInterrupt:
        # At a prompt the cursor is still after "Password: "; start the message on its own line.
        io.err(("\n" if io.interactive() else "") + f"{PROG}: interrupted")
        return 130
