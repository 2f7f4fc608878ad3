"""Read an application's accessibility tree the way Orca does: over the AT-SPI D-Bus bus.

Run with Debian's Python (``/usr/bin/python3``, which has ``python3-pyatspi``), not the venv:

    /usr/bin/python3 tests/atspi_walk.py tree PID          # JSON list of every node of that app
    /usr/bin/python3 tests/atspi_walk.py listen PID SECS   # JSON lines: announcements, focus, names

``tree`` prints one JSON object per node (path, role, name, description, states,
accessible id); ``listen`` prints ``{"ready": true}`` once its listeners are
registered, then one line per event of that process until SECS have passed.
The test (tests/gui/test_atspi.py) makes the assertions; this script only reads.
"""

from __future__ import annotations

import json
import sys
import time

import pyatspi  # type: ignore[import-not-found]
from gi.repository import GLib  # type: ignore[import-not-found]

MAX_NODES = 5000


def find_app(pid: int, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desktop = pyatspi.Registry.getDesktop(0)
        for app in desktop:
            if app is not None and _pid(app) == pid:
                return app
        time.sleep(0.2)
    raise SystemExit(f"no accessible application with pid {pid} on the AT-SPI bus")


def _pid(node) -> int | None:  # type: ignore[no-untyped-def]
    try:
        return node.get_process_id()
    except Exception:
        return None


def _states(node) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(pyatspi.stateToString(s) for s in node.getState().getStates())


def _ident(node) -> str:  # type: ignore[no-untyped-def]
    try:
        return node.get_accessible_id() or ""
    except Exception:
        return ""


def describe(node, path: str) -> dict:  # type: ignore[no-untyped-def]
    return {
        "path": path,
        "role": node.getRoleName(),
        "name": node.name or "",
        "description": node.description or "",
        "states": _states(node),
        "id": _ident(node),
        "children": node.childCount,
        "labelled_by": _labelled_by(node),
    }


def _labelled_by(node) -> list[str]:  # type: ignore[no-untyped-def]
    """Names of the labels the node is labelled by (Orca speaks them before a combo box's value)."""
    names: list[str] = []
    for relation in node.getRelationSet():
        if relation.getRelationType() == pyatspi.RELATION_LABELLED_BY:
            names += [relation.getTarget(i).name or "" for i in range(relation.getNTargets())]
    return names


def tree(pid: int) -> None:
    app = find_app(pid)
    out: list[dict] = []
    stack = [(app, app.getRoleName())]
    while stack and len(out) < MAX_NODES:
        node, path = stack.pop()
        try:
            entry = describe(node, path)
        except Exception as exc:  # a node that vanished while walking
            out.append({"path": path, "error": str(exc)})
            continue
        out.append(entry)
        children = []
        for i in range(node.childCount):
            child = node.getChildAtIndex(i)
            if child is not None:
                children.append((child, f"{path}/{i}:{child.getRoleName()}"))
        stack.extend(reversed(children))
    print(json.dumps(out))


def listen(pid: int, seconds: float) -> None:
    find_app(pid)
    loop = GLib.MainLoop()

    def on_event(event) -> None:  # type: ignore[no-untyped-def]
        source = event.source
        if source is None or _pid(source) != pid:
            return
        try:
            record = {"type": event.type, "detail1": event.detail1, "any_data": _plain(event.any_data),
                      "source_role": source.getRoleName(), "source_name": source.name or ""}
        except Exception as exc:
            record = {"type": event.type, "error": str(exc)}
        print(json.dumps(record), flush=True)

    kinds = ("object:announcement", "object:state-changed:focused", "object:property-change:accessible-name",
             "object:property-change:accessible-description", "object:text-changed:insert")
    for kind in kinds:
        pyatspi.Registry.registerEventListener(on_event, kind)
    print(json.dumps({"ready": True}), flush=True)
    GLib.timeout_add(int(seconds * 1000), loop.quit)
    loop.run()


def _plain(value):  # type: ignore[no-untyped-def]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


if __name__ == "__main__":
    command, pid = sys.argv[1], int(sys.argv[2])
    if command == "tree":
        tree(pid)
    elif command == "listen":
        listen(pid, float(sys.argv[3]))
    else:
        raise SystemExit(f"unknown command {command!r}")
