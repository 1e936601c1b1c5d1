"""Safety index through a real ``dbt build`` on hand-written raw rows: attribution
coverage (records that cannot be placed in a unit never count as zero for it) and the
rank uncertainty over construction choices.

The city: two districts, three streets, two months (September, October 2026). In
October 崇川区 has four 110 incidents, only one of which carries an address the
warehouse can place in a street; 通州区 has none.
"""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from contracts.settings import Settings
from orchestration.defs.dbt.build import dbt_build
from tests.dbt.raw_rows import make_warehouse
from tests.ingest.conftest import query

pytestmark = pytest.mark.slow


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


STREETS = [
    ("崇川区", "和平桥街道", 10000),
    ("崇川区", "任港街道", 20000),
    ("崇川区", "观音山街道", 15000),
    ("通州区", "金沙街道", 30000),
    ("通州区", "兴东街道", 12000),
    ("海门区", "海门街道", 25000),
]


def grid(i: int, district: str, street: str, population: int) -> dict:
    return {
        "grid_code": f"G{i}",
        "grid_name": f"{street}第1网格",
        "community": f"{street[:-2]}社区",
        "street": street,
        "district": district,
        "households": population // 25,
        "population": population // 10,
    }


def case(case_id: str, klass: str, district: str, street: str | None, when: str) -> dict:
    return {
        "case_id": case_id,
        "case_class": klass,
        "district": district,
        "street": street,
        "filed_at": ts(when),
        "updated_at": ts(when),
    }


def incident(incident_id: str, when: str, district: str, address: str | None) -> dict:
    return {
        "incident_id": incident_id,
        "address": address,
        "address_norm": address,
        "district": district,
        "category": "治安",
        "reported_at": ts(when),
    }


def event(event_id: str, grid_code: str, when: str) -> dict:
    return {
        "event_id": event_id,
        "grid_code": grid_code,
        "category": "矛盾纠纷",
        "status": "已归档",
        "reported_at": ts(when),
        "due_at": ts(when),
        "closed_at": ts(when),
        "updated_at": ts(when),
    }


def ticket(ticket_id: str, district: str, street: str, when: str) -> dict:
    return {
        "ticket_id": ticket_id,
        "district": district,
        "street": street,
        "received_at": ts(when),
        "due_at": ts(when),
        "status": "办理中",
        "category_path": "公共安全>社会治安>噪音扰民",
        "request_type": "投诉",
        "updated_at": ts(when),
    }


# Cases, tickets and grid events spread unevenly over the streets so that the units differ.
CASES = [
    case(f"C{m}{i}", klass, d, s, f"2026-{m:02d}-{5 + i:02d} 10:00:00")
    for m in (9, 10)
    for i, (d, s, _) in enumerate(STREETS)
    for klass, n in (("刑事案件", (i * 7 + m) % 4), ("治安案件", (i * 3 + m) % 5))
    for _ in range(n)
]
CASES = [dict(c, case_id=f"{c['case_id']}-{k}") for k, c in enumerate(CASES)]
EVENTS = [
    event(f"E{m}{i}{k}", f"G{i}", f"2026-{m:02d}-{10 + k:02d} 09:00:00")
    for m in (9, 10)
    for i in range(len(STREETS))
    for k in range((i * 5 + m) % 4)
]
TICKETS = [
    ticket(f"T{m}{i}{k}", d, s, f"2026-{m:02d}-{10 + k:02d} 09:00:00")
    for m in (9, 10)
    for i, (d, s, _) in enumerate(STREETS)
    for k in range((i * 2 + m) % 3 + 1)
]
INCIDENTS = [
    # September: every incident carries an address placed in its street
    incident("I0901", "2026-09-03 22:00:00", "崇川区", "崇川区和平桥街道工农路1号"),
    incident("I0902", "2026-09-04 22:00:00", "通州区", "通州区金沙街道人民路2号"),
    # October: one placeable incident in 崇川区, three with a district and no address
    incident("I1001", "2026-10-03 22:00:00", "崇川区", "崇川区和平桥街道工农路1号"),
    incident("I1002", "2026-10-04 22:00:00", "崇川区", None),
    incident("I1003", "2026-10-05 22:00:00", "崇川区", "不详"),
    incident("I1004", "2026-10-06 22:00:00", "崇川区", None),
]
SURVEY = [
    {"year": 2026, "quarter": 3, "district": d, "sample_size": 400, "safety_pct": pct}
    for d, pct in (("崇川区", 96.0), ("通州区", 97.5), ("海门区", 95.0))
]

DELIVERIES = {
    "grid_grids": [(1, [grid(i, d, s, p) for i, (d, s, p) in enumerate(STREETS)])],
    "reference_population": [
        (1, [{"year": 2026, "district": d, "street": s, "population": p} for d, s, p in STREETS])
    ],
    "police_cases": [(1, CASES)],
    "police_incidents": [(1, INCIDENTS)],
    "grid_events": [(1, EVENTS)],
    "hotline_tickets": [(1, TICKETS)],
    "reference_safety_survey": [(1, SURVEY)],
}


@pytest.fixture(scope="module")
def index_city(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("index_city")
    settings = Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")
    make_warehouse(settings.warehouse, DELIVERIES)
    # The index's marts and every model they read, with those models' tests; not the
    # alerts, notices or leads, which nothing here reads. "buildable": dbt's default,
    # "eager", would also pick the tests that tie a model outside the selection to one inside.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_INDIRECT_SELECTION", "buildable")
        result = dbt_build(settings, select="+path:models/marts/safety_index")
    assert result.success, result.summary
    assert result.counts.get("model:success", 0) >= 20 and result.counts.get("test:pass", 0) >= 50
    return settings


def incidents_component(settings: Settings, month: str) -> dict[str, tuple]:
    rows = query(
        settings,
        "select region_key, raw_value, value_status, attribution_coverage, effective_weight "
        "from marts.mart_safety_index_components "
        "where indicator_code = 'incidents_110_per_10k' and month = ?",
        [month],
    )
    return {key: tuple(rest) for key, *rest in rows}


def test_unplaceable_incidents_make_the_streets_of_their_district_unattributed(
    index_city: Settings,
) -> None:
    october = incidents_component(index_city, "2026-10")
    # 崇川区: 1 of 4 incidents placed in a street -> coverage 0.25 for each of its streets
    for street in ("和平桥街道", "任港街道", "观音山街道"):
        raw, status, coverage, weight = october[f"崇川区/{street}"]
        assert coverage == pytest.approx(0.25)
        assert status == "unattributed"
        assert raw is None and weight == 0.0  # not an observed 0: weight redistributed
    # the district itself has all four: observed, fully attributed
    raw, status, coverage, _ = october["崇川区"]
    assert status == "observed" and coverage == pytest.approx(1.0)
    assert raw == pytest.approx(4 * 10000 / 45000)


def test_a_district_without_records_keeps_observed_zeros_in_its_streets(
    index_city: Settings,
) -> None:
    october = incidents_component(index_city, "2026-10")
    raw, status, coverage, weight = october["通州区/金沙街道"]
    assert (raw, status, coverage) == (0.0, "observed", 1.0)
    assert weight > 0


def test_fully_placed_month_is_observed_everywhere(index_city: Settings) -> None:
    september = incidents_component(index_city, "2026-09")
    assert {status for _, status, _, _ in september.values()} == {"observed"}
    assert {coverage for _, _, coverage, _ in september.values()} == {1.0}


def test_unattributed_street_weights_are_redistributed_and_still_add_up(
    index_city: Settings,
) -> None:
    rows = query(
        index_city,
        "select i.safety_index, sum(c.contribution), sum(c.effective_weight), "
        "i.indicators_observed, i.weight_coverage "
        "from marts.mart_safety_index i join marts.mart_safety_index_components c "
        "using (index_id) where i.region_key = '崇川区/任港街道' and i.month = '2026-10' "
        "group by all",
    )
    [(index, total, weights, observed, coverage)] = rows
    assert index is not None and total == pytest.approx(index)
    assert weights == pytest.approx(1.0)
    # cases (2), complaints, grid disputes and the carried survey; not the 110 rate
    assert observed == 5
    assert coverage == pytest.approx(0.18 + 0.12 + 0.14 + 0.10 + 0.10)


# ---------------------------------------------------------------- rank uncertainty


def test_rank_interval_holds_the_published_rank_over_a_thousand_draws(
    index_city: Settings,
) -> None:
    rows = query(
        index_city,
        "select region_key, month, rank, rank_p05, rank_p50, rank_p95, draws "
        "from marts.mart_safety_index_uncertainty where rank is not null",
    )
    assert rows
    for key, month, rank, p05, p50, p95, draws in rows:
        assert draws == 1000, (key, month)
        assert p05 <= rank <= p95 and p05 <= p50 <= p95, (key, month)
    # the construction choices do move some ranks: not every interval is a point
    assert any(p95 > p05 for *_, p05, _, p95, _ in rows)


RECORD_CODES = (
    "criminal_cases_per_10k",
    "public_order_cases_per_10k",
    "security_complaints_per_10k",
    "grid_disputes_per_10k",
)


def draws_reaching_weight(settings: Settings, codes: tuple[str, ...]) -> tuple[int, int]:
    """(draws whose weights of ``codes`` plus the survey, when carried forward, reach the
    60% needed for a rank; draws carrying the survey forward)."""
    marks = ", ".join("?" for _ in codes)
    [(reaching, carried)] = query(
        settings,
        f"""
        select count(*) filter (where available >= 0.6),
               count(*) filter (where survey_option = 'carry_forward')
        from (
            select draw_id, survey_option,
                   sum(weight) filter (
                       where indicator_code in ({marks})
                       or (indicator_code = 'public_safety_survey_pct'
                           and survey_option = 'carry_forward')
                   ) as available
            from intermediate.int_safety_index_mc_draws
            group by all
        )
        """,
        list(codes),
    )
    return reaching, carried


def test_without_carry_forward_streets_short_of_weight_drop_out_of_the_ranking(
    index_city: Settings,
) -> None:
    # October: 崇川区's streets have the four record-based rates and the carried-forward
    # survey (their 110 rate is unattributed); 通州区's streets the 110 rate as well.
    # A draw ranks a street exactly when its own weights of what is available reach 60%.
    without_110, carried = draws_reaching_weight(index_city, RECORD_CODES)
    with_110, _ = draws_reaching_weight(index_city, (*RECORD_CODES, "incidents_110_per_10k"))
    assert 400 < carried < 600 and without_110 < with_110 < 1000
    rows = query(
        index_city,
        "select region_key, draws_ranked from marts.mart_safety_index_uncertainty "
        "where month = '2026-10' and region_level = 'street'",
    )
    ranked = dict(rows)
    for street in ("和平桥街道", "任港街道", "观音山街道"):
        assert ranked[f"崇川区/{street}"] == without_110
    assert ranked["通州区/金沙街道"] == with_110


def test_sensitivity_names_the_choice_that_moves_ranks_most(index_city: Settings) -> None:
    rows = query(
        index_city,
        "select choice, option, draws, mean_abs_rank_shift, first_order_index, choice_rank "
        "from marts.mart_safety_index_sensitivity "
        "where month = '2026-10' and region_level = 'street'",
    )
    choices = {choice for choice, *_ in rows}
    assert choices == {"weights", "normalisation", "aggregation", "survey_carry_forward"}
    for choice in choices:
        options = [r for r in rows if r[0] == choice]
        assert sum(draws for _, _, draws, *_ in options) == sum(
            draws for c, _, draws, *_ in rows if c == "aggregation"
        )
        index = options[0][4]
        assert index is None or -1e-9 <= index <= 1 + 1e-9
    ranks = sorted({(c, r) for c, *_, r in rows})
    assert sorted(r for _, r in ranks) == [1, 2, 3, 4]
    top = next(c for c, r in ranks if r == 1)
    top_index = next(i for c, _, _, _, i, _ in rows if c == top)
    assert all(i is None or i <= top_index for *_, i, _ in rows)


def test_interval_collapses_to_the_rank_when_every_choice_is_fixed(
    index_city: Settings, tmp_path
) -> None:
    fixed = Settings(data_dir=tmp_path, warehouse=tmp_path / "warehouse.duckdb")
    shutil.copy(index_city.warehouse, fixed.warehouse)
    result = dbt_build(
        fixed,
        select="int_safety_index_mc_draws+",
        dbt_vars={
            "index_mc_draws": 50,
            "index_mc_weight_spread": 0,
            "index_mc_normalisations": ["minmax"],
            "index_mc_aggregations": ["arithmetic"],
            "index_mc_survey_options": ["carry_forward"],
        },
    )
    assert result.success, result.summary
    rows = query(
        fixed,
        "select region_key, month, rank, rank_p05, rank_p50, rank_p95, draws, draws_ranked, "
        "rank_outside_draws from marts.mart_safety_index_uncertainty where rank is not null",
    )
    assert rows
    for key, month, rank, p05, p50, p95, draws, ranked, outside in rows:
        assert (p05, p50, p95) == (rank, rank, rank), (key, month)
        assert draws == ranked == 50 and outside is False
