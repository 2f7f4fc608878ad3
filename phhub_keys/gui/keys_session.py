"""The Manage MCP Keys window's hub calls, without widgets: ``KeysSession`` runs them and says
what happened by signals; the window lays out, renders and forwards the user's intent.

What it owns (the rules a window should not have to keep in its head):
- every call runs off the GUI thread (``workers.run_in_pool``); ``busyChanged`` says when any is
  running, ``keyBusy`` which row waits for one;
- one key list at a time by *generation*: an answer from an older list is dropped, and a change
  made while a list was in flight re-lists once it lands (``mutated``);
- a create keeps its ``Idempotency-Key`` until it succeeds or is refused, so Retry after a lost
  answer returns the same key instead of minting a second one;
- each verb's outcome as its own signal, and any other failure as ``failed(exc, retry)`` with the
  action that Retry (or signing in again) should repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Signal

from ..api.errors import (
    HubUnavailable,
    IdempotencyReplayUnavailable,
    InvalidExpiry,
    InvalidLabel,
    KeyActive,
    KeyLimit,
    NotFound,
    RateLimited,
)
from ..core.models import McpConfig, McpKey, NewKey
from .workers import Job, run_in_pool

if TYPE_CHECKING:
    from ..api.client import HubClient

Retry = Callable[[], object]


class KeysSession(QObject):
    """Hub calls for one window (see the module docstring)."""

    busyChanged = Signal(bool)  # some call is running / none is
    keyBusy = Signal(str, bool)  # a row's call started / finished
    listBusyChanged = Signal(bool)  # a key list is in flight / not
    succeeded = Signal(str)  # a call (by name) succeeded, before its own signal
    listed = Signal(object, list)  # McpConfig, list[McpKey]: the newest list's answer
    created = Signal(object)  # NewKey
    createFailed = Signal()  # any failed create, before what follows (the form stops waiting)
    createRefused = Signal(object)  # InvalidLabel / KeyLimit / InvalidExpiry / RateLimited: the form's
    renamed = Signal(object)  # McpKey
    renameFailed = Signal(str)  # key id: any failed rename, before what follows (the old label returns)
    renameRefused = Signal(str, str, str)  # key id, the hub's rule, the refused label
    changed = Signal(object, str)  # McpKey, "Deactivated" / "Reactivated"
    deleted = Signal(str, str)  # key id, its label
    keyGone = Signal(str)  # key id: the hub no longer has it (a new list is on its way)
    deleteRefused = Signal(str)  # the hub's words: the key is active (a new list is on its way)
    unseenKey = Signal(object)  # IdempotencyReplayUnavailable: a retried create made a key we can't show
    failed = Signal(object, object)  # exc, the Retry action (the window shows it, or asks to sign in)

    def __init__(self, client: HubClient | None, parent: QObject | None = None) -> None:
        """``client`` None: no call can run until the window sets one (a saved list before sign-in)."""
        super().__init__(parent)
        self.client = client
        self._jobs = 0
        self._list_generation = 0
        self._list_in_flight = False
        self._list_stale = False
        self._create_in_flight = False
        self._create_idempotency: tuple[str, str] | None = None  # (label, key) reused by Retry

    # ------------------------------------------------------------------ state
    def is_busy(self) -> bool:
        return self._jobs > 0

    def list_in_flight(self) -> bool:
        return self._list_in_flight

    def create_in_flight(self) -> bool:
        return self._create_in_flight

    def mutated(self) -> None:
        """A change was made while a list may be in flight: re-list once it lands."""
        if self._list_in_flight:
            self._list_stale = True

    def reuse_idempotency_key(self, label: str, key: str) -> None:
        """The create of ``label`` goes out with ``key`` (a script repeating an earlier create)."""
        self._create_idempotency = (label, key)

    # ------------------------------------------------------------------ the calls
    def run(
        self,
        name: str,
        fn: Callable[..., Any],
        *args: Any,
        on_success: Callable[[Any], None],
        retry: Retry,
        on_failure: Callable[[BaseException], bool] | None = None,
        key_id: str | None = None,
        **kwargs: Any,
    ) -> Job:
        """Run ``fn`` off the GUI thread; route its answer to ``on_success`` or the error handling.

        ``on_failure`` may handle an error itself (return True); otherwise ``failed(exc, retry)``.
        """
        job = run_in_pool(fn, *args, name=name, **kwargs)
        self._jobs += 1
        if key_id is not None:
            self.keyBusy.emit(key_id, True)
        if self._jobs == 1:
            self.busyChanged.emit(True)

        def finish() -> bool:
            if not shiboken6.isValid(self):
                return False
            self._jobs -= 1
            if key_id is not None:
                self.keyBusy.emit(key_id, False)
            if self._jobs == 0:
                self.busyChanged.emit(False)
            return True

        def succeeded(result: Any) -> None:
            if finish():
                self.succeeded.emit(name)
                on_success(result)

        def failed(exc: BaseException) -> None:
            if finish() and not (on_failure and on_failure(exc)):
                if isinstance(exc, HubUnavailable) and exc.idempotency_key and self._create_idempotency:
                    # The client minted the key for an unsent create: Retry must reuse it.
                    self._create_idempotency = (self._create_idempotency[0], exc.idempotency_key)
                self.failed.emit(exc, retry)

        job.succeeded.connect(succeeded)
        job.failed.connect(failed)
        return job

    def list(self) -> None:
        """Config and keys from the hub; an older list still in flight is superseded."""
        self._list_generation += 1
        generation = self._list_generation
        self._set_list_in_flight(True)
        self._list_stale = False
        client = self._client()

        def fetch() -> tuple[McpConfig, list[McpKey]]:
            return client.mcp_config(), client.list_keys()

        def done(result: tuple[McpConfig, list[McpKey]]) -> None:
            if generation != self._list_generation:
                return
            self._set_list_in_flight(False)
            config, keys = result
            self.listed.emit(config, keys)
            if self._list_stale:
                self.list()

        def failed(exc: BaseException) -> bool:
            if generation == self._list_generation:
                self._set_list_in_flight(False)
            return False

        self.run("list", fetch, on_success=done, on_failure=failed, retry=self.list)

    def create(self, label: str, expiry: dict[str, Any], retry: Retry) -> bool:
        """Create a key; False when one is already being created."""
        if self._create_in_flight:
            return False
        if self._create_idempotency is None or self._create_idempotency[0] != label:
            import uuid  # here: uuid imports platform, ~1.5 ms of the cold start

            self._create_idempotency = (label, uuid.uuid4().hex)
        idempotency_key = self._create_idempotency[1]
        self._create_in_flight = True

        def done(new_key: NewKey) -> None:
            self._create_in_flight = False
            self._create_idempotency = None
            self.created.emit(new_key)
            self.mutated()

        def failed(exc: BaseException) -> bool:
            self._create_in_flight = False
            self.createFailed.emit()
            if isinstance(exc, InvalidLabel | KeyLimit | InvalidExpiry):
                self._create_idempotency = None
                self.createRefused.emit(exc)
                return True
            if isinstance(exc, RateLimited):
                self.createRefused.emit(exc)  # the form says it too; the banner offers Retry
            if isinstance(exc, IdempotencyReplayUnavailable):
                self._create_idempotency = None  # the next Create is a new request
                self.unseenKey.emit(exc)
                return True
            return False

        self.run("create", self._client().create_key, label, idempotency_key=idempotency_key, **expiry,
                 on_success=done, on_failure=failed, retry=retry)
        return True

    def rename(self, key_id: str, label: str, retry: Retry) -> None:
        def done(key: McpKey) -> None:
            self.renamed.emit(key)
            self.mutated()

        def failed(exc: BaseException) -> bool:
            self.renameFailed.emit(key_id)
            if isinstance(exc, InvalidLabel):
                self.renameRefused.emit(key_id, exc.message, label)
                return True
            if isinstance(exc, NotFound):
                self._gone(key_id)
                return True
            return False

        self.run("rename", self._client().rename_key, key_id, label, on_success=done, on_failure=failed,
                 retry=retry)

    def deactivate(self, key_id: str, retry: Retry) -> None:
        self.run("deactivate", self._client().deactivate_key, key_id, key_id=key_id,
                 on_success=lambda key: self._changed(key, "Deactivated"),
                 on_failure=lambda exc: self._key_failure(key_id, exc), retry=retry)

    def reactivate(self, key_id: str, retry: Retry) -> None:
        self.run("reactivate", self._client().reactivate_key, key_id, key_id=key_id,
                 on_success=lambda key: self._changed(key, "Reactivated"),
                 on_failure=lambda exc: self._key_failure(key_id, exc), retry=retry)

    def delete(self, key_id: str, label: str) -> None:
        def done(_result: object) -> None:
            self.deleted.emit(key_id, label)
            self.mutated()

        self.run("delete", self._client().delete_key, key_id, key_id=key_id, on_success=done,
                 on_failure=lambda exc: self._key_failure(key_id, exc),
                 retry=lambda: self.delete(key_id, label))

    def _client(self) -> HubClient:
        if self.client is None:  # the window asks for a sign-in before any call
            raise RuntimeError("no hub session yet: sign in first")
        return self.client

    # ------------------------------------------------------------------ outcomes
    def _changed(self, key: McpKey, verb: str) -> None:
        self.changed.emit(key, verb)
        self.mutated()

    def _key_failure(self, key_id: str, exc: BaseException) -> bool:
        if isinstance(exc, NotFound):
            self._gone(key_id)
            return True
        if isinstance(exc, KeyActive):
            self.deleteRefused.emit(exc.message)
            self.list()
            return True
        return False

    def _gone(self, key_id: str) -> None:
        self.keyGone.emit(key_id)
        self.list()

    def _set_list_in_flight(self, in_flight: bool) -> None:
        self._list_in_flight = in_flight
        self.listBusyChanged.emit(in_flight)
