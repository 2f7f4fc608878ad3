"""Usage map: scan every known client config file for one key (what Rotate… and "Where is this key
used?" do before they can list anything).

The scratch home holds a config file for every client of the registry that has one (the
files ``core.usage_map.known_config_files`` finds, Linux layout), each written by the app's
own "Add to <client>" merge with many servers (a busy user: 25 servers per file, each
with its own key, a tenth of them reading the key from an environment variable); the
key looked for sits in two of the files. The baseline reads the same files and parses them
with the standard library's ``json`` / ``tomllib`` (C-accelerated JSON; ruamel.yaml's C loader for
the YAML clients, which the standard library cannot read), the least a scan that
names the server entry holding the key must do; the scan itself parses JSON with comments
(``core.jsonc``, pure Python) and walks every entry for env-var / prompt references.
"""

from __future__ import annotations

import random
from pathlib import Path

from .context import Context
from .measure import ratio_of, time_calls
from .report import Row, ms_spread, verdict

TITLE = "usage map: scan {files} client config files ({servers} servers) for a key"
SERVER_URL = "https://hub.example.org/mcp"


def _key(rng: random.Random) -> str:
    from phhub_keys.core.keyformat import BASE62, KEY_PREFIX, RANDOM_LEN, checksum

    body = "".join(rng.choice(BASE62) for _ in range(RANDOM_LEN))
    return KEY_PREFIX + body + checksum(body)


def write_home(home: Path, servers_per_file: int, seed_value: int = 14) -> tuple[str, dict, list[Path]]:
    """(the key looked for, scan keyword arguments, the files written)."""
    from phhub_keys.core import client_setup, config_install
    from phhub_keys.core.safefile import write_private_text
    from phhub_keys.core.usage_map import known_config_files

    rng = random.Random(seed_value)
    scan_kwargs = {"home": home, "env": {"XDG_CONFIG_HOME": str(home / ".config")}, "platform": "linux"}
    wanted = _key(rng)
    written = []
    files = known_config_files(**scan_kwargs)
    for n, item in enumerate(files):
        item.path.parent.mkdir(parents=True, exist_ok=True)
        for i in range(servers_per_file):
            if n in (0, 2) and i == servers_per_file // 2:
                secret, url = wanted, SERVER_URL
            else:
                secret = None if rng.random() < 0.1 else _key(rng)
                url = f"https://mcp-{i}.example.com/mcp"
            snippet = client_setup.generate(item.client_id, url, name=f"server-{i}", secret=secret)
            if not snippet.file_based:  # Claude Code's ~/.claude.json: its mcpServers are .mcp.json's shape
                snippet = client_setup.generate(item.client_id, url, name=f"server-{i}", secret=secret,
                                                scope=client_setup.PROJECT)
            _old, new, _action = config_install.merged_text(item.path, snippet, replace=True)
            write_private_text(item.path, new)
        written.append(item.path)
    return wanted, scan_kwargs, written


def _read_and_parse(paths: list[Path]) -> int:
    """Read every file and parse it with the standard library (json / tomllib): the least a scan
    that knows which server entry holds the key must do."""
    import json
    import tomllib

    from ruamel.yaml import YAML  # no YAML in the standard library: the parser the scan uses

    yaml = YAML(typ="safe")  # its C loader when ruamel.yaml.clib is installed, as the scan uses
    count = 0
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        if path.suffix == ".toml":
            count += len(tomllib.loads(text))
        elif path.suffix in (".yaml", ".yml"):
            count += len(yaml.load(text))
        else:
            count += len(json.loads(text))
    return count


def usage_map_scan(ctx: Context) -> Row:
    from phhub_keys.core.keyformat import redact
    from phhub_keys.core.usage_map import scan

    servers = 4 if ctx.quick else 25
    home = ctx.workdir / "usage-home"
    wanted, scan_kwargs, paths = write_home(home, servers)
    preview = redact(wanted)
    report = scan(preview, server_url=SERVER_URL, **scan_kwargs)
    if len(report.literal) != 2:
        raise RuntimeError(f"the scan found the key in {len(report.literal)} files, expected 2")
    repeats = ctx.sizes.repeats * 3
    base = time_calls(lambda: _read_and_parse(paths), repeats)
    value = time_calls(lambda: scan(preview, server_url=SERVER_URL, **scan_kwargs), repeats)
    r = ratio_of(value.median, base.median, "usage map scan")
    total = sum(p.stat().st_size for p in paths)
    row = Row(TITLE.format(files=len(paths), servers=len(paths) * servers),
              value=ms_spread(value.median, value.min, value.max),
              baseline=ms_spread(base.median, base.min, base.max) + " read+stdlib parse",
              ratio=f"{r:.1f}x", target="< 50 ms", verdict=verdict(value.median < 0.050, ctx.quick))
    row.notes.append(f"{total / 1024:.0f} KB in {len(paths)} files; found in "
                     f"{', '.join(u.file.client_name for u in report.literal)}; "
                     f"{len(report.indirect)} env/prompt entries for this hub")
    return row
