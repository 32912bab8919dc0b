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
        assert resolve_material(m.name.upper(), "material").name == m.name  # case-insensitive


REQUIRED = ["NMC111", "NMC532", "NMC622", "NMC811", "NCA", "LCO", "LFP", "LMO", "LNMO", "graphite",
            "hard-carbon", "Si", "Li-metal", "Na-metal", "LLZO", "Li6PS5Cl", "PVDF", "CMC",
            "carbon-black", "Cu", "Al", "stainless-steel", "Ni", "Ti", "Be", "Kapton", "glassy-carbon",
            "PE", "PP", "pouch-laminate", "LP30", "LP57", "LiPF6-EC-DEC"]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_materials_exist(name):
    assert resolve_material(name, "material").density_g_cm3 > 0


def test_formula_lookup_and_parsed_formula():
    nmc = resolve_material("LiNi0.8Mn0.1Co0.1O2", "material")
    assert nmc.name == "NMC811"
    custom = resolve_material("Li2MnO3", "material", density_g_cm3=3.9)
    parsed = xraylib.CompoundParser("Li2MnO3")
    assert dict(custom.mass_fractions) == pytest.approx(dict(zip(parsed["Elements"], parsed["massFractions"])))
    fe = resolve_material("Fe", "material")
    assert fe.density_g_cm3 == pytest.approx(xraylib.ElementDensity(26))


def test_density_override_keeps_composition():
    al = resolve_material({"material": "Al", "density_g_cm3": 2.5}, "layers[0]")
    assert al.density_g_cm3 == 2.5
    assert al.mass_fractions == resolve_material("Al", "m").mass_fractions


@pytest.mark.parametrize("spec, density, message", [
    ("NMC-8111", None, r"layers\[1\].material = 'NMC-8111': not a library material or a chemical formula; did you mean 'NMC811'"),
    ("LiXx2O", 3.0, r"'LiXx2O': not a known material or chemical formula; unknown element 'Xx' at character 3"),
    ("Li2MnO3", None, r"layers\[1\].density_g_cm3 = None: the formula 'Li2MnO3' is not in the library, so it needs a density_g_cm3 > 0"),
    ("Li2MnO3", -1, r"layers\[1\].density_g_cm3 = -1: a number above 0 g/cm³\."),
    ("Al", 0, r"layers\[1\].density_g_cm3 = 0: a number above 0"),
    ("", None, r"layers\[1\].material = '': a material name from the library"),
])
def test_bad_materials_get_one_clear_sentence(spec, density, message):
    with pytest.raises(InputError, match=message):
        resolve_material(spec, "layers[1].material", density)


def test_library_names_are_unique():
    names = [n.lower() for n in library_names()]
    assert len(names) == len(set(names))
