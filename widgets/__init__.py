"""Jupyter widgets and bokeh figures over the pure beamdesign core (imports the core, never the
reverse)."""

from __future__ import annotations

import contextlib
import os
from typing import Literal

# xraylib_np runs every call in an OpenMP parallel region. The planner asks for a handful of
# energies at a time, where starting threads costs far more than it saves: on a loaded
# 2-core machine each call took 10–50 ms instead of ~10 µs (one energy change: 0.2–0.7 s of
# CPU). One thread, unless the user chose otherwise. Works when the widgets are imported
# before the core loads xraylib; beamdesign.widgets.planner also sets it at run time.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def limit_openmp_threads(n: int = 1) -> bool:
    """Ask the OpenMP runtime already loaded by xraylib to use ``n`` threads (see
    ``beamdesign.widgets``: thread start-up dominates the small calls the planner makes).
    Returns True when an OpenMP runtime was found. Linux only; elsewhere a no-op."""
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "libgomp" in line}
    except OSError:
        return False
    done = False
    for path in sorted(paths):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(path).omp_set_num_threads(int(n))
            done = True
    return done


def setup_notebook(resources: str | None = None) -> None:
    """Load BokehJS into the notebook (call once before displaying the planner).

    Inline by default, so the plots work without internet (a classroom, a beamline PC);
    ``resources="cdn"`` or the environment variable ``BOKEH_RESOURCES=cdn`` loads it from the
    CDN instead (smaller notebooks, needs the network). Only the core component is loaded:
    the figures need no bokeh widgets or tables (≈ 1.3 MB instead of ≈ 4 MB inline).
    """
    import bokeh.io
    from bokeh.resources import Resources

    if os.environ.get("OMP_NUM_THREADS", "1") == "1":
        limit_openmp_threads(1)

    requested = (resources or os.environ.get("BOKEH_RESOURCES") or "inline").lower()
    mode: Literal["inline", "cdn"] = "cdn" if requested == "cdn" else "inline"
    bokeh.io.output_notebook(Resources(mode=mode, components=["bokeh"]), hide_banner=True)


__all__ = ["limit_openmp_threads", "setup_notebook"]
