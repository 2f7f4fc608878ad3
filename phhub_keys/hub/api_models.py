"""Request and response shapes of the management API (they also make /openapi.json).

Requests refuse unknown fields (a typo such as ``"lable"`` gets a clear 422
instead of being silently ignored) and accept only JSON strings where text is due.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr
from pydantic.json_schema import JsonDict

from ..core.expiry import ABSOLUTE_MAX_LIFETIME_DAYS
from ..core.labels import INVISIBLE_BMP_CLASS
from ..core.models import EVENT_KINDS


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Request):
    email: StrictStr = Field(max_length=320, examples=["ada@example.org"])
    password: StrictStr = Field(max_length=1024)


# The label rules (core.labels) as a JSON-schema pattern, so schema-driven clients and
# fuzzers know what is accepted: at least one non-space character, no control,
# bidirectional-override, line-separator or invisible (Unicode format, Hangul filler)
# characters. The hub still applies core.labels itself (it trims and
# NFC-normalises, allows a zero-width joiner inside an emoji sequence, and explains which
# rule a label broke, also for a lone surrogate: left out here, as a pattern with a
# surrogate range makes schema-driven generators ignore it). BMP only: JSON-schema
# patterns have no portable astral escapes.
_HIDDEN = INVISIBLE_BMP_CLASS
_LABEL_CHAR = rf"[^\x00-\x1f\x7f-\x9f{_HIDDEN}]"
_LABEL_VISIBLE = rf"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u202f\u205f\u3000{_HIDDEN}]"
LABEL_PATTERN = f"^{_LABEL_CHAR}*{_LABEL_VISIBLE}{_LABEL_CHAR}*$"


_LABEL_DESCRIPTION = ("1-100 characters after trimming and NFC normalisation; no control, "
                      "bidirectional-override or other invisible characters, and no MCP key or "
                      "session token.")
_LABEL_SCHEMA: JsonDict = {"minLength": 1, "maxLength": 100, "pattern": LABEL_PATTERN}
# RFC 3339 with a timezone; whether it is in the future and within the policy only the hub can say.
_TS_DESCRIPTION = ("RFC 3339 time with a timezone, e.g. 2027-03-01T00:00:00Z; must be in the future and "
                   "within the hub's max_lifetime_days (else 422 invalid_expiry). null: never expires "
                   "(only when the policy has no maximum lifetime).")


def _nullable(**schema: Any) -> Any:
    """json_schema_extra for an optional nullable field: the constraints inside the non-null branch."""

    def extra(field_schema: dict[str, Any]) -> None:
        field_schema.pop("anyOf", None)
        field_schema["anyOf"] = [schema, {"type": "null"}]

    return extra


_TIMESTAMP = _nullable(type="string", format="date-time")


def _integral(value: Any) -> Any:
    # JSON Schema's "integer" includes 250.0; a string or a fraction is still refused.
    if type(value) is float and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[StrictInt, BeforeValidator(_integral)]


class LabelRequest(_Request):
    label: StrictStr = Field(description=_LABEL_DESCRIPTION, examples=["OpenAI AgentKit"],
                             json_schema_extra=_LABEL_SCHEMA)


class CreateKeyRequest(LabelRequest):
    """Create: a label and optionally one of expires_at / expires_in_days (neither: the policy decides)."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"not": {"required": ["expires_at", "expires_in_days"]}})

    expires_at: StrictStr | None = Field(None, description=_TS_DESCRIPTION,
                                         json_schema_extra=_TIMESTAMP)
    expires_in_days: WholeNumber | None = Field(
        None, description="Lifetime in days from now, 1 to the hub's max_lifetime_days.",
        json_schema_extra=_nullable(type="integer", minimum=1, maximum=ABSOLUTE_MAX_LIFETIME_DAYS))


class UpdateKeyRequest(_Request):
    """Change a key: its label, its expiry, or both (at least one)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    label: StrictStr = Field(None, description=_LABEL_DESCRIPTION,  # type: ignore[assignment]
                             examples=["OpenAI AgentKit"], json_schema_extra=_LABEL_SCHEMA)
    expires_at: StrictStr | None = Field(
        None, description=_TS_DESCRIPTION + " Extending an expired key renews it (active again).",
        json_schema_extra=_TIMESTAMP)


class RotateRequest(_Request):
    grace_seconds: WholeNumber = Field(
        description="How long the old key keeps working, 0 (deactivated at once) to the hub's "
                    "max_rotation_grace_days in seconds.",
        json_schema_extra={"minimum": 0, "maximum": 30 * 86400})
    label: StrictStr = Field(None, description="The new key's label (default: the old key's). "  # type: ignore[assignment]
                             + _LABEL_DESCRIPTION, json_schema_extra=_LABEL_SCHEMA)


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    facilities: list[str]


class LoginOut(BaseModel):
    token: str = Field(description="Session token (phs_...) for Authorization: Bearer on /api/v1.")
    expires_at: str = Field(description="RFC 3339 UTC, e.g. 2026-11-26T10:04:05Z")
    user: UserOut


class LogoutAllOut(BaseModel):
    revoked: int = Field(ge=0, description="How many live sessions were ended, the caller's own included.")


class KeyPolicyOut(BaseModel):
    default_lifetime_days: int | None = Field(description="What a new key's expiry defaults to in the app.")
    max_lifetime_days: int | None = Field(description="null: no limit, and keys may have no expiry.")
    max_rotation_grace_days: int


class ConfigOut(BaseModel):
    server_url: str = Field(description="Absolute URL of the MCP endpoint as clients reach it.")
    docs_url: str
    key_prefix: Literal["phk_"]
    key_policy: KeyPolicyOut


class UsedAddressOut(BaseModel):
    ip: str
    at: str


class KeyOut(BaseModel):
    id: str = Field(pattern=r"^mk_[0-9a-f]{16}$")
    label: str
    redacted: str = Field(description="phk_ + 4 characters + ... + last 6 characters")
    status: Literal["active", "deactivated", "expired"] = Field(
        description="expired: computed by the hub's clock (now >= expires_at and not deactivated).")
    created_at: str
    last_used_at: str | None
    last_used_client: str | None = Field(description="Name and version from the MCP client's clientInfo.")
    last_used_ip: str | None
    deactivated_at: str | None
    expires_at: str | None = Field(description="null: never expires.")
    replaces: str | None = Field(description="The key this one was rotated from.")
    replaced_by: str | None = Field(description="The key this one was rotated to.")
    last_used_ips: list[UsedAddressOut] = Field(description="Up to 5 most recent distinct addresses, newest "
                                                            "first.")


class KeyListOut(BaseModel):
    keys: list[KeyOut] = Field(description="Newest first.")


class NewKeyOut(BaseModel):
    key: KeyOut
    secret: str = Field(description="The full MCP key (phk_...), shown this once and never again.")


class RotatedKeyOut(NewKeyOut):
    replaces: KeyOut = Field(description="The old key as it is now (replaced_by set; deactivated, or "
                                         "expiring at the end of the grace).")


class EventOut(BaseModel):
    id: str = Field(pattern=r"^ev_[0-9]+$")
    at: str
    key_id: str
    key_label: str = Field(description="The key's label when the event happened.")
    kind: Literal[EVENT_KINDS]  # type: ignore[valid-type]
    detail: dict[str, Any]
    actor: Literal["session", "hub"]


class EventPageOut(BaseModel):
    events: list[EventOut] = Field(description="Newest first.")
    next_before: str | None = Field(description="Pass as ?before= for the next (older) page; null: no more.")
