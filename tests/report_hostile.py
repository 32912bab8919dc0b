"""A plan whose every free-text field is hostile (HTML, script, template and Python syntax),
shared by the report tests and the report browser test."""

from __future__ import annotations

import yaml

from beamdesign.plan import builtin_plan_text
from beamdesign.stack import preset_config

#: every hostile element carries this class, so a test can look for it in the page
PWNED = "bd-pwned"
HOSTILE = (
    f'</script><img src=x onerror="window.__pwned=1;alert(1)" class="{PWNED}">',
    f'"\'><svg onload="window.__pwned=2;alert(2)" class="{PWNED}"></svg>',
    "{{ 7*7 }} ${alert(3)}\nline two\r\n<script>window.__pwned=3;alert(3)</script>",
    "__import__('os').system('touch PWNED') ]]> <!-- -->",
)
#: the cathode's name is the probe, which may not contain '/', so it has no closing tag
CATHODE = f'cathode <img src=x onerror="window.__pwned=5;alert(5)" class="{PWNED}">'


def hostile_config() -> dict:
    """The default plan with hostile title, notes, stack title/source, layer names, location
    names, threshold names/verdicts/sources and metadata."""
    stack = preset_config("pouch-nmc811-graphite")
    stack["title"], stack["source"] = HOSTILE[0], HOSTILE[1]
    for layer in stack["layers"]:
        if layer["name"] == "NMC811 cathode":
            layer["name"] = CATHODE
        elif layer["name"] == "graphite anode":
            layer["name"] = "anode " + HOSTILE[0]
    config = yaml.safe_load(builtin_plan_text("default"))
    config.update(
        stack=stack,
        probe=CATHODE,
        title=HOSTILE[0] + HOSTILE[3],
        notes=HOSTILE[2],
        schedule={
            "locations": [
                {"name": name, "x_um": 300.0 * i, "y_um": 0.0} for i, name in enumerate(HOSTILE)
            ],
            "exposure_s": 10,
            "move_s": 2,
            "loop": "until-end",
        },
        thresholds=[
            "jousseaume2023",
            {"name": HOSTILE[0], "dose_Gy": 1e5, "verdict": HOSTILE[1], "source": HOSTILE[2]},
            {"name": HOSTILE[2], "dose_Gy": 5e4, "constituent": "electrolyte"},
        ],
        metadata={
            key: HOSTILE[i % len(HOSTILE)]
            for i, key in enumerate(
                ("proposal", "beamline", "facility", "principal_investigator", "sample", "date")
            )
        },
    )
    return config


def write_hostile_plan(path) -> None:
    path.write_text(
        yaml.safe_dump(config := hostile_config(), allow_unicode=True), encoding="utf-8"
    )
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == config
