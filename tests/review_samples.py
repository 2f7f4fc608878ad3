"""Sample key CSV files for the review tests: generated exports of both formats and hand edits.

Everything is deterministic (seeded) and dated relative to ``NOW`` so the
expected summary figures can be computed independently of the code under test.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from phhub_keys.core.csvio import key_list_csv, new_secret_csv
from phhub_keys.core.keyformat import generate_key, redact
from phhub_keys.core.models import KeyStatus, McpKey, NewKey

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
SERVER_URL = "https://hub.example.org/mcp"


def days_ago(days: float) -> datetime:
    return (NOW - timedelta(days=days)).replace(microsecond=0)


def key(
    n: int,
    label: str,
    *,
    status: KeyStatus = KeyStatus.ACTIVE,
    created: float = 200,
    used: float | None = 1,
    secret: str | None = None,
) -> McpKey:
    """A key created ``created`` days before NOW and last used ``used`` days before NOW (None: never)."""
    return McpKey(
        id=f"mk_{n:06d}",
        label=label,
        redacted=redact(secret or generate_key()),
        status=status,
        created_at=days_ago(created),
        last_used_at=None if used is None else days_ago(used),
    )


@dataclass
class Expected:
    """Figures computed straight from the generated keys, independently of core.review."""

    total: int
    active: int
    deactivated: int
    never_used: int
    unused_90_days: int
    flagged_stale: set[str]
    flagged_never_used: set[str]


def random_keys(count: int, seed: int = 1) -> tuple[list[McpKey], Expected]:
    """``count`` keys with a realistic mix of states, and the figures they must give."""
    rnd = random.Random(seed)
    keys: list[McpKey] = []
    for n in range(count):
        created = rnd.uniform(0, 900)
        used = None if rnd.random() < 0.3 else rnd.uniform(0, created)
        status = KeyStatus.ACTIVE if rnd.random() < 0.75 else KeyStatus.DEACTIVATED
        keys.append(key(n, f"key {n}", status=status, created=created, used=used, secret=_fake_secret(rnd)))
    stale_before, fresh_after = NOW - timedelta(days=90), NOW - timedelta(days=30)
    return keys, Expected(
        total=count,
        active=sum(k.status is KeyStatus.ACTIVE for k in keys),
        deactivated=sum(k.status is KeyStatus.DEACTIVATED for k in keys),
        never_used=sum(k.last_used_at is None for k in keys),
        unused_90_days=sum(k.last_used_at is not None and k.last_used_at <= stale_before for k in keys),
        flagged_stale={
            k.id
            for k in keys
            if k.is_active and k.last_used_at is not None and k.last_used_at <= stale_before
        },
        flagged_never_used={
            k.id for k in keys if k.is_active and k.last_used_at is None and k.created_at <= fresh_after
        },
    )


def _fake_secret(rnd: random.Random) -> str:
    # generate_key() uses the secrets module; a seeded fake keeps files reproducible.
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "phk_" + "".join(rnd.choices(alphabet, k=36))


def secrets_csv(entries: list[tuple[str, str]]) -> str:
    """A shown-once secret file with several (label, secret) rows, as a user might collect them."""
    texts = [new_secret_csv(NewKey(key(n, label, secret=secret), secret), SERVER_URL)
             for n, (label, secret) in enumerate(entries)]
    return texts[0] + "".join(t.split("\r\n", 1)[1] for t in texts[1:])


def hand_edited(
    keys: list[McpKey],
    *,
    delimiter: str = ";",
    newline: str = "\r\n",
    header: tuple[str, ...] = ("Identifier", "Label", "Key", "Status", "Created", "Last used", "Expires",
                               "Rotated from"),
) -> str:
    """The key list as a person re-saves it from a spreadsheet: other header words, ``;``, "Never"."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    for k in keys:
        writer.writerow([
            k.id, k.label, k.redacted, k.status.display,
            k.created_at.strftime("%Y-%m-%d %H:%M:%S+00:00"),
            "Never" if k.last_used_at is None else k.last_used_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Never" if k.expires_at is None else k.expires_at.strftime("%Y-%m-%d %H:%M:%S+00:00"),
            k.replaces or "",
        ][:len(header)])
    return buf.getvalue()


def write(path: Path, text: str, *, encoding: str = "utf-8", bom: bool = False) -> Path:
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


__all__ = [
    "NOW", "SERVER_URL", "Expected", "days_ago", "hand_edited", "key", "key_list_csv", "random_keys",
    "secrets_csv", "write",
]
