"""docs/design.md stays true to the tree: its layer table names every module, and its links
point at files in this repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "docs" / "design.md"


def _layers_section() -> str:
    text = DESIGN.read_text(encoding="utf-8")
    start = text.index("## Layers")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_layer_table_names_every_module() -> None:
    section = _layers_section()
    named = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)(?:[.`(])", section))
    modules = sorted(
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "phhub_keys").rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py") and path.stem not in named
    )
    assert modules == [], "docs/design.md's layer table does not name: " + ", ".join(modules)


def test_links_point_inside_the_repository() -> None:
    text = DESIGN.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if re.match(r"[a-z]+://", target):
            continue
        assert (DESIGN.parent / target).resolve().is_relative_to(ROOT), target
        assert (DESIGN.parent / target).exists(), target
