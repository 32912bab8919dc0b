"""``python -m beamdesign``: the same as the ``beamdesign`` command."""

from __future__ import annotations

import sys

from beamdesign.cli import main

if __name__ == "__main__":
    sys.exit(main())
