"""Planted alert swings: their truth, and that they show in the events' months."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from simulator import swings
from simulator.world import World

MONTHS = [f"2025-{m:02d}" for m in range(5, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]
STREETS = pl.DataFrame(
    {
        "street_idx": [0, 1, 2, 3],
        "district_idx": [0, 0, 1, 1],
        "district": ["甲区", "甲区", "乙区", "乙区"],
        "street": ["一街道", "二街道", "三街道", "四街道"],
    }
)


def retimed(world: int) -> tuple[swings.AlertSwings, np.ndarray, np.ndarray]:
    a = swings.plan(World(world), STREETS, MONTHS, [], np.random.default_rng(7))
    rng = np.random.default_rng(1)
    n = 16_000
    span = (np.datetime64("2026-11-01", "s") - np.datetime64("2025-05-01", "s")).astype(int)
    ts = np.datetime64("2025-05-01", "s") + (rng.random(n) * span).astype("timedelta64[s]")
    street = np.repeat(np.arange(4), n // 4).astype(float)
    out = a.retime(ts, street, "incidents_other")
    month = (out.astype("datetime64[M]") - np.datetime64(MONTHS[0], "M")).astype(int)
    return a, street, month


def test_a_planted_swing_moves_its_units_events_into_its_months() -> None:
    a, street, month = retimed(3)
    placed = [s for s in a.plan if s.placed]
    assert placed, "incidents feed incidents_110: at least one 110 swing is planted"
    for s in placed:
        assert s.indicator_code == "incidents_110_per_10k" and s.first >= swings.MIN_HISTORY
        covered = (
            street == s.street_idx
            if s.level == "street"
            else np.isin(
                street, STREETS.filter(pl.col("district_idx") == s.district_idx)["street_idx"]
            )
        )
        counts = np.bincount(month[covered], minlength=len(MONTHS)).astype(float)
        inside = counts[s.first : s.last + 1].mean()
        outside = np.delete(counts, range(s.first, s.last + 1)).mean()
        assert inside > outside * (1 + (s.multiplier - 1) / 3)


def test_worlds_draw_their_own_seasonality_and_overdispersion() -> None:
    one, two = World(1), World(2)
    swings.plan(one, STREETS, MONTHS, [], np.random.default_rng(0))
    swings.plan(two, STREETS, MONTHS, [], np.random.default_rng(0))
    assert one.assumptions["alerts"] != two.assumptions["alerts"]
    drawn = one.assumptions["alerts"]["security_complaints"]
    assert 0 <= drawn["overdispersion_cv"] <= 0.3 and 0 <= drawn["season_amplitude"] <= 3


def test_sample_writes_the_swings_and_the_deteriorations_to_truth(sample_root: Path) -> None:
    truth = pl.read_csv(sample_root / "truth" / swings.SWINGS_FILE, infer_schema_length=None)
    assert truth.columns == [
        "swing_id",
        "kind",
        "region_level",
        "district",
        "street",
        "region_key",
        "indicator_code",
        "first_month",
        "last_month",
        "multiplier",
        "expected_count",
    ]
    manifest = json.loads((sample_root / "truth" / "manifest.json").read_text(encoding="utf-8"))
    deteriorated = {d["district"] for d in manifest["deteriorations"]}
    assert set(truth.filter(pl.col("kind") == "deterioration")["district"]) == deteriorated
    assert set(truth["kind"]) <= {"spike", "step", "deterioration"}
    world = json.loads((sample_root / "truth" / "world.json").read_text(encoding="utf-8"))
    assert "alerts" in world["assumptions"]


def test_each_swing_is_sized_findable_under_its_own_normal_month() -> None:
    """The size search must end on a multiplier that is findable under the normal month
    that multiplier itself leaves (retiming takes the swing's events from the unit's
    other months); a search that may step back can cycle and stop short of that."""
    a = swings.plan(World(3), STREETS, MONTHS, [], np.random.default_rng(7))
    n = len(MONTHS)
    checked = 0
    counted = [s for s in a.plan if s.indicator_code != swings.RECTIFICATION]
    one_of_each_kind = {s.kind: s for s in counted}.values()
    for s in one_of_each_kind:
        p = swings.DETECT_P if s.kind == "spike" else swings.DETECT_P_STEP
        fed = swings.FED_SHARE.get(s.indicator_code, 1.0)
        length = s.last - s.first + 1
        for mu in (3.0, 4.0, 5.5, 7.0, 9.0, 12.0, 16.0, 22.0, 30.0, 45.0):
            for alpha in (0.0, 0.03):
                m = a._size(s, float(mu), alpha)
                if m > swings.MAX_MULTIPLIER:
                    continue
                normal = mu * n / (n - length + length * m)
                need = swings.count_multiplier(normal, alpha, p)
                assert 1.0 + (m - 1.0) * fed >= need - 0.06, (s.kind, mu, alpha, m, need)
                checked += 1
    assert checked > 10
