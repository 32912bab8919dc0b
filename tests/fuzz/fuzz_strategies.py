"""Hypothesis strategies for hostile plan files: a valid base plan with one part replaced by a
hostile value (wrong type, bool, huge/tiny/non-finite number, hostile unicode, deep nesting,
duplicate key, alias, tag, path to a folder/FIFO/missing file), or a hostile whole file."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from hypothesis import strategies as st

from beamdesign.files import dump_yaml

BASE: dict = {
    "version": 1,
    "title": "fuzz base",
    "stack": "jousseaume2023-pcc",
    "beam": {
        "energy_keV": 27,
        "flux_ph_s": 8.0e10,
        "spot_um": [300, 400],
        "profile": "tophat",
        "convention": "energy-absorption",
    },
    "protocol": ["Charge at C/2 for 1 h", "Rest for 10 min"],
    "soc0": 0.1,
    "schedule": {
        "locations": [
            {"name": "A", "x_um": 0, "y_um": 0, "exposure_s": 60},
            {"name": "B", "x_um": 1000, "y_um": 0},
        ],
        "exposure_s": 30,
        "move_s": 5,
        "loop": "until-end",
        "pause_s": 10,
        "start_s": 0,
    },
    "thresholds": "jousseaume2023",
    "probe": "NMC811 cathode",
    "notes": "base",
    "metadata": {"beamline": "ID31"},
}
INLINE_STACK = {
    "name": "fuzz cell",
    "layers": [
        {"name": "window", "material": "Kapton", "thickness_um": 50},
        {
            "name": "cathode",
            "thickness_um": 60,
            "porosity": 0.3,
            "pore_filler": "LP57",
            "solid": [
                {"material": "NMC811", "mass_fraction": 0.95},
                {"material": "PVDF", "mass_fraction": 0.05},
            ],
        },
    ],
}

#: where a hostile value may go: a path of keys and list indices into the base plan
PATHS = (
    ("version",),
    ("title",),
    ("stack",),
    ("beam",),
    ("beam", "energy_keV"),
    ("beam", "flux_ph_s"),
    ("beam", "spot_um"),
    ("beam", "spot_um", 0),
    ("beam", "profile"),
    ("beam", "convention"),
    ("beam", "attenuators"),
    ("protocol",),
    ("protocol", 0),
    ("protocol", 1),
    ("soc0",),
    ("schedule",),
    ("schedule", "locations"),
    ("schedule", "locations", 0),
    ("schedule", "locations", 0, "name"),
    ("schedule", "locations", 0, "x_um"),
    ("schedule", "locations", 0, "exposure_s"),
    ("schedule", "locations", 1, "y_um"),
    ("schedule", "exposure_s"),
    ("schedule", "move_s"),
    ("schedule", "loop"),
    ("schedule", "pause_s"),
    ("schedule", "start_s"),
    ("probe",),
    ("notes",),
    ("metadata",),
    ("metadata", "beamline"),
    ("stack", "layers"),
    ("stack", "layers", 0, "thickness_um"),
    ("stack", "layers", 1, "porosity"),
    ("stack", "layers", 1, "solid", 0, "mass_fraction"),
    ("stack", "layers", 0, "material"),
    ("stack", "layers", 1, "pore_filler"),
    ("stack", "layers", 0, "name"),
)
#: the integrator's thresholds.py validates these (kept apart: see test_fuzz_plans)
THRESHOLD_PATHS = (
    ("thresholds",),
    ("thresholds", 0),
    ("thresholds", 0, "dose_Gy"),
    ("thresholds", 0, "name"),
    ("thresholds", 0, "constituent"),
    ("thresholds", 0, "verdict"),
)

SENTINEL = "HOSTILE_VALUE_HERE"

hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x40), max_size=10),
    st.sampled_from(
        [
            "",
            " ",
            "8e10",
            "1_000",
            ".inf",
            "yes",
            "NaN",
            "-1",
            "0x10",
            "C/0",
            "a\u202eb",
            "\u2066x\u2069",
            "x\x1b[31my",
            "line\nbreak",
            "e\u0301",
            "Charge at C/8 for 9999999999999999999999 h",
            "Repeat 10 times: [" * 20,
            "Rest for 1e400 s",
            "../../etc/passwd",
            "\ufeff",
            "日本語",
            "𝔘𝔫𝔦",
        ]
    ),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**300, max_value=10**320),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -0.0, 1e-320, 5e-324, 1e308, -1e308, 1e-3, 1e16, 1e17, 2**63, -(2**63)]),
)
plain_values = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    hostile_text,
    st.lists(st.one_of(numbers, hostile_text, st.booleans()), max_size=3),
    st.dictionaries(hostile_text, st.one_of(numbers, hostile_text), max_size=3),
)
#: YAML written as is in place of a value (flow style, valid at a block mapping value)
raw_yaml = st.one_of(
    st.sampled_from(
        [
            ".inf",
            "-.inf",
            ".nan",
            ".NaN",
            "1e400",
            "-1e400",
            "1e-400",
            "0x7fffffffffffffffffff",
            "!!binary aGVsbG8=",
            "!!timestamp 2024-01-01",
            "2024-01-01",
            "!!set {a, b}",
            "!!omap [a: 1]",
            "!!python/object/apply:os.system [echo hacked]",
            "!!python/name:os.system",
            "!custom 3",
            "&anchor 5",
            "*undefined",
            '"\\ud800"',
            '"\\udfff x"',
            '"\\x00"',
            '"\\e[2J"',
            "{a: 1, a: 2}",
            "[1, 2, 3",
            "{? [1]: 2}",
            "{1: 2}",
            "!!int 3.5",
            "!!float x",
            "!!bool maybe",
            "!!str",
            "|\n  block",
            "on",
            "off",
            "y",
            "~",
            "''",
            "08",
            "0o8",
            "1:30",
            "'8e10'",
            "8e10",
            "1_000",
            "+.5",
            "-",
            "?",
            "@x",
            "`x`",
            "%x",
        ]
    ),
    st.integers(33, 60).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(33, 60).map(lambda depth: "{a: " * depth + "1" + "}" * depth),
    st.integers(1, 12).map(lambda n: "9" * (300 * n)),
)


def _set(config: dict, path: tuple, value: object) -> bool:
    """Put ``value`` at ``path``; False when the path does not exist in ``config``."""
    node = config
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return False
    try:
        node[path[-1]] = value
    except (IndexError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class Case:
    """A generated plan file: its bytes, what was changed, and whether the change is plain
    data (so the JSON Schema can judge it)."""

    data: bytes
    description: str
    config: dict | None = None  # the plain-data config, when the file is plain data


def _base(inline: bool, thresholds: bool) -> dict:
    config = copy.deepcopy(BASE)
    if inline:
        config["stack"] = copy.deepcopy(INLINE_STACK)
        config["probe"] = "cathode"
    if thresholds:
        config["thresholds"] = [
            {
                "name": "mine",
                "dose_Gy": 1e6,
                "constituent": "electrolyte",
                "verdict": "too much",
                "source": "fuzz",
            }
        ]
    return config


@st.composite
def value_cases(draw: st.DrawFn, paths: tuple = PATHS) -> Case:
    """The base plan with one value replaced: plain data (judged by the schema) or raw YAML."""
    path = draw(st.sampled_from(paths))
    config = _base(
        inline=path[:2] == ("stack", "layers"), thresholds=path[0] == "thresholds" and len(path) > 1
    )
    if draw(st.booleans()):
        value = draw(plain_values)
        assert _set(config, path, value)
        return Case(
            dump_yaml(config).encode("utf-8", "surrogatepass"),
            f"{'.'.join(map(str, path))} = {value!r}",
            config,
        )
    raw = draw(raw_yaml)
    assert _set(config, path, SENTINEL)
    text = dump_yaml(config).replace(SENTINEL, raw.replace("\n", "\n    "), 1)
    return Case(text.encode("utf-8"), f"{'.'.join(map(str, path))} <- raw {raw[:60]!r}")


@st.composite
def key_cases(draw: st.DrawFn) -> Case:
    """Unknown, duplicated, non-text or hostile keys at the top level or in a section."""
    config = _base(False, False)
    text = dump_yaml(config)
    kind = draw(st.sampled_from(["unknown", "duplicate", "number", "list", "hostile", "merge"]))
    if kind == "unknown":
        key = draw(st.sampled_from(["colour", "beams", "Beam", "flux", "schedul", "stack "]))
        text += f"{key}: 1\n"
    elif kind == "duplicate":
        section = draw(st.sampled_from(["beam", "stack", "title", "schedule", "protocol"]))
        text += dump_yaml({section: config[section]})
    elif kind == "number":
        text += "1: x\n"
    elif kind == "list":
        text += "? [a, b]\n: x\n"
    elif kind == "hostile":
        key = draw(hostile_text.filter(lambda k: k not in config))
        text += dump_yaml({key: 1})
    else:
        text += "<<: {title: merged}\n"
    return Case(text.encode("utf-8", "surrogatepass"), f"key {kind}")


@st.composite
def file_cases(draw: st.DrawFn) -> Case:
    """Whole hostile files: bytes that are not UTF-8 text, aliases, huge or empty files."""
    good = dump_yaml(_base(False, False))
    kind = draw(
        st.sampled_from(
            [
                "binary",
                "latin1",
                "utf16",
                "bom",
                "empty",
                "list",
                "laughs",
                "nul",
                "truncated",
                "big",
                "documents",
                "json-dup",
                "crlf",
            ]
        )
    )
    data = {
        "binary": lambda: draw(st.binary(min_size=1, max_size=200)),
        "latin1": lambda: ("title: café\n" + good).encode("latin-1", "replace"),
        "utf16": lambda: good.encode("utf-16"),
        "bom": lambda: ("\ufeff" + good).encode("utf-8"),
        "empty": lambda: b"",
        "list": lambda: b"- a\n- b\n",
        "laughs": lambda: (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"b{i}: &b{i} [" + ", ".join(["*a" if i == 0 else f"*b{i - 1}"] * 10) + "]\n"
                for i in range(9)
            )
            + good
        ).encode(),
        "nul": lambda: (good[:40] + "\x00" + good[40:]).encode(),
        "truncated": lambda: good[: draw(st.integers(1, len(good) - 1))].encode(),
        "big": lambda: good.encode() + b"#" * 1_000_001,
        "documents": lambda: (good + "---\n" + good).encode(),
        "json-dup": lambda: b'{"title": "a", "title": "b"}',
        "crlf": lambda: good.replace("\n", "\r\n").encode(),
    }[kind]()
    return Case(data, f"file {kind}")


hostile_cases = st.one_of(value_cases(), key_cases(), file_cases())
