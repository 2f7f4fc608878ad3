"""Qt widgets of phhub-keys: the Manage MCP Keys window, its model/view parts, and friends.

Nothing here talks to the network on the GUI thread: hub calls go through
``workers.run_in_pool``.
"""
