"""Group-rental leads scored from the fitted model, on a real built warehouse.

``built_warehouse`` ran ``dbt_build``: dbt's first step, the lead model's training
(orchestration.defs.leads.train), and the scoring step that reads it as a source.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from orchestration.defs.dbt.build import dbt_build
from orchestration.defs.dbt.runner import LEADS_SELECT
from orchestration.defs.leads.train import train_group_rental_model
from tests.dbt.raw_rows import insert_rows


def _df(settings, sql: str):
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_every_registered_dwelling_is_scored_and_every_dispatched_lead_has_reasons(
    built_warehouse,
):
    scores = _df(built_warehouse, "select * from marts.mart_group_rental_scores")
    dwellings = _df(built_warehouse, "select count(*) as n from intermediate.int_dwellings")
    assert len(scores) == int(dwellings["n"].iloc[0])
    assert scores[["score", "prior_score", "probability", "score_logit"]].notna().all().all()
    assert scores["lead_id"].is_unique
    dispatched = scores[scores["dispatch_type"].notna()]
    assert len(dispatched) > 0
    assert (dispatched["reasons"].str.len() > 0).all()
    assert (dispatched["status"] == "待核查").all()


def test_exploration_leads_are_marked_as_such(built_warehouse):
    scores = _df(built_warehouse, "select * from marts.mart_group_rental_scores")
    model = _df(built_warehouse, "select * from marts.mart_group_rental_model limit 1").iloc[0]
    explore = scores[scores["dispatch_type"] == "探索性线索"]
    slots = round(int(model["monthly_capacity"]) * float(model["exploration_share"]))
    assert len(explore) == slots > 0
    assert explore["is_exploration"].all()
    assert explore["reasons"].str.startswith("探索性线索").all()
    assert not scores.loc[scores["dispatch_type"] == "重点线索", "is_exploration"].any()


def test_sql_scoring_reproduces_the_fitted_model(built_warehouse):
    terms = _df(
        built_warehouse,
        """select t.house_id, sum(t.intensity * m.coefficient) as linear
        from intermediate.int_group_rental_terms t
        join leads.group_rental_model_terms m using (factor_code)
        join leads.group_rental_models h on h.model_version = m.model_version and h.is_current
        group by t.house_id order by t.house_id""",
    )
    head = _df(built_warehouse, "select * from leads.group_rental_models where is_current")
    assert len(head) == 1
    scores = _df(
        built_warehouse,
        "select house_id, score_logit, probability from marts.mart_group_rental_scores "
        "order by house_id",
    )
    h = head.iloc[0]
    assert np.allclose(scores["score_logit"], h["intercept"] + terms["linear"])
    expected = 1 / (
        1 + np.exp(-(h["calibration_intercept"] + h["calibration_slope"] * scores["score_logit"]))
    )
    assert np.allclose(scores["probability"], expected)


def test_retraining_the_same_data_gives_the_same_version_and_scores(
    built_warehouse, copy_warehouse
):
    before = _df(
        built_warehouse,
        "select lead_id, house_id, score, probability from marts.mart_group_rental_scores "
        "order by house_id",
    )
    version = _df(
        built_warehouse, "select model_version from leads.group_rental_models where is_current"
    )
    again = copy_warehouse(built_warehouse)
    result = train_group_rental_model(again)
    assert result.version == version["model_version"].iloc[0]
    assert dbt_build(again, select=LEADS_SELECT).success
    after = _df(
        again,
        "select lead_id, house_id, score, probability from marts.mart_group_rental_scores "
        "order by house_id",
    )
    # same leads, same (rounded) scores; probabilities equal up to the float noise of
    # DuckDB's parallel sums
    assert before[["lead_id", "house_id", "score"]].equals(after[["lead_id", "house_id", "score"]])
    assert np.allclose(before["probability"], after["probability"], rtol=1e-9, atol=1e-12)
    history = _df(again, "select count(*) as n from leads.group_rental_models")
    assert int(history["n"].iloc[0]) == 1  # one version, rewritten, not duplicated


@pytest.mark.slow
def test_without_usable_verdicts_the_prior_scores_and_bad_checks_are_listed(
    built_warehouse, copy_warehouse
):
    settings = copy_warehouse(built_warehouse)
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("delete from raw.police_rental_checks")
        insert_rows(
            con,
            "police_rental_checks",
            [
                {
                    "check_id": "HC-UNKNOWN",
                    "lead_id": "QZ0000000000",
                    "house_id": "NO-SUCH-HOUSE",
                    "address": "不存在的路999号",
                    "checked_at": "2026-10-20 10:00:00",
                    "unit": "城东派出所",
                    "verdict": "确认群租",
                }
            ],
            delivery_seq=99,
        )
    finally:
        con.close()
    # raw was rewritten in place (no delivery does that): rebuild staging from all of it
    result = dbt_build(settings, full_refresh=True)
    assert result.success, result.summary
    assert any("仅用先验规则" in note for note in result.notes)
    model = _df(settings, "select * from marts.mart_group_rental_model limit 1").iloc[0]
    assert model["model_kind"] == "prior_only" and model["prior_only_reason"]
    scores = _df(settings, "select score_logit, prior_score from marts.mart_group_rental_scores")
    # the prior-only model is the factor score on the log-odds scale (prior_score is
    # rounded to 0.1 points, hence the tolerance)
    head = _df(settings, "select * from leads.group_rental_models where is_current").iloc[0]
    per_point = _df(
        settings,
        "select value from marts.group_rental_model_settings where setting = 'prior_logit_per_point'",
    )["value"].iloc[0]
    prior_logit = head["prior_intercept"] + per_point * scores["prior_score"]
    assert np.allclose(scores["score_logit"], prior_logit, atol=per_point * 0.05 + 1e-9)
    listed = _df(settings, "select * from marts.mart_rental_check_exceptions")
    assert listed["check_id"].tolist() == ["HC-UNKNOWN"]
    assert listed["problem"].iloc[0] == "房屋未登记或地址无法匹配"
