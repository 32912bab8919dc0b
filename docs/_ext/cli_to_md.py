"""Render the command-line reference as Markdown from the real argument parser.

Sphinx-free: ``cli_markdown(parser)`` walks an :class:`argparse.ArgumentParser` and its
sub-commands and returns MyST Markdown (one section per sub-command with its ``--help`` text),
so the CLI reference can never drift from ``beamdesign.cli.build_parser()``. Run as a script it
prints the page: ``python docs/_ext/cli_to_md.py``.
"""

from __future__ import annotations

import argparse
import os

# argparse wraps help text at the terminal width: fix it so the page is the same everywhere.
HELP_WIDTH_COLUMNS = 88


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser's sub-commands, by name, in the order they were added (aliases skipped)."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:  # argparse has no public accessor for sub-parsers
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if sub not in found.values():
                    found[name] = sub
    return found


def _help_text(parser: argparse.ArgumentParser) -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(HELP_WIDTH_COLUMNS)
    try:
        return parser.format_help().rstrip()
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


def _fence(text: str) -> str:
    """A fenced code block whose fence is longer than any backtick run inside the text."""
    longest = max((len(run) for run in text.split("\n") if set(run) == {"`"}), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def cli_markdown(parser: argparse.ArgumentParser, heading_level: int = 2) -> str:
    """MyST Markdown for ``parser``: its help, then one section per sub-command, recursively.

    Parameters
    ----------
    parser
        The program's parser, e.g. ``beamdesign.cli.build_parser()``.
    heading_level
        Markdown heading level of the sub-command sections (1-6).
    """
    parts = [_fence(_help_text(parser))]
    for name, sub in _subcommands(parser).items():
        title = f"{sub.prog}" if sub.prog else name
        parts.append(f"{'#' * heading_level} `{title}`")
        parts.append(cli_markdown(sub, min(heading_level + 1, 6)))
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    from beamdesign.cli import build_parser

    print(cli_markdown(build_parser()), end="")
