"""Jupyter widgets and bokeh figures over the pure beamdesign core (imports the core, never the
reverse)."""
