"""The one error type users see: a sentence naming the field, the value and what is allowed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from decimal import Decimal


class InputError(ValueError):
    """Invalid user input (a plan, a stack, a beam, a CLI option, a widget field).

    The message is one sentence: ``"<field> = <value>: <what is allowed>[; <hint>]."``.
    ``field`` is kept so that a widget can show the message next to the control that caused it.
    """

    def __init__(self, field: str, value: object, allowed: str, hint: str = "") -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.hint = hint
        shown = show(value)
        message = f"{field} = {shown}: {allowed}"
        if hint:
            message += f"; {hint}"
        super().__init__(message if message.endswith(("?", ".")) else message + ".")


def show(value: object, max_chars: int = 160) -> str:
    """``value`` as an error message shows it: ``-1e+12`` (not ``-1000000000000.0``), a long
    text cut with its length, an integer of 400 digits as ``1e+400``."""
    if isinstance(value, bool):
        return str(value).lower()  # as YAML and JSON write it
    if isinstance(value, int):
        return str(value) if abs(value) < 10**15 else f"{Decimal(value):.3e}"
    if isinstance(value, float):
        return f"{value:.6g}"
    shown = repr(value) if isinstance(value, str) else str(value)
    if len(shown) > max_chars:
        shown = shown[: max_chars - 1] + f"…' ({len(shown)} characters)"
    return shown


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint with the closest valid names, or '' when nothing is close."""
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=3, cutoff=0.6)
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(by_lower[c]) for c in close) + "?"
