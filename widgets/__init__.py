"""Jupyter widgets and bokeh figures over the pure beamdesign core (imports the core, never the
reverse)."""

from __future__ import annotations

import os

# xraylib_np runs every call in an OpenMP parallel region. The planner asks for a handful of
# energies at a time, where starting threads costs far more than it saves: on a loaded
# 2-core machine each call took 10–50 ms instead of ~10 µs (one energy change: 0.2–0.7 s of
# CPU). One thread, unless the user chose otherwise. Works when the widgets are imported
# before the core loads xraylib; beamdesign.widgets.planner also sets it at run time.
os.environ.setdefault("OMP_NUM_THREADS", "1")
