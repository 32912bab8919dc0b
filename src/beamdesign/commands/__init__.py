"""Sub-commands of the ``beamdesign`` CLI that live outside ``cli.py``.

Each module here defines ``register(commands)``, which adds its sub-parser (with
``set_defaults(handler=...)``) to the ``argparse`` sub-parsers object; ``cli.build_parser``
calls it. The physics stays in the core modules: a command only parses, calls and prints.
"""
