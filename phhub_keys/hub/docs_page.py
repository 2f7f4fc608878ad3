"""The small HTML page behind ``docs_url``: how to connect an MCP client to this hub."""

from __future__ import annotations

import json
from html import escape

from .settings import HubSettings


def mcp_docs_html(settings: HubSettings) -> str:
    """A self-contained page (no scripts, no external assets) for this hub's Server URL."""
    url = settings.mcp_url
    server = {"url": url, "headers": {"Authorization": "Bearer ${env:PHHUB_MCP_KEY}"}}
    cursor = json.dumps({"mcpServers": {"performance-hub": server}}, indent=2)
    claude_code = (
        f"claude mcp add --transport http performance-hub {url}"
        ' --header "Authorization: Bearer $PHHUB_MCP_KEY"'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect an MCP client to Performance Hub</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }}
code, pre {{ font-family: ui-monospace, monospace; background: #f3f4f6; border-radius: 4px; }}
pre {{ padding: .75rem; overflow-x: auto; }}
@media (prefers-color-scheme: dark) {{
  body {{ background: #111; color: #ddd; }} code, pre {{ background: #222; }}
}}
</style></head>
<body>
<h1>Connect an MCP client</h1>
<p>This hub serves the Model Context Protocol over Streamable HTTP at:</p>
<pre>{escape(url)}</pre>
<h2>1. Create a key</h2>
<p>Open <b>Manage MCP Keys</b> and create a key with a label naming where it will be used.
The full key (<code>phk_…</code>) is shown once: copy it into your client or a password manager.</p>
<h2>2. Send it with every request</h2>
<p>Send the key in the <code>Authorization</code> header:</p>
<pre>Authorization: Bearer phk_…</pre>
<p>(<code>X-API-Key: phk_…</code> is accepted too.) A missing, mistyped, deactivated or deleted key
is refused with <code>401</code>; deactivating a key takes effect on its very next request.</p>
<h2>Examples</h2>
<p>Cursor (<code>~/.cursor/mcp.json</code>), with the key in the environment variable
<code>PHHUB_MCP_KEY</code>:</p>
<pre>{escape(cursor)}</pre>
<p>Claude Code:</p>
<pre>{escape(claude_code)}</pre>
<h2>Tools</h2>
<ul>
<li><code>whoami</code>: your account (email, name) and the calling key's id and label.</li>
<li><code>list_facilities</code>: the facilities your account can reach; a key has its user's access.</li>
</ul>
</body></html>
"""
