"""The management API (/api/v1): sign-in, account, MCP config and key lifecycle.

Endpoints are plain ``def`` so FastAPI runs them on its thread pool: the SQLite
calls are short but blocking, and must never stall the event loop that also
serves the MCP streams.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..core.expiry import InvalidExpiry
from ..core.keyformat import KEY_PREFIX, SESSION_PREFIX
from ..core.labels import InvalidLabelError, normalize_label
from ..core.models import User
from .api_models import (
    ConfigOut,
    CreateKeyRequest,
    EventPageOut,
    KeyListOut,
    KeyOut,
    LoginOut,
    LoginRequest,
    LogoutAllOut,
    NewKeyOut,
    RotatedKeyOut,
    RotateRequest,
    UpdateKeyRequest,
    UserOut,
)
from .context import HubContext, client_address, hub_context
from .errors import ApiError, ErrorEnvelope, unauthorized
from .idempotency import IdempotencyClaim, request_fingerprint, valid_idempotency_key
from .store import KeyAlreadyRotated, KeyInactive, KeyLimitReached, KeyStillActive

log = logging.getLogger("phhub_keys.hub")

KEY_ID_RE = re.compile(r"^mk_[0-9a-f]{16}$")
CREATE_SCOPE = "create_key"  # the Idempotency-Key scope of POST /mcp/keys
ROTATE_SCOPE = "rotate_key"  # ... and of POST /mcp/keys/{id}/rotate
_ERR = {"model": ErrorEnvelope}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Malformed request (body is not UTF-8 JSON, bad header)",
        401: "Missing, expired or revoked session",
        404: "No such key for this account",
        409: "Conflict (key_limit, key_active, key_inactive, key_expired, already_rotated: the successor "
             "is in error.key; idempotency_replay_unavailable: the key an earlier request with this "
             "Idempotency-Key created is named in error.key; its secret is gone)",
        413: "Request body too large",
        422: "Invalid field (invalid_label, invalid_expiry, invalid_request) or idempotency_key_reused",
        429: "Rate limited; see Retry-After",
    }
    return {code: {**_ERR, "description": descriptions[code]} for code in codes}


_bearer = HTTPBearer(auto_error=False, scheme_name="sessionToken",
                     description="Session token (phs_...) from POST /api/v1/auth/login.")

router = APIRouter(prefix="/api/v1")
Ctx = Annotated[HubContext, Depends(hub_context)]


def _session_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise unauthorized("Sign in first: send the session token as 'Authorization: Bearer phs_...'.")
    token = credentials.credentials.strip()
    if token.startswith(KEY_PREFIX):
        raise unauthorized("An MCP key cannot manage keys; sign in and use the session token.")
    if not token.startswith(SESSION_PREFIX) or len(token) > 200:
        raise unauthorized("That is not a session token; sign in again.")
    return token


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def current_user(ctx: Ctx, credentials: Credentials) -> User:
    """The signed-in user, or 401 (token missing, malformed, expired or revoked)."""
    user = ctx.store.session_user(_session_token(credentials))
    if user is None:
        raise unauthorized("The session expired or was revoked; sign in again.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def _label(raw: str) -> str:
    try:
        return normalize_label(raw)
    except InvalidLabelError as exc:
        raise ApiError(422, "invalid_label", str(exc)) from None


def _key_id(key_id: str) -> str:
    # A malformed id cannot exist: answer exactly like an unknown one.
    if not KEY_ID_RE.fullmatch(key_id):
        raise _not_found()
    return key_id


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such key in this account.")


def _expiry_error(exc: InvalidExpiry) -> ApiError:
    return ApiError(422, "invalid_expiry", exc.message, extra={"rule": exc.rule})


_IDEMPOTENCY_HEADER = Header(
    alias="Idempotency-Key",
    json_schema_extra={"pattern": "^[\\x21-\\x7e]{1,255}$"},
    description="Retrying with the same value within 10 minutes returns the same key and secret; "
                "after a hub restart (or later, up to 24 h) it is 409 idempotency_replay_unavailable "
                "(create) or 409 already_rotated (rotate), naming the key that was created.",
)
IdempotencyKey = Annotated[str | None, _IDEMPOTENCY_HEADER]


def _check_idempotency_key(value: str) -> None:
    if not valid_idempotency_key(value):
        raise ApiError(400, "invalid_request", "Idempotency-Key must be 1-255 visible ASCII characters.")


def _rate_limited(seconds: int, message: str) -> ApiError:
    headers = {"Retry-After": str(seconds)}
    return ApiError(429, "rate_limited", f"{message} Try again in {seconds} s.", headers)


# -- auth -----------------------------------------------------------------------

@router.post("/auth/login", response_model=LoginOut, responses=_errors(400, 401, 413, 422, 429),
             tags=["auth"])
def login(body: LoginRequest, request: Request, ctx: Ctx) -> dict[str, Any]:
    """Sign in with email and password; returns a session token for the management API."""
    account = body.email.strip().lower()
    address = client_address(request.client)
    wait = ctx.login_account.retry_after(account) or ctx.login_ip.retry_after(address)
    if wait:
        raise _rate_limited(wait, "Too many failed sign-ins.")
    user = ctx.store.check_password(body.email, body.password)
    if user is None:
        ctx.login_account.hit(account)
        ctx.login_ip.hit(address)
        log.info("failed sign-in from %s", address)
        raise ApiError(401, "invalid_credentials", "The email or password is wrong.")
    ctx.login_account.reset(account)
    token, expires = ctx.store.create_session(user.id, ctx.settings.session_ttl_seconds,
                                              max_live=ctx.settings.max_sessions_per_user)
    log.info("user %s signed in", user.id)
    return {"token": token, "expires_at": expires, "user": user.to_json()}


@router.post("/auth/logout", status_code=204, response_class=Response, responses=_errors(401), tags=["auth"])
def logout(ctx: Ctx, credentials: Credentials) -> Response:
    """Revoke the session token used for this request."""
    token = _session_token(credentials)
    if ctx.store.session_user(token) is None:
        raise unauthorized("The session expired or was revoked; sign in again.")
    ctx.store.revoke_session(token)
    return Response(status_code=204)


@router.post("/auth/logout-all", response_model=LogoutAllOut, responses=_errors(401), tags=["auth"])
def logout_all(user: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """Sign out everywhere: revoke every session of the caller, the one used for this request too."""
    revoked = ctx.store.revoke_user_sessions(user.id)
    log.info("user %s signed out everywhere (%d sessions)", user.id, revoked)
    return {"revoked": revoked}


@router.get("/me", response_model=UserOut, responses=_errors(401), tags=["account"])
def me(user: CurrentUser) -> dict[str, Any]:
    """The signed-in account."""
    return user.to_json()


@router.get("/mcp/config", response_model=ConfigOut, responses=_errors(401), tags=["mcp"])
def mcp_config(user: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """Where MCP clients connect, and where the connection docs are."""
    return {"server_url": ctx.settings.mcp_url, "docs_url": ctx.settings.docs_url, "key_prefix": KEY_PREFIX,
            "key_policy": ctx.settings.key_policy.to_json()}


# -- keys -----------------------------------------------------------------------

@router.get("/mcp/keys", response_model=KeyListOut, responses=_errors(401), tags=["keys"])
def list_keys(user: CurrentUser, ctx: Ctx) -> Response:
    """The account's MCP keys, newest first (secrets are never returned, only previews)."""
    # The body is built by SQLite in API shape (no model validation, no json.dumps):
    # 10,000 keys in ~35 ms instead of ~130 ms (benchmarks/, figure "hub: key list").
    return Response(ctx.store.list_keys_body(user.id), media_type="application/json")


@router.post("/mcp/keys", status_code=201, response_model=NewKeyOut,
             responses=_errors(400, 401, 409, 413, 422, 429), tags=["keys"])
def create_key(body: CreateKeyRequest, user: CurrentUser, ctx: Ctx,
               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Create a key. The response holds the full secret: the only time it is ever sent.

    Expiry: ``expires_at`` or ``expires_in_days``; neither means no expiry when the
    key policy allows it, else its default lifetime.
    """
    label = _label(body.label)
    expiry_request = {name: getattr(body, name) for name in ("expires_at", "expires_in_days")
                      if name in body.model_fields_set}
    try:
        expires_at = ctx.settings.key_policy.resolve(
            ctx.store.now(), expires_at=body.expires_at, expires_in_days=body.expires_in_days,
            no_expiry="expires_at" in expiry_request and body.expires_at is None,
            given=bool(expiry_request))
    except InvalidExpiry as exc:
        raise _expiry_error(exc) from None
    if idempotency_key is None:
        return JSONResponse(_create(ctx, user, label, expires_at), status_code=201)
    _check_idempotency_key(idempotency_key)
    # What this request asks for: a retry must ask for the same (the label alone for v1 clients).
    fingerprint = request_fingerprint(label, *([json.dumps(expiry_request, sort_keys=True)] if expiry_request
                                               else []))
    what = "label or expiry" if expiry_request else "label"
    with ctx.idempotency.lock:
        replay = ctx.idempotency.get(CREATE_SCOPE, user.id, idempotency_key)
        if replay is not None:
            if replay.fingerprint != fingerprint:
                raise _idempotency_key_reused(what)
            current = ctx.store.get_key(user.id, replay.body["key"]["id"])
            if current is not None:
                # Same key and secret, with the key's state as it is now.
                body_now = {"key": current.to_json(), "secret": replay.body["secret"]}
                return JSONResponse(body_now, status_code=201, headers={"Idempotent-Replayed": "true"})
            # That key was deleted since: nothing would be duplicated, so this is a new create.
        else:
            _refuse_unreplayable(ctx, user, idempotency_key, fingerprint, what)
        claim = IdempotencyClaim(CREATE_SCOPE, idempotency_key, fingerprint,
                                 ctx.settings.idempotency_record_ttl)
        body_out = _create(ctx, user, label, expires_at, claim)
        ctx.idempotency.put(CREATE_SCOPE, user.id, idempotency_key, fingerprint, body_out)
        return JSONResponse(body_out, status_code=201)


def _idempotency_key_reused(what: str = "label") -> ApiError:
    # 422 as the IETF Idempotency-Key draft says for a reused key with another payload.
    return ApiError(422, "idempotency_key_reused",
                    f"This Idempotency-Key was already used for a different {what}.")


def _refuse_unreplayable(ctx: HubContext, user: User, idempotency_key: str, fingerprint: str,
                         what: str = "label") -> None:
    """409 when an earlier request with this key made a key whose secret is no longer held.

    The replay (with the secret) lives in memory only; after a hub restart, or once it has
    expired, the persisted record still says which key was made. Minting another would
    leave that one active with a secret nobody ever saw.
    """
    record = ctx.store.idempotency_record(CREATE_SCOPE, user.id, idempotency_key)
    if record is None:
        return
    if record.fingerprint != fingerprint:
        raise _idempotency_key_reused(what)
    made = ctx.store.get_key(user.id, record.resource_id)
    if made is None:
        return  # deleted since: nothing would be duplicated
    log.info("user %s retried a create whose key %s was made but can no longer be replayed", user.id, made.id)
    raise ApiError(
        409, "idempotency_replay_unavailable",
        f"This request already created the key {made.id} ({made.redacted}, “{made.label}”), "
        "but its secret can no longer be sent (the hub restarted or too much time passed). "
        "Deactivate that key, then create a new one.",
        extra={"key": made.to_json()},
    )


def _create_allowed(ctx: HubContext, user: User) -> None:
    wait = ctx.creates.retry_after(user.id)
    if wait:
        raise _rate_limited(wait, "Too many keys created in a short time.")


def _key_limit(exc: KeyLimitReached) -> ApiError:
    return ApiError(409, "key_limit", f"{exc} Delete keys you no longer use first.")


def _create(ctx: HubContext, user: User, label: str, expires_at: Any,
            claim: IdempotencyClaim | None = None) -> dict[str, Any]:
    _create_allowed(ctx, user)
    try:
        record, secret = ctx.store.create_key(user.id, label, max_keys=ctx.settings.max_keys_per_user,
                                              expires_at=expires_at, idempotency_claim=claim)
    except KeyLimitReached as exc:
        raise _key_limit(exc) from None
    ctx.creates.hit(user.id)
    log.info("user %s created key %s (%s)", user.id, record.id, record.redacted)
    return {"key": record.to_json(), "secret": secret}


@router.patch("/mcp/keys/{key_id}", response_model=KeyOut, responses=_errors(400, 401, 404, 413, 422),
              tags=["keys"])
def update_key(key_id: str, body: UpdateKeyRequest, user: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """Change a key's label and/or expiry. Extending an expired key renews it (active again)."""
    key_id = _key_id(key_id)
    fields = body.model_fields_set
    if not fields:
        raise ApiError(422, "invalid_request", "Send a label, an expires_at, or both.")
    changes: dict[str, Any] = {}
    if "label" in fields:
        changes["label"] = _label(body.label)
    if "expires_at" in fields:
        try:
            changes["expires_at"] = ctx.settings.key_policy.resolve(
                ctx.store.now(), expires_at=body.expires_at, no_expiry=body.expires_at is None)
        except InvalidExpiry as exc:
            raise _expiry_error(exc) from None
    record = ctx.store.update_key(user.id, key_id, **changes)
    if record is None:
        raise _not_found()
    return record.to_json()


@router.post("/mcp/keys/{key_id}/rotate", status_code=201, response_model=RotatedKeyOut,
             responses=_errors(400, 401, 404, 409, 413, 422, 429), tags=["keys"])
def rotate_key(key_id: str, body: RotateRequest, user: CurrentUser, ctx: Ctx,
               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Replace a key by a new one (shown this once); the old key keeps working for the grace.

    A retry with the same Idempotency-Key returns the same new key and secret; a key
    never gets two successors (409 already_rotated names the one it has).
    """
    key_id = _key_id(key_id)
    try:
        grace = ctx.settings.key_policy.check_grace(body.grace_seconds)
    except InvalidExpiry as exc:
        raise _expiry_error(exc) from None
    label = _label(body.label) if "label" in body.model_fields_set else None
    if idempotency_key is None:
        return JSONResponse(_rotate(ctx, user, key_id, grace, label), status_code=201)
    _check_idempotency_key(idempotency_key)
    fingerprint = request_fingerprint(key_id, str(grace), "" if label is None else "label:" + label)
    what = "rotation (another key, grace or label)"
    with ctx.idempotency.lock:
        replay = ctx.idempotency.get(ROTATE_SCOPE, user.id, idempotency_key)
        if replay is not None:
            if replay.fingerprint != fingerprint:
                raise _idempotency_key_reused(what)
            new = ctx.store.get_key(user.id, replay.body["key"]["id"])
            old = ctx.store.get_key(user.id, key_id)
            if new is not None and old is not None:
                body_now = {"key": new.to_json(), "secret": replay.body["secret"], "replaces": old.to_json()}
                return JSONResponse(body_now, status_code=201, headers={"Idempotent-Replayed": "true"})
            # A key was deleted since: the store's own rules answer (404, or 409 already_rotated).
        else:
            record = ctx.store.idempotency_record(ROTATE_SCOPE, user.id, idempotency_key)
            if record is not None and record.fingerprint != fingerprint:
                raise _idempotency_key_reused(what)
            # The same rotation made before the replay was lost (hub restart): the key has its
            # successor, so the store answers 409 already_rotated naming it; never a second one.
        claim = IdempotencyClaim(ROTATE_SCOPE, idempotency_key, fingerprint,
                                 ctx.settings.idempotency_record_ttl)
        body_out = _rotate(ctx, user, key_id, grace, label, claim)
        ctx.idempotency.put(ROTATE_SCOPE, user.id, idempotency_key, fingerprint, body_out)
        return JSONResponse(body_out, status_code=201)


def _rotate(ctx: HubContext, user: User, key_id: str, grace: int, label: str | None,
            claim: IdempotencyClaim | None = None) -> dict[str, Any]:
    _create_allowed(ctx, user)
    policy = ctx.settings.key_policy
    try:
        result = ctx.store.rotate_key(user.id, key_id, grace_seconds=grace, label=label,
                                      max_keys=ctx.settings.max_keys_per_user,
                                      max_lifetime_days=policy.max_lifetime_days,
                                      default_lifetime_days=policy.default_lifetime_days,
                                      idempotency_claim=claim)
    except KeyAlreadyRotated as exc:
        successor = ctx.store.get_key(user.id, exc.successor)
        raise ApiError(409, "already_rotated", f"This key was already rotated; its successor is "
                                               f"{exc.successor}.",
                       extra={"key": successor.to_json()} if successor is not None else None) from None
    except KeyInactive as exc:
        raise ApiError(409, "key_inactive", str(exc)) from None
    except KeyLimitReached as exc:
        raise _key_limit(exc) from None
    if result is None:
        raise _not_found()
    new, secret, old = result
    ctx.creates.hit(user.id)
    log.info("user %s rotated key %s to %s (%s), grace %d s", user.id, key_id, new.id, new.redacted, grace)
    return {"key": new.to_json(), "secret": secret, "replaces": old.to_json()}


@router.post("/mcp/keys/{key_id}/deactivate", response_model=KeyOut, responses=_errors(401, 404),
             tags=["keys"])
def deactivate_key(key_id: str, user: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """Stop a key from working; takes effect on its next MCP request. Idempotent."""
    record = ctx.store.set_key_active(user.id, _key_id(key_id), active=False)
    if record is None:
        raise _not_found()
    log.info("user %s deactivated key %s", user.id, key_id)
    return record.to_json()


@router.post("/mcp/keys/{key_id}/reactivate", response_model=KeyOut, responses=_errors(401, 404, 409),
             tags=["keys"])
def reactivate_key(key_id: str, user: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """Let a deactivated key work again. Idempotent. An expired key is 409 key_expired (renew it instead)."""
    try:
        record = ctx.store.set_key_active(user.id, _key_id(key_id), active=True)
    except KeyInactive as exc:
        raise ApiError(409, "key_expired", str(exc)) from None
    if record is None:
        raise _not_found()
    log.info("user %s reactivated key %s", user.id, key_id)
    return record.to_json()


@router.delete("/mcp/keys/{key_id}", status_code=204, response_class=Response,
               responses=_errors(401, 404, 409), tags=["keys"])
def delete_key(key_id: str, user: CurrentUser, ctx: Ctx) -> Response:
    """Delete a deactivated or expired key for good (an active key is refused: 409 key_active).

    Its events stay in the activity feeds (365 days)."""
    try:
        deleted = ctx.store.delete_key(user.id, _key_id(key_id))
    except KeyStillActive:
        raise ApiError(409, "key_active", "Deactivate the key before deleting it.") from None
    if not deleted:
        raise _not_found()
    log.info("user %s deleted key %s", user.id, key_id)
    return Response(status_code=204)


# -- activity -------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=200, description="At most this many events (1-200).")]
Before = Annotated[str | None, Query(pattern=r"^ev_[0-9]{1,18}$",
                                     description="The next_before of the previous page.")]


def _only_query(request: Request, *names: str) -> None:
    """Unknown query parameters are refused, as unknown body fields are (a typo is not ignored)."""
    unknown = sorted(set(request.query_params) - set(names))
    if unknown:
        raise ApiError(422, "invalid_request", f"Unknown query parameter {unknown[0]!r}: this hub does not "
                                               "accept it.")


def _page(events: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    return {"events": events, "next_before": events[-1]["id"] if len(events) == limit else None}


def _cursor(before: str | None) -> int | None:
    return int(before[3:]) if before else None


@router.get("/mcp/events", response_model=EventPageOut, responses=_errors(401, 422), tags=["activity"])
def account_events(request: Request, user: CurrentUser, ctx: Ctx, limit: Limit = 50,
                   before: Before = None) -> dict[str, Any]:
    """The account's activity, newest first, deleted keys included; page with ``before``."""
    _only_query(request, "limit", "before")
    return _page(ctx.store.events(user.id, limit=limit, before=_cursor(before)), limit)


@router.get("/mcp/keys/{key_id}/events", response_model=EventPageOut, responses=_errors(401, 404, 422),
            tags=["activity"])
def key_events(request: Request, key_id: str, user: CurrentUser, ctx: Ctx, limit: Limit = 50,
               before: Before = None) -> dict[str, Any]:
    """One key's activity, newest first (also for a deleted key, while its events are kept)."""
    _only_query(request, "limit", "before")
    key_id = _key_id(key_id)
    events = ctx.store.events(user.id, key_id=key_id, limit=limit, before=_cursor(before))
    store = ctx.store
    if not events and store.get_key(user.id, key_id) is None and not store.key_has_events(user.id, key_id):
        raise _not_found()
    return _page(events, limit)
