"""Stack files and presets: every preset loads; bad stacks get one clear sentence."""

from __future__ import annotations

import json

import pytest

from beamdesign.beam import Beam
from beamdesign.dose import stack_dose
from beamdesign.errors import InputError
from beamdesign.stack import load_stack, preset_config, preset_names, stack_from_config

ISSUE_EXAMPLE = """
name: my pouch cell
layers:                       # upstream first
  - {name: pouch, material: pouch-laminate, thickness_um: 110}
  - {name: anode cc, material: Cu, thickness_um: 10}
  - name: anode
    thickness_um: 70
    porosity: 0.35
    pore_filler: LP57
    solid:
      - {material: graphite, mass_fraction: 0.95}
      - {material: PVDF, mass_fraction: 0.05}
  - {name: cathode foil, material: Al, density_g_cm3: 2.70, thickness_um: 15}
  - name: cathode
    thickness_um: 60
    porosity: 0.30
    pore_filler: {material: C3H4O3, density_g_cm3: 1.32}
    solid:
      - {material: LiNi0.8Mn0.1Co0.1O2, density_g_cm3: 4.75, mass_fraction: 0.94}
      - {material: PVDF, mass_fraction: 0.03}
      - {material: carbon-black, mass_fraction: 0.03}
"""
REQUIRED_PRESETS = {
    "jousseaume2023-pca",
    "jousseaume2023-pcb",
    "jousseaume2023-pcc",
    "coin2032-kapton",
    "ampix",
    "capillary",
    "cylindrical-18650",
}
BEAM = Beam(27.0, 8e10, (300.0, 400.0))


def test_issue_example_file_loads(tmp_path):
    path = tmp_path / "cell.yaml"
    path.write_text(ISSUE_EXAMPLE)
    stack = load_stack(str(path))
    assert [layer.name for layer in stack.layers] == [
        "pouch",
        "anode cc",
        "anode",
        "cathode foil",
        "cathode",
    ]
    cathode = stack.layer("cathode")
    assert sum(c.volume_fraction for c in cathode.constituents) == pytest.approx(1.0)
    assert cathode.main_constituent.name == "LiNi0.8Mn0.1Co0.1O2"  # the formula as written


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_runs_and_documents_its_sources(name):
    config = preset_config(name)
    assert config.get("source") and config.get("title")
    stack = load_stack(name)
    result = stack_dose(stack, BEAM)
    assert 0 < result.transmission < 1
    assert stack_from_config(stack.to_config()) == stack  # round-trip


def test_required_presets_exist():
    assert set(preset_names()) >= REQUIRED_PRESETS


def test_pcb_cathode_is_54_percent_thicker_than_pca():
    pca = max(load_stack("jousseaume2023-pca").layers, key=lambda layer: "NMC" in layer.name)
    pcb = max(load_stack("jousseaume2023-pcb").layers, key=lambda layer: "NMC" in layer.name)
    assert pcb.thickness_um - pca.thickness_um == pytest.approx(19, abs=0.5)
    assert pcb.thickness_um / pca.thickness_um == pytest.approx(1.54, abs=0.01)


def layer(**changes):
    base = {
        "name": "cathode",
        "thickness_um": 60,
        "porosity": 0.3,
        "pore_filler": "LP57",
        "solid": [
            {"material": "NMC811", "mass_fraction": 0.95},
            {"material": "PVDF", "mass_fraction": 0.05},
        ],
    }
    base.update(changes)
    return {"layers": [base]}


@pytest.mark.parametrize(
    "config, message",
    [
        (
            layer(thickness_um=-5),
            r"stack.layers\[0\].thickness_um = -5: a number from 0.001 to 1e\+05 µm\.",
        ),
        (layer(thickness_um=0), r"stack.layers\[0\].thickness_um = 0: a number from 0.001"),
        (layer(porosity=1.3), r"stack.layers\[0\].porosity = 1.3: a number from 0 to below 1\."),
        (layer(porosity=-0.1), r"porosity = -0.1: a number from 0 to below 1\."),
        (
            layer(pore_filler=None),
            r"stack.layers\[0\].pore_filler = None: a layer with porosity 0.3 needs a pore_filler",
        ),
        (
            layer(
                solid=[
                    {"material": "NMC811", "mass_fraction": 0.9},
                    {"material": "PVDF", "mass_fraction": 0.05},
                ]
            ),
            r"stack.layers\[0\].solid = 'mass fractions summing to 0.95': the mass fractions must "
            r"sum to 1 \(±1%\)",
        ),
        (
            layer(solid=[{"material": "Unobtainium", "mass_fraction": 1}]),
            r"solid\[0\].material = 'Unobtainium': not a known material or chemical formula; "
            r"unknown element 'Un' at character 1",
        ),
        (layer(colour="red"), r"stack.layers\[0\].colour = 'red': not a known key"),
        ({"layers": []}, r"stack.layers = \[\]: a non-empty list of layers"),
        ({}, r"stack.layers = missing: required\."),
        ([], r"stack = \[\]: a mapping with keys layers\."),
        (
            layer(thickness_um=True),
            r"thickness_um = true: a number from 0.001 to 1e\+05 µm; true/false is not a number\.",
        ),
        (layer(thickness_um=1e-320), r"thickness_um = 9.99989e-321: a number from 0.001"),
        (
            layer(name="x" * 300),
            r"name = 'xxx.*' \(302 characters\): a text of at most 200 characters\.",
        ),
    ],
)
def test_bad_stacks(config, message):
    with pytest.raises(InputError, match=message):
        stack_from_config(config)


def test_malformed_empty_and_missing_files(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("layers: [ {name: a, thickness_um: 3\n")
    with pytest.raises(
        InputError,
        match=r"stack = '.*broken.yaml': not valid YAML at line 2 \(expected ',' or '\}'",
    ):
        load_stack(str(broken))
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(
        InputError,
        match=(
            r"stack = '.*empty.yaml': the file must hold a non-empty mapping \(key: value "
            r"lines\), not nothing\."
        ),
    ):
        load_stack(str(empty))
    with pytest.raises(InputError, match=r"stack = '.*missing.yaml': no such file"):
        load_stack(str(tmp_path / "missing.yaml"))
    bad_json = tmp_path / "cell.json"
    bad_json.write_text(json.dumps({"layers": [{"name": "x", "material": "Cu"}]}))
    with pytest.raises(InputError, match=r"stack.layers\[0\].thickness_um = missing: required\."):
        load_stack(str(bad_json))


def test_unknown_preset_suggests_close_names():
    with pytest.raises(InputError, match=r"did you mean .*'jousseaume2023-pcc'"):
        load_stack("jousseaume2023-pcx")
