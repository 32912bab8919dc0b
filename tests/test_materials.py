"""Materials library and the shared resolver."""

from __future__ import annotations

import pytest
import xraylib

from beamdesign.errors import InputError
from beamdesign.materials import library, library_names, resolve_material


def test_every_library_entry_resolves_with_density_and_source():
    materials = library()
    assert len(materials) >= 45
    for m in materials:
        assert m.density_g_cm3 > 0, m.name
        assert sum(w for _, w in m.mass_fractions) == pytest.approx(1.0, abs=2e-3), m.name
        assert m.source, m.name
        assert resolve_material(m.name.lower(), "material").name == m.name  # case-insensitive


REQUIRED = [
    "NMC111",
    "NMC532",
    "NMC622",
    "NMC811",
    "NCA",
    "LCO",
    "LFP",
    "LMO",
    "LNMO",
    "graphite",
    "hard-carbon",
    "Si",
    "Li-metal",
    "Na-metal",
    "LLZO",
    "Li6PS5Cl",
    "PVDF",
    "CMC",
    "carbon-black",
    "Cu",
    "Al",
    "stainless-steel",
    "Ni",
    "Ti",
    "Be",
    "Kapton",
    "glassy-carbon",
    "PE",
    "PP",
    "pouch-laminate",
    "LP30",
    "LP57",
    "LiPF6-EC-DEC",
]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_materials_exist(name):
    assert resolve_material(name, "material").density_g_cm3 > 0


def test_formula_lookup_and_parsed_formula():
    nmc = resolve_material("LiNi0.8Mn0.1Co0.1O2", "material", density_g_cm3=4.7)
    assert nmc.name == "LiNi0.8Mn0.1Co0.1O2"  # a formula keeps its own label
    assert nmc.mass_fractions == resolve_material("NMC811", "material").mass_fractions
    custom = resolve_material("Li2MnO3", "material", density_g_cm3=3.9)
    parsed = xraylib.CompoundParser("Li2MnO3")
    assert dict(custom.mass_fractions) == pytest.approx(
        dict(zip(parsed["Elements"], parsed["massFractions"], strict=True))
    )
    fe = resolve_material("Fe", "material")
    assert fe.density_g_cm3 == pytest.approx(xraylib.ElementDensity(26))


def test_density_override_keeps_composition():
    al = resolve_material({"material": "Al", "density_g_cm3": 2.5}, "layers[0]")
    assert al.density_g_cm3 == 2.5
    assert al.mass_fractions == resolve_material("Al", "m").mass_fractions


@pytest.mark.parametrize(
    "spec, density, message",
    [
        (
            "NMC-8111",
            None,
            r"layers\[1\].material = 'NMC-8111': not a library material or a chemical formula; "
            r"did you mean 'NMC811'",
        ),
        (
            "LiXx2O",
            3.0,
            r"'LiXx2O': not a known material or chemical formula; unknown element 'Xx' at "
            r"character 3",
        ),
        (
            "Li2MnO3",
            None,
            r"layers\[1\].density_g_cm3 = None: the formula 'Li2MnO3' is not a library name, so "
            r"it needs a density_g_cm3 > 0",
        ),
        ("Li2MnO3", -1, r"layers\[1\].density_g_cm3 = -1: a number above 0 g/cm³\."),
        ("Al", 0, r"layers\[1\].density_g_cm3 = 0: a number above 0"),
        ("", None, r"layers\[1\].material = '': a material name from the library"),
    ],
)
def test_bad_materials_get_one_clear_sentence(spec, density, message):
    with pytest.raises(InputError, match=message):
        resolve_material(spec, "layers[1].material", density)


def test_library_names_are_unique():
    names = [n.lower() for n in library_names()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    "spec, density, name, density_out",
    [
        ("C", 2.24, "C", 2.24),  # a formula keeps its own label (was renamed glassy-carbon)
        ("C", None, "C", None),  # a pure element takes xraylib's density
        ("nmc811", None, "NMC811", 4.7),  # library names in any case
        ("NMC-811", None, "NMC811", 4.7),  # aliases written exactly
        ("Gr", None, "graphite", 2.24),
    ],
)
def test_names_and_formulas_keep_their_identity(spec, density, name, density_out):
    material = resolve_material(spec, "m", density)
    assert material.name == name
    if density_out is not None:
        assert material.density_g_cm3 == density_out


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            "SiO2",
            r"m.density_g_cm3 = None: the formula 'SiO2' is not a library name, so it needs a "
            r"density_g_cm3 > 0; library materials with this formula: fused-silica, quartz",
        ),
        ("NCa", r"the formula 'NCa' is not a library name.*did you mean 'NCA'\?"),
    ],
)
def test_a_bare_formula_needs_a_density(spec, message):
    with pytest.raises(InputError, match=message):
        resolve_material(spec, "m")


def test_two_constituents_with_one_formula_but_different_names():
    from beamdesign.stack import layer_from_config

    layer = layer_from_config(
        {
            "name": "anode",
            "thickness_um": 50,
            "porosity": 0.3,
            "pore_filler": "LP57",
            "solid": [
                {"material": "graphite", "mass_fraction": 0.9},
                {"material": "carbon-black", "mass_fraction": 0.1},
            ],
        },
        "layer",
    )
    assert [c.name for c in layer.solid_constituents] == ["graphite", "carbon-black"]
