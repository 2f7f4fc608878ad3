"""The MCP key format, defined once for the client and the hub.

A key is ``phk_`` + 30 random base62 characters + 6 base62 characters of the
CRC32 of the random part. The checksum catches typos and truncation offline.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib

KEY_PREFIX = "phk_"
SESSION_PREFIX = "phs_"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LEN = 30
CHECKSUM_LEN = 6
KEY_LEN = len(KEY_PREFIX) + RANDOM_LEN + CHECKSUM_LEN  # 40
_BASE62_SET = frozenset(BASE62)
# Every secret shape lives here (labels, the account file, argv echoes and the usage map use these).
# Anything that even starts like a key or session token (loose on purpose: used to refuse, never to accept).
SECRET_SHAPE = re.compile(r"ph[ks]_[0-9A-Za-z_-]{8,}")
# A full-length key anywhere in a text, even glued to what precedes it (its checksum decides).
KEY_CANDIDATE = re.compile(r"phk_[0-9A-Za-z]{36}(?![0-9A-Za-z])")
# A full-length session token anywhere in a text (secrets.token_urlsafe(32) after the prefix).
TOKEN_CANDIDATE = re.compile(r"phs_[0-9A-Za-z_-]{43}(?![0-9A-Za-z_-])")
# A full-length key standing on its own in a text (a config file): not inside a longer run of base62.
KEY_IN_TEXT = re.compile(r"(?<![0-9A-Za-z_])phk_[0-9A-Za-z]{36}(?![0-9A-Za-z])")


def looks_like_secret(text: str) -> bool:
    """True when ``text`` holds something shaped like an MCP key or session token."""
    return bool(SECRET_SHAPE.search(text))


def holds_secret(text: str) -> bool:
    """True when ``text`` holds a real key (valid checksum) or a full session token, anywhere."""
    return any(is_valid_key(m.group()) for m in KEY_CANDIDATE.finditer(text)) or bool(
        TOKEN_CANDIDATE.search(text)
    )


def redact_secrets(text: str) -> str:
    """``text`` with every full-length key or session token shape shown redacted (checksum or not).

    For text a client or file supplies that is then stored or shown (an MCP client's name),
    where refusing is not an option: the rest of the text stays readable.
    """
    text = KEY_CANDIDATE.sub(lambda m: redact(m.group()), text)
    return TOKEN_CANDIDATE.sub(lambda m: redact(m.group()), text)


class KeyFormatError(ValueError):
    """A string that is not a well-formed MCP key; the message says why."""


def _base62(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, rem = divmod(n, 62)
        out.append(BASE62[rem])
    return "".join(reversed(out))


def checksum(random_part: str) -> str:
    """The 6-character base62 CRC32 of the random part."""
    return _base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LEN)


def generate_key() -> str:
    """A new random MCP key (about 178 bits of entropy)."""
    body = "".join(secrets.choice(BASE62) for _ in range(RANDOM_LEN))
    return KEY_PREFIX + body + checksum(body)


def key_problem(candidate: str) -> str | None:
    """Why ``candidate`` is not a valid key, or None when it is."""
    if not isinstance(candidate, str) or not candidate:
        return "No key was given."
    if not candidate.startswith(KEY_PREFIX):
        if candidate.startswith(SESSION_PREFIX):
            return "This is a session token, not an MCP key (MCP keys start with 'phk_')."
        return "MCP keys start with 'phk_'."
    if len(candidate) != KEY_LEN:
        return (
            f"An MCP key is {KEY_LEN} characters long; this one has {len(candidate)}"
            " (truncated or extra text?)."
        )
    body = candidate[len(KEY_PREFIX):]
    if not set(body) <= _BASE62_SET:
        return "An MCP key contains only letters and digits after 'phk_'."
    random_part, check = body[:RANDOM_LEN], body[RANDOM_LEN:]
    if checksum(random_part) != check:
        return "The key's checksum does not match: it was mistyped or altered."
    return None


def is_valid_key(candidate: str) -> bool:
    """True when ``candidate`` has the key format and a matching checksum."""
    return key_problem(candidate) is None


def validate_key(candidate: str) -> str:
    """Return ``candidate`` unchanged or raise KeyFormatError saying why."""
    problem = key_problem(candidate)
    if problem is not None:
        raise KeyFormatError(problem)
    return candidate


def redact(secret: str) -> str:
    """The only form of a key shown after creation, e.g. ``phk_dLK5...J6HMii``.

    Never shows more than half of what follows the prefix: a string too short
    for the preview (a truncated key, a stray token) becomes ``****``.
    """
    if secret.startswith(KEY_PREFIX) and len(secret) >= len(KEY_PREFIX) + 20:
        return f"{KEY_PREFIX}{secret[4:8]}...{secret[-6:]}"
    if len(secret) >= 16:
        return f"{secret[:4]}...{secret[-4:]}"
    return "****"


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret: what the hub stores instead of it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def generate_session_token() -> str:
    """A new session token for the management API."""
    return SESSION_PREFIX + secrets.token_urlsafe(32)
