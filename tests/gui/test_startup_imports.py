"""What the app imports on its way to the first paint (issue 15: cold start).

Import time is most of the cold start (docs/performance.md). The hygiene dialogs once pulled the
MCP SDK (via the rotate dialog's key check) into every start: 2 s of imports on a loaded machine,
the cold start at ~9x the bare dialog. These modules load only when a dialog that needs them opens.
"""

from __future__ import annotations

import json
import subprocess
import sys

# requests and keyring too: a start with a saved key list paints it before either is needed.
HEAVY_AT_START = ("mcp", "httpx2", "httpx", "uvicorn", "fastapi", "starlette", "ruamel", "msgspec",
                  "requests", "keyring")


def _modules_after(code: str) -> list[str]:
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          check=False, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_window_and_controller_do_not_import_the_mcp_sdk_or_the_hub():
    loaded = _modules_after("import phhub_keys.gui.app, phhub_keys.gui.controller, "
                            "phhub_keys.gui.manage_window")
    heavy = sorted({name.split(".")[0] for name in loaded} & set(HEAVY_AT_START))
    assert heavy == [], f"imported on the way to the first paint: {heavy}"


def test_what_only_an_action_needs_loads_with_the_action():
    """Modules a start with a saved list does not need before its first paint (each ~1-2 ms of a
    ~230 ms start): the CSV writer (Download CSV, the shown-once CSV) and uuid (a create's
    Idempotency-Key; it imports platform)."""
    loaded = set(_modules_after("import phhub_keys.gui.app, phhub_keys.gui.controller, "
                                "phhub_keys.gui.manage_window"))
    assert {"phhub_keys.core.csvio", "csv", "uuid", "platform"} & loaded == set()
