"""The simulated OA feedback: numbers replayed from the warehouse's rule, quirks planted."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl

from contracts.entities import NOTICE_STATUSES
from contracts.settings import Settings
from simulator import feedback
from simulator.activity import Period

STREETS = pl.DataFrame(
    {
        "district_idx": [0, 0, 1],
        "district": ["崇川区", "崇川区", "通州区"],
        "street": ["和平桥街道", "任港街道", "金沙街道"],
        "population": [10_000, 20_000, 30_000],
    }
)
MONTHS = ["2026-08", "2026-09", "2026-10"]


def _period() -> Period:
    return Period(
        start=np.datetime64("2026-08-01T00:00:00"),
        end=np.datetime64("2026-11-01T00:00:00"),
        months=MONTHS,
        deteriorations=[(0, 1, 2)],  # 崇川区 in 2026-09 and 2026-10
    )


def test_the_oa_quotes_the_numbers_the_warehouse_issues(built_warehouse: Settings):
    con = duckdb.connect(str(built_warehouse.warehouse), read_only=True)
    units = con.sql(
        "select district, street from marts.dim_region where region_level = 'street'"
    ).pl()
    # the warehouse's place of each unit, as mart_notice_register numbers them
    ranked = con.sql(
        """
        select district, street, row_number() over (order by region_level, region_key) as seq
        from marts.dim_region where region_level in ('district', 'street')
        """
    ).fetchall()
    register = con.sql(
        "select notice_id, month, district, street from marts.mart_notice_register"
    ).fetchall()
    con.close()
    seq = feedback.unit_numbers(units)
    assert {(d, s): n for d, s, n in ranked} == seq
    rule = feedback.notice_rule()
    for notice_id, month, district, street in register:
        assert rule.number(month, seq[(district, street)]) == notice_id


def test_feedback_versions_move_forward_and_carry_each_quirk():
    counts: dict[str, int] = {}
    df = feedback.feedback_versions(STREETS, _period(), np.random.default_rng(1), counts)
    assert set(df["status"]) <= set(NOTICE_STATUSES)
    rule = feedback.notice_rule()
    seq = feedback.unit_numbers(STREETS)
    issued = {rule.number(m, seq[("崇川区", s)]) for m in MONTHS[1:] for s in (None, "任港街道")}
    quoted = set(df["notice_id"])
    never = quoted - issued
    assert len(never) == 1 and counts["feedback_unknown_notice"] == 1
    # the same feedback record in several versions, in time order, ending closed or later
    sept = df.filter(pl.col("notice_id") == rule.number("2026-09", seq[("崇川区", None)]))
    assert sept["feedback_id"].n_unique() == 1 and sept.height >= 3
    assert sept["updated_at"].is_sorted() and sept["status"][-1] == "已销号"
    # the last month's notices are signed before their publication
    oct_issue = rule.issued_at("2026-10")
    october = df.filter(pl.col("notice_id").is_in([rule.number("2026-10", seq[("崇川区", None)])]))
    assert (october["signed_at"] < oct_issue).all() and counts["feedback_before_notice"] == 2
    # the street is written with or without its district
    street_units = set(df.filter(pl.col("notice_id").str.contains("第.*号"))["unit"])
    assert street_units & {"任港街道", "崇川区任港街道"}
    assert oct_issue == dt.datetime(2026, 11, 1, 10, 0)


def test_planted_swings_name_the_notices_the_oa_answers():
    planted = pl.DataFrame(
        {
            "district": ["崇川区", "通州区"],
            "street": ["任港街道", None],
            "first_month": ["2026-09", "2026-08"],
            "last_month": ["2026-09", "2026-08"],
        }
    )
    rule = feedback.notice_rule()
    notices = feedback.expected_notices(STREETS, _period(), rule, planted)
    seq = feedback.unit_numbers(STREETS)
    assert [n.notice_id for n in notices] == [
        rule.number("2026-08", seq[("通州区", None)]),
        rule.number("2026-09", seq[("崇川区", "任港街道")]),
    ]
