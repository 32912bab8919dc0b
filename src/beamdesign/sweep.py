"""Sweeps: the grid of plans made by varying dotted keys of a plan config, run in parallel.

Every grid point is an ordinary plan run (``run_plan(plan_from_config(config))``), so a row
equals the single run of its config. Locally the grid runs on a process pool
(``concurrent.futures``; no extra dependency); ``scheduler=ADDRESS`` sends it to an existing
Dask cluster (``dask.distributed``, the optional ``sweep`` extra). ``design`` explores its
ranges with the same engine.

Dotted keys address the plan mapping: ``beam.energy_keV``, ``beam.flux_ph_s``,
``schedule.raster.step_um``, ``schedule.locations.0.exposure_s`` (a number indexes a list).
``schedule.exposure_s`` sets the exposure of *every* location (the default and each explicit
one), so that a plan with explicit locations changes with it.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import yaml

from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.files import read_mapping
from beamdesign.plan import (
    Plan,
    builtin_plan_names,
    builtin_plan_text,
    plan_from_config,
    threshold_key,
)
from beamdesign.profile import apply_profile
from beamdesign.reprs import compact_repr
from beamdesign.signal import Detector, plan_signal
from beamdesign.thresholds import Threshold

SOC_GRID_POINTS = 2001  # samples of SOC(t) for the largest SOC change per second
CHUNKS_PER_WORKER = 4  # a few chunks per worker balance the load without per-plan overhead
DASK_CONNECT_TIMEOUT_S = 10  # seconds to wait for a scheduler to answer


@dataclass(frozen=True)
class Quality:
    """What to compute beside the dose: the signal model and the limit's own dose metric.

    Attributes
    ----------
    technique, options, detector : the signal model (``signal.signal``)
    convention : the dose convention the limit was measured in (None: the plan's)
    constituent : the limit's constituent (None: the probe; "electrolyte": its pore filler)
    """

    technique: str
    options: tuple[tuple[str, Any], ...] = ()
    detector: Detector = field(default_factory=Detector)
    convention: str | None = None
    constituent: str | None = None

    __repr__ = compact_repr


@dataclass(frozen=True)
class SweepResult:
    """Rows of a sweep in grid order; each row holds its varied keys then the results."""

    title: str
    vary: dict[str, list[Any]]
    rows: tuple[dict[str, Any], ...]
    elapsed_s: float

    __repr__ = compact_repr

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.title, "vary": self.vary, "results": list(self.rows)}


def load_plan_config(
    spec: str | Path | dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A plan mapping ready for ``plan_from_config``, and its ``design`` section (or None).

    ``spec``: a built-in plan name, a YAML/JSON plan file or a mapping. The ``design`` key is
    split off; a ``beamline: NAME|path`` key is kept (``evaluate`` applies the profile to every
    grid point, at its own energy) and checked; stack and profile files named relative to the
    plan file become absolute paths, so that the config runs anywhere (on a Dask worker too).
    """

    if isinstance(spec, dict):
        config, base_dir = json.loads(json.dumps(spec)), None
    elif str(spec) in builtin_plan_names():
        config, base_dir = yaml.safe_load(builtin_plan_text(str(spec))), None
    else:
        path = Path(str(spec)).expanduser()
        if not path.exists() and not path.suffix:
            builtin_plan_text(str(spec))  # raises with the list of built-in plans
        config, base_dir = read_mapping(path, "plan"), path.parent
    if not isinstance(config, dict):
        raise InputError(
            "plan", config, "a plan is a mapping with stack, beam, protocol and schedule"
        )
    design = config.pop("design", None)
    beamline = config.get("beamline")
    if beamline is not None:
        if isinstance(beamline, str) and base_dir is not None and (base_dir / beamline).is_file():
            config["beamline"] = str((base_dir / beamline).resolve())
        apply_profile(config, config["beamline"])  # validate now, with the plan's own values
    stack = config.get("stack")
    if (
        isinstance(stack, str)
        and base_dir is not None
        and (base_dir / stack).expanduser().is_file()
    ):
        config["stack"] = str((base_dir / stack).expanduser().resolve())
    return config, design


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``"KEY=V1,V2,..."`` -> (key, values); each value a number, or else read as YAML."""
    key, sep, values = str(text).partition("=")
    items = [v.strip() for v in values.split(",")] if sep else []
    if not sep or not key.strip() or not items or any(not v for v in items):
        raise InputError(
            "--vary", text, "KEY=V1,V2,... with a dotted plan key, e.g. beam.energy_keV=27,60"
        )
    return key.strip(), [_value(v) for v in items]


def _value(token: str) -> object:
    """A number when the text is one (``1e9`` too, which YAML 1.1 reads as text), else YAML."""
    for kind in (int, float):
        try:
            return kind(token)
        except ValueError:
            pass
    return yaml.safe_load(token)


def set_dotted(config: dict[str, Any], key: str, value: object) -> dict[str, Any]:
    """A copy of ``config`` with the dotted ``key`` set to ``value`` (see the module docstring)."""
    out: dict[str, Any] = json.loads(json.dumps(config))
    parts = key.split(".")
    node: Any = out
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise InputError(
                    key, value, f"'{where}' indexes a list of {len(node)} items (0–{len(node) - 1})"
                )
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                node[part] = {}
            node = node[part]
        else:
            raise InputError(key, value, f"'{'.'.join(parts[:depth])}' is a value, not a section")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise InputError(key, value, f"the last part indexes a list of {len(node)} items")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
        if key == "schedule.exposure_s":
            for location in node.get("locations") or []:
                if isinstance(location, dict):
                    location["exposure_s"] = value
    else:
        raise InputError(key, value, f"'{'.'.join(parts[:-1])}' is a value, not a section")
    return out


def get_dotted(config: dict[str, Any], key: str) -> object:
    """The value at a dotted key (None when absent)."""
    node: Any = config
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def grid(
    plan_config: dict[str, Any], vary: dict[str, list[Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every combination of the varied values: (values by key, plan config), first key slowest."""
    for key, choices in vary.items():
        if not isinstance(choices, list) or not choices:
            raise InputError(f"--vary {key}", choices, "a non-empty list of values")
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for combo in itertools.product(*vary.values()):
        values = dict(zip(vary, combo, strict=True))
        config = plan_config
        for key, value in values.items():
            config = set_dotted(config, key, value)
        out.append((values, config))
    return out


def runnable(config: dict[str, Any]) -> dict[str, Any]:
    """The plan mapping ``plan_from_config`` accepts: a ``beamline`` key applied and removed."""
    if "beamline" not in config:
        return config
    return apply_profile(config, config["beamline"])


def soc_resolution_pct(plan: Plan) -> float:
    """SOC change (%) between two visits of a location: loop period × the fastest SOC rate."""
    t = np.linspace(0.0, plan.protocol.duration_s, SOC_GRID_POINTS)
    rate = np.max(np.abs(np.diff(plan.protocol.soc_at(t)) / np.diff(t)), initial=0.0)
    return float(100.0 * plan.schedule.loop_s * rate)


def evaluate(config: dict[str, Any], quality: Quality | None = None) -> dict[str, Any]:
    """One grid point: the plan's worst probed dose (+ signal and limit metric with ``quality``).

    A ``beamline`` key is applied first (``runnable``).
    """
    plan = plan_from_config(runnable(config))
    result = run_plan(plan, timeline_points=2)  # final doses do not depend on the timeline
    worst = result.worst()
    row = {
        "worst_probe_dose_Gy": worst.dose_Gy[result.probe],
        "worst_location": worst.name,
        "probe": result.probe,
        "convention": plan.beam.convention,
        "local_dose_rate_Gy_per_s": worst.local_dose_rate_Gy_per_s,
        "averaged_dose_rate_Gy_per_s": worst.averaged_dose_rate_Gy_per_s,
        "verdict": worst.verdict,
    }
    if quality is None:
        return row
    convention = quality.convention or plan.beam.convention
    if convention != plan.beam.convention:
        beam = {**plan.config["beam"], "convention": convention}
        result = run_plan(plan_from_config({**plan.config, "beam": beam}), timeline_points=2)
    key = threshold_key(
        plan, Threshold("limit", 1.0, quality.constituent), result.probe, "design.limit"
    )
    if key is None:
        raise InputError(
            "design.limit.constituent",
            quality.constituent,
            f"a constituent of the probed layer '{result.probe.split('/')[0]}' "
            "(it has no pore filler)",
        )
    measured = plan_signal(plan, quality.technique, dict(quality.options), quality.detector)
    row.update(
        {
            "dose_Gy": result.worst(key).dose_Gy[key],
            "dose_constituent": key,
            "dose_convention": convention,
            "snr_per_scan": measured.snr_per_scan,
            "time_resolution_soc_pct": soc_resolution_pct(plan),
        }
    )
    return row


def _evaluate_chunk(configs: list[dict[str, Any]], quality: Quality | None) -> list[dict[str, Any]]:
    """Rows of a chunk, or ``{"error": (field, value, allowed, hint)}`` for bad input (an
    InputError does not survive pickling with its fields)."""
    out = []
    for config in configs:
        try:
            out.append(evaluate(config, quality))
        except InputError as error:
            out.append({"error": (error.field, error.value, error.allowed, error.hint)})
    return out


class _Progress:
    """A one-line progress bar on a terminal (stderr)."""

    def __init__(self, total: int, enabled: bool, stream: TextIO) -> None:
        self.total, self.enabled, self.stream, self.done = total, enabled, stream, 0

    def advance(self, n: int) -> None:
        self.done += n
        if self.enabled:
            filled = int(30 * self.done / max(self.total, 1))
            self.stream.write(
                f"\rsweep [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}"
            )
            if self.done >= self.total:
                self.stream.write("\n")
            self.stream.flush()


def _chunks(items: list[Any], n: int) -> list[list[Any]]:
    size = max(1, -(-len(items) // n))
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_configs(
    configs: list[dict[str, Any]],
    quality: Quality | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Evaluate plan configs in parallel, rows in input order (module docstring).

    Parameters
    ----------
    scheduler : address of a running Dask scheduler ("tcp://host:8786"); None: local processes
    workers : local processes (default: the CPU count); 1 runs in this process
    progress : show a progress bar (default: when stderr is a terminal)
    """
    bar = _Progress(len(configs), sys.stderr.isatty() if progress is None else progress, sys.stderr)
    if scheduler is not None:
        rows = _run_dask(configs, quality, scheduler, bar)
    else:
        n_workers = workers or os.cpu_count() or 1
        rows = []
        chunks = _chunks(configs, n_workers * CHUNKS_PER_WORKER)
        if n_workers == 1 or len(chunks) <= 1:
            for chunk in chunks:
                rows += _evaluate_chunk(chunk, quality)
                bar.advance(len(chunk))
        else:
            results: dict[int, list[dict[str, Any]]] = {}
            # spawn, not fork: forking after numpy's BLAS threads started can deadlock the workers
            with ProcessPoolExecutor(
                max_workers=n_workers, mp_context=get_context("spawn")
            ) as pool:
                futures = {
                    pool.submit(_evaluate_chunk, chunk, quality): i
                    for i, chunk in enumerate(chunks)
                }
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.advance(len(results[futures[future]]))
            rows += [row for i in range(len(chunks)) for row in results[i]]
    for row in rows:
        if "error" in row:
            raise InputError(*row["error"])
    return rows


def _run_dask(
    configs: list[dict[str, Any]], quality: Quality | None, address: str, bar: _Progress
) -> list[dict[str, Any]]:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(
            "--scheduler",
            address,
            "needs dask.distributed",
            "install the sweep extra: pip install 'beamdesign[sweep]'",
        ) from None
    try:
        # dask.distributed has no type hints: the client is typed Any
        client: Any = Client(address, timeout=DASK_CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(
            "--scheduler",
            address,
            f"no Dask scheduler answered ({error.__class__.__name__})",
            "give the address printed by `dask scheduler`, e.g. tcp://host:8786",
        ) from None
    try:
        n = max(1, sum(client.nthreads().values()) * CHUNKS_PER_WORKER)
        chunks = _chunks(configs, n)
        futures = client.map(_evaluate_chunk, chunks, quality=quality, pure=False)
        for future in dask_completed(futures):  # type: ignore[no-untyped-call]
            bar.advance(len(future.result()))
        results = client.gather(futures)
    finally:
        client.close()
    return [row for chunk in results for row in chunk]


def sweep(
    plan_config: dict[str, Any],
    vary: dict[str, list[Any]] | Iterable[str],
    quality: Quality | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> SweepResult:
    """Run the grid of ``plan_config`` over ``vary`` ({dotted key: values} or "KEY=V1,V2" texts)."""
    if not isinstance(vary, dict):
        vary = dict(parse_vary(text) for text in vary)
    if not vary:
        raise InputError("--vary", None, "at least one KEY=V1,V2,... to vary")
    start = time.perf_counter()
    points = grid(plan_config, vary)
    rows = run_configs(
        [config for _, config in points],
        quality,
        scheduler=scheduler,
        workers=workers,
        progress=progress,
    )
    out = tuple({**values, **row} for (values, _), row in zip(points, rows, strict=True))
    return SweepResult(
        str(plan_config.get("title", "untitled plan")), dict(vary), out, time.perf_counter() - start
    )
