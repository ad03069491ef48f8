"""Runs the command line: ``python -m ml train|predict|evaluate``."""

from __future__ import annotations

import sys

from ml.cli import main

if __name__ == "__main__":
    sys.exit(main())
