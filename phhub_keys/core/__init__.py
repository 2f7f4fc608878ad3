"""Plain-Python rules shared by the client and the hub (no Qt, no HTTP)."""
