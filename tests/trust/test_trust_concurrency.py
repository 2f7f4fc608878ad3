"""Concurrency and durability: many clients at once lose no acknowledged change, and a hub
killed with SIGKILL in the middle comes back with every acknowledged change on disk.

How the checks stay exact under concurrency: every key is *owned* by one worker
thread (its creator), so the operations on one key form a sequence and the
worker knows what each answer must be (a rename returns the new label, deleting
an active key is 409, an MCP request with a deactivated key is 401, ...). Each
worker writes an answer into its ledger only when the hub acknowledged it; at
the end the hub's key lists must equal the ledgers exactly. Several workers
share each account, so their writes race on the same user's rows, and all of
them rename one shared key per account: there the final label must be one that
no later-started acknowledged rename could have overwritten (real-time order).

In the SIGKILL test the operation in flight when the hub died may or may not
have landed; the test demands only the acknowledged ones (and that the one in
flight left the key either before or after, nothing else).
"""

from __future__ import annotations

import os
import queue
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from fixtures_hub import (
    TEST_PASSWORD_COST,
    Creds,
    SignedInSession,
    add_test_user,
    find_plaintext_secrets,
    mcp_call,
    new_creds,
)

from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.store import HubStore

# Every kind of operation the workers send; each must be acknowledged several times in a run.
OPS = ("create", "rename", "deactivate", "reactivate", "delete", "delete refused", "mcp", "rename shared",
       "whoami", "list")
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "concurrency-probe", "version": "0"}},
}


@dataclass
class KeyState:
    """What the acknowledged answers say a key is now (``exists=False`` once deleted)."""

    label: str
    status: str = "active"
    exists: bool = True
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class Rename:
    """One acknowledged rename of a shared key, with when it was sent and answered."""

    label: str
    sent: float
    answered: float


@dataclass
class Ledger:
    """One worker's acknowledged view of its own keys, plus what was in flight when it stopped."""

    keys: dict[str, KeyState] = field(default_factory=dict)
    # key id -> the state it would be in had the unanswered operation landed
    in_flight: dict[str, KeyState] = field(default_factory=dict)
    in_flight_create: str | None = None  # label of a create whose answer never came
    shared_renames: list[Rename] = field(default_factory=list)
    acked: int = 0
    mcp_ok: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class HubGone(Exception):
    """The request got no answer (the hub died): its outcome is unknown."""


class Worker(threading.Thread):
    """Random lifecycle operations on its own keys (and renames of a shared key) until told to stop."""

    def __init__(self, name: str, session: SignedInSession, seed: int, stop: threading.Event,
                 errors: list[str], *, shared_key: str | None = None, max_creates: int = 1_000,
                 whoami_every: int = 0, probe_deactivated: bool = True,
                 on_ack: Callable[[], None] = lambda: None) -> None:
        super().__init__(name=name, daemon=True)
        # Signed in before the thread starts: a sign-in cut off by the kill is not an operation.
        self.session = session
        self.base_url = session.base_url
        self.creds = session.creds
        self.rng = random.Random(seed)
        self.stop = stop
        self.errors = errors
        self.shared_key = shared_key
        self.max_creates = max_creates
        self.whoami_every = whoami_every
        self.probe_deactivated = probe_deactivated
        self.on_ack = on_ack
        self.ledger = Ledger()
        self.creates = 0

    # -- plumbing ---------------------------------------------------------------

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.step()
        except HubGone:
            pass
        except Exception as exc:  # a worker's surprise must fail the test, not vanish with the thread
            self.errors.append(f"{self.name}: {exc!r}")
        finally:
            self.session.close()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, self.session.api(path), timeout=30, **kwargs)
        except requests.RequestException as exc:
            raise HubGone(repr(exc)) from None
        if response.status_code >= 500:
            self.errors.append(f"{self.name}: {method} {path} -> {response.status_code} "
                               f"{response.text[:200]}")
        return response

    def expect(self, what: str, response: requests.Response, status: int) -> bool:
        if response.status_code == status:
            return True
        self.errors.append(f"{self.name}: {what}: expected {status}, got {response.status_code} "
                           f"{response.text[:200]}")
        return False

    def ack(self, op: str) -> None:
        self.ledger.acked += 1
        self.ledger.counts[op] = self.ledger.counts.get(op, 0) + 1
        self.on_ack()

    # -- one random operation ---------------------------------------------------

    def step(self) -> None:
        live = [k for k, s in self.ledger.keys.items() if s.exists]
        roll = self.rng.random()
        if self.shared_key and roll < 0.1:
            self.rename_shared()
        elif roll > 0.92:
            self.check_own_keys()
        elif (not live or roll < 0.3) and self.creates < self.max_creates:
            self.create()
        elif live:
            key_id = self.rng.choice(live)
            state = self.ledger.keys[key_id]
            ops = ([self.rename, self.deactivate, self.delete_refused, self.mcp]
                   if state.status == "active" else [self.rename, self.reactivate, self.delete]
                   + [self.mcp] * self.probe_deactivated)
            self.rng.choice(ops)(key_id, state)
        else:  # at the create cap with every key deleted
            self.stop.wait(0.01)

    def create(self) -> None:
        self.creates += 1
        label = f"{self.name} key {self.creates}"
        self.ledger.in_flight_create = label
        response = self.request("POST", "/mcp/keys", json={"label": label})
        self.ledger.in_flight_create = None
        if self.expect("create", response, 201):
            body = response.json()
            assert body["key"]["label"] == label and body["key"]["status"] == "active", body
            self.ledger.keys[body["key"]["id"]] = KeyState(label, secret=body["secret"])
            self.ack("create")

    def _change(self, op: str, key_id: str, state: KeyState, after: KeyState, method: str, path: str,
                status: int, **kwargs: Any) -> requests.Response | None:
        """Send one change to a key; the ledger moves to ``after`` only when it is acknowledged."""
        self.ledger.in_flight[key_id] = after
        response = self.request(method, path, **kwargs)
        del self.ledger.in_flight[key_id]
        if not self.expect(f"{op} {key_id}", response, status):
            return None
        self.ledger.keys[key_id] = after
        self.ack(op)
        return response

    def rename(self, key_id: str, state: KeyState) -> None:
        label = f"{self.name} renamed {self.ledger.acked}.{self.rng.randrange(10**6)}"
        after = KeyState(label, state.status, True, state.secret)
        response = self._change("rename", key_id, state, after, "PATCH", f"/mcp/keys/{key_id}", 200,
                                json={"label": label})
        if response is not None:
            assert response.json()["label"] == label, response.text
            self.check_whoami(after)

    def deactivate(self, key_id: str, state: KeyState) -> None:
        self._set_status("deactivate", "deactivated", key_id, state)

    def reactivate(self, key_id: str, state: KeyState) -> None:
        self._set_status("reactivate", "active", key_id, state)

    def _set_status(self, verb: str, status: str, key_id: str, state: KeyState) -> None:
        after = KeyState(state.label, status, True, state.secret)
        response = self._change(verb, key_id, state, after, "POST", f"/mcp/keys/{key_id}/{verb}", 200)
        if response is not None:
            assert response.json()["status"] == status, response.text
            if status == "active":
                self.check_whoami(after)

    def delete(self, key_id: str, state: KeyState) -> None:
        after = KeyState(state.label, state.status, False, state.secret)
        self._change("delete", key_id, state, after, "DELETE", f"/mcp/keys/{key_id}", 204)

    def delete_refused(self, key_id: str, state: KeyState) -> None:
        # An active key cannot be deleted: 409 and nothing changes (no in-flight alternative).
        response = self.request("DELETE", f"/mcp/keys/{key_id}")
        if self.expect(f"delete active {key_id}", response, 409):
            self.ack("delete refused")

    def mcp(self, key_id: str, state: KeyState) -> None:
        """A raw MCP initialize with the key: 200 while active, 401 once deactivated (never cached)."""
        try:
            response = requests.post(f"{self.base_url}/mcp", json=INITIALIZE, timeout=30,
                                     headers={**MCP_HEADERS, "Authorization": f"Bearer {state.secret}"})
        except requests.RequestException as exc:
            raise HubGone(repr(exc)) from None
        if response.status_code >= 500:
            self.errors.append(f"{self.name}: /mcp -> {response.status_code} {response.text[:200]}")
        if self.expect(f"mcp with {state.status} {key_id}", response,
                       200 if state.status == "active" else 401):
            self.ledger.mcp_ok += 1
            self.ack("mcp")

    def check_whoami(self, state: KeyState) -> None:
        """Every n-th time, the official MCP client sees the key's acknowledged label at once."""
        if not self.whoami_every or state.status != "active" or self.rng.randrange(self.whoami_every):
            return
        result = mcp_call(self.base_url, state.secret, "whoami")
        if result.get("key_label") != state.label:
            self.errors.append(f"{self.name}: whoami label {result.get('key_label')!r} != {state.label!r}")
        self.ack("whoami")

    def check_own_keys(self) -> None:
        """Read-your-writes mid-run: the list shows this worker's keys exactly as acknowledged
        (a write lost and then overwritten or deleted would escape the check at the end)."""
        response = self.request("GET", "/mcp/keys")
        if not self.expect("list", response, 200):
            return
        listed = {k["id"]: (k["label"], k["status"]) for k in response.json()["keys"]}
        wanted = {k: (s.label, s.status) for k, s in self.ledger.keys.items() if s.exists}
        mine = {k: v for k, v in listed.items() if k in self.ledger.keys or v[0].startswith(f"{self.name} ")}
        if mine != wanted:
            diff = {k: (mine.get(k), wanted.get(k)) for k in mine.keys() | wanted.keys()
                    if mine.get(k) != wanted.get(k)}
            self.errors.append(f"{self.name}: list differs from acknowledged (hub, acknowledged): {diff}")
        else:
            self.ack("list")

    def rename_shared(self) -> None:
        assert self.shared_key is not None
        label = f"shared by {self.name} #{self.ledger.acked}.{self.rng.randrange(10**6)}"
        sent = time.monotonic()
        response = self.request("PATCH", f"/mcp/keys/{self.shared_key}", json={"label": label})
        answered = time.monotonic()
        if self.expect("rename shared", response, 200):
            assert response.json()["label"] == label, response.text
            self.ledger.shared_renames.append(Rename(label, sent, answered))
            self.ack("rename shared")


# -------------------------------------------------------------------------- checks


def hub_keys(base_url: str, creds: Creds) -> dict[str, dict[str, Any]]:
    """The account's keys as the hub lists them (a fresh sign-in), by id."""
    session = SignedInSession(base_url, creds)
    try:
        response = session.get(session.api("/mcp/keys"), timeout=30)
        assert response.status_code == 200, response.text
        return {k["id"]: k for k in response.json()["keys"]}
    finally:
        session.close()


def check_ledgers(listed: dict[str, dict[str, Any]], workers: list[Worker], *,
                  shared: dict[str, str] | None = None, crashed: bool = False) -> None:
    """The hub's list equals what the acknowledged answers imply (plus, after a crash, at most the
    operation each worker had in flight)."""
    problems: list[str] = []
    seen: set[str] = set(shared or {})
    for worker in workers:
        ledger = worker.ledger
        for key_id, state in ledger.keys.items():
            seen.add(key_id)
            allowed = [state]
            if crashed and key_id in ledger.in_flight:
                allowed.append(ledger.in_flight[key_id])
            row = listed.get(key_id)
            actual = (row["label"], row["status"]) if row is not None else "deleted"
            wanted = [(s.label, s.status) if s.exists else "deleted" for s in allowed]
            if actual not in wanted:
                problems.append(f"{worker.name} {key_id}: hub has {actual}, acknowledged {wanted[0]}"
                                + (f" (or in flight {wanted[1]})" if len(wanted) > 1 else ""))
    extra = {k: v for k, v in listed.items() if k not in seen}
    in_flight_creates = {w.ledger.in_flight_create for w in workers if crashed and w.ledger.in_flight_create}
    for key_id, row in extra.items():
        if row["label"] in in_flight_creates and row["status"] == "active":
            in_flight_creates.discard(row["label"])  # a create that landed but whose answer was lost
        else:
            problems.append(f"key {key_id} ({row['label']!r}) on the hub was never acknowledged")
    assert not problems, "\n".join(problems[:30])


def check_shared_renames(final_label: str, renames: list[Rename], initial: str) -> None:
    """The surviving label belongs to a rename that no acknowledged rename started after it ended
    (that one would have to be later in any order the hub applied them)."""
    assert renames, "no rename of the shared key was acknowledged: the race was not exercised"
    by_label = {r.label: r for r in renames}
    assert final_label in by_label, f"shared key ended as {final_label!r}: no acknowledged rename set it"
    winner = by_label[final_label]
    later = [r.label for r in renames if r.sent > winner.answered]
    assert not later, f"{final_label!r} survived renames that started after it was acknowledged: {later[:3]}"
    assert final_label != initial


def integrity(db_path: Path) -> str:
    conn = sqlite3.connect(str(db_path))
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


# ------------------------------------------------------------------ in-process hub


@pytest.fixture
def busy_hub(start_hub: Callable[..., EmbeddedHub]) -> EmbeddedHub:
    # Deactivated keys are probed on /mcp on purpose (401 each time) and creates are fast:
    # the per-address and per-user limits would otherwise throttle the workers, not the hub's writes.
    return start_hub(mcp_auth_failures_per_ip=10**9, creates_per_user=10**9)


def test_concurrent_lifecycle_and_mcp_lose_no_acknowledged_change(busy_hub: EmbeddedHub) -> None:
    users = [add_test_user(busy_hub, name=f"Concurrent {n}") for n in range(4)]
    shared: dict[str, str] = {}
    for creds in users:
        session = SignedInSession(busy_hub.url, creds)
        shared[creds.email] = session.create_key("shared initial")["key"]["id"]
        session.close()

    stop = threading.Event()
    errors: list[str] = []
    acked = threading.Condition()

    def on_ack() -> None:
        with acked:
            acked.notify_all()

    workers = [
        Worker(f"w{n}", SignedInSession(busy_hub.url, users[n % len(users)]), seed=n, stop=stop,
               errors=errors, shared_key=shared[users[n % len(users)].email], whoami_every=8, on_ack=on_ack)
        for n in range(12)
    ]

    def counts() -> dict[str, int]:
        total: dict[str, int] = {}
        for worker in workers:
            for op, n in dict(worker.ledger.counts).items():
                total[op] = total.get(op, 0) + n
        return total

    def enough() -> bool:
        # Run at least 3 s, then until every kind of operation was acknowledged a few times
        # (a slow machine runs longer instead of testing less), never longer than 20 s.
        now = time.monotonic()
        seen = counts()
        return (now - started >= 3.0 and all(seen.get(op, 0) >= 5 for op in OPS)) or now - started >= 20.0

    started = time.monotonic()
    for worker in workers:
        worker.start()
    with acked:
        acked.wait_for(lambda: enough() or bool(errors), timeout=30)
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
        assert not worker.is_alive(), f"{worker.name} still running"

    assert not errors, "\n".join(errors[:30])
    total = sum(w.ledger.acked for w in workers)
    elapsed = time.monotonic() - started
    print(f"\nacknowledged operations in {elapsed:.1f} s: {total} {dict(sorted(counts().items()))}")
    # Every kind of operation actually ran concurrently (a silent no-op run must not pass).
    for op in OPS:
        assert counts().get(op, 0) >= 5, f"too few {op!r}: {counts()}"

    for creds in users:
        listed = hub_keys(busy_hub.url, creds)
        mine = [w for w in workers if w.creds.email == creds.email]
        check_ledgers(listed, mine, shared={shared[creds.email]: "shared"})
        renames = [r for w in mine for r in w.ledger.shared_renames]
        check_shared_renames(listed[shared[creds.email]]["label"], renames, "shared initial")
    assert busy_hub.store is not None
    assert busy_hub.store.integrity_check() == "ok"


# ----------------------------------------------------------- SIGKILL durability


class HubProcess:
    """``python -m phhub_keys hub serve`` on a free loopback port; stdout read on a thread."""

    def __init__(self, db_path: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "phhub_keys", "hub", "serve", "--port", "0", "--db", str(db_path),
             "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.url = self._wait_for_url()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 60
        while (remaining := deadline - time.monotonic()) > 0:
            line = self.lines.get(timeout=remaining)
            if line is None:
                break
            match = re.search(r"Hub listening on (http://127\.0\.0\.1:\d+)", line)
            if match:
                return match.group(1)
        self.proc.kill()
        raise AssertionError("the hub did not start:\n" + "".join(self.output))

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        assert self.proc.returncode == -signal.SIGKILL

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        return "".join(self.output)


@pytest.fixture
def hub_processes() -> Iterator[Callable[[Path], HubProcess]]:
    started: list[HubProcess] = []

    def start(db_path: Path) -> HubProcess:
        started.append(HubProcess(db_path))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def test_sigkill_mid_load_keeps_every_acknowledged_change(
        tmp_path: Path, hub_processes: Callable[[Path], HubProcess]) -> None:
    db_path = tmp_path / "hub.db"
    users = [new_creds(f"Durable {n}") for n in range(2)]
    with HubStore(db_path, password_cost=TEST_PASSWORD_COST) as store:
        for creds in users:
            store.add_user(creds.email, creds.password, name=creds.name)

    first = hub_processes(db_path)
    stop = threading.Event()
    errors: list[str] = []
    acked = threading.Semaphore(0)
    # Shipped limits (this is the real CLI): 120 creates per user per minute, so 4 workers per
    # account create at most 25 keys each; keys are only probed on /mcp while active (each
    # refused key counts toward the address's 30 failures a minute).
    workers = [
        Worker(f"k{n}", SignedInSession(first.url, users[n % 2]), seed=100 + n, stop=stop, errors=errors,
               max_creates=25, probe_deactivated=False, on_ack=acked.release)
        for n in range(8)
    ]
    for worker in workers:
        worker.start()
    # Kill once enough changes are acknowledged, while every worker still has requests going.
    for _ in range(250):
        assert acked.acquire(timeout=30), "the workers stopped acknowledging:\n" + "\n".join(errors[:10])
    first.kill()
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
        assert not worker.is_alive(), f"{worker.name} still running"
    assert not errors, "\n".join(errors[:30])

    assert integrity(db_path) == "ok"
    second = hub_processes(db_path)
    total = sum(w.ledger.acked for w in workers)
    in_flight = sum(len(w.ledger.in_flight) + bool(w.ledger.in_flight_create) for w in workers)
    print(f"\nacknowledged before SIGKILL: {total}; in flight at the kill: {in_flight}")
    for creds in users:
        mine = [w for w in workers if w.creds.email == creds.email]
        check_ledgers(hub_keys(second.url, creds), mine, crashed=True)
    # A key acknowledged as active still works on the restarted hub.
    survivor = next(s for w in workers for k, s in w.ledger.keys.items()
                    if s.exists and s.status == "active" and k not in w.ledger.in_flight)
    assert mcp_call(second.url, survivor.secret, "whoami")["key_label"] == survivor.label
    output = first.stop() + second.stop()
    assert "Traceback" not in output, output
    assert not find_plaintext_secrets(output.encode())
    assert integrity(db_path) == "ok"
