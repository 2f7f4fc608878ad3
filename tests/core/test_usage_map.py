"""The usage map and re-wiring (core.usage_map, core.rewire) on real files in a scratch home."""

from __future__ import annotations

import json
import os
import stat
import threading
import tomllib
from pathlib import Path

import pytest

from phhub_keys.core import client_setup, config_install
from phhub_keys.core.keyformat import generate_key, redact
from phhub_keys.core.rewire import REPLACED, SKIPPED, RewireError, replace_key
from phhub_keys.core.usage_map import extra_file, known_config_files, scan

SERVER = "https://hub.example.org/mcp"


@pytest.fixture
def home(tmp_path: Path) -> dict:
    """A scratch home: the places every known client keeps its config on Linux."""
    env = {"XDG_CONFIG_HOME": str(tmp_path / ".config")}
    return {"home": tmp_path, "env": env, "platform": "linux"}


def _path(client: str, h: dict) -> Path:
    return config_install.config_path(client, platform=h["platform"], env=h["env"], home=h["home"])


def _install(client: str, h: dict, secret: str | None, name: str = "performance-hub",
             url: str = SERVER) -> Path:
    path = _path(client, h)
    snippet = client_setup.generate(client, url, name=name, secret=secret)
    config_install.install(snippet, path, replace=True)
    return path


def _scan(preview: str, h: dict, **kw):
    return scan(preview, server_url=SERVER, env=kw.pop("env", h["env"]), home=h["home"],
                platform=h["platform"], **kw)


def test_known_files_come_from_the_client_registry(home: dict) -> None:
    files = known_config_files(platform="linux", env=home["env"], home=home["home"])
    ids = {f.client_id for f in files}
    file_based = {c.id for c in client_setup.CLIENTS.values() if c.file_based}
    assert file_based <= ids  # every client that setup can write is scanned
    assert {"cursor", "vscode", "claude-desktop", "codex"} <= ids
    assert len({f.path for f in files}) == len(files)


def test_scan_finds_literal_keys_and_lists_env_and_prompt_configs(home: dict) -> None:
    old, other = generate_key(), generate_key()
    paths = {c: _install(c, home, old) for c in ("cursor", "claude-desktop", "codex")}
    vscode = _install("vscode", home, None)  # prompt (input) form
    windsurf = _install("windsurf", home, None)  # ${env:PHHUB_MCP_KEY}
    # another server of the user's with another key stays out of the report
    _install("cursor", home, other, name="other-server", url="https://elsewhere.example.com/mcp")

    report = _scan(redact(old), home, env={**home["env"], "PHHUB_MCP_KEY": old})
    literal = {u.file.client_id: u for u in report.literal}
    assert set(literal) == {"cursor", "claude-desktop", "codex"}
    assert literal["cursor"].servers == ("performance-hub",)
    assert literal["cursor"].real_path == paths["cursor"]
    assert all(u.count == 1 for u in report.literal)
    indirect = {(u.file.client_id, u.kind, u.name) for u in report.indirect}
    assert ("vscode", "input", client_setup.VSCODE_INPUT_ID) in indirect
    assert ("windsurf", "env", "PHHUB_MCP_KEY") in indirect
    env_use = next(u for u in report.indirect if u.file.client_id == "windsurf")
    assert env_use.holds_key is True and "PHHUB_MCP_KEY" in env_use.advice
    assert {vscode, windsurf} <= {f.path for f in report.scanned}
    # nothing secret in the report
    dumped = json.dumps(report.to_json()) + "\n".join(report.summary_lines())
    assert old not in dumped and other not in dumped
    assert redact(old) in dumped


def test_codex_env_var_and_claude_placeholder_are_listed(home: dict) -> None:
    old = generate_key()
    _install("codex", home, None)
    _install("claude-desktop", home, None)
    report = _scan(redact(old), home)
    kinds = {(u.file.client_id, u.kind, u.name) for u in report.indirect}
    assert ("codex", "env", "PHHUB_MCP_KEY") in kinds
    assert ("claude-desktop", "placeholder", client_setup.KEY_PLACEHOLDER) in kinds
    # Claude Desktop's ${AUTH_HEADER} is defined in the entry itself: not the user's environment
    assert not any(u.name == "AUTH_HEADER" for u in report.indirect)
    codex = next(u for u in report.indirect if u.file.client_id == "codex")
    assert codex.holds_key is None and "not set" in codex.advice
    assert not report.literal


def test_rewire_replaces_only_the_old_key_with_backups(home: dict) -> None:
    old, new, other = generate_key(), generate_key(), generate_key()
    paths = [_install(c, home, old) for c in ("cursor", "claude-desktop", "codex")]
    _install("cursor", home, other, name="other-server", url="https://elsewhere.example.com/mcp")
    vscode = _path("vscode", home)
    vscode.parent.mkdir(parents=True, exist_ok=True)
    entry = {"type": "http", "url": SERVER, "headers": {"Authorization": f"Bearer {old}"}}
    vscode.write_text("// my settings\n{\n  \"servers\": {\"performance-hub\": "
                      + json.dumps(entry) + "} // keep\n}\n")
    before = {p: p.read_text() for p in [*paths, vscode]}
    report = _scan(redact(old), home)
    assert len(report.literal) == 4
    assert {u.file.client_id: u.servers for u in report.literal}["vscode"] == ("performance-hub",)
    results = replace_key(report.literal, redact(old), new)
    assert [r.status for r in results] == [REPLACED] * 4
    for result in results:
        path = result.use.real_path
        text = path.read_text()
        assert new in text and old not in text
        assert text == before[path].replace(old, new)  # nothing else changed, comments included
        assert result.backup is not None and result.backup.read_text() == before[path]
        assert stat.S_IMODE(result.backup.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    assert other in paths[0].read_text()  # the other server's key untouched
    assert tomllib.loads(paths[2].read_text())["mcp_servers"]["performance-hub"]["http_headers"] == {
        "Authorization": f"Bearer {new}"}
    # scanning again: the old key is nowhere, the new one everywhere
    assert not _scan(redact(old), home).literal
    assert len(_scan(redact(new), home).literal) == 4


def test_rewire_skips_changed_unreadable_and_read_only_files(home: dict) -> None:
    old, new = generate_key(), generate_key()
    cursor, desktop, codex = (_install(c, home, old) for c in ("cursor", "claude-desktop", "codex"))
    report = _scan(redact(old), home)
    by_client = {u.file.client_id: u for u in report.literal}
    # changed after the scan
    cursor.write_text(cursor.read_text().replace("performance-hub", "perf-hub"))
    changed_text = cursor.read_text()
    # read-only
    os.chmod(desktop, 0o400)
    desktop_text = desktop.read_text()
    # gone
    codex.unlink()
    results = {r.use.file.client_id: r for r in replace_key(report.literal, redact(old), new)}
    assert results["cursor"].status == SKIPPED and "changed since it was scanned" in results["cursor"].reason
    assert results["claude-desktop"].status == SKIPPED and "read-only" in results["claude-desktop"].reason
    assert results["codex"].status == SKIPPED and "gone" in results["codex"].reason
    assert cursor.read_text() == changed_text and desktop.read_text() == desktop_text
    assert not list(cursor.parent.glob("*.phhub-backup-*"))  # no backup where nothing was written
    assert by_client["cursor"].fingerprint.sha256 != ""


def test_unreadable_and_odd_files_are_problems_not_crashes(home: dict, tmp_path: Path) -> None:
    old = generate_key()
    cursor = _path("cursor", home)
    cursor.parent.mkdir(parents=True)
    cursor.write_bytes(b"\xff\xfe not utf-8 " + old.encode())
    folder = _path("windsurf", home)
    folder.mkdir(parents=True)  # a folder where the file should be
    report = _scan(redact(old), home)
    reasons = {p.file.client_id: p.reason for p in report.problems}
    assert "UTF-8" in reasons["cursor"] and "regular file" in reasons["windsurf"]
    assert not report.literal


def test_symlinked_config_is_updated_through_the_link(home: dict, tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    real = tmp_path / "dotfiles" / "cursor-mcp.json"
    real.parent.mkdir()
    snippet = client_setup.generate("cursor", SERVER, secret=old)
    config_install.install(snippet, real)
    link = _path("cursor", home)
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    report = _scan(redact(old), home)
    [use] = report.literal
    assert use.real_path == real and use.file.path == link
    [result] = replace_key(report.literal, redact(old), new)
    assert result.ok and link.is_symlink() and new in real.read_text()


def test_bad_new_key_touches_nothing(home: dict) -> None:
    old = generate_key()
    path = _install("cursor", home, old)
    report = _scan(redact(old), home)
    with pytest.raises(RewireError):
        replace_key(report.literal, redact(old), old)
    with pytest.raises(RewireError):
        replace_key(report.literal, redact(old), "phk_notakey")
    assert old in path.read_text()


def test_extra_files_and_yaml_text(home: dict, tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    workspace = tmp_path / "project" / ".vscode" / "mcp.json"
    workspace.parent.mkdir(parents=True)
    workspace.write_text(json.dumps({"servers": {"hub": {"url": SERVER, "headers": {
        "Authorization": f"Bearer {old}"}}}}))
    goose = tmp_path / "goose.yaml"
    goose.write_text(f"extensions:\n  hub:\n    uri: {SERVER}\n    headers:\n"
                     f"      Authorization: Bearer {old}\n")
    files = [extra_file(workspace, "vscode"), extra_file(goose)]
    report = scan(redact(old), server_url=SERVER, files=files, env={})
    assert {u.file.path for u in report.literal} == {workspace, goose}
    assert all(r.ok for r in replace_key(report.literal, redact(old), new))
    assert goose.read_text().endswith(f"Bearer {new}\n")


def test_interrupted_rewire_leaves_each_file_old_or_new(home: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash while writing one file: that file is still the old one, the earlier ones are new."""
    old, new = generate_key(), generate_key()
    paths = [_install(c, home, old) for c in ("cursor", "claude-desktop", "codex")]
    report = _scan(redact(old), home)
    order = [u.real_path for u in report.literal]
    real_replace = os.replace
    calls = threading.local()
    calls.n = 0

    def crash_on_second(src, dst):  # type: ignore[no-untyped-def]
        calls.n += 1
        if calls.n == 2:  # the temp file is written and synced; the process dies before the rename
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        replace_key(report.literal, redact(old), new)
    texts = [p.read_text() for p in order]
    assert new in texts[0] and old not in texts[0]
    assert old in texts[1] and new not in texts[1] and old in texts[2]
    for p in paths:  # every file parses: nothing half-written
        if p.suffix == ".toml":
            tomllib.loads(p.read_text())
        else:
            json.loads(p.read_text())
    assert not [p for p in paths[0].parent.iterdir() if p.name.endswith(".tmp")]


def test_fifos_planted_links_and_deep_nesting_are_problems_not_hangs(home: dict, tmp_path: Path) -> None:
    """The scan and re-wire read files as "Add to" does (core.userfiles): a FIFO is refused without
    blocking, another user's link in a shared folder is not followed, deep nesting is no traceback."""
    old, new = generate_key(), generate_key()
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.json"
    deep.write_text('{"k": "' + old + '", "a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    files = [extra_file(fifo, "cursor"), extra_file(deep, "cursor")]
    if os.geteuid() == 0:
        shared = tmp_path / "shared"
        shared.mkdir()
        shared.chmod(0o1777)
        victim = tmp_path / "victim.json"
        victim.write_text(json.dumps({"mcpServers": {"x": {"headers": {"Authorization": f"Bearer {old}"}}}}))
        planted = shared / "mcp.json"
        planted.symlink_to(victim)
        os.lchown(planted, 4242, 4242)
        files.append(extra_file(planted, "cursor"))
    report = scan(redact(old), server_url=SERVER, files=files, env=home["env"])
    reasons = {p.file.path: p.reason for p in report.problems}
    assert "named pipe" in reasons[fifo]
    if os.geteuid() == 0:
        assert "link owned by another user" in reasons[planted]
    [use] = report.literal  # the deep file: found by its text, though too deep to walk
    assert use.file.path == deep and use.servers == ()
    [result] = replace_key(report.literal, redact(old), new)
    assert result.ok and new in deep.read_text()


@pytest.mark.parametrize("shape", ["flow", "compact"])
def test_a_deeply_nested_yaml_config_is_read_by_its_text_and_never_crashes(tmp_path: Path,
                                                                          shape: str) -> None:
    """The scan reads YAML with ruamel's C loader, which recurses on the C stack: a 100,000-level
    document crashed the process (measured). Such a document goes to the pure loader, whose
    RecursionError leaves only the text search. Run in a child: a crash must fail the test,
    not end the test session."""
    import subprocess
    import sys

    old = generate_key()
    depth = 100_000
    body = {
        "flow": "a: " + "[" * depth + "]" * depth,
        "compact": "- " * depth + "x",  # (nesting by indentation alone would need a file over the size cap)
    }[shape]
    deep = tmp_path / "config.yaml"
    deep.write_text(f"key: Bearer {old}\n" if shape != "compact" else f"- Bearer {old}\n")
    deep.write_text(deep.read_text() + body + "\n")
    code = ("import sys\nfrom pathlib import Path\n"
            "from phhub_keys.core.keyformat import redact\n"
            "from phhub_keys.core.usage_map import extra_file, scan\n"
            "report = scan(redact(sys.argv[2]), files=[extra_file(Path(sys.argv[1]))], env={})\n"
            "print(len(report.literal), [u.servers for u in report.literal])\n")
    done = subprocess.run([sys.executable, "-c", code, str(deep), old], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.split()[0] == "1"  # found by its text


def test_the_c_loader_is_kept_for_documents_that_cannot_nest_deeply() -> None:
    from phhub_keys.core.usage_map import C_YAML_MAX_DEPTH, _may_nest_deeper_than

    ordinary = "models:\n  - name: hub\n    headers: {Authorization: Bearer x}\n" * 200
    assert not _may_nest_deeper_than(ordinary, C_YAML_MAX_DEPTH)
    assert _may_nest_deeper_than("a: " + "[" * C_YAML_MAX_DEPTH, C_YAML_MAX_DEPTH)
    assert _may_nest_deeper_than(" " * C_YAML_MAX_DEPTH + "a: 1", C_YAML_MAX_DEPTH)
    assert _may_nest_deeper_than("- " * C_YAML_MAX_DEPTH, C_YAML_MAX_DEPTH)
