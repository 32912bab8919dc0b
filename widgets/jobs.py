"""The planner's slow computations as :class:`~beamdesign.widgets.background.BackgroundJob`
jobs: the Solve panel's design (:func:`outcome_of`) and the advice (:func:`advice_outcome`). Each
returns an outcome that crosses a process boundary (an InputError keeps its fields). This module
imports no widget library: the child process loads only the core."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from beamdesign.advice import advise
from beamdesign.design import DesignResult, design_plan
from beamdesign.errors import InputError
from beamdesign.plan import Plan
from beamdesign.sweep import evaluate

from .background import Outcome


def _outcome(compute: Callable[..., Any], *args: Any) -> Outcome:
    """``("ok", compute(*args))``, or ``("input", InputError fields)`` (an InputError does not
    cross a process boundary whole), or ``("error", text)``: never a traceback in a panel."""
    try:
        return ("ok", compute(*args))
    except InputError as error:
        return ("input", (error.field, error.value, error.allowed, error.hint))
    except Exception as error:  # shown in the panel as one sentence
        return ("error", f"{error.__class__.__name__}: {error}")


def design_and_current(
    plan_config: dict[str, Any], section: dict[str, Any]
) -> tuple[DesignResult, dict[str, Any]]:
    """The Pareto front around the plan, and the plan's own row in the design's metric (the
    star on the plot). One process, one worker: a planner kernel shares the machine."""
    result = design_plan(plan_config, section, workers=1, progress=False)
    return result, evaluate(plan_config, result.design.quality)


def outcome_of(plan_config: dict[str, Any], section: dict[str, Any]) -> Outcome:
    """:func:`design_and_current` as an outcome: ("ok", (result, current row)), "input" or
    "error" (a Stop adds ("stopped", None))."""
    return _outcome(design_and_current, plan_config, section)


def _sentences(plan: Plan) -> list[str]:
    return list(advise(plan).sentences)


def advice_outcome(plan: Plan) -> Outcome:
    """The advice for ``plan`` as an outcome: ("ok", sentences), "input" or "error"."""
    return _outcome(_sentences, plan)
