"""Plan files: one YAML/JSON file holds a whole experiment (stack, beam, protocol, schedule,
thresholds, probe). The CLI, the widgets and the reports read and write this one format.

Files carry ``version``; an older file is brought up to date by the chain of
``migrate_vN_to_vN+1`` functions in ``MIGRATIONS`` (empty while there is only version 1).
Saving is atomic: the file is written to a temporary neighbour and renamed over the target.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from beamdesign.beam import Beam
from beamdesign.errors import InputError, did_you_mean
from beamdesign.protocol import Protocol, parse_protocol
from beamdesign.schedule import Schedule
from beamdesign.stack import Constituent, Layer, Stack, load_stack, read_mapping
from beamdesign.thresholds import Threshold, thresholds_from_config

PLAN_VERSION = 1
PLAN_KEYS = ("version", "title", "stack", "beam", "protocol", "soc0", "schedule", "thresholds",
             "probe", "notes", "metadata")
#: What a plan's ``metadata`` section may say about the beamtime (free text each).
METADATA_KEYS = ("proposal", "beamline", "facility", "principal_investigator", "sample", "date")
#: version N -> function turning a version-N mapping into a version-(N+1) mapping
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


@dataclass(frozen=True)
class Plan:
    """A whole experiment, validated. ``config`` is the mapping it was built from."""

    title: str
    stack: Stack
    beam: Beam
    protocol: Protocol
    schedule: Schedule
    thresholds: tuple[Threshold, ...]
    probe: str | None
    config: dict

    @property
    def metadata(self) -> dict[str, str]:
        """Proposal, beamline, facility, PI, sample, date: whatever the plan says (METADATA_KEYS)."""
        return dict(self.config.get("metadata", {}))

    def to_config(self) -> dict:
        """The plan-file mapping (round-trips through ``plan_from_config``)."""
        return json.loads(json.dumps(self.config))

    def replace(self, **sections: object) -> Plan:
        """A new plan with some top-level sections of the config replaced (validated again)."""
        config = self.to_config()
        config.update(sections)
        return plan_from_config(config)


def _migrate(config: dict, field: str) -> dict:
    version = config.get("version", PLAN_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= PLAN_VERSION:
        raise InputError(f"{field}.version", version,
                         f"a plan version from 1 to {PLAN_VERSION} (this beamdesign writes "
                         f"version {PLAN_VERSION}; a newer file needs a newer beamdesign)")
    while version < PLAN_VERSION:
        config = MIGRATIONS[version](config)
        version += 1
    return {**config, "version": PLAN_VERSION}


def plan_from_config(config: dict, base_dir: Path | None = None, field: str = "plan") -> Plan:
    """Validate a plan mapping and build the plan.

    Parameters
    ----------
    config : the mapping a plan file holds
    base_dir : folder against which a relative stack file path is resolved
    field : prefix of error fields (the top-level keys are named without it)
    """
    if not isinstance(config, dict) or not config:
        raise InputError(field, config, "a plan is a mapping with stack, beam, protocol and schedule")
    unknown = sorted(set(config) - set(PLAN_KEYS))
    if unknown:
        raise InputError(unknown[0], config[unknown[0]], "not a known plan key; allowed: "
                         + ", ".join(PLAN_KEYS), did_you_mean(unknown[0], PLAN_KEYS))
    config = _migrate(config, field)
    for key in ("stack", "beam", "protocol", "schedule"):
        if key not in config:
            raise InputError(key, None, f"a plan needs a '{key}' section")
    stack_spec = config["stack"]
    if isinstance(stack_spec, str) and base_dir is not None:
        candidate = (base_dir / stack_spec).expanduser()
        if candidate.is_file():
            stack_spec = str(candidate)
            config = {**config, "stack": stack_spec}
    stack = load_stack(stack_spec, "stack")
    soc0 = config.get("soc0", 0.0)
    protocol = parse_protocol(config["protocol"], soc0)
    schedule_config = config["schedule"]
    if not isinstance(schedule_config, dict):
        raise InputError("schedule", schedule_config, "a mapping with locations or raster")
    metadata = config.get("metadata", {})
    if not isinstance(metadata, dict):
        raise InputError("metadata", metadata, "a mapping with any of " + ", ".join(METADATA_KEYS))
    for key, value in metadata.items():
        if key not in METADATA_KEYS:
            raise InputError(f"metadata.{key}", value, "not a known key; allowed: "
                             + ", ".join(METADATA_KEYS), did_you_mean(str(key), METADATA_KEYS))
        if not isinstance(value, str):
            raise InputError(f"metadata.{key}", value, "free text (a string)")
    probe = config.get("probe")
    if probe is not None and not isinstance(probe, str):
        raise InputError("probe", probe, "a layer name or 'layer/constituent'")
    plan = Plan(
        title=str(config.get("title", "untitled plan")),
        stack=stack,
        beam=Beam.from_config(config["beam"], "beam"),
        protocol=protocol,
        schedule=Schedule.from_config(schedule_config, "schedule"),
        thresholds=thresholds_from_config(config.get("thresholds"), "thresholds"),
        probe=probe,
        config=json.loads(json.dumps(config)),
    )
    probe = probe_key(plan)  # validate the probe and every threshold now, not when the plan runs
    for threshold in plan.thresholds:
        threshold_key(plan, threshold, probe)
    return plan


#: Material categories of active materials (electrode layers are probed by default).
ACTIVE_CATEGORIES = ("cathode", "anode")
#: Layers that are never probed by default.
PASSIVE_CATEGORIES = ("current collector", "window", "casing")


def _default_probe(stack: Stack) -> str:
    """The active material of the first electrode layer (a porous layer holding one).

    Failing that, the main constituent of the first porous layer, then of the first layer
    that is not a current collector, window or casing, then of the first layer.
    """
    def active(layer: Layer) -> list[Constituent]:
        return [c for c in layer.solid_constituents if c.material.category in ACTIVE_CATEGORIES]

    for layer in stack.layers:
        if layer.porosity > 0 and active(layer):
            best = max(active(layer), key=lambda c: c.mass_fraction_of_solid or 0.0)
            return f"{layer.name}/{best.name}"
    porous = [layer for layer in stack.layers if layer.porosity > 0]
    passive = [layer for layer in stack.layers
               if layer.main_constituent.material.category not in PASSIVE_CATEGORIES]
    layer = (porous or passive or list(stack.layers))[0]
    return f"{layer.name}/{layer.main_constituent.name}"


def probe_key(plan: Plan) -> str:
    """The probed constituent as "<layer>/<constituent>": the plan's ``probe`` or the default."""
    if plan.probe is None:
        return _default_probe(plan.stack)
    layer_name, _, constituent_name = plan.probe.partition("/")
    layer = plan.stack.layer(layer_name.strip(), "probe")
    if not constituent_name:
        return f"{layer.name}/{layer.main_constituent.name}"
    names = [c.name for c in layer.constituents]
    for name in names:
        if name.lower() == constituent_name.strip().lower():
            return f"{layer.name}/{name}"
    raise InputError("probe", plan.probe, f"layer '{layer.name}' holds " + ", ".join(names),
                     did_you_mean(constituent_name.strip(), names))


def threshold_key(plan: Plan, threshold: Threshold, probe: str | None = None,
                  field: str = "thresholds") -> str | None:
    """The constituent ("<layer>/<constituent>") a threshold is checked on.

    None for ``electrolyte`` when the probed layer has no pore filler (the threshold does not
    apply); a named constituent that is not in the stack is an InputError.
    """
    probe = probe or probe_key(plan)
    if threshold.constituent is None:
        return probe
    layer = plan.stack.layer(probe.split("/")[0])
    wanted = threshold.constituent.strip()
    if wanted.lower() == "electrolyte":
        fillers = [c for c in layer.constituents if c.role == "pore filler"]
        return f"{layer.name}/{fillers[0].name}" if fillers else None
    keys = [f"{lay.name}/{c.name}" for lay in plan.stack.layers for c in lay.constituents]
    for key in keys:  # "layer/constituent", or a constituent of the probed layer
        if key.lower() == wanted.lower() or key.lower() == f"{layer.name}/{wanted}".lower():
            return key
    raise InputError(f"{field}[{threshold.name}].constituent", wanted,
                     "a constituent of the probed layer, 'electrolyte', or 'layer/constituent' "
                     "from the stack", did_you_mean(wanted, keys + [
                         c.name for c in layer.constituents]))


@cache
def _builtin_files() -> dict[str, str]:
    folder = resources.files("beamdesign").joinpath("data/plans")
    return {e.name.removesuffix(".yaml"): e.read_text("utf-8")
            for e in sorted(folder.iterdir(), key=lambda e: e.name) if e.name.endswith(".yaml")}


def builtin_plan_names() -> list[str]:
    """Names of the built-in example plans."""
    return list(_builtin_files())


def builtin_plan_text(name: str) -> str:
    """The YAML text of a built-in plan."""
    files = _builtin_files()
    if name not in files:
        raise InputError("plan", name, "not a plan file or a built-in plan; built-in: "
                         + ", ".join(files), did_you_mean(name, files))
    return files[name]


def load_plan(spec: str | Path) -> Plan:
    """A plan from a YAML/JSON file path or a built-in plan name."""
    text = str(spec)
    if text in _builtin_files():
        return plan_from_config(yaml.safe_load(builtin_plan_text(text)))
    path = Path(text).expanduser()
    if not path.exists() and not path.suffix:
        builtin_plan_text(text)  # raises with the list of built-in plans
    return plan_from_config(read_mapping(path, "plan"), base_dir=path.parent)


def plan_text(plan: Plan, fmt: str = "yaml") -> str:
    """The plan file's text, YAML or JSON."""
    config = plan.to_config()
    if fmt == "json":
        return json.dumps(config, indent=2) + "\n"
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` to ``path`` (YAML, or JSON for a .json suffix) atomically.

    The text goes to a temporary file in the same folder, is flushed to disk, then renamed
    over ``path``: an interrupted save never leaves a half-written plan.
    """
    target = Path(path).expanduser()
    if target.suffix.lower() not in {".yaml", ".yml", ".json"}:
        raise InputError("plan file", str(target), "a plan file name ends in .yaml, .yml or .json")
    if not target.parent.is_dir():
        raise InputError("plan file", str(target), "the folder does not exist")
    text = plan_text(plan, "json" if target.suffix.lower() == ".json" else "yaml")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
