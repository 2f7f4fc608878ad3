"""Times at the edge of the calendar: valid RFC 3339, but with no UTC datetime.

``0001-01-01T00:00:00+01:00`` is the last hour of year 0 in UTC and
``9999-12-31T23:59:59-01:00`` the first hour of year 10000: Python's datetime has
neither, and ``astimezone`` raised OverflowError where every caller of
``core.timestamps.parse_ts`` expects ValueError. So a create or expiry change
with one got a 500 from the hub, a CSV holding one made ``review`` print a
traceback, and a hub answer holding one escaped the client's bad-shape handling.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fixtures_hub import SignedInSession

from phhub_keys.api.client import HubClient
from phhub_keys.api.errors import ProtocolError
from phhub_keys.core.timestamps import parse_ts

EDGES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]


@pytest.mark.parametrize("text", EDGES)
def test_parse_ts_refuses_a_time_outside_utcs_years_with_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="outside the years"):
        parse_ts(text)


@pytest.mark.parametrize("text", EDGES)
def test_create_and_expiry_change_with_an_edge_time_are_422_not_500(signed_in_session: SignedInSession,
                                                                    text: str) -> None:
    s = signed_in_session
    created = s.post(s.api("/mcp/keys"), json={"label": "edge", "expires_at": text}, timeout=10)
    assert created.status_code == 422, created.text
    assert created.json()["error"] == {"code": "invalid_expiry", "rule": "format",
                                       "message": created.json()["error"]["message"]}
    key_id = s.create_key("target")["key"]["id"]
    changed = s.patch(s.api(f"/mcp/keys/{key_id}"), json={"expires_at": text}, timeout=10)
    assert changed.status_code == 422, changed.text
    assert changed.json()["error"]["rule"] == "format"
    keys = s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]
    assert [(k["label"], k["expires_at"]) for k in keys] == [("target", None)]


def test_review_of_a_csv_with_an_edge_time_names_the_line_instead_of_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "keys.csv"
    path.write_text("id,label,redacted,status,created_at,last_used_at,last_used_client,last_used_ip\r\n"
                    f"mk_0123456789abcdef,edge,phk_abcd...wxyz12,active,{EDGES[0]},,,\r\n", encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run([sys.executable, "-m", "phhub_keys", "review", str(path), "--summary"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    assert "line 2" in result.stderr and "not a timestamp" in result.stderr, result.stderr


class _HostileHub(BaseHTTPRequestHandler):
    date = "Fri, 31 Dec 9999 23:59:59 GMT"  # the last second Python's datetime has

    def do_GET(self) -> None:
        key = {"id": "mk_0123456789abcdef", "label": "x", "redacted": "phk_abcd...wxyz12", "status": "active",
               "created_at": EDGES[1], "last_used_at": None, "last_used_client": None, "last_used_ip": None,
               "deactivated_at": None}
        body = json.dumps({"keys": [key]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Date", self.date)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        return self.date  # send_response's own Date header says the same


@pytest.fixture
def hostile_hub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_hub_answer_with_an_edge_time_is_a_protocol_error(hostile_hub: str) -> None:
    with HubClient(hostile_hub, "phs_" + "a" * 43) as client, pytest.raises(ProtocolError):
        client.list_keys()


def test_a_hub_date_at_the_end_of_the_calendar_leaves_the_clients_time_usable(hostile_hub: str) -> None:
    """The client follows the hub's clock (its Date header); a Date of 9999-12-31 23:59:59 made
    hub_now() and every "now + 30 days" after it overflow. Such a Date is not a clock: ignored."""
    with HubClient(hostile_hub, "phs_" + "a" * 43) as client:
        with pytest.raises(ProtocolError):
            client.list_keys()  # the answer was read, Date included
        now = client.hub_now()
        assert abs((now - datetime.now(UTC)).total_seconds()) < 60
        assert now + timedelta(days=36500) > now
