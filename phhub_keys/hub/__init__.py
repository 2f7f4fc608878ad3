"""Local reference hub: FastAPI + SQLite + MCP, speaking the hub API contract."""
