"""Request and response shapes of the management API (they also make /openapi.json).

Requests refuse unknown fields (a typo such as ``"lable"`` gets a clear 422
instead of being silently ignored) and accept only JSON strings where text is due.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Request):
    email: StrictStr = Field(max_length=320, examples=["ada@example.org"])
    password: StrictStr = Field(max_length=1024)


# The label rules (core.labels) as a JSON-schema pattern, so schema-driven clients and
# fuzzers know what is accepted: at least one non-space character, no control or
# bidirectional-override characters. The hub still applies core.labels itself (it
# trims and NFC-normalises, and explains which rule a label broke).
_LABEL_CHAR = r"[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_LABEL_VISIBLE = (
    r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000]"
)
LABEL_PATTERN = f"^{_LABEL_CHAR}*{_LABEL_VISIBLE}{_LABEL_CHAR}*$"


class LabelRequest(_Request):
    label: StrictStr = Field(
        description="1-100 characters after trimming and NFC normalisation; no control or "
                    "bidirectional-override characters.",
        examples=["OpenAI AgentKit"],
        json_schema_extra={"minLength": 1, "maxLength": 100, "pattern": LABEL_PATTERN},
    )


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


class ConfigOut(BaseModel):
    server_url: str = Field(description="Absolute URL of the MCP endpoint as clients reach it.")
    docs_url: str
    key_prefix: Literal["phk_"]


class KeyOut(BaseModel):
    id: str = Field(pattern=r"^mk_[0-9a-f]{16}$")
    label: str
    redacted: str = Field(description="phk_ + 4 characters + ... + last 6 characters")
    status: Literal["active", "deactivated"]
    created_at: str
    last_used_at: str | None
    last_used_client: str | None = Field(description="Name and version from the MCP client's clientInfo.")
    last_used_ip: str | None
    deactivated_at: str | None


class KeyListOut(BaseModel):
    keys: list[KeyOut] = Field(description="Newest first.")


class NewKeyOut(BaseModel):
    key: KeyOut
    secret: str = Field(description="The full MCP key (phk_...), shown this once and never again.")
