"""The clients added for issue 11 (Gemini CLI, Claude Code project scope, Zed, Cline, Continue,
Goose, LM Studio, JetBrains): their shapes, and 'Add to' merging into real files of each format
(JSON, JSONC, YAML) with comments and unknown keys kept, idempotent, backed up, refusing files
it cannot parse. No npm needed: the real clients are run by tests/tooling/test_realclients.py."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from phhub_keys.core import client_setup as cs
from phhub_keys.core import config_install as ci
from phhub_keys.core import jsonc
from phhub_keys.core.keyformat import generate_key

URL = "http://127.0.0.1:8750/mcp"
NOW = datetime(2026, 11, 29, 19, 0, 0, tzinfo=UTC)


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".phhub-backup-*"))


def plain(path: Path, fmt: str) -> object:
    return ci.read_config(path, fmt)


# ---------------------------------------------------------------- the registry


def test_fourteen_clients_each_with_docs_and_a_builder() -> None:
    assert len(cs.CLIENTS) == 14
    for info in cs.CLIENTS.values():
        assert info.docs_url.startswith("https://")
        for scope in info.scopes:
            snippet = cs.generate(info.id, URL, scope=scope)
            assert snippet.scope == scope and snippet.text
            assert snippet.file_based == (info.file_based or scope == cs.PROJECT)
        if info.file_based:
            for platform in ("linux", "darwin", "win32"):
                assert cs.user_config_path(info.id, platform=platform, env={}, home=Path("/h")) is not None


@pytest.mark.parametrize(
    ("client", "platform", "expected"),
    [
        ("gemini", "linux", "/home/u/.gemini/settings.json"),
        ("gemini", "win32", "/home/u/.gemini/settings.json"),
        ("zed", "linux", "/xdg/zed/settings.json"),
        ("zed", "darwin", "/home/u/.config/zed/settings.json"),
        ("zed", "win32", "/appdata/Zed/settings.json"),
        ("cline", "linux",
         "/xdg/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"),
        ("cline", "win32",
         "/appdata/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"),
        ("continue", "darwin", "/home/u/.continue/config.yaml"),
        ("goose", "linux", "/xdg/goose/config.yaml"),
        ("goose", "darwin", "/home/u/.config/goose/config.yaml"),
        ("goose", "win32", "/appdata/Block/goose/config/config.yaml"),
        ("lmstudio", "linux", "/home/u/.lmstudio/mcp.json"),
    ],
)
def test_new_clients_config_paths_per_os(client: str, platform: str, expected: str) -> None:
    env = {"APPDATA": "/appdata", "XDG_CONFIG_HOME": "/xdg"}
    assert ci.config_path(client, platform=platform, env=env, home=Path("/home/u")) == Path(expected)


def test_project_paths_and_scopes() -> None:
    project = Path("/work/proj")
    assert ci.config_path("claude-code", scope=cs.PROJECT, project_dir=project) == project / ".mcp.json"
    gemini = ci.config_path("gemini", scope=cs.PROJECT, project_dir=project)
    assert gemini == project / ".gemini/settings.json"
    assert ci.config_path("continue", scope=cs.PROJECT, project_dir=project, name="hub") == (
        project / ".continue/mcpServers/hub.yaml"
    )
    with pytest.raises(ci.ConfigInstallError, match="project folder"):
        ci.config_path("gemini", scope=cs.PROJECT)
    with pytest.raises(ci.ConfigInstallError, match="no project"):
        ci.config_path("zed", scope=cs.PROJECT, project_dir=project)
    with pytest.raises(cs.SetupError, match="no 'project'"):
        cs.generate("zed", URL, scope=cs.PROJECT)
    with pytest.raises(ci.ConfigInstallError):  # JetBrains and OpenAI are pasted, never written
        ci.config_path("jetbrains")


# ---------------------------------------------------------------- shapes


def test_claude_code_command_keeps_the_variable_for_claude_code_to_expand(tmp_path: Path) -> None:
    """Run the printed command in a real shell with a stand-in ``claude`` that prints its
    arguments: the header must reach Claude Code as '${PHHUB_MCP_KEY}', not as the key."""
    text = cs.generate("claude-code", "https://hub.example.com/mcp?a=1&b=2", name="hub").text
    key = generate_key()
    script = "claude() { printf '%s\\n' \"$@\"; }\n" + text
    env = {"PATH": os.environ["PATH"], "PHHUB_MCP_KEY": key}
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=10,
                         check=True).stdout.splitlines()
    assert out == ["mcp", "add", "--transport", "http", "--scope", "user", "hub",
                   "https://hub.example.com/mcp?a=1&b=2",
                   "--header", "Authorization: Bearer ${PHHUB_MCP_KEY}"]
    assert key not in "\n".join(out)
    embedded = cs.generate("claude-code", URL, secret=key).text
    assert shlex.split(embedded)[-2:] == ["--header", f"Authorization: Bearer {key}"]


def test_claude_code_project_entry_needs_type_http() -> None:
    snippet = cs.generate("claude-code", URL, scope=cs.PROJECT)
    assert json.loads(snippet.text) == {"mcpServers": {"performance-hub": {
        "type": "http", "url": URL, "headers": {"Authorization": "Bearer ${PHHUB_MCP_KEY}"}}}}
    assert snippet.file_based and snippet.format == "json"
    assert any("approve" in note for note in snippet.notes)


def test_gemini_shape_and_trust_note() -> None:
    snippet = cs.generate("gemini", URL, env_var="MY_KEY")
    assert json.loads(snippet.text)["mcpServers"]["performance-hub"] == {
        "url": URL, "type": "http", "headers": {"Authorization": "Bearer ${MY_KEY}"}}
    assert any("trusted" in note for note in snippet.notes)
    assert cs.generate("gemini", URL, scope=cs.PROJECT).entry == cs.generate("gemini", URL).entry


def test_zed_cline_lmstudio_use_a_placeholder_or_the_key() -> None:
    zed = cs.generate("zed", URL)
    assert json.loads(zed.text) == {"context_servers": {"performance-hub": {
        "url": URL, "headers": {"Authorization": "Bearer YOUR_MCP_KEY"}}}}
    assert zed.needs_key and not zed.embeds_secret
    cline = cs.generate("cline", URL).entry
    assert cline is not None and cline["type"] == "streamableHttp" and cline["url"] == URL
    key = generate_key()
    for client in ("zed", "cline", "lmstudio", "goose"):
        snippet = cs.generate(client, URL, secret=key)
        assert snippet.embeds_secret and not snippet.needs_key
        assert key in snippet.text and cs.KEY_PLACEHOLDER not in snippet.text


def test_lmstudio_deeplink_round_trips_and_never_carries_the_key() -> None:
    key = generate_key()
    snippet = cs.generate("lmstudio", URL, name="hub", secret=key)
    link = snippet.extra["deeplink"]
    assert link.startswith("lmstudio://add_mcp?name=hub&config=")
    assert key not in link
    placeholder = {"Authorization": "Bearer YOUR_MCP_KEY"}
    assert cs.decode_deeplink(link) == ("hub", {"url": URL, "headers": placeholder})
    with pytest.raises(cs.SetupError):
        cs.decode_deeplink("https://example.com/?name=a&config=e30=")


def test_continue_yaml_shape() -> None:
    from ruamel.yaml import YAML

    snippet = cs.generate("continue", URL)
    data = YAML(typ="safe", pure=True).load(snippet.text)
    assert data["schema"] == "v1" and data["mcpServers"] == [{
        "name": "performance-hub", "type": "streamable-http", "url": URL,
        "requestOptions": {"headers": {"Authorization": "Bearer ${{ secrets.PHHUB_MCP_KEY }}"}}}]
    assert snippet.container_kind == "list"


def test_goose_yaml_shape() -> None:
    from ruamel.yaml import YAML

    data = YAML(typ="safe", pure=True).load(cs.generate("goose", URL).text)
    entry = data["extensions"]["performance-hub"]
    assert entry["type"] == "streamable_http" and entry["uri"] == URL and entry["enabled"] is True
    assert entry["headers"] == {"Authorization": "Bearer YOUR_MCP_KEY"}


def test_jetbrains_uses_mcp_remote_without_a_space_after_the_colon() -> None:
    snippet = cs.generate("jetbrains", URL)
    entry = json.loads(snippet.text)["mcpServers"]["performance-hub"]
    assert entry["args"][-2:] == ["--header", "Authorization:${AUTH_HEADER}"]
    assert entry["env"] == {"AUTH_HEADER": "Bearer YOUR_MCP_KEY"}
    assert not snippet.file_based
    with pytest.raises(ci.ConfigInstallError):
        ci.install(snippet, Path("/nonexistent/x.json"))


# ---------------------------------------------------------------- JSON / JSONC files


GEMINI_EXISTING = """{
  // Gemini CLI settings (comments are allowed here)
  "theme": "GitHub",
  "mcpServers": {
    "other": {"command": "uvx", "args": ["mcp-server-git"]},
  },
  "security": {"auth": {"selectedType": "gemini-api-key"}}
}
"""


@pytest.mark.parametrize(
    ("client", "scope", "existing", "fmt"),
    [
        ("gemini", cs.USER, GEMINI_EXISTING, "jsonc"),
        ("gemini", cs.PROJECT, GEMINI_EXISTING, "jsonc"),
        ("zed", cs.USER,
         '// Zed settings\n{\n  "vim_mode": true, // keep me\n  "context_servers": {\n'
         '    "x": {"url": "https://x/mcp"}\n  }\n}\n',
         "jsonc"),
        ("claude-code", cs.PROJECT,
         '{\n  "mcpServers": {\n    "git": {"command": "uvx"}\n  },\n  "extra": 1\n}\n', "json"),
        ("cline", cs.USER,
         '{\n\t"mcpServers": {\n\t\t"a": {"command": "node", "disabled": true}\n\t}\n}\n', "json"),
        ("lmstudio", cs.USER,
         '{"mcpServers": {"hf": {"url": "https://huggingface.co/mcp"}}, "z": [1]}', "json"),
    ],
)
def test_json_clients_merge_keep_comments_and_unknown_keys(
    tmp_path: Path, client: str, scope: str, existing: str, fmt: str
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(existing)
    before = jsonc.loads(existing, comments=fmt == "jsonc")
    snippet = cs.generate(client, URL, scope=scope)
    result = ci.install(snippet, path, now=NOW)
    assert result.action == "added" and result.backup is not None
    assert result.backup.read_text() == existing
    text = path.read_text()
    assert text.startswith(existing.split("{")[0])  # a leading comment is still first
    for line in existing.splitlines():
        if "// " in line:  # a comment line (not a URL)
            assert line in text
    after = plain(path, fmt)
    assert isinstance(after, dict)
    container = snippet.container
    assert after[container]["performance-hub"] == snippet.entry
    assert {k: v for k, v in after.items() if k != container} == {
        k: v for k, v in before.items() if k != container}
    assert {k: v for k, v in after[container].items() if k != "performance-hub"} == before[container]
    # Idempotent: the same entry again changes nothing and makes no backup.
    again = ci.install(snippet, path, now=NOW)
    assert again.action == "unchanged" and again.backup is None
    assert path.read_text() == text and len(backups(path)) == 1


@pytest.mark.parametrize("client", ["gemini", "zed", "cline", "lmstudio"])
def test_json_clients_create_and_replace(tmp_path: Path, client: str) -> None:
    path = tmp_path / "new" / "file.json"
    snippet = cs.generate(client, URL)
    assert ci.install(snippet, path).action == "created"
    fmt = snippet.format
    assert plain(path, fmt) == {snippet.container: {"performance-hub": snippet.entry}}
    other = cs.generate(client, "https://elsewhere.example/mcp")
    with pytest.raises(ci.EntryExists):
        ci.install(other, path, now=NOW)
    assert ci.install(other, path, replace=True, now=NOW).action == "replaced"
    data = plain(path, fmt)
    assert isinstance(data, dict) and data[snippet.container]["performance-hub"] == other.entry


@pytest.mark.parametrize(("client", "text"), [("gemini", '{"mcpServers": {'), ("cline", "// no\n{}"),
                                             ("zed", "[1, 2]"), ("lmstudio", '{"mcpServers": []}')])
def test_json_clients_refuse_unparseable_files(tmp_path: Path, client: str, text: str) -> None:
    path = tmp_path / "cfg.json"
    path.write_text(text)
    with pytest.raises(ci.ConfigParseError, match="left untouched"):
        ci.install(cs.generate(client, URL), path)
    assert path.read_text() == text and backups(path) == []


# ---------------------------------------------------------------- YAML files (ruamel.yaml)


GOOSE_EXISTING = """\
# goose config, edited by hand
GOOSE_PROVIDER: anthropic
GOOSE_MODEL: claude-sonnet-4   # my favourite
extensions:
  developer:
    enabled: true
    type: builtin
    name: developer
    timeout: 300
    bundled: true
  github:
    enabled: false
    type: stdio
    cmd: npx
    args:
    - -y
    - '@modelcontextprotocol/server-github'
    envs: {}
# trailing comment
"""


def test_goose_merge_keeps_comments_order_and_style(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOSE_EXISTING)
    before = plain(path, "yaml")
    snippet = cs.generate("goose", URL)
    result = ci.install(snippet, path, now=NOW)
    assert result.action == "added" and result.backup is not None
    text = path.read_text()
    for line in ("# goose config, edited by hand", "GOOSE_MODEL: claude-sonnet-4   # my favourite",
                 "    - -y", "    - '@modelcontextprotocol/server-github'", "# trailing comment"):
        assert line in text
    assert text.index("developer:") < text.index("github:") < text.index("performance-hub:")
    after = plain(path, "yaml")
    assert isinstance(after, dict) and isinstance(before, dict)
    assert after["extensions"]["performance-hub"] == snippet.entry
    assert {k: v for k, v in after["extensions"].items() if k != "performance-hub"} == before["extensions"]
    assert {k: v for k, v in after.items() if k != "extensions"} == {
        k: v for k, v in before.items() if k != "extensions"}
    assert ci.install(snippet, path, now=NOW).action == "unchanged"
    assert path.read_text() == text and len(backups(path)) == 1


CONTINUE_EXISTING = """\
name: My assistant
version: 1.0.0
schema: v1
models:
  - name: local
    provider: ollama   # runs on my laptop
    model: qwen
mcpServers:
  - name: playwright
    command: npx
    args:
      - "@playwright/mcp@latest"
"""


def test_continue_merge_appends_to_the_list_and_replaces_by_name(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONTINUE_EXISTING)
    snippet = cs.generate("continue", URL)
    assert ci.install(snippet, path, now=NOW).action == "added"
    text = path.read_text()
    assert "provider: ollama   # runs on my laptop" in text
    assert '      - "@playwright/mcp@latest"' in text  # quotes and the 4/2 list indentation kept
    data = plain(path, "yaml")
    assert isinstance(data, dict)
    assert [s["name"] for s in data["mcpServers"]] == ["playwright", "performance-hub"]
    assert data["mcpServers"][1] == snippet.entry and data["name"] == "My assistant"
    assert ci.install(snippet, path, now=NOW).action == "unchanged"
    other = cs.generate("continue", "https://elsewhere.example/mcp")
    with pytest.raises(ci.EntryExists):
        ci.install(other, path, now=NOW)
    assert ci.install(other, path, replace=True, now=NOW).action == "replaced"
    data = plain(path, "yaml")
    assert isinstance(data, dict)
    assert [s["name"] for s in data["mcpServers"]] == ["playwright", "performance-hub"]
    assert data["mcpServers"][1]["url"] == "https://elsewhere.example/mcp"


def test_continue_project_block_file_is_created_whole(tmp_path: Path) -> None:
    snippet = cs.generate("continue", URL, scope=cs.PROJECT, name="hub")
    path = ci.config_path("continue", scope=cs.PROJECT, project_dir=tmp_path, name="hub")
    assert ci.install(snippet, path).action == "created"
    data = plain(path, "yaml")
    assert data == {"name": "Performance Hub MCP", "version": "0.0.1", "schema": "v1",
                    "mcpServers": [snippet.entry]}


def test_yaml_with_only_comments_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("# nothing yet\n")
    ci.install(cs.generate("goose", URL), path)
    assert path.read_text().startswith("# nothing yet\n")
    assert isinstance(plain(path, "yaml"), dict)


@pytest.mark.parametrize(
    ("client", "text", "why"),
    [
        ("goose", "extensions: [unclosed\n", "YAML"),
        ("goose", "- a\n- b\n", "top level"),
        ("goose", "extensions: [1, 2]\n", "not a mapping"),
        ("continue", "mcpServers:\n  a: 1\n", "not a list"),
        ("goose", "a: 1\n---\nb: 2\n", "YAML"),
        ("goose", "a: 1\na: 2\n", "YAML"),
    ],
)
def test_yaml_refuses_files_it_cannot_parse(tmp_path: Path, client: str, text: str, why: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ci.ConfigParseError, match=why):
        ci.install(cs.generate(client, URL), path)
    assert path.read_text() == text and backups(path) == []


def test_yaml_embedding_a_key_makes_the_file_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOSE_EXISTING)
    path.chmod(0o644)
    key = generate_key()
    ci.install(cs.generate("goose", URL, secret=key), path, now=NOW)
    assert path.stat().st_mode & 0o077 == 0
    assert key in path.read_text()
    assert all(b.stat().st_mode & 0o077 == 0 for b in backups(path))


def test_read_config_for_every_format(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('[mcp_servers.x]\nurl = "u"\n')
    (tmp_path / "a.jsonc").write_text('{"a": 1, // c\n}')
    (tmp_path / "a.yaml").write_text("a: [1]\n")
    assert ci.read_config(tmp_path / "a.toml", "toml") == {"mcp_servers": {"x": {"url": "u"}}}
    assert ci.read_config(tmp_path / "a.jsonc", "jsonc") == {"a": 1}
    assert ci.read_config(tmp_path / "a.yaml", "yaml") == {"a": [1]}
    assert ci.read_config(tmp_path / "missing.json", "json") is None
    with pytest.raises(ci.ConfigParseError):
        ci.read_config(tmp_path / "a.jsonc", "json")


def test_yaml_keeps_windows_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(GOOSE_EXISTING.replace("\n", "\r\n").encode())
    ci.install(cs.generate("goose", URL), path, now=NOW)
    data = path.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") > 20
    assert b"# goose config, edited by hand\r\n" in data
