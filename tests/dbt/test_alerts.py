"""Alerts on hand-built series, through the real ``dbt build``.

Criminal cases of five streets over 29 months, written as raw police-case rows:
a stable small town with counts of a handful, a street with a summer peak every
year, a street with a one-month spike, a street with a lasting step and a street
whose spike is followed by two slightly high months. The alert models must stay
silent on the first two, find the spikes and the step (the step by the persistence
rule), and not call the months after a lone spike a lasting rise.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from contracts.settings import Settings
from orchestration.defs.dbt.build import dbt_build
from tests.dbt.raw_rows import make_warehouse

pytestmark = pytest.mark.slow

MONTHS = [f"{y:04d}-{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13)]
MONTHS = [m for m in MONTHS if "2024-06" <= m <= "2026-10"]
# Counts of a handful: a fixed Poisson(2.5)-like draw, with a 6 near the end.
SMALL_TOWN = [2, 3, 1, 4, 2, 3, 2, 1, 3, 2, 4, 2, 3, 1, 2, 5, 3, 2, 2, 4, 1, 3, 2, 3, 6, 2, 3, 2, 4]
WIGGLE = [10, 9, 11, 10, 12, 9, 10, 11, 8, 10, 11, 9, 10, 12, 10, 9, 11, 10, 9, 10, 11, 10, 12, 9]


def wiggle(i: int) -> int:
    return WIGGLE[i % len(WIGGLE)]


def seasonal(month: str, i: int) -> int:
    return 24 + i % 3 if month[5:7] in ("07", "08") else wiggle(i)


def spike(month: str, i: int) -> int:
    return 32 if month == "2026-09" else wiggle(i)


def step(month: str, i: int) -> int:
    return wiggle(i) + 8 if month >= "2026-05" else wiggle(i)


def aftershock(month: str, i: int) -> int:
    # a one-month spike, then two months a little above the usual (material for the
    # persistence rule's halved minimum move, far from significant on their own)
    return {"2026-08": 32, "2026-09": 15, "2026-10": 15}.get(month, wiggle(i))


STREETS = {
    ("通州区", "安静镇"): (3000, lambda month, i: SMALL_TOWN[i]),
    ("崇川区", "季节街道"): (20000, seasonal),
    ("崇川区", "突增街道"): (20000, spike),
    ("崇川区", "阶梯街道"): (20000, step),
    ("崇川区", "余波街道"): (20000, aftershock),
}


def drifting(phase: int):
    # hundreds of cases a month whose level wanders +-20% over nine months (no season,
    # no step): neighbouring months share their sign, as a unit's months do
    def count(month: str, i: int) -> int:
        return round(400 * (1 + 0.2 * math.sin(2 * math.pi * (i + phase) / 9))) + wiggle(i) - 10

    return count


# Six large streets that all drift: a lasting rise of the persistence rule only where
# the drift stands out of what drift the level's units usually show.
DRIFTING = {("漂移区", f"漂移{k}街道"): (200000, drifting(k * 3 // 2)) for k in range(1, 7)}


def cases(streets: dict) -> list[dict]:
    rows = []
    for (district, street), (_, count) in streets.items():
        for i, month in enumerate(MONTHS):
            for k in range(count(month, i)):
                filed = datetime(int(month[:4]), int(month[5:7]), 1 + k % 27, 10, 0, 0)
                rows.append(
                    {
                        "case_id": f"A{street}{month}{k:03d}",
                        "case_class": "刑事案件",
                        "district": district,
                        "street": street,
                        "filed_at": filed,
                        "updated_at": filed,
                    }
                )
    return rows


def build_city(data_dir: Path, streets: dict) -> Settings:
    settings = Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")
    population = [
        {"year": 2026, "district": d, "street": s, "population": pop}
        for (d, s), (pop, _) in streets.items()
    ]
    make_warehouse(
        settings.warehouse,
        {"police_cases": [(1, cases(streets))], "reference_population": [(1, population)]},
    )
    # The alerts and every model they read, with those models' tests; not the lead model's
    # training and scoring (nothing here reads them). "buildable": dbt's default, "eager",
    # would also pick the tests that tie a model outside the selection to one inside it.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_INDIRECT_SELECTION", "buildable")
        result = dbt_build(settings, select="+mart_alerts")
    assert result.success, result.summary
    assert result.counts.get("model:success", 0) >= 20 and result.counts.get("test:pass", 0) >= 50
    return settings


@pytest.fixture(scope="module")
def alerts_city(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_city(tmp_path_factory.mktemp("alerts_city"), STREETS)


@pytest.fixture(scope="module")
def drift_city(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_city(tmp_path_factory.mktemp("drift_city"), DRIFTING)


def street_alerts(settings: Path | Settings, street: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(
            "select month, rule, is_worsening, severity, value, expected_low, expected_high, "
            "q_value, evidence, message from marts.mart_alerts "
            "where street = ? and indicator_code = 'criminal_cases_per_10k' order by month",
            [street],
        ).fetchall()
    finally:
        con.close()


def test_stable_small_town_with_counts_of_a_handful_raises_no_alert(alerts_city) -> None:
    assert street_alerts(alerts_city, "安静镇") == []


def test_seasonal_street_raises_no_alert_at_its_usual_summer_peak(alerts_city) -> None:
    found = street_alerts(alerts_city, "季节街道")
    assert [a for a in found if a[0] in ("2026-07", "2026-08")] == []


def test_one_month_spike_raises_a_worsening_alert_with_its_evidence(alerts_city) -> None:
    found = street_alerts(alerts_city, "突增街道")
    worsening = [a for a in found if a[2]]
    assert [a[0] for a in worsening] == ["2026-09"]
    _month, rule, _worse, severity, value, low, high, q, evidence, message = worsening[0]
    assert rule == "单月异常恶化" and severity == "高"
    assert value > high > low >= 0 and q <= 0.05
    assert "预期" in evidence and "正常范围" in evidence and "概率" in evidence
    assert message.startswith("崇川区突增街道2026年9月刑事案件发案率")


def test_lasting_step_is_caught_by_the_persistence_rule(alerts_city) -> None:
    found = street_alerts(alerts_city, "阶梯街道")
    assert all(a[0] >= "2026-05" for a in found)
    assert any(a[1] == "持续恶化" and a[2] for a in found)


def test_a_spike_alone_does_not_make_the_months_after_it_a_lasting_rise(alerts_city) -> None:
    found = street_alerts(alerts_city, "余波街道")
    worsening = [(a[0], a[1]) for a in found if a[2]]
    assert ("2026-08", "单月异常恶化") in worsening
    assert [m for m, _ in worsening if m > "2026-08"] == []


def test_large_units_that_all_drift_raise_no_lasting_rise(drift_city) -> None:
    lasting = [
        (street, a[0])
        for _, street in DRIFTING
        for a in street_alerts(drift_city, street)
        if a[1] == "持续恶化"
    ]
    assert lasting == []
