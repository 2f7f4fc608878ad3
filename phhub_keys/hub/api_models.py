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


class LabelRequest(_Request):
    label: StrictStr = Field(
        description="1-100 characters after trimming; no control or bidi-override characters.",
        examples=["OpenAI AgentKit"],
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
