"""Client side of the hub API (requests), plus the session-token store."""
