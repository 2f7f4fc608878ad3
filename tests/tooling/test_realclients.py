"""The AI clients themselves, against the local hub on loopback (``pytest -m realclients``).

Each test runs a client's own program, installed from npm by ``scripts/realclients.py``
(pinned in tests/realclients/), in a scratch HOME, bounded by a timeout, on the config
phhub-keys printed or wrote, and proves two things: with an active key the client
connects (and where it can, lists the tools and calls ``whoami``); with the same key
deactivated it fails, and where the client shows the server's words, they are the hub's
reason (``mcp_gate.UNUSABLE_KEY``).

Without the npm tools these tests are skipped, except in CI (``CI`` set), where a
missing install is a failure: ``.ci/run`` installs them before ``dev.py test``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phhub_keys.hub.mcp_gate import UNUSABLE_KEY

pytestmark = [pytest.mark.realclients, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
REASON = UNUSABLE_KEY  # what the hub says about a deactivated key, wherever a client shows it
NAME = "performance-hub"


def _installer() -> Any:
    spec = importlib.util.spec_from_file_location("realclients", ROOT / "scripts" / "realclients.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tools() -> Path:
    """The folder holding node_modules/.bin with the clients (PHHUB_REALCLIENTS_DIR, or the
    default cache folder under the real home: conftest points XDG_CACHE_HOME elsewhere)."""
    installer = _installer()
    folder = Path(os.environ.get("PHHUB_REALCLIENTS_DIR") or
                  Path.home() / ".cache" / "phhub-keys" / "realclients" / installer.pin_hash())
    if not (folder / installer.STAMP).is_file():
        message = f"the real clients are not in {folder}: run python3 scripts/realclients.py install"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


def bin_path(tools: Path) -> str:
    return str(tools / "node_modules" / ".bin")


def scratch_env(tools: Path, home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: the pinned node first on PATH, a scratch HOME, nothing inherited."""
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": f"{bin_path(tools)}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            "NO_COLOR": "1", "CI": "1",
            # Claude Code: no update checks or telemetry (the machine reaches no outside host anyway).
            "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", **extra}


def run(argv: list[str], env: dict[str, str], *, cwd: Path | None = None, timeout: float = 120,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          input=stdin if stdin is not None else "", check=False)


class JsonRpcPipe:
    """A JSON-RPC peer over a child's stdin/stdout (one JSON object per line), in its own
    process group so the whole tree (npx -> node) goes when we are done."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, stderr: Path) -> None:
        self._err = stderr.open("w")
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._err, text=True, start_new_session=True)
        self.stderr_path = stderr

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def request(self, id_: int, method: str, params: dict[str, Any] | None = None,
                timeout: float = 60) -> dict[str, Any] | None:
        """The response to request ``id_``; None when the child ended first."""
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            body["params"] = params
        try:
            self.send(body)
        except BrokenPipeError:
            return None
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if not ready:
                continue
            line = self.proc.stdout.readline()
            if not line:
                return None
            message = json.loads(line)
            if message.get("id") == id_:
                return message
        raise AssertionError(f"no answer to {method} within {timeout} s; stderr: {self.stderr()[-2000:]}")

    def stderr(self) -> str:
        self._err.flush()
        return self.stderr_path.read_text(errors="replace")

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._err.close()


@pytest.fixture
def account(signed_in_session) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    yield signed_in_session


def new_key(session: Any, label: str) -> tuple[str, str]:
    created = session.create_key(label)
    return created["key"]["id"], created["secret"]


def deactivate(session: Any, key_id: str) -> None:
    response = session.post(session.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10)
    assert response.status_code == 200, response.text


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``phhub-keys ARGV`` as a user runs it (a real subprocess, with a scratch HOME when given)."""
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "phhub_keys", *argv], capture_output=True, text=True,
                          timeout=60, env=full, check=False, cwd=ROOT)


def server_url(hub: Any) -> str:
    return f"{hub.url}/mcp"


# ---------------------------------------------------------------- Claude Code


def test_claude_code(tools: Path, hub: Any, account: Any, tmp_path: Path) -> None:
    """The printed `claude mcp add` command, run in a shell as printed; `claude mcp list`
    says Connected; ~/.claude.json holds the variable, never the key; deactivated -> the
    hub's reason in `claude mcp list`."""
    key_id, key = new_key(account, "claude code")
    home = tmp_path / "home"
    printed = cli("setup", "claude-code", "--url", server_url(hub))
    assert printed.returncode == 0, printed.stderr
    env = scratch_env(tools, home, PHHUB_MCP_KEY=key)
    added = run(["bash", "-c", printed.stdout], env, cwd=home)
    assert added.returncode == 0, added.stderr + added.stdout
    config = (home / ".claude.json").read_text()
    assert key not in config and "phk_" not in config.replace("${PHHUB_MCP_KEY}", "")
    entry = json.loads(config)["mcpServers"][NAME]
    assert entry == {"type": "http", "url": server_url(hub),
                     "headers": {"Authorization": "Bearer ${PHHUB_MCP_KEY}"}}
    listed = run(["claude", "mcp", "list"], env, cwd=home, timeout=120)
    assert f"{NAME}: {server_url(hub)} (HTTP) - ✔ Connected" in listed.stdout, listed.stdout + listed.stderr
    assert key not in listed.stdout + listed.stderr
    deactivate(account, key_id)
    refused = run(["claude", "mcp", "list"], env, cwd=home, timeout=120)
    assert "Failed to connect" in refused.stdout, refused.stdout
    assert REASON in refused.stdout  # Claude Code shows the hub's own words
    assert key not in (home / ".claude.json").read_text()


def test_claude_code_project_file(tools: Path, hub: Any, account: Any, tmp_path: Path) -> None:
    """The written .mcp.json is a server Claude Code knows (its "type": "http" is required)."""
    _key_id, key = new_key(account, "claude code project")
    home, project = tmp_path / "home", tmp_path / "project"
    project.mkdir()
    written = cli("setup", "claude-code", "--project", str(project), "--install", "--url", server_url(hub))
    assert written.returncode == 0, written.stderr
    env = scratch_env(tools, home, PHHUB_MCP_KEY=key)
    got = run(["claude", "mcp", "get", NAME], env, cwd=project, timeout=120)
    text = got.stdout + got.stderr
    assert "Project config" in text and server_url(hub) in text, text
    assert key not in text


# ---------------------------------------------------------------- Codex CLI


def codex_status(tools: Path, env: dict[str, str], home: Path, tmp_path: Path,
                 label: str, wait_for: str | None = None) -> tuple[dict, dict | None, str]:
    """(mcpServerStatus/list result, whoami tool result or None, stderr) from `codex app-server`
    (whoami is called when the server listed its tools)."""
    codex = str(Path(bin_path(tools)) / "codex")
    pipe = JsonRpcPipe([codex, "app-server"], env, home, tmp_path / f"codex-{label}.err")
    try:
        init = pipe.request(0, "initialize", {"clientInfo": {"name": "phhub-keys-tests", "version": "1"}})
        assert init is not None and "result" in init, pipe.stderr()[-2000:]
        pipe.send({"method": "initialized"})
        status = pipe.request(1, "mcpServerStatus/list", {})
        assert status is not None and "result" in status, status
        called = None
        if any(entry["tools"] for entry in status["result"]["data"]):
            thread = pipe.request(2, "thread/start", {"ephemeral": True, "cwd": str(home)})
            assert thread is not None and "result" in thread, thread
            thread_id = thread["result"]["thread"]["id"]
            called = pipe.request(3, "mcpServer/tool/call", {
                "server": NAME, "threadId": thread_id, "tool": "whoami", "arguments": {}})
        deadline = time.monotonic() + 20
        while wait_for and wait_for not in pipe.stderr() and time.monotonic() < deadline:
            time.sleep(0.2)  # Codex logs the failed connection on its own schedule
        return status["result"], called, pipe.stderr()
    finally:
        pipe.close()


def test_codex(tools: Path, hub: Any, account: Any, tmp_path: Path) -> None:
    """The written config.toml read by `codex mcp list --json`; `codex app-server` connects,
    lists the tools and calls whoami (no OpenAI sign-in is needed for MCP)."""
    key_id, key = new_key(account, "codex")
    home = tmp_path / "home"
    config = home / ".codex" / "config.toml"
    written = cli("setup", "codex", "--install", "--file", str(config), "--url", server_url(hub))
    assert written.returncode == 0, written.stderr
    env = scratch_env(tools, home, PHHUB_MCP_KEY=key)
    listed = run(["codex", "mcp", "list", "--json"], env, cwd=home)
    assert listed.returncode == 0, listed.stderr
    (server,) = json.loads(listed.stdout)
    assert server["name"] == NAME and server["enabled"] is True
    assert server["transport"]["url"] == server_url(hub)
    assert server["transport"]["bearer_token_env_var"] == "PHHUB_MCP_KEY"
    assert server["auth_status"] == "bearer_token"

    status, called, _ = codex_status(tools, env, home, tmp_path, "active")
    (entry,) = status["data"]
    assert entry["name"] == NAME and entry["serverInfo"]["name"] == "phhub-keys"
    assert {"whoami", "list_facilities"} <= set(entry["tools"])
    assert called is not None and called["result"]["structuredContent"]["key_label"] == "codex"

    deactivate(account, key_id)
    # Codex logs the 401's challenge, whose error_description is the hub's reason.
    shown = f'error_description=\\"{REASON}\\"'
    status, called, stderr = codex_status(tools, env, home, tmp_path, "deactivated", wait_for=shown)
    (entry,) = status["data"]
    assert entry["tools"] == {} and called is None, entry
    assert shown in stderr, stderr[-3000:]


# ---------------------------------------------------------------- Gemini CLI


def test_gemini(tools: Path, hub: Any, account: Any, tmp_path: Path) -> None:
    """The written ~/.gemini/settings.json is what `gemini mcp add` writes, and `gemini mcp
    list` says Connected (the scratch folder trusted with GEMINI_CLI_TRUST_WORKSPACE)."""
    key_id, key = new_key(account, "gemini")
    home, project = tmp_path / "home", tmp_path / "home" / "project"
    project.mkdir(parents=True)
    written = cli("setup", "gemini", "--install", "--url", server_url(hub), env={"HOME": str(home)})
    assert written.returncode == 0, written.stderr
    env = scratch_env(tools, home, PHHUB_MCP_KEY=key, GEMINI_CLI_TRUST_WORKSPACE="true")
    ours = json.loads((home / ".gemini" / "settings.json").read_text())
    # Gemini CLI's own command writes the very same entry.
    other_home = tmp_path / "other"
    added = run(["gemini", "mcp", "add", "-s", "user", "-t", "http", NAME, server_url(hub),
                 "-H", "Authorization: Bearer ${PHHUB_MCP_KEY}"], scratch_env(tools, other_home,
                 GEMINI_CLI_TRUST_WORKSPACE="true"), cwd=project, timeout=120)
    assert added.returncode == 0, added.stderr
    theirs = json.loads((other_home / ".gemini" / "settings.json").read_text())
    assert theirs["mcpServers"] == ours["mcpServers"]

    listed = run(["gemini", "mcp", "list"], env, cwd=project, timeout=120)
    shown = listed.stdout + listed.stderr  # Gemini CLI prints the list on stderr
    assert f"✓ {NAME}: {server_url(hub)} (http) - Connected" in shown, shown
    deactivate(account, key_id)
    refused = run(["gemini", "mcp", "list"], env, cwd=project, timeout=120)
    shown = refused.stdout + refused.stderr
    assert f"✗ {NAME}: {server_url(hub)} (http) - Disconnected" in shown, shown  # it shows no reason


# ---------------------------------------------------------------- mcp-remote (Claude Desktop)


def test_mcp_remote_as_claude_desktop_runs_it(tools: Path, hub: Any, account: Any, tmp_path: Path) -> None:
    """The written Claude Desktop entry, its command, args and env exactly (the key put in
    AUTH_HEADER as the user does), spoken to over stdio like Claude Desktop."""
    key_id, key = new_key(account, "claude desktop")
    home = tmp_path / "home"
    config = home / ".config" / "Claude" / "claude_desktop_config.json"
    written = cli("setup", "claude-desktop", "--install", "--embed-key", "--file", str(config),
                  "--url", server_url(hub), env={"PHHUB_MCP_KEY": key})
    assert written.returncode == 0, written.stderr
    entry = json.loads(config.read_text())["mcpServers"][NAME]
    assert entry["env"] == {"AUTH_HEADER": f"Bearer {key}"}

    def session(label: str) -> tuple[list[dict | None], str]:
        env = {**scratch_env(tools, home), **entry["env"], "npm_config_offline": "true"}
        command = shutil.which(entry["command"], path=env["PATH"])
        assert command, "npx not found"
        # cwd: the folder whose node_modules has the pinned mcp-remote, so npx runs it offline.
        pipe = JsonRpcPipe([command, *entry["args"]], env, tools, tmp_path / f"mcp-remote-{label}.err")
        try:
            answers = [pipe.request(0, "initialize", {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "claude-ai", "version": "0.1.0"}}, timeout=90)]
            if answers[0] is not None:
                pipe.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
                answers.append(pipe.request(1, "tools/list", {}))
                answers.append(pipe.request(2, "tools/call", {"name": "whoami", "arguments": {}}))
            time.sleep(0.5)
            return answers, pipe.stderr()
        finally:
            pipe.close()

    (init, tools_list, whoami), _ = session("active")
    assert init is not None and init["result"]["serverInfo"]["name"] == "phhub-keys"
    assert tools_list is not None and {t["name"] for t in tools_list["result"]["tools"]} >= {"whoami"}
    assert whoami is not None and whoami["result"]["structuredContent"]["key_label"] == "claude desktop"

    deactivate(account, key_id)
    answers, stderr = session("deactivated")
    assert answers[-1] is None or "error" in answers[-1]
    # mcp-remote ends with the hub's OAuth-discovery answer, which carries the /mcp reason.
    assert "This hub signs in with MCP keys only" in stderr, stderr[-3000:]
    assert f"The key sent from your address was refused: {REASON}" in stderr
    assert "There is nothing at this address" not in stderr


# ---------------------------------------------------------------- MCP Inspector (CLI mode)


def test_inspector_cli(tools: Path, hub: Any, account: Any, tmp_path: Path) -> None:
    key_id, key = new_key(account, "inspector")
    env = scratch_env(tools, tmp_path / "home")
    base = ["mcp-inspector", "--cli", server_url(hub), "--transport", "http", "--stored-auth-only",
            "--header", f"Authorization: Bearer {key}"]
    listed = run([*base, "--method", "tools/list"], env, timeout=120)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert {t["name"] for t in json.loads(listed.stdout)["tools"]} >= {"whoami", "list_facilities"}
    called = run([*base, "--method", "tools/call", "--tool-name", "whoami"], env, timeout=120)
    assert json.loads(called.stdout)["structuredContent"]["key_label"] == "inspector"
    deactivate(account, key_id)
    refused = run([*base, "--method", "tools/list"], env, timeout=120)
    assert refused.returncode != 0
    assert REASON in refused.stdout + refused.stderr


# ---------------------------------------------------------------- TypeScript SDK on the written files


@pytest.mark.parametrize("client", ["cursor", "vscode", "windsurf", "zed", "cline", "lmstudio"])
def test_typescript_sdk_reads_the_written_file(tools: Path, hub: Any, account: Any, tmp_path: Path,
                                               client: str) -> None:
    """The file phhub-keys wrote for the client, read as that client reads it (its variable
    syntax resolved as it resolves it), connected with @modelcontextprotocol/sdk: whoami."""
    key_id, key = new_key(account, client)
    config = tmp_path / f"{client}.json"
    written = cli("setup", client, "--install", "--file", str(config), "--url", server_url(hub))
    assert written.returncode == 0, written.stderr
    assert key not in config.read_text()
    script = tools / "sdk_client.mjs"  # beside node_modules, so its imports resolve
    shutil.copyfile(ROOT / "tests" / "realclients" / "sdk_client.mjs", script)
    env = scratch_env(tools, tmp_path / "home", PHHUB_MCP_KEY=key, PHHUB_PROMPT_ANSWER=key,
                      PHHUB_PLACEHOLDER_KEY=key)
    node = str(Path(bin_path(tools)) / "node")
    ok = run([node, str(script), client, str(config), NAME], env, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["whoami"]["key_label"] == client
    deactivate(account, key_id)
    refused = run([node, str(script), client, str(config), NAME], env, timeout=60)
    assert refused.returncode == 1
    assert REASON in json.loads(refused.stdout)["error"]
