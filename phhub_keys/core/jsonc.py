"""Edit JSON (and JSON with comments) in place, keeping everything else byte for byte.

A client's config file is the user's: merging our server entry must not reformat
it, drop its comments or reorder its keys. ``json.load`` + ``json.dump`` would do
all three, so this module parses the text into nodes that remember their offsets
and splices new text in. ``comments=True`` accepts ``//`` and ``/* */`` comments
and trailing commas (VS Code's JSONC); otherwise the grammar is strict JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 200  # configs nest a handful of levels; a deeper file would exhaust Python's stack


class JsoncError(ValueError):
    """Text that does not parse; the message names the line and column."""


@dataclass
class Node:
    kind: str  # "object" | "array" | "scalar"
    start: int
    end: int  # exclusive
    value: Any = None  # scalars only
    props: list[Prop] = field(default_factory=list)  # objects
    items: list[Node] = field(default_factory=list)  # arrays
    trailing_comma: bool = False

    def get(self, key: str) -> Prop | None:
        """The last property named ``key`` (JSON parsers keep the last duplicate)."""
        found = None
        for prop in self.props:
            if prop.key == key:
                found = prop
        return found

    def to_python(self) -> Any:
        if self.kind == "object":
            return {p.key: p.value.to_python() for p in self.props}
        if self.kind == "array":
            return [i.to_python() for i in self.items]
        return self.value


@dataclass
class Prop:
    key: str
    start: int  # the key's opening quote
    value: Node


_WS = " \t\r\n"
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')


class _Parser:
    def __init__(self, text: str, comments: bool) -> None:
        self.text = text
        self.comments = comments
        self.pos = 0
        self.depth = 0

    def error(self, message: str, pos: int | None = None) -> JsoncError:
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return JsoncError(f"line {line}, column {col}: {message}")

    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch in _WS:
                self.pos += 1
            elif ch == "/" and self.comments and text.startswith("//", self.pos):
                nl = text.find("\n", self.pos)
                self.pos = n if nl < 0 else nl + 1
            elif ch == "/" and self.comments and text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                if close < 0:
                    raise self.error("unterminated /* comment")
                self.pos = close + 2
            elif ch == "/":
                raise self.error("comments are not allowed in this file")
            else:
                return

    def parse_document(self) -> Node:
        self.skip()
        if self.pos >= len(self.text):
            raise self.error("the file is empty")
        node = self.parse_value()
        self.skip()
        if self.pos != len(self.text):
            raise self.error("unexpected text after the end of the JSON value")
        return node

    def parse_value(self) -> Node:
        text = self.text
        if self.pos >= len(text):
            raise self.error("unexpected end of file")
        ch = text[self.pos]
        if ch in "{[":
            if self.depth >= MAX_DEPTH:
                raise self.error(f"nested more than {MAX_DEPTH} levels deep")
            self.depth += 1
            try:
                return self.parse_object() if ch == "{" else self.parse_array()
            finally:
                self.depth -= 1
        if ch == '"':
            start = self.pos
            value = self.parse_string()
            return Node("scalar", start, self.pos, value)
        literals: tuple[tuple[str, bool | None], ...] = (("true", True), ("false", False), ("null", None))
        for word, literal in literals:
            if text.startswith(word, self.pos):
                start = self.pos
                self.pos += len(word)
                return Node("scalar", start, self.pos, literal)
        m = _NUMBER.match(text, self.pos)
        if m:
            self.pos = m.end()
            return Node("scalar", m.start(), m.end(), json.loads(m.group()))
        raise self.error(f"unexpected character {ch!r}")

    def parse_string(self) -> str:
        m = _STRING.match(self.text, self.pos)
        if not m:
            raise self.error("malformed string")
        self.pos = m.end()
        return json.loads(m.group())

    def parse_object(self) -> Node:
        node = Node("object", self.pos, self.pos)
        self.pos += 1
        self.skip()
        while True:
            if self.pos < len(self.text) and self.text[self.pos] == "}":
                if node.trailing_comma and not self.comments:
                    raise self.error("trailing comma before '}'")
                self.pos += 1
                node.end = self.pos
                return node
            if node.props and not node.trailing_comma:
                raise self.error("expected ',' or '}'")
            if self.pos >= len(self.text) or self.text[self.pos] != '"':
                raise self.error("expected a property name in double quotes")
            key_start = self.pos
            key = self.parse_string()
            self.skip()
            if self.pos >= len(self.text) or self.text[self.pos] != ":":
                raise self.error("expected ':' after the property name")
            self.pos += 1
            self.skip()
            value = self.parse_value()
            node.props.append(Prop(key, key_start, value))
            self.skip()
            node.trailing_comma = False
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
                node.trailing_comma = True
                self.skip()

    def parse_array(self) -> Node:
        node = Node("array", self.pos, self.pos)
        self.pos += 1
        self.skip()
        while True:
            if self.pos < len(self.text) and self.text[self.pos] == "]":
                if node.trailing_comma and not self.comments:
                    raise self.error("trailing comma before ']'")
                self.pos += 1
                node.end = self.pos
                return node
            if node.items and not node.trailing_comma:
                raise self.error("expected ',' or ']'")
            node.items.append(self.parse_value())
            self.skip()
            node.trailing_comma = False
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
                node.trailing_comma = True
                self.skip()


def parse(text: str, *, comments: bool = False) -> Node:
    """Parse ``text`` into offset-carrying nodes; JsoncError says where it went wrong."""
    return _Parser(text, comments).parse_document()


def loads(text: str, *, comments: bool = False) -> Any:
    """The Python value of ``text`` (like json.loads, plus comments when allowed)."""
    return parse(text, comments=comments).to_python()


# ---------------------------------------------------------------- editing


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _indent_at(text: str, pos: int) -> str:
    start = _line_start(text, pos)
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


def detect_style(text: str) -> tuple[str, str]:
    """(indent unit, line ending) the file already uses; 2 spaces and '\\n' by default."""
    eol = "\r\n" if "\r\n" in text else "\n"
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            lead = line[: len(line) - len(stripped)]
            return ("\t" if lead.startswith("\t") else " " * len(lead)), eol
    return "  ", eol


def dump_value(value: Any, base_indent: str, unit: str, eol: str) -> str:
    """``value`` as pretty JSON whose continuation lines start at ``base_indent``."""
    indent: int | str = unit if unit.startswith("\t") else len(unit)
    lines = json.dumps(value, indent=indent, ensure_ascii=False).split("\n")
    return eol.join([lines[0]] + [base_indent + line for line in lines[1:]])


def _member_indent(text: str, container: Node, unit: str) -> str:
    """Indentation for a new member of ``container``: that of its existing members, else one
    unit deeper than the line holding the container's opening bracket."""
    members = [p.start for p in container.props] or [i.start for i in container.items]
    for start in members:
        if text[_line_start(text, start):start].strip(" \t") == "":
            return _indent_at(text, start)
    return _indent_at(text, container.start) + unit


def insert_member(text: str, container: Node, member_text: str, unit: str, eol: str) -> str:
    """Insert ``member_text`` (a ``"key": value`` or an array item, already rendered for
    its indentation) as the last member of ``container``."""
    close = container.end - 1
    members = container.props or container.items
    pieces: list[tuple[int, str]] = []
    indent = _member_indent(text, container, unit)
    if members and not container.trailing_comma:
        last_end = container.props[-1].value.end if container.props else container.items[-1].end
        pieces.append((last_end, ","))
    line_start = _line_start(text, close)
    if text[line_start:close].strip(" \t") == "" and line_start > container.start:
        # The closing bracket sits on its own line: add our member on a new line above it.
        pieces.append((line_start, f"{indent}{member_text}{eol}"))
    else:
        closing_indent = _indent_at(text, container.start)
        pieces.append((close, f"{eol}{indent}{member_text}{eol}{closing_indent}"))
    # Splice from the end so earlier offsets stay valid; at equal offsets, the piece listed
    # first must end up first, so it is inserted last.
    for _, (pos, piece) in sorted(enumerate(pieces), key=lambda t: (t[1][0], t[0]), reverse=True):
        text = text[:pos] + piece + text[pos:]
    return text


def set_property(text: str, obj: Node, key: str, value: Any, unit: str, eol: str) -> str:
    """Set ``obj[key] = value``: replace the existing value's text, or add the property last."""
    existing = obj.get(key)
    if existing is not None:
        indent = _indent_at(text, existing.start)
        rendered = dump_value(value, indent, unit, eol)
        return text[: existing.value.start] + rendered + text[existing.value.end :]
    indent = _member_indent(text, obj, unit)
    member = f"{json.dumps(key, ensure_ascii=False)}: {dump_value(value, indent, unit, eol)}"
    return insert_member(text, obj, member, unit, eol)


def replace_node(text: str, node: Node, value: Any, unit: str, eol: str) -> str:
    indent = _indent_at(text, node.start)
    return text[: node.start] + dump_value(value, indent, unit, eol) + text[node.end :]


def append_item(text: str, arr: Node, value: Any, unit: str, eol: str) -> str:
    indent = _member_indent(text, arr, unit)
    return insert_member(text, arr, dump_value(value, indent, unit, eol), unit, eol)
