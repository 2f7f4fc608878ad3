"""Entry script of the frozen app (PyInstaller): the same command as the ``phhub-keys`` console script."""

import sys

from phhub_keys.cli import main

if __name__ == "__main__":
    sys.exit(main())
