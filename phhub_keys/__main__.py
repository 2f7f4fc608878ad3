"""``python -m phhub_keys`` runs the same command as ``phhub-keys``."""

import sys

from .cli import main

sys.exit(main())
