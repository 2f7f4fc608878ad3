"""Password hashing, identifiers and client-string hygiene for the hub.

Passwords get a slow, salted KDF (scrypt) because people reuse weak ones; MCP keys
and session tokens are high-entropy, so a fast SHA-256 (core.keyformat.hash_secret)
is enough for them and keeps every request cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from ..core.keyformat import redact_secrets
from ..core.labels import BIDI_OVERRIDES

SCRYPT_N = 2**14  # ~50 ms per check on a laptop; tests may lower it (HubSettings.password_cost)
_SCRYPT_R = 8
_SCRYPT_P = 1
_SCRYPT_DKLEN = 32
MAX_PASSWORD_LEN = 1024

# Hashes of a random password per cost: verifying against one costs the same as a
# real check, so a login for an unknown email takes as long as one with a wrong password.
_DUMMY_HASHES: dict[int, str] = {}


def hash_password(password: str, n: int = SCRYPT_N) -> str:
    """``scrypt$N$r$p$salt$hash`` (hex), parameters stored so they can change later."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_SCRYPT_DKLEN
    )
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a stored scrypt hash."""
    try:
        scheme, n, r, p, salt_hex, hash_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(hash_hex)
        digest = hashlib.scrypt(
            password.encode("utf-8"), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p),
            dklen=len(expected), maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def burn_password_check(password: str, n: int = SCRYPT_N) -> None:
    """Spend the time of a real password check (for unknown accounts)."""
    dummy = _DUMMY_HASHES.get(n)
    if dummy is None:
        dummy = _DUMMY_HASHES.setdefault(n, hash_password(secrets.token_urlsafe(16), n))
    verify_password(password, dummy)


def new_key_id() -> str:
    """``mk_`` + 16 hex characters."""
    return "mk_" + secrets.token_hex(8)


def new_user_id() -> str:
    return "u_" + secrets.token_hex(8)


def clean_client_text(text: object, limit: int = 100) -> str | None:
    """A client-supplied name made safe to store and show: no control, bidi or invisible
    characters, and no secret (an MCP key or session token in it is kept only redacted: the
    name lands in last_used_client and the activity log, which hold no secret)."""
    if not isinstance(text, str):
        return None
    cleaned = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch
        for ch in unicodedata.normalize("NFC", text)
        if ch not in BIDI_OVERRIDES and unicodedata.category(ch) not in ("Cf", "Cs")
    )
    cleaned = redact_secrets(" ".join(cleaned.split()))[:limit].strip()
    return cleaned or None


def client_description(client_info: object) -> str | None:
    """``"Cursor 1.7.2"`` from an MCP ``clientInfo`` object, or None if it has no usable name."""
    if not isinstance(client_info, dict):
        return None
    name = clean_client_text(client_info.get("name"), 80)
    if not name:
        return None
    version = clean_client_text(client_info.get("version"), 40)
    return f"{name} {version}" if version else name
