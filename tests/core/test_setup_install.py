"""'Add to <client>': merging into existing config files keeps everything else, safely."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phhub_keys.core import client_setup as cs
from phhub_keys.core import config_install as ci
from phhub_keys.core import jsonc
from phhub_keys.core.keyformat import generate_key

URL = "http://127.0.0.1:8750/mcp"
NOW = datetime(2026, 11, 27, 10, 4, 5, tzinfo=UTC)


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".phhub-backup-*"))


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("client", "platform", "expected"),
    [
        ("cursor", "linux", "/home/u/.cursor/mcp.json"),
        ("cursor", "win32", "/home/u/.cursor/mcp.json"),
        ("windsurf", "darwin", "/home/u/.codeium/windsurf/mcp_config.json"),
        ("codex", "linux", "/home/u/.codex/config.toml"),
        ("claude-desktop", "darwin", "/home/u/Library/Application Support/Claude/claude_desktop_config.json"),
        ("claude-desktop", "win32", "/appdata/Claude/claude_desktop_config.json"),
        ("claude-desktop", "linux", "/xdg/Claude/claude_desktop_config.json"),
        ("vscode", "darwin", "/home/u/Library/Application Support/Code/User/mcp.json"),
        ("vscode", "win32", "/appdata/Code/User/mcp.json"),
        ("vscode", "linux", "/xdg/Code/User/mcp.json"),
    ],
)
def test_config_paths_per_os(client: str, platform: str, expected: str) -> None:
    env = {"APPDATA": "/appdata", "XDG_CONFIG_HOME": "/xdg"}
    assert ci.config_path(client, platform=platform, env=env, home=Path("/home/u")) == Path(expected)


def test_linux_without_xdg_uses_dot_config_and_codex_home_is_honoured() -> None:
    home = Path("/home/u")
    assert ci.config_path("claude-desktop", platform="linux", env={}, home=home) == Path(
        "/home/u/.config/Claude/claude_desktop_config.json"
    )
    codex = ci.config_path("codex", platform="linux", env={"CODEX_HOME": "/c"}, home=home)
    assert codex == Path("/c/config.toml")


def test_clients_without_files_are_refused() -> None:
    with pytest.raises(ci.ConfigInstallError, match="copy its snippet"):
        ci.config_path("claude-code")
    with pytest.raises(ci.ConfigInstallError):
        ci.install(cs.generate("openai", URL), Path("/nonexistent/x.json"))


# ---------------------------------------------------------------- new files


@pytest.mark.parametrize("client", ["cursor", "claude-desktop", "vscode", "windsurf", "codex"])
def test_install_creates_a_missing_file_and_folders(tmp_path: Path, client: str) -> None:
    path = tmp_path / "deep" / "dir" / ("config.toml" if client == "codex" else "mcp.json")
    snippet = cs.generate(client, URL)
    result = ci.install(snippet, path)
    assert result.action == "created" and result.backup is None
    text = path.read_text()
    data = tomllib.loads(text) if client == "codex" else json.loads(text)
    assert data[snippet.client.container_key]["performance-hub"] == snippet.entry
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ---------------------------------------------------------------- JSON with other servers


CURSOR_EXISTING = """{
    "mcpServers": {
        "github": {
            "url": "https://api.githubcopilot.com/mcp/",
            "headers": {"Authorization": "Bearer ghp_other_secret"}
        },
        "local": {"command": "uvx", "args": ["mcp-server-git"]}
    },
    "someOtherSetting": [1, 2, 3]
}
"""


def test_cursor_merge_keeps_other_servers_and_formatting(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(CURSOR_EXISTING)
    os.chmod(path, 0o640)
    snippet = cs.generate("cursor", URL)
    result = ci.install(snippet, path, now=NOW)
    assert result.action == "added"
    assert result.backup == tmp_path / "mcp.json.phhub-backup-20261127-100405"
    assert result.backup.read_text() == CURSOR_EXISTING
    assert stat.S_IMODE(result.backup.stat().st_mode) == 0o600
    text = path.read_text()
    data = json.loads(text)
    before = json.loads(CURSOR_EXISTING)
    assert data["mcpServers"]["github"] == before["mcpServers"]["github"]
    assert data["mcpServers"]["local"] == before["mcpServers"]["local"]
    assert data["someOtherSetting"] == [1, 2, 3]
    assert data["mcpServers"]["performance-hub"] == snippet.entry
    # The original text is still there, verbatim, with its 4-space indentation.
    assert text.startswith(CURSOR_EXISTING.split('        "local"')[0])
    assert '        "local": {"command": "uvx", "args": ["mcp-server-git"]},\n' in text
    assert '        "performance-hub": {\n            "url": ' in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # no secret added: the user's mode stays


def test_crlf_and_tabs_and_bom_are_preserved(tmp_path: Path) -> None:
    path = tmp_path / "mcp_config.json"
    original = '{\r\n\t"mcpServers": {\r\n\t\t"x": {"serverUrl": "https://x/mcp"}\r\n\t}\r\n}\r\n'
    path.write_bytes(b"\xef\xbb\xbf" + original.encode())
    ci.install(cs.generate("windsurf", URL), path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode()
    assert "\n" not in text.replace("\r\n", "")  # every line ending is still CRLF
    assert '\t\t"performance-hub": {\r\n\t\t\t"serverUrl": ' in text
    assert json.loads(text)["mcpServers"]["x"] == {"serverUrl": "https://x/mcp"}


def test_embedding_a_key_makes_the_file_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text('{"mcpServers": {}}\n')
    os.chmod(path, 0o644)
    key = generate_key()
    ci.install(cs.generate("claude-desktop", URL, secret=key), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entry = json.loads(path.read_text())["mcpServers"]["performance-hub"]
    assert entry["env"]["AUTH_HEADER"] == f"Bearer {key}"


def test_json_without_the_container_gets_one(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text('{"globalShortcut": "Ctrl+Space"}')
    ci.install(cs.generate("claude-desktop", URL), path)
    data = json.loads(path.read_text())
    assert data["globalShortcut"] == "Ctrl+Space"
    assert list(data["mcpServers"]) == ["performance-hub"]


# ---------------------------------------------------------------- JSONC (VS Code)


VSCODE_EXISTING = """// User MCP servers
{
    /* the servers */
    "servers": {
        "git": {
            "type": "stdio",
            "command": "uvx", // run via uv
            "args": ["mcp-server-git"],
        },
    },
    "inputs": [
        {"type": "promptString", "id": "gh-token", "description": "GitHub", "password": true},
    ],
}
"""


def test_vscode_jsonc_merge_keeps_comments_and_trailing_commas(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(VSCODE_EXISTING)
    snippet = cs.generate("vscode", URL)
    assert ci.install(snippet, path).action == "added"
    text = path.read_text()
    for comment in ("// User MCP servers", "/* the servers */", "// run via uv"):
        assert comment in text
    data = jsonc.loads(text, comments=True)
    assert data["servers"]["git"]["args"] == ["mcp-server-git"]
    assert data["servers"]["performance-hub"] == snippet.entry
    assert [i["id"] for i in data["inputs"]] == ["gh-token", "phhub-mcp-key"]
    assert data["inputs"][1]["password"] is True
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)  # still JSONC: we did not rewrite it as plain JSON
    # A second run changes nothing and makes no backup.
    count = len(backups(path))
    assert ci.install(snippet, path).action == "unchanged"
    assert len(backups(path)) == count


def test_comments_are_refused_where_the_client_does_not_allow_them(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(VSCODE_EXISTING.replace('"servers"', '"mcpServers"'))
    before = path.read_bytes()
    with pytest.raises(ci.ConfigParseError, match="comments are not allowed"):
        ci.install(cs.generate("cursor", URL), path)
    assert path.read_bytes() == before
    assert backups(path) == []


# ---------------------------------------------------------------- TOML (Codex)


CODEX_EXISTING = """# Codex settings
model = "o3"  # favourite

[mcp_servers.docs]
url = "https://developers.openai.com/mcp"  # public docs

[mcp_servers.git]
command = "uvx"
args = ["mcp-server-git"]

[profiles.fast]
model = "o4-mini"
"""


def test_codex_merge_keeps_comments_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CODEX_EXISTING)
    snippet = cs.generate("codex", URL)
    assert ci.install(snippet, path).action == "added"
    text = path.read_text()
    for line in CODEX_EXISTING.splitlines():
        assert line in text  # every original line, comments included, is still there
    data = tomllib.loads(text)
    before = tomllib.loads(CODEX_EXISTING)
    assert data["profiles"] == before["profiles"] and data["model"] == "o3"
    assert data["mcp_servers"]["docs"] == before["mcp_servers"]["docs"]
    assert data["mcp_servers"]["git"] == before["mcp_servers"]["git"]
    assert data["mcp_servers"]["performance-hub"] == {"url": URL, "bearer_token_env_var": "PHHUB_MCP_KEY"}
    assert "[mcp_servers.performance-hub]" in text


@pytest.mark.parametrize(
    "source",
    [
        'mcp_servers.other.url = "https://x/mcp"\nmodel = "a"\n',
        'mcp_servers = { other = { url = "x" } }\nmodel = "a"\n',
    ],
)
def test_codex_merge_with_dotted_or_inline_container_keeps_meaning(tmp_path: Path, source: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(source)
    ci.install(cs.generate("codex", URL), path)
    data = tomllib.loads(path.read_text())
    assert data["model"] == "a"  # not captured by a new [section]
    assert set(data["mcp_servers"]) == {"other", "performance-hub"}


def test_codex_replace_same_name(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CODEX_EXISTING + '\n[mcp_servers.performance-hub]\nurl = "http://old/mcp"\n')
    with pytest.raises(ci.EntryExists):
        ci.install(cs.generate("codex", URL), path)
    assert ci.install(cs.generate("codex", URL), path, replace=True).action == "replaced"
    data = tomllib.loads(path.read_text())
    assert data["mcp_servers"]["performance-hub"]["url"] == URL
    assert data["profiles"]["fast"]["model"] == "o4-mini"


# ---------------------------------------------------------------- refusals and same names


@pytest.mark.parametrize(
    ("client", "name", "content"),
    [
        ("cursor", "mcp.json", '{"mcpServers": {"a": 1,,}}'),
        ("cursor", "mcp.json", '{"mcpServers": '),
        ("cursor", "mcp.json", "[1, 2]"),
        ("cursor", "mcp.json", '{"mcpServers": ["not", "an", "object"]}'),
        ("vscode", "mcp.json", '{"servers": {} /* never closed'),
        ("windsurf", "mcp_config.json", '{"mcpServers": {}} trailing'),
        ("codex", "config.toml", "[mcp_servers\nurl = 1\n"),
        ("codex", "config.toml", 'mcp_servers = "a string"\n'),
    ],
)
def test_unparseable_files_are_refused_and_untouched(
    tmp_path: Path, client: str, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    # An earlier backup must not be clobbered either.
    earlier = tmp_path / f"{name}.phhub-backup-20261127-100405"
    earlier.write_text("earlier backup")
    mtime = path.stat().st_mtime_ns
    with pytest.raises(ci.ConfigParseError) as info:
        ci.install(cs.generate(client, URL), path, now=NOW)
    assert "left untouched" in str(info.value)
    assert path.read_text() == content and path.stat().st_mtime_ns == mtime
    assert backups(path) == [earlier] and earlier.read_text() == "earlier backup"


def test_non_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_bytes(b'{"mcpServers": {"x": "\xff\xfe"}}')
    with pytest.raises(ci.ConfigParseError, match="not UTF-8"):
        ci.install(cs.generate("cursor", URL), path)


def test_same_name_is_reported_then_replaced_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    old = {"mcpServers": {"performance-hub": {"url": "http://old/mcp"}, "x": {"url": "y"}}}
    path.write_text(json.dumps(old))
    snippet = cs.generate("cursor", URL)
    assert ci.has_entry(path, snippet)
    before = path.read_bytes()
    with pytest.raises(ci.EntryExists) as info:
        ci.install(snippet, path)
    assert info.value.name == "performance-hub"
    assert path.read_bytes() == before and backups(path) == []
    result = ci.install(snippet, path, replace=True, now=NOW)
    assert result.action == "replaced"
    assert result.backup is not None and result.backup.read_bytes() == before
    data = json.loads(path.read_text())
    assert data["mcpServers"]["performance-hub"] == snippet.entry
    assert data["mcpServers"]["x"] == {"url": "y"}


def test_backups_never_overwrite_each_other(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {}}')
    ci.install(cs.generate("cursor", URL), path, now=NOW)
    ci.install(cs.generate("cursor", "http://127.0.0.1:9/mcp"), path, replace=True, now=NOW)
    ci.install(cs.generate("cursor", "http://127.0.0.1:10/mcp"), path, replace=True, now=NOW)
    names = [p.name for p in backups(path)]
    assert names == [
        "mcp.json.phhub-backup-20261127-100405",
        "mcp.json.phhub-backup-20261127-100405-1",
        "mcp.json.phhub-backup-20261127-100405-2",
    ]
    assert "127.0.0.1:9/" in (tmp_path / names[2]).read_text()


def test_a_symlinked_config_updates_the_real_file(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "mcp.json"
    real.parent.mkdir()
    real.write_text('{"mcpServers": {}}')
    link = tmp_path / "mcp.json"
    link.symlink_to(real)
    ci.install(cs.generate("cursor", URL), link)
    assert link.is_symlink()
    assert "performance-hub" in json.loads(real.read_text())["mcpServers"]


# ---------------------------------------------------------------- the splicer itself


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    other=st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=4),
    servers=st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=3),
    indent=st.sampled_from([None, 2, 4, "\t"]),
)
def test_json_merge_property(tmp_path: Path, other: dict, servers: dict, indent) -> None:
    other = {k: v for k, v in other.items() if k != "mcpServers"}
    servers = {k: v for k, v in servers.items() if k != "performance-hub"}
    original = {**other, "mcpServers": servers}
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(original, indent=indent, ensure_ascii=False))
    snippet = cs.generate("cursor", URL)
    ci.install(snippet, path)
    after = json.loads(path.read_text())
    assert after == {**other, "mcpServers": {**servers, "performance-hub": snippet.entry}}
    for p in backups(path):
        p.unlink()


def test_jsonc_errors_name_line_and_column() -> None:
    with pytest.raises(jsonc.JsoncError, match=r"line 3, column 5"):
        jsonc.parse('{\n  "a": 1,\n    x\n}')
    assert jsonc.loads('{"a": [1, 2,],} // c', comments=True) == {"a": [1, 2]}
    with pytest.raises(jsonc.JsoncError, match="trailing comma"):
        jsonc.loads('{"a": 1,}')
