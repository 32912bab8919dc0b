"""``python -m beamdesign``: the same as the ``beamdesign`` command."""

from __future__ import annotations

import sys

from beamdesign.cli import main

sys.exit(main())
