"""The planner's slow computations as :class:`~beamdesign.widgets.background.BackgroundJob`
jobs: the Solve panel's design (:func:`outcome_of`) and the advice (:func:`advice_outcome`). Each
returns an outcome that crosses a process boundary (an InputError keeps its fields). This module
imports no widget library: the child process loads only the core."""

from __future__ import annotations

from typing import Any

from beamdesign.advice import advise
from beamdesign.design import DesignResult, design_plan
from beamdesign.errors import InputError
from beamdesign.plan import Plan
from beamdesign.sweep import evaluate

#: what a finished solve gives: ("ok", (result, current row)), ("input", InputError fields),
#: ("error", text) or ("stopped", None)
Outcome = tuple[str, Any]


def design_and_current(
    plan_config: dict[str, Any], section: dict[str, Any]
) -> tuple[DesignResult, dict[str, Any]]:
    """The Pareto front around the plan, and the plan's own row in the design's metric (the
    star on the plot). One process, one worker: a planner kernel shares the machine."""
    result = design_plan(plan_config, section, workers=1, progress=False)
    return result, evaluate(plan_config, result.design.quality)


def outcome_of(plan_config: dict[str, Any], section: dict[str, Any]) -> Outcome:
    """:func:`design_and_current` as an outcome (an InputError keeps its fields: it does not
    cross a process boundary whole)."""
    try:
        return ("ok", design_and_current(plan_config, section))
    except InputError as error:
        return ("input", (error.field, error.value, error.allowed, error.hint))
    except Exception as error:  # shown in the panel, never a traceback
        return ("error", f"{error.__class__.__name__}: {error}")


def advice_outcome(plan: Plan) -> Outcome:
    """The advice's sentences for ``plan``: ("ok", sentences), ("input", InputError fields) or
    ("error", text)."""
    try:
        return ("ok", list(advise(plan).sentences))
    except InputError as error:
        return ("input", (error.field, error.value, error.allowed, error.hint))
    except Exception as error:  # shown in the panel, never a traceback
        return ("error", f"{error.__class__.__name__}: {error}")
