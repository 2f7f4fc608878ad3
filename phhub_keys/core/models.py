"""The objects of the hub API (Key, User, config), parsed from and to JSON."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from .expiry import KeyPolicy
from .keyformat import redact
from .timestamps import format_ts, parse_ts


class KeyStatus(enum.StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    # Computed by the hub's clock (now >= expires_at, not deactivated); refused by /mcp.
    EXPIRED = "expired"

    @property
    def display(self) -> str:
        """The word the UI shows: Active / Deactivated / Expired."""
        return self.value.capitalize()


class ModelError(ValueError):
    """JSON that does not have the shape of a hub object."""


def _req(data: dict[str, Any], name: str, kind: type) -> Any:
    if not isinstance(data, dict):
        raise ModelError(f"expected an object, got {type(data).__name__}")
    value = data.get(name)
    if not isinstance(value, kind):
        raise ModelError(f"field {name!r} missing or not {kind.__name__}")
    return value


def _opt_str(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ModelError(f"field {name!r} is not a string")
    return value


def _opt_ts(data: dict[str, Any], name: str) -> datetime | None:
    try:
        return parse_ts(_opt_str(data, name))
    except ValueError as exc:
        raise ModelError(f"field {name!r}: {exc}") from None


@dataclass(frozen=True, slots=True)
class UsedAddress:
    """One of a key's most recent distinct addresses (``last_used_ips``)."""

    ip: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"ip": self.ip, "at": format_ts(self.at)}


def _used_addresses(data: dict[str, Any]) -> tuple[UsedAddress, ...]:
    value = data.get("last_used_ips")
    if value is None:  # a v1 hub
        return ()
    if not isinstance(value, list):
        raise ModelError("field 'last_used_ips' is not a list")
    found = []
    for item in value:
        ip, at = _req(item, "ip", str), _opt_ts(item, "at")
        if at is None:
            raise ModelError("an entry of 'last_used_ips' has no 'at'")
        found.append(UsedAddress(ip, at))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class McpKey:
    """One MCP key as the hub reports it: never holds the secret."""

    id: str
    label: str
    redacted: str
    status: KeyStatus
    created_at: datetime
    last_used_at: datetime | None = None
    last_used_client: str | None = None
    last_used_ip: str | None = None
    deactivated_at: datetime | None = None
    # v2 (key hygiene); a v1 hub sends none of them, so they default to "none".
    expires_at: datetime | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    last_used_ips: tuple[UsedAddress, ...] = ()

    @property
    def is_active(self) -> bool:
        return self.status is KeyStatus.ACTIVE

    @property
    def is_expired(self) -> bool:
        """As the hub said when it sent this key (its clock decides, not ours)."""
        return self.status is KeyStatus.EXPIRED

    @property
    def can_rotate(self) -> bool:
        """Active and not rotated already: the keys the app offers Rotate for. (The hub also
        rotates a key whose successor was deleted since; this record alone cannot tell that.)"""
        return self.is_active and self.replaced_by is None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> McpKey:
        status_text = _req(data, "status", str)
        try:
            status = KeyStatus(status_text)
        except ValueError:
            raise ModelError(f"unknown key status {status_text!r}") from None
        created = _opt_ts(data, "created_at")
        if created is None:
            raise ModelError("field 'created_at' missing")
        return cls(
            id=_req(data, "id", str),
            label=_req(data, "label", str),
            redacted=_req(data, "redacted", str),
            status=status,
            created_at=created,
            last_used_at=_opt_ts(data, "last_used_at"),
            last_used_client=_opt_str(data, "last_used_client"),
            last_used_ip=_opt_str(data, "last_used_ip"),
            deactivated_at=_opt_ts(data, "deactivated_at"),
            expires_at=_opt_ts(data, "expires_at"),
            replaces=_opt_str(data, "replaces"),
            replaced_by=_opt_str(data, "replaced_by"),
            last_used_ips=_used_addresses(data),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "redacted": self.redacted,
            "status": self.status.value,
            "created_at": format_ts(self.created_at),
            "last_used_at": format_ts(self.last_used_at),
            "last_used_client": self.last_used_client,
            "last_used_ip": self.last_used_ip,
            "deactivated_at": format_ts(self.deactivated_at),
            "expires_at": format_ts(self.expires_at),
            "replaces": self.replaces,
            "replaced_by": self.replaced_by,
            "last_used_ips": [a.to_json() for a in self.last_used_ips],
        }


_STATUS_BY_TEXT = {status.value: status for status in KeyStatus}
_HUB_TS_LEN = len("2026-11-26T10:04:05Z")


class _NotHubShape(Exception):
    """A row that needs McpKey.from_json's general handling."""


def _hub_ts(value: object) -> datetime | None:
    """parse_ts for exactly the hub's own form (``2026-11-26T10:04:05Z``); anything else is _NotHubShape."""
    if value is None:
        return None
    if type(value) is str and len(value) == _HUB_TS_LEN and value[-1] == "Z":
        try:
            parsed = datetime.fromisoformat(value)  # Python 3.11+ reads the "Z" as UTC
        except ValueError:
            raise _NotHubShape from None
        if parsed.tzinfo is UTC:
            return parsed
    raise _NotHubShape


def keys_from_json(items: list[Any]) -> list[McpKey]:
    """``[McpKey.from_json(item) for item in items]``, about three times faster.

    Why: a 10,000-key list is parsed on every refresh, and from_json's general
    handling (helper calls per field, whitespace, ``z``, offsets) costs ~20 us a
    key. Rows in exactly the hub's own shape take an inlined path here; any other
    row goes through from_json itself, so results and errors are the same.
    """
    keys: list[McpKey] = []
    append = keys.append
    for data in items:
        try:
            if type(data) is not dict:
                raise _NotHubShape
            id_, label, redacted = data["id"], data["label"], data["redacted"]
            client, ip = data.get("last_used_client"), data.get("last_used_ip")
            replaces, replaced_by = data.get("replaces"), data.get("replaced_by")
            if (type(id_) is not str or type(label) is not str or type(redacted) is not str
                    or (client is not None and type(client) is not str)
                    or (ip is not None and type(ip) is not str)
                    or (replaces is not None and type(replaces) is not str)
                    or (replaced_by is not None and type(replaced_by) is not str)
                    or data.get("last_used_ips")):  # addresses: the general path (rarely many)
                raise _NotHubShape
            status = _STATUS_BY_TEXT[data["status"]]
            created = _hub_ts(data["created_at"])
            if created is None:
                raise _NotHubShape
            key = McpKey(id_, label, redacted, status, created, _hub_ts(data.get("last_used_at")),
                         client, ip, _hub_ts(data.get("deactivated_at")), _hub_ts(data.get("expires_at")),
                         replaces, replaced_by)
        except (_NotHubShape, KeyError, TypeError):
            key = McpKey.from_json(data)
        append(key)
    return keys


# Below this size the general path costs well under a millisecond, and importing msgspec
# (~15 ms) would only delay the app's first paint of a normal list.
FAST_LIST_MIN_BYTES = 64 * 1024


@cache
def _key_list_decoder() -> Any:
    import msgspec

    class KeyListBody(msgspec.Struct):
        keys: list[McpKey]

    return msgspec.json.Decoder(KeyListBody)


def keys_from_list_body(body: bytes, min_bytes: int = FAST_LIST_MIN_BYTES) -> list[McpKey] | None:
    """The hub's key-list body (``{"keys": [...]}``) decoded straight from bytes, or None.

    Why: a 10,000-key list is ~2.8 MB; ``json.loads`` + ``keys_from_json`` take ~90 ms of
    Python, msgspec builds the same McpKey objects in C in ~20 ms. Only bodies in
    exactly the hub's shape with UTC timestamps, and big enough to be worth it
    (``min_bytes``), come back; for anything else (None)
    the caller takes the general path, so results and errors stay those of
    ``keys_from_json(json.loads(body)["keys"])``.
    """
    if len(body) < min_bytes:
        return None
    import msgspec

    try:
        keys = _key_list_decoder().decode(body).keys
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    for key in keys:  # parse_ts answers in UTC; msgspec keeps a "+02:00" offset as given
        if key.created_at.tzinfo is not UTC or (
            (key.last_used_at is not None and key.last_used_at.tzinfo is not UTC)
            or (key.deactivated_at is not None and key.deactivated_at.tzinfo is not UTC)
            or (key.expires_at is not None and key.expires_at.tzinfo is not UTC)
            or any(a.at.tzinfo is not UTC for a in key.last_used_ips)
        ):
            return None
    return keys


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly created key and its one-time secret; repr never shows the secret."""

    key: McpKey
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"NewKey(key={self.key!r}, secret={redact(self.secret)!r})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class RotatedKey:
    """A rotation's result: the new key with its one-time secret, and the old key as it is now."""

    key: McpKey
    secret: str = field(repr=False)
    replaces: McpKey | None = None

    def __repr__(self) -> str:
        return f"RotatedKey(key={self.key!r}, secret={redact(self.secret)!r}, replaces={self.replaces!r})"

    __str__ = __repr__


EVENT_KINDS = ("created", "renamed", "expiry_changed", "deactivated", "reactivated", "rotated", "expired",
               "deleted", "first_use_by_client", "new_address")


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """One entry of a key's or the account's activity feed (never holds a secret)."""

    id: str
    at: datetime
    key_id: str
    key_label: str
    kind: str  # one of EVENT_KINDS (a newer hub may send others: shown as they come)
    detail: dict[str, Any] = field(default_factory=dict)
    actor: str = "session"  # "session" (someone signed in) or "hub" (expiry, first use, new address)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyEvent:
        at = _opt_ts(data, "at")
        if at is None:
            raise ModelError("field 'at' missing")
        detail = data.get("detail", {})
        if not isinstance(detail, dict):
            raise ModelError("field 'detail' is not an object")
        return cls(id=_req(data, "id", str), at=at, key_id=_req(data, "key_id", str),
                   key_label=_req(data, "key_label", str), kind=_req(data, "kind", str), detail=detail,
                   actor=_opt_str(data, "actor") or "session")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": format_ts(self.at), "key_id": self.key_id, "key_label": self.key_label,
                "kind": self.kind, "detail": self.detail, "actor": self.actor}


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of a feed, newest first; pass ``next_before`` to get the next (older) page."""

    events: tuple[KeyEvent, ...]
    next_before: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventPage:
        items = data.get("events") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ModelError("field 'events' is not a list")
        return cls(tuple(KeyEvent.from_json(item) for item in items), _opt_str(data, "next_before"))

    def to_json(self) -> dict[str, Any]:
        return {"events": [e.to_json() for e in self.events], "next_before": self.next_before}


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    facilities: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        facilities = data.get("facilities", []) if isinstance(data, dict) else None
        if not isinstance(facilities, list) or not all(isinstance(f, str) for f in facilities):
            raise ModelError("field 'facilities' is not a list of strings")
        return cls(
            id=_req(data, "id", str),
            email=_req(data, "email", str),
            name=_req(data, "name", str),
            facilities=tuple(facilities),
        )

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "name": self.name, "facilities": list(self.facilities)}


@dataclass(frozen=True, slots=True)
class McpConfig:
    server_url: str
    docs_url: str
    key_prefix: str = "phk_"
    key_policy: KeyPolicy | None = None  # None: a v1 hub (no expiry, no rotation)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> McpConfig:
        policy = data.get("key_policy") if isinstance(data, dict) else None
        try:
            key_policy = KeyPolicy.from_json(policy) if policy is not None else None
        except ValueError as exc:
            raise ModelError(str(exc)) from None
        return cls(
            server_url=_req(data, "server_url", str),
            docs_url=_req(data, "docs_url", str),
            key_prefix=data.get("key_prefix", "phk_") if isinstance(data, dict) else "phk_",
            key_policy=key_policy,
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"server_url": self.server_url, "docs_url": self.docs_url,
                                "key_prefix": self.key_prefix}
        if self.key_policy is not None:
            data["key_policy"] = self.key_policy.to_json()
        return data
