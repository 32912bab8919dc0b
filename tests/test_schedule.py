from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beamdesign.errors import InputError
from beamdesign.schedule import MAX_EXPOSURES, Exposures, Schedule

TWO = {
    "locations": [
        {"name": "A", "x_um": 0, "y_um": 0, "exposure_s": 2},
        {"name": "B", "x_um": 1000, "y_um": 0, "exposure_s": 3},
    ],
    "move_s": 5,
    "loop": "until-end",
    "pause_s": 10,
}

# PCc of the founding paper: three locations visited in turn during an 8 h charge
PCC = {
    "locations": [
        {"name": "#1", "x_um": 0, "y_um": 0, "exposure_s": 2.5},
        {"name": "#2", "x_um": 1000, "y_um": 0, "exposure_s": 98},
        {"name": "#3", "x_um": 2000, "y_um": 0, "exposure_s": 1050},
    ],
    "move_s": 5,
    "loop": "until-end",
}


def intervals(exposures: Exposures) -> list[tuple[int, float, float]]:
    return list(
        zip(
            exposures.location_index.tolist(),
            exposures.start_s.tolist(),
            exposures.end_s.tolist(),
            strict=True,
        )
    )


def test_two_locations_exact_intervals():
    # loop period = 2 + 3 + 2 * 5 + 10 = 25 s; the next loop starts move_s + pause_s after B
    exposures = Schedule.from_config(TWO).exposures(end_s=60)
    assert intervals(exposures) == [
        (0, 0, 2),
        (1, 7, 10),
        (0, 25, 27),
        (1, 32, 35),
        (0, 50, 52),
        (1, 57, 60),
    ]
    assert exposures.truncated == 0 and exposures.dropped == 0
    np.testing.assert_array_equal(exposures.duration_s, [2, 3, 2, 3, 2, 3])


def test_exposure_straddling_the_end_is_truncated():
    exposures = Schedule.from_config(TWO).exposures(end_s=33)
    assert intervals(exposures) == [(0, 0, 2), (1, 7, 10), (0, 25, 27), (1, 32, 33)]
    assert exposures.truncated == 1


def test_no_exposure_starts_at_the_end():
    assert intervals(Schedule.from_config(TWO).exposures(end_s=25)) == [(0, 0, 2), (1, 7, 10)]
    assert len(Schedule.from_config(TWO).exposures(end_s=0)) == 0


def test_finite_loops_are_cut_at_the_end_and_counted():
    schedule = Schedule.from_config({**TWO, "loop": 3})
    assert len(schedule.exposures(end_s=1e6)) == 6
    cut = schedule.exposures(end_s=33)
    assert len(cut) == 4 and cut.truncated == 1 and cut.dropped == 2
    once = Schedule.from_config({**TWO, "loop": "once"}).exposures(end_s=1e6)
    assert intervals(once) == [(0, 0, 2), (1, 7, 10)]


def test_pause_keeps_exposures_per_loop_but_delays_them():
    no_pause = Schedule.from_config({**TWO, "pause_s": 0, "loop": 4}).exposures(end_s=1e6)
    paused = Schedule.from_config({**TWO, "pause_s": 100, "loop": 4}).exposures(end_s=1e6)
    np.testing.assert_array_equal(paused.location_index, no_pause.location_index)
    loop_number = np.repeat(np.arange(4), 2)
    np.testing.assert_allclose(paused.start_s - no_pause.start_s, 100 * loop_number)


def test_start_s_shifts_everything():
    shifted = Schedule.from_config({**TWO, "start_s": 7}).exposures(end_s=60 + 7)
    base = Schedule.from_config(TWO).exposures(end_s=60)
    np.testing.assert_allclose(shifted.start_s, base.start_s + 7)


def test_paper_pcc_until_end_of_8h_charge():
    exposures = Schedule.from_config(PCC).exposures(end_s=8 * 3600)
    period_s = 2.5 + 98 + 1050 + 3 * 5
    assert Schedule.from_config(PCC).loop_s == period_s
    # 24 full loops end at 27972 s; in the 25th, #3 starts at 28082.5 s and is cut at 28800 s
    assert len(exposures) == 75 and exposures.truncated == 1
    assert exposures.location_index[-1] == 2
    assert exposures.start_s[-1] == pytest.approx(24 * period_s + 2.5 + 98 + 2 * 5)
    assert exposures.end_s[-1] == 8 * 3600


@pytest.mark.parametrize(
    "pattern, xs",
    [
        ("grid", [0, 300, 600, 0, 300, 600]),
        ("snake", [0, 300, 600, 600, 300, 0]),
    ],
)
def test_raster_order(pattern, xs):
    schedule = Schedule.from_config(
        {
            "raster": {
                "pattern": pattern,
                "nx": 3,
                "ny": 2,
                "step_um": [300, 400],
                "origin_um": [0, 10],
            },
            "exposure_s": 2,
        }
    )
    np.testing.assert_array_equal(schedule.xy_um[:, 0], xs)
    np.testing.assert_array_equal(schedule.xy_um[:, 1], [10, 10, 10, 410, 410, 410])
    assert schedule.locations[3].name == ("r2c1" if pattern == "grid" else "r2c3")
    assert {p.exposure_s for p in schedule.locations} == {2.0}


def test_line_raster_and_single_step():
    schedule = Schedule.from_config(
        {"raster": {"pattern": "line", "nx": 4, "step_um": 50}, "exposure_s": 1}
    )
    np.testing.assert_array_equal(schedule.xy_um, [[0, 0], [50, 0], [100, 0], [150, 0]])


@pytest.mark.parametrize(
    "cfg",
    [
        TWO,
        PCC,
        {**TWO, "loop": 3, "start_s": 4.5},
        {
            "raster": {"pattern": "snake", "nx": 3, "ny": 2, "step_um": 300},
            "exposure_s": 2,
            "loop": "once",
        },
    ],
)
def test_round_trip(cfg):
    schedule = Schedule.from_config(cfg)
    again = Schedule.from_config(schedule.to_config())
    assert again == schedule
    assert again.to_config() == schedule.to_config()


def test_default_exposure_and_names_for_explicit_points():
    schedule = Schedule.from_config(
        {
            "locations": [{"x_um": 0, "y_um": 0}, {"x_um": 5, "y_um": 0, "exposure_s": 9}],
            "exposure_s": 3,
        }
    )
    assert [(p.name, p.exposure_s) for p in schedule.locations] == [("#1", 3.0), ("#2", 9.0)]


RASTER = {"pattern": "grid", "nx": 2, "ny": 2, "step_um": 100}


@pytest.mark.parametrize(
    "cfg, message",
    [
        (
            {**TWO, "moves_s": 5},
            r"schedule\.moves_s = 5: not a known key; allowed: locations, raster.*did you mean "
            r"'move_s'\?",
        ),
        (
            {**TWO, "raster": RASTER, "exposure_s": 1},
            r"schedule = 'both locations and raster': give exactly one",
        ),
        ({"move_s": 1}, r"schedule = 'neither': give exactly one of 'locations'"),
        (
            {"locations": [TWO["locations"][0], {**TWO["locations"][1], "exposure_s": -1}]},
            r"schedule\.locations\[1\]\.exposure_s = -1: a number above 0 and at most 1e\+07 s\.",
        ),
        (
            {"locations": [{**TWO["locations"][0], "exposure_s": 0}]},
            r"locations\[0\]\.exposure_s = 0: a number above 0",
        ),
        (
            {"locations": [{"name": "A", "x_um": 0, "y_um": 0}]},
            r"locations\[0\]\.exposure_s = missing: an exposure time > 0 s is required",
        ),
        (
            {"locations": [{"name": "A", "y_um": 0, "exposure_s": 1}]},
            r"locations\[0\]\.x_um = missing: a number from -1e\+06 to 1e\+06 µm\.",
        ),
        (
            {"locations": [TWO["locations"][0], {**TWO["locations"][1], "name": "A"}]},
            r"locations\[1\]\.name = 'A': location names must be unique; it is already used by "
            r"schedule\.locations\[0\]",
        ),
        ({"locations": []}, r"schedule\.locations = \[\]: must be a non-empty list"),
        ({**TWO, "move_s": -1}, r"schedule\.move_s = -1: a number from 0 to 3.156e\+07 s\."),
        ({**TWO, "pause_s": -0.5}, r"schedule\.pause_s = -0\.5: a number from 0"),
        (
            {**TWO, "pause_s": float("nan")},
            r"schedule\.pause_s = nan: a number from 0 to 3.156e\+07 s; finite numbers only\.",
        ),
        (
            {**TWO, "loop": "until_end"},
            r"schedule\.loop = 'until_end': 'until-end', 'once' or a whole number.*did you mean "
            r"'until-end'\?",
        ),
        ({**TWO, "loop": 0}, r"schedule\.loop = 0: a whole number from 1 to 1e\+06 loops\."),
        (
            {**TWO, "loop": True},
            r"schedule\.loop = true: a whole number from 1 to 1e\+06 loops; true/false is not a "
            r"number\.",
        ),
        ({**TWO, "loop": 2.5}, r"schedule\.loop = 2\.5: a whole number"),
        ({"raster": RASTER}, r"schedule\.exposure_s = missing: a raster needs an exposure time"),
        (
            {"raster": {**RASTER, "nx": 0}, "exposure_s": 1},
            r"schedule\.raster\.nx = 0: a whole number from 1 to 1e\+05 points\.",
        ),
        (
            {"raster": {**RASTER, "ny": 0}, "exposure_s": 1},
            r"schedule\.raster\.ny = 0: a whole number from 1",
        ),
        (
            {"raster": {**RASTER, "pattern": "snak"}, "exposure_s": 1},
            r"schedule\.raster\.pattern = 'snak': must be one of snake, grid, line; did you mean "
            r"'snake'\?",
        ),
        (
            {"raster": {**RASTER, "pattern": "line"}, "exposure_s": 1},
            r"schedule\.raster\.ny = 2: a 'line' raster has ny = 1",
        ),
        (
            {"raster": {**RASTER, "step_um": [100, 0]}, "exposure_s": 1},
            r"schedule\.raster\.step_um\[1\] = 0: a number from 0.01 to 1e\+05 µm\.",
        ),
        (
            {"raster": {**RASTER, "step_um": [1, 2, 3]}, "exposure_s": 1},
            r"schedule\.raster\.step_um = \[1, 2, 3\]: a number or a pair",
        ),
        (
            {"raster": {**RASTER, "nx": 1000, "ny": 1000}, "exposure_s": 1},
            r"schedule\.raster\.nx = 1000: nx \* ny = 1000000 points",
        ),
        (
            {"raster": {**RASTER, "size": 3}, "exposure_s": 1},
            r"schedule\.raster\.size = 3: not a known key; allowed: pattern, nx, ny",
        ),
        ("schedule", r"schedule = 'schedule': a mapping with keys locations, raster"),
        (
            {**TWO, "loop": 10**400},
            r"schedule\.loop = 1\.000e\+400: a whole number from 1 to 1e\+06 loops\.",
        ),
        (
            {**TWO, "start_s": "8e10"},
            r"schedule\.start_s = '8e10': .*a number in quotes is text; write it without quotes\.",
        ),
        ({**TWO, "move_s": "1_000"}, r"schedule\.move_s = '1_000': .*without underscores"),
    ],
)
def test_errors_name_field_value_and_rule(cfg, message):
    with pytest.raises(InputError, match=message):
        Schedule.from_config(cfg)


def test_error_prefix_follows_field():
    with pytest.raises(InputError, match=r"^plan\.schedule\.move_s = -1"):
        Schedule.from_config({**TWO, "move_s": -1}, field="plan.schedule")


def test_too_many_exposures_is_an_error():
    raster = {
        "raster": {"pattern": "snake", "nx": 100, "ny": 100, "step_um": 10},
        "exposure_s": 0.01,
    }
    with pytest.raises(
        InputError,
        match=r"schedule\.loop = 'until-end': the schedule would make .* exposures.*"
        rf"at most {MAX_EXPOSURES}.*use fewer locations, a finite loop",
    ):
        Schedule.from_config(raster).exposures(end_s=1e5)
    with pytest.raises(InputError, match=r"end_s = inf: a number s; finite numbers only\."):
        Schedule.from_config(TWO).exposures(end_s=float("inf"))


def test_exposures_reject_overlap():
    with pytest.raises(InputError, match=r"exposures = 'overlapping or reversed intervals'"):
        Exposures(np.array([0, 1]), np.array([0.0, 1.0]), np.array([2.0, 3.0]))


@settings(max_examples=60, deadline=None)
@given(
    exposure_s=st.lists(st.floats(0.1, 50), min_size=1, max_size=5),
    move_s=st.floats(0, 20),
    pause_s=st.floats(0, 100),
    start_s=st.floats(0, 30),
    end_s=st.floats(0, 2000),
)
def test_until_end_invariants(exposure_s, move_s, pause_s, start_s, end_s):
    cfg = {
        "locations": [{"x_um": i, "y_um": 0, "exposure_s": e} for i, e in enumerate(exposure_s)],
        "move_s": move_s,
        "pause_s": pause_s,
        "start_s": start_s,
    }
    ex = Schedule.from_config(cfg).exposures(end_s=end_s)
    assert np.all(ex.start_s < end_s) and np.all(ex.end_s <= end_s)
    assert np.all(ex.start_s >= start_s) and np.all(ex.start_s[1:] >= ex.end_s[:-1])
    np.testing.assert_allclose(ex.duration_s[:-1], np.asarray(exposure_s)[ex.location_index[:-1]])
    counts = np.bincount(ex.location_index, minlength=len(exposure_s))
    assert counts.max() - counts.min() <= 1  # every location visited in turn
    # the next planned exposure would start at or after the end
    n = len(ex)
    following = Schedule.from_config({**cfg, "loop": n // len(exposure_s) + 1}).exposures(end_s=1e9)
    assert following.start_s[n] >= end_s


def test_until_end_with_a_tiny_protocol_still_starts_the_first_exposure():
    """Found by hypothesis: (end - start) / period underflowed to 0 and lost the first loop."""
    cfg = {"locations": [{"x_um": 0, "y_um": 0, "exposure_s": 1.0}], "pause_s": 1.0}
    ex = Schedule.from_config(cfg).exposures(end_s=5e-324)
    assert len(ex) == 1 and ex.start_s[0] == 0.0 and ex.end_s[0] == 5e-324


SCANNED = {
    "locations": [{"name": "A", "x_um": 0, "y_um": 0}, {"name": "B", "x_um": 1000, "y_um": 0}],
    "energy_scan": {"start_keV": 8.3, "stop_keV": 8.4, "points": 3, "dwell_s": 2},
    "move_s": 5,
    "pause_s": 10,
}


def test_an_energy_scan_turns_each_visit_into_its_points():
    # a visit is 3 points of 2 s; loop period = 2 * 6 + 2 * 5 + 10 = 32 s
    schedule = Schedule.from_config(SCANNED)
    assert schedule.exposure_s.tolist() == [6.0, 6.0] and schedule.loop_s == 32
    np.testing.assert_allclose(schedule.energy_scan.energies_keV, [8.3, 8.35, 8.4])
    exposures = schedule.exposures(end_s=45)
    assert intervals(exposures) == [
        (0, 0, 2),
        (0, 2, 4),
        (0, 4, 6),
        (1, 11, 13),
        (1, 13, 15),
        (1, 15, 17),
        (0, 32, 34),
        (0, 34, 36),
        (0, 36, 38),
        (1, 43, 45),
    ]
    assert exposures.energy_index.tolist() == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    assert exposures.visits.tolist() == [True, False, False] * 3 + [True]
    assert exposures.truncated == 0 and exposures.dropped == 0
    cut = schedule.exposures(end_s=44)
    assert intervals(cut)[-1] == (1, 43, 44) and cut.truncated == 1


def test_a_finite_loop_of_scans_counts_the_dropped_points():
    schedule = Schedule.from_config({**SCANNED, "loop": 2})
    assert len(schedule.exposures(end_s=1e6)) == 12
    cut = schedule.exposures(end_s=44)
    assert len(cut) == 10 and cut.truncated == 1 and cut.dropped == 2


def test_a_raster_of_scans_needs_no_exposure_s_and_round_trips():
    cfg = {
        "raster": {"pattern": "snake", "nx": 2, "ny": 2, "step_um": 100},
        "energy_scan": SCANNED["energy_scan"],
    }
    schedule = Schedule.from_config(cfg)
    assert {p.exposure_s for p in schedule.locations} == {6.0}
    config = schedule.to_config()
    assert "exposure_s" not in config and config["energy_scan"]["points"] == 3
    assert Schedule.from_config(config) == schedule
    located = Schedule.from_config(SCANNED)
    assert all("exposure_s" not in p for p in located.to_config()["locations"])
    assert Schedule.from_config(located.to_config()) == located
    with pytest.raises(
        InputError,
        match=r"schedule\.exposure_s = missing: a raster needs an exposure time > 0 s per point "
        r"\(or an energy_scan\)\.",
    ):
        Schedule.from_config({"raster": cfg["raster"]})


def test_max_exposures_counts_scan_points():
    cfg = {**SCANNED, "energy_scan": {**SCANNED["energy_scan"], "points": 10_000, "dwell_s": 1e-3}}
    with pytest.raises(
        InputError,
        match=r"schedule\.loop = 'until-end': the schedule would make .* exposures.*"
        r"or fewer scan points\.",
    ):
        Schedule.from_config(cfg).exposures(end_s=1e4)


def test_exposures_reject_a_bad_energy_index():
    with pytest.raises(InputError, match=r"exposures = 'negative index or non-finite time'"):
        Exposures(np.array([0]), np.array([0.0]), np.array([1.0]), energy_index=np.array([-1]))
    with pytest.raises(InputError, match=r"exposures = 'arrays of shapes"):
        Exposures(np.array([0]), np.array([0.0]), np.array([1.0]), energy_index=np.array([0, 1]))


@settings(max_examples=60, deadline=None)
@given(
    points=st.integers(2, 6),
    dwell_s=st.floats(0.01, 20),
    move_s=st.floats(0, 20),
    pause_s=st.floats(0, 100),
    end_s=st.floats(0, 2000),
    n_loc=st.integers(1, 3),
)
def test_scan_invariants(points, dwell_s, move_s, pause_s, end_s, n_loc):
    cfg = {
        "locations": [{"x_um": i, "y_um": 0} for i in range(n_loc)],
        "energy_scan": {"start_keV": 10, "stop_keV": 11, "points": points, "dwell_s": dwell_s},
        "move_s": move_s,
        "pause_s": pause_s,
    }
    ex = Schedule.from_config(cfg).exposures(end_s=end_s)
    assert np.all(ex.start_s < end_s) and np.all(ex.end_s <= end_s)
    assert np.all(ex.start_s[1:] >= ex.end_s[:-1])
    # points come in order 0, 1, ..., points - 1 within a visit, at one location, back to back
    visit = np.cumsum(ex.visits) - 1
    np.testing.assert_array_equal(
        ex.energy_index, np.arange(len(ex)) - np.flatnonzero(ex.visits)[visit]
    )
    assert np.all(ex.energy_index < points)
    inside = ~ex.visits
    np.testing.assert_array_equal(
        ex.location_index[inside], ex.location_index[np.flatnonzero(inside) - 1]
    )
    np.testing.assert_array_equal(ex.start_s[inside], ex.end_s[np.flatnonzero(inside) - 1])
    np.testing.assert_allclose(ex.duration_s[:-1], dwell_s, rtol=1e-9)
