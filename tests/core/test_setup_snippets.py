"""Client snippets: each parses with its client's parser and has the documented shape."""

from __future__ import annotations

import base64
import json
import re
import shlex
import tomllib

import pytest

from phhub_keys.core import client_setup as cs
from phhub_keys.core.keyformat import generate_key

URL = "https://hub.example.com/mcp"
LOCAL = "http://127.0.0.1:8750/mcp"


def test_every_client_has_a_snippet_that_parses() -> None:
    for client_id in cs.client_ids():
        snippet = cs.generate(client_id, URL)
        fmt = snippet.client.format
        if fmt in ("json", "jsonc"):
            json.loads(snippet.text)  # what we emit is strict JSON even for JSONC clients
        elif fmt == "toml":
            tomllib.loads(snippet.text)
        elif fmt == "yaml":
            from ruamel.yaml import YAML

            assert isinstance(YAML(typ="safe", pure=True).load(snippet.text), dict)
        else:
            assert shlex.split(snippet.text)[0] == "claude"
        assert not snippet.embeds_secret
        assert not re.search(r"phk_[0-9A-Za-z]{36}", snippet.text)


def test_cursor_shape_uses_env_interpolation() -> None:
    data = json.loads(cs.generate("cursor", URL, name="hub").text)
    assert data == {
        "mcpServers": {"hub": {"url": URL, "headers": {"Authorization": "Bearer ${env:PHHUB_MCP_KEY}"}}}
    }


def test_cursor_embeds_the_key_only_when_given() -> None:
    key = generate_key()
    snippet = cs.generate("cursor", URL, secret=key)
    data = json.loads(snippet.text)
    assert data["mcpServers"]["performance-hub"]["headers"]["Authorization"] == f"Bearer {key}"
    assert snippet.embeds_secret
    assert key not in repr(snippet) and key not in str(snippet)


def test_cursor_deeplink_round_trips_and_never_carries_the_key() -> None:
    key = generate_key()
    snippet = cs.generate("cursor", URL, name="hub", secret=key)
    link = snippet.extra["deeplink"]
    assert link.startswith("cursor://anysphere.cursor-deeplink/mcp/install?")
    assert key not in link
    name, entry = cs.decode_cursor_deeplink(link)
    assert name == "hub"
    assert entry == {"url": URL, "headers": {"Authorization": "Bearer ${env:PHHUB_MCP_KEY}"}}
    # base64 of compact JSON, URL-encoded (the documented format)
    config = link.split("config=")[1]
    assert "=" not in config.replace("%3D", "")
    assert json.loads(base64.b64decode(config.replace("%3D", "=")))["url"] == URL


def test_claude_desktop_uses_mcp_remote_without_spaces_in_args() -> None:
    entry = json.loads(cs.generate("claude-desktop", URL).text)["mcpServers"]["performance-hub"]
    assert entry["command"] == "npx"
    assert entry["args"] == ["-y", "mcp-remote", URL, "--header", "Authorization:${AUTH_HEADER}"]
    assert all(" " not in arg for arg in entry["args"])
    assert entry["env"] == {"AUTH_HEADER": "Bearer YOUR_MCP_KEY"}
    key = generate_key()
    embedded = json.loads(cs.generate("claude-desktop", URL, secret=key).text)
    embedded = embedded["mcpServers"]["performance-hub"]
    assert embedded["env"] == {"AUTH_HEADER": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("url", "allow_http"),
    [(LOCAL, False), ("http://localhost:8750/mcp", False), ("https://h.example/mcp", False),
     ("http://[::1]:8750/mcp", True), ("http://10.0.0.5:8750/mcp", True)],
)
def test_claude_desktop_allow_http_only_where_mcp_remote_needs_it(url: str, allow_http: bool) -> None:
    # A plain-http hub on another computer needs the user's explicit allowance first (item 6 of
    # issue 10, tests/trust/test_trust_network.py); mcp-remote's own flag then follows its own rule.
    snippet = cs.generate("claude-desktop", url, allow_insecure_http=True)
    args = json.loads(snippet.text)["mcpServers"]["performance-hub"]["args"]
    assert ("--allow-http" in args) is allow_http


def test_claude_code_command_is_properly_quoted() -> None:
    text = cs.generate("claude-code", "https://hub.example.com/mcp?a=1&b=2", name="hub").text
    words = shlex.split(text)
    assert words[:8] == ["claude", "mcp", "add", "--transport", "http", "--scope", "user", "hub"]
    assert words[8] == "https://hub.example.com/mcp?a=1&b=2"  # '&' survives the shell
    assert words[9:] == ["--header", "Authorization: Bearer ${PHHUB_MCP_KEY}"]
    # Single quotes: the shell passes the reference on and Claude Code expands it when it
    # connects, so ~/.claude.json never holds the key (double quotes leaked it there).
    assert "'Authorization: Bearer ${PHHUB_MCP_KEY}'" in text
    key = generate_key()
    words = shlex.split(cs.generate("claude-code", URL, secret=key).text)
    assert words[-2:] == ["--header", f"Authorization: Bearer {key}"]


def test_vscode_prompts_for_the_key_with_a_password_input() -> None:
    data = json.loads(cs.generate("vscode", URL).text)
    assert data["inputs"] == [
        {
            "type": "promptString",
            "id": "phhub-mcp-key",
            "description": "Performance Hub MCP key (phk_…)",
            "password": True,
        }
    ]
    assert data["servers"]["performance-hub"] == {
        "type": "http",
        "url": URL,
        "headers": {"Authorization": "Bearer ${input:phhub-mcp-key}"},
    }
    key = generate_key()
    data = json.loads(cs.generate("vscode", URL, secret=key).text)
    assert "inputs" not in data
    assert data["servers"]["performance-hub"]["headers"]["Authorization"] == f"Bearer {key}"


def test_windsurf_uses_server_url() -> None:
    entry = json.loads(cs.generate("windsurf", URL).text)["mcpServers"]["performance-hub"]
    assert entry == {"serverUrl": URL, "headers": {"Authorization": "Bearer ${env:PHHUB_MCP_KEY}"}}


def test_codex_toml_uses_bearer_token_env_var() -> None:
    data = tomllib.loads(cs.generate("codex", URL).text)
    assert data == {"mcp_servers": {"performance-hub": {"url": URL, "bearer_token_env_var": "PHHUB_MCP_KEY"}}}
    key = generate_key()
    data = tomllib.loads(cs.generate("codex", URL, secret=key).text)
    assert data["mcp_servers"]["performance-hub"] == {
        "url": URL, "http_headers": {"Authorization": f"Bearer {key}"},
    }
    assert "bearer_token" not in data["mcp_servers"]["performance-hub"]


def test_openai_tool_uses_authorization_field() -> None:
    key = generate_key()
    data = json.loads(cs.generate("openai", URL, secret=key).text)
    assert data["type"] == "mcp"
    assert data["server_url"] == URL
    assert data["server_label"] == "performance_hub"
    assert data["authorization"] == key  # the bare key: OpenAI adds "Bearer"
    notes = cs.generate("openai", LOCAL).notes
    assert any("cannot reach" in note for note in notes)


def test_custom_env_var_and_name() -> None:
    data = json.loads(cs.generate("cursor", URL, name="my_hub-2", env_var="MY_KEY").text)
    assert data["mcpServers"]["my_hub-2"]["headers"]["Authorization"] == "Bearer ${env:MY_KEY}"


@pytest.mark.parametrize("name", ["", "2hub", "has space", "a/b", 'q"uote', "x" * 65, "ünï"])
def test_bad_server_names_are_refused(name: str) -> None:
    with pytest.raises(cs.SetupError, match="server name"):
        cs.generate("cursor", URL, name=name)


@pytest.mark.parametrize("url", ["", "ftp://x/mcp", "hub.example.com/mcp", "http:///mcp", "http://a b/mcp"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(cs.SetupError):
        cs.generate("cursor", url)


def test_unknown_client() -> None:
    with pytest.raises(cs.SetupError, match="Unknown client"):
        cs.generate("emacs", URL)
