"""EmbeddedHub: starts on a free loopback port, stops cleanly even with an open MCP stream."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
import requests
import uvicorn
from fixtures_hub import SignedInSession, add_test_user, mcp_call, mcp_post_status

from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.settings import HubSettings

FAST = HubSettings(password_cost=2**8)


def test_start_stop_and_restart_on_the_same_database(tmp_path):
    db = tmp_path / "hub.db"
    with EmbeddedHub(db, settings=FAST) as hub:
        assert hub.port > 0 and hub.url == f"http://127.0.0.1:{hub.port}" and hub.db_path == db
        assert hub.public_url == hub.url
        creds = add_test_user(hub)
        created = SignedInSession(hub.url, creds).create_key("survives restart")
        first_port = hub.port
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{first_port}/openapi.json", timeout=2)
    with EmbeddedHub(db, settings=FAST) as again:
        s = SignedInSession(again.url, creds)
        listed = s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]
        assert [k["id"] for k in listed] == [created["key"]["id"]]
        assert mcp_call(again.url, created["secret"])["key_label"] == "survives restart"


def test_fixed_port_taken_raises_oserror(tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    try:
        hub = EmbeddedHub(tmp_path / "hub.db", port=blocker.getsockname()[1], settings=FAST)
        with pytest.raises(OSError):
            hub.start()
        hub.stop()  # harmless after a failed start
    finally:
        blocker.close()


def test_stop_is_idempotent_and_start_twice_is_refused(tmp_path):
    hub = EmbeddedHub(tmp_path / "hub.db", settings=FAST).start()
    with pytest.raises(RuntimeError):
        hub.start()
    hub.stop()
    hub.stop()


def test_stop_does_not_hang_on_an_open_mcp_stream(tmp_path):
    hub = EmbeddedHub(tmp_path / "hub.db", settings=FAST).start()
    thread = hub._thread
    s = SignedInSession(hub.url, add_test_user(hub))
    secret = s.create_key()["secret"]
    auth = {"Authorization": f"Bearer {secret}"}
    session_id = mcp_post_status(hub.url, auth).headers["mcp-session-id"]
    common = {**auth, "Mcp-Session-Id": session_id, "Mcp-Protocol-Version": "2025-11-25",
              "Accept": "application/json, text/event-stream"}
    requests.post(f"{hub.url}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                  headers=common, timeout=10)
    stream = requests.get(f"{hub.url}/mcp", headers={**common, "Accept": "text/event-stream"}, stream=True,
                          timeout=30)
    assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
    reader_done = threading.Event()

    def drain() -> None:
        try:
            for _ in stream.iter_content(chunk_size=None):
                pass
        except requests.RequestException:
            pass
        reader_done.set()

    threading.Thread(target=drain, daemon=True).start()
    hub.stop(timeout=10)
    assert thread is not None and not thread.is_alive()
    assert reader_done.wait(10)  # the server closed the stream
    stream.close()


def test_public_url_is_used_for_config(tmp_path):
    with EmbeddedHub(tmp_path / "hub.db", public_url="https://keys.example.org", settings=FAST) as hub:
        assert hub.public_url == "https://keys.example.org"
        s = SignedInSession(hub.url, add_test_user(hub))
        assert s.get(s.api("/mcp/config"), timeout=10).json()["server_url"] == "https://keys.example.org/mcp"


def test_start_gives_up_after_its_timeout_and_cleans_up(tmp_path, monkeypatch):
    from phhub_keys.hub import embedded

    async def never_ready(self: uvicorn.Server, sockets: object = None) -> None:
        # A start-up that does not finish until told to stop (a timeout of 0 alone raced a
        # server that started before the first check on a loaded machine).
        while not self.should_exit:
            await asyncio.sleep(0.01)

    with monkeypatch.context() as patch:
        patch.setattr(uvicorn.Server, "startup", never_ready)
        patch.setattr(embedded, "START_TIMEOUT", 0.3)
        hub = EmbeddedHub(tmp_path / "hub.db", settings=FAST)
        with pytest.raises(RuntimeError, match="did not start"):
            hub.start()
        assert hub._thread is None and hub._server is None
    with EmbeddedHub(tmp_path / "hub.db", port=0, settings=FAST) as again:
        assert requests.get(f"{again.url}/openapi.json", timeout=10).status_code == 200
