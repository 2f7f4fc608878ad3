"""The ``phhub-keys`` command: the app by default, plus hub, review and scripting commands.

Each subcommand's module is imported only when used, so starting the GUI never
pays for FastAPI and the hub never pays for Qt.
"""

from __future__ import annotations

import sys

SCRIPTING = {"login", "logout", "keys", "check-key", "setup", "where-used"}


def _usage() -> str:
    """The app parser's help: one text for the usage lines and the app's options (no Qt imported)."""
    from .gui.app import build_parser

    return build_parser().format_help()


def _settle_interrupted_writes() -> None:
    """Remove temporary files (maybe holding a key) that a crashed earlier run left mid-write."""
    import contextlib

    from .core.safefile import sweep_leftovers

    with contextlib.suppress(Exception):  # housekeeping must never stop the command itself
        sweep_leftovers()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args and not args[0].startswith("-") else None
    if args[:1] in (["-h"], ["--help"]):
        print(_usage(), end="")
        return 0
    if args[:1] == ["--version"]:
        from . import __version__

        print(f"phhub-keys {__version__}")
        return 0
    _settle_interrupted_writes()
    if command == "hub":
        from .hub.cli import main as hub_main

        return hub_main(args[1:])
    if command == "review":
        from .review_cli import main as review_main

        return review_main(args[1:])
    if command in SCRIPTING:
        from .scripting import main as scripting_main

        return scripting_main(args)
    if command is not None:
        print(f"phhub-keys: unknown command {command!r}\n{_usage()}", file=sys.stderr, end="")
        return 2
    from .gui.app import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
