// Reads the MCP config files phhub-keys wrote for clients that have no command line we can
// run (Cursor, VS Code, Windsurf, Zed, Cline, LM Studio), resolves each client's own variable
// syntax the way that client does, connects with the official TypeScript SDK and calls whoami.
//
//   node sdk_client.mjs CLIENT FILE SERVER_NAME
//
// Environment: PHHUB_MCP_KEY (what an env-var reference resolves to), PHHUB_PROMPT_ANSWER (what
// the user types at VS Code's promptString input), PHHUB_PLACEHOLDER_KEY (what the user pastes
// over YOUR_MCP_KEY in clients that read no variables). Prints one JSON line:
// {"ok": true, "whoami": {...}} or {"ok": false, "error": "..."}; exit 0 / 1.
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [client, file, name] = process.argv.slice(2);

// JSON with comments and trailing commas (VS Code and Zed files): drop them outside strings.
function parseJsonc(text) {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (ch === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (ch === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
    } else {
      out += ch;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, "$1"));
}

const SHAPES = {
  // client: [container, url field, how values are resolved]
  cursor: ["mcpServers", "url", (v) => v.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, n) => process.env[n] ?? "")],
  windsurf: ["mcpServers", "serverUrl", (v) => v.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, n) => process.env[n] ?? "")],
  vscode: ["servers", "url", (v) => v.replace(/\$\{input:[^}]+\}/g, () => process.env.PHHUB_PROMPT_ANSWER ?? "")],
  zed: ["context_servers", "url", (v) => v.replaceAll("YOUR_MCP_KEY", process.env.PHHUB_PLACEHOLDER_KEY ?? "")],
  cline: ["mcpServers", "url", (v) => v.replaceAll("YOUR_MCP_KEY", process.env.PHHUB_PLACEHOLDER_KEY ?? "")],
  lmstudio: ["mcpServers", "url", (v) => v.replaceAll("YOUR_MCP_KEY", process.env.PHHUB_PLACEHOLDER_KEY ?? "")],
};

async function main() {
  const [container, urlField, resolve] = SHAPES[client];
  const entry = parseJsonc(readFileSync(file, "utf8"))[container][name];
  if (client === "vscode" && entry.type !== "http") throw new Error(`VS Code entry type is ${entry.type}`);
  if (client === "cline" && entry.type !== "streamableHttp") throw new Error(`Cline entry type is ${entry.type}`);
  const headers = Object.fromEntries(Object.entries(entry.headers ?? {}).map(([k, v]) => [k, resolve(v)]));
  const transport = new StreamableHTTPClientTransport(new URL(resolve(entry[urlField])), { requestInit: { headers } });
  const mcp = new Client({ name: `sdk-as-${client}`, version: "1.0.0" });
  await mcp.connect(transport);
  const result = await mcp.callTool({ name: "whoami", arguments: {} });
  await mcp.close();
  if (result.isError) throw new Error(JSON.stringify(result.content));
  return result.structuredContent;
}

main().then(
  (whoami) => { console.log(JSON.stringify({ ok: true, whoami })); process.exit(0); },
  (error) => { console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error) })); process.exit(1); },
);
