"""Plan files: one YAML/JSON file holds a whole experiment (stack, beam, protocol, schedule,
thresholds, probe). The CLI, the widgets and the reports read and write this one format.

Files carry ``version``; an older file is brought up to date by the chain of
``migrate_vN_to_vN+1`` functions in ``MIGRATIONS`` (empty while there is only version 1).
Saving is atomic: the file is written to a temporary neighbour and renamed over the target.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from beamdesign import validate
from beamdesign.beam import Beam
from beamdesign.errors import InputError, did_you_mean
from beamdesign.files import (
    builtin_texts,
    check_output,
    dump_yaml,
    parse_mapping,
    read_mapping,
    write_text_atomic,
)
from beamdesign.frozen import freeze, thaw
from beamdesign.profile import Profile, apply_profile, load_profile
from beamdesign.protocol import Protocol, parse_protocol
from beamdesign.reprs import summary
from beamdesign.schedule import Schedule
from beamdesign.stack import Constituent, Layer, Stack, load_stack
from beamdesign.thresholds import DEFAULT_SCALE, Threshold, thresholds_from_config

if TYPE_CHECKING:
    from beamdesign.design import Design

PLAN_VERSION = 1
PLAN_KEYS = (
    "version",
    "title",
    "stack",
    "beam",
    "protocol",
    "soc0",
    "schedule",
    "thresholds",
    "probe",
    "notes",
    "metadata",
    "beamline",
    "design",
)
#: What a plan's ``metadata`` section may say about the beamtime (free text each).
METADATA_KEYS = ("proposal", "beamline", "facility", "principal_investigator", "sample", "date")
#: Longest ``notes`` and metadata text, characters.
MAX_NOTES_CHARS = 10_000
_FILE_SUFFIXES = (".yaml", ".yml", ".json")
#: version N -> function turning a version-N mapping into a version-(N+1) mapping
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


@dataclass(frozen=True)
class Plan:
    """A whole experiment, validated.

    ``config`` is the mapping it was built from, as a read-only deep view (mappings are
    ``FrozenMapping``, lists are tuples): editing it raises, so the plan never drifts from
    its config. ``to_config()`` gives an editable copy; ``replace()`` a new plan.
    ``beamline``: the profile the plan's ``beamline`` key names (its beam and schedule are
    resolved through ``profile.apply_profile``); ``design``: its validated ``design`` section.
    """

    title: str
    stack: Stack
    beam: Beam
    protocol: Protocol
    schedule: Schedule
    thresholds: tuple[Threshold, ...]
    probe: str | None
    config: Mapping[str, Any]
    beamline: Profile | None = None
    design: Design | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", freeze(self.config))

    def __repr__(self) -> str:
        return (
            f"Plan({summary(self.title)}, stack={summary(self.stack.name)}, "
            f"{self.beam.energy_keV:g} keV, "
            f"{len(self.schedule.locations)} locations, {len(self.protocol.steps)} steps, "
            f"{len(self.thresholds)} thresholds)"
        )

    @property
    def metadata(self) -> dict[str, str]:
        """Proposal, beamline, facility, PI, sample, date: whatever the plan says
        (METADATA_KEYS)."""
        return dict(self.config.get("metadata", {}))

    def to_config(self) -> dict[str, Any]:
        """The plan-file mapping (round-trips through ``plan_from_config``)."""
        copy: dict[str, Any] = thaw(self.config)
        return copy

    def replace(self, **sections: object) -> Plan:
        """A new plan with some top-level sections of the config replaced (validated again)."""
        config = self.to_config()
        config.update(sections)
        return plan_from_config(config)


def _migrate(config: dict[str, Any], field: str) -> dict[str, Any]:
    version = config.get("version", PLAN_VERSION)
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or not 1 <= version <= PLAN_VERSION
    ):
        raise InputError(
            f"{field}.version",
            version,
            f"a plan version from 1 to {PLAN_VERSION} (this beamdesign writes "
            f"version {PLAN_VERSION}; a newer file needs a newer beamdesign)",
        )
    while version < PLAN_VERSION:
        config = MIGRATIONS[version](config)
        version += 1
    return {**config, "version": PLAN_VERSION}


def plan_from_config(
    config: dict[str, Any], base_dir: Path | None = None, field: str = "plan"
) -> Plan:
    """Validate a plan mapping and build the plan.

    Parameters
    ----------
    config : the mapping a plan file holds
    base_dir : folder against which a relative stack file path is resolved (the plan file's
        folder; None: the current folder)
    field : prefix of error fields (the top-level keys are named without it)
    """
    if isinstance(config, Mapping):  # a plan's own read-only config is accepted too
        config = thaw(config)
    if not isinstance(config, dict) or not config:
        raise InputError(
            field, config, "a plan is a mapping with stack, beam, protocol and schedule"
        )
    validate.unknown_keys(config, PLAN_KEYS, "")
    config = _migrate(config, field)
    for key in ("stack", "beam", "protocol", "schedule"):
        if key not in config:
            raise InputError(key, validate.MISSING, f"a plan needs a '{key}' section")
    stack_spec = config["stack"]
    if isinstance(stack_spec, str):
        stack_spec = validate.text(stack_spec, "stack", max_chars=4096)
        resolved = resolve_stack_path(stack_spec, base_dir)
        if resolved is not None:
            stack_spec = str(resolved)
            config = {**config, "stack": stack_spec}
    elif not isinstance(stack_spec, dict):
        raise InputError(
            "stack",
            stack_spec,
            "a built-in stack name, a stack file path or an inline mapping with layers",
        )
    stack = load_stack(stack_spec, "stack")
    protocol = parse_protocol(config["protocol"], config.get("soc0", 0.0))
    validate.mapping(config.get("metadata", {}), "metadata", METADATA_KEYS)
    for key, value in config.get("metadata", {}).items():
        validate.text(value, f"metadata.{key}", max_chars=MAX_NOTES_CHARS, empty=True)
    validate.text(config.get("notes", ""), "notes", max_chars=MAX_NOTES_CHARS, empty=True)
    probe = validate.text(config["probe"], "probe") if "probe" in config else None
    config, beamline = _beamline(config, base_dir)
    # the beam and schedule the beamline delivers (flux from its table unless the plan sets it)
    delivered = config if beamline is None else apply_profile(config, beamline)
    plan = Plan(
        title=validate.text(config.get("title", "untitled plan"), "title"),
        stack=stack,
        beam=Beam.from_config(delivered["beam"], "beam"),
        protocol=protocol,
        schedule=Schedule.from_config(delivered["schedule"], "schedule"),
        thresholds=thresholds_from_config(config.get("thresholds", DEFAULT_SCALE), "thresholds"),
        probe=probe,
        config=json.loads(json.dumps(config)),  # frozen by Plan
        beamline=beamline,
        design=_design(config) if "design" in config else None,
    )
    probe = probe_key(plan)  # validate the probe and every threshold now, not when the plan runs
    for threshold in plan.thresholds:
        threshold_key(plan, threshold, probe)
    return plan


def _beamline(
    config: dict[str, Any], base_dir: Path | None
) -> tuple[dict[str, Any], Profile | None]:
    """The config with a ``beamline`` file path made absolute, and the profile it names."""
    if "beamline" not in config:
        return config, None
    spec = config["beamline"]
    if isinstance(spec, str):
        spec = validate.text(spec, "beamline", max_chars=4096)
        resolved = resolve_stack_path(spec, base_dir)
        if resolved is not None:
            spec = str(resolved)
            config = {**config, "beamline": spec}
    elif not isinstance(spec, dict):
        raise InputError(
            "beamline",
            spec,
            "a built-in beamline profile name, a profile file path or an inline mapping",
        )
    return config, load_profile(spec, "beamline")


def _design(config: dict[str, Any]) -> Design:
    """The plan's validated design section. Whether its technique fits the plan's probe (the
    element in the probed layer, the reflection of the probed crystal, an energy above the
    edge) is checked when the signal is computed: a plan may change its probe or energy."""
    # design imports the sweep engine, which imports this module: import it when needed
    from beamdesign.design import parse_design
    from beamdesign.signal import check_options

    rest = {key: value for key, value in config.items() if key != "design"}
    design = parse_design(config["design"], rest)
    check_options(design.quality.technique, dict(design.quality.options), "design.signal")
    return design


def resolve_stack_path(spec: str, base_dir: Path | None) -> Path | None:
    """The absolute path a plan's ``stack`` text names, or None for a built-in stack name.

    A text ending in .yaml/.yml/.json, holding a folder separator, or naming an existing file
    next to the plan is a path, relative to ``base_dir`` (the plan file's folder) unless
    absolute; any other text is a built-in stack name.
    """
    path = Path(spec).expanduser()
    folder = Path.cwd() if base_dir is None else Path(base_dir).expanduser()
    candidate = path if path.is_absolute() else folder.absolute() / path
    looks_like_path = path.suffix.lower() in _FILE_SUFFIXES or len(path.parts) > 1
    return candidate if looks_like_path or candidate.is_file() else None


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
    passive = [
        layer
        for layer in stack.layers
        if layer.main_constituent.material.category not in PASSIVE_CATEGORIES
    ]
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
    raise InputError(
        "probe",
        plan.probe,
        f"layer '{layer.name}' holds " + ", ".join(names),
        did_you_mean(constituent_name.strip(), names),
    )


def threshold_key(
    plan: Plan, threshold: Threshold, probe: str | None = None, field: str = "thresholds"
) -> str | None:
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
    raise InputError(
        f"{field}[{threshold.name}].constituent",
        wanted,
        "a constituent of the probed layer, 'electrolyte', or 'layer/constituent' from the stack",
        did_you_mean(wanted, keys + [c.name for c in layer.constituents]),
    )


def _builtin_files() -> dict[str, str]:
    return builtin_texts("plans")


def builtin_plan_names() -> list[str]:
    """Names of the built-in example plans."""
    return list(_builtin_files())


def builtin_plan_text(name: str) -> str:
    """The YAML text of a built-in plan."""
    files = _builtin_files()
    if name not in files:
        raise InputError(
            "plan",
            name,
            "not a plan file or a built-in plan; built-in: " + ", ".join(files),
            did_you_mean(name, files),
        )
    return files[name]


def load_plan(spec: str | Path) -> Plan:
    """A plan from a YAML/JSON file path or a built-in plan name."""
    text = str(spec)
    if text in _builtin_files():
        return plan_from_config(
            parse_mapping(
                builtin_plan_text(text), "plan", keys_under="", source=f"built-in plan {text}"
            )
        )
    path = Path(text).expanduser()
    if not path.exists() and not path.suffix:
        builtin_plan_text(text)  # raises with the list of built-in plans
    return plan_from_config(
        read_mapping(path, "plan", keys_under=""), base_dir=path.absolute().parent
    )


def plan_text(plan: Plan, fmt: str = "yaml", folder: str | Path | None = None) -> str:
    """The plan file's text, YAML or JSON.

    A stack or beamline file path is written relative to ``folder`` when the file lies below it
    (so that a plan saved with its stack moves with it), else absolute (as the plan holds it).
    """
    config = plan.to_config()
    for key in ("stack", "beamline"):
        path = config.get(key)
        if folder is not None and isinstance(path, str) and Path(path).is_absolute():
            with contextlib.suppress(ValueError):  # not below the folder: keep the absolute path
                config[key] = (
                    Path(path).relative_to(Path(folder).expanduser().absolute()).as_posix()
                )
    if fmt == "json":
        return json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    return dump_yaml(config)


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` to ``path`` (YAML, or JSON for a .json suffix) atomically.

    The text goes to a temporary file in the same folder, is flushed to disk, then renamed
    over ``path``: an interrupted save never leaves a half-written plan.
    """
    target = Path(path).expanduser()
    if target.suffix.lower() not in {".yaml", ".yml", ".json"}:
        raise InputError("plan file", str(target), "a plan file name ends in .yaml, .yml or .json")
    check_output(target, "plan file")
    text = plan_text(plan, "json" if target.suffix.lower() == ".json" else "yaml", target.parent)
    return write_text_atomic(target, text, "plan file")
