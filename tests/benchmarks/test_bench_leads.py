"""bench_leads' ranking on a real DuckDB file: precision@k among unchecked dwellings and
what each top k is made of (the truth's kinds), as the worlds table reports it."""

from __future__ import annotations

from pathlib import Path

import duckdb

from benchmarks.bench_leads import rank_leads
from benchmarks.report import _intruders


def test_the_top_k_lists_the_confounders_that_took_a_missed_group_rentals_place(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute(
        "create table marts.mart_group_rental_scores (house_id varchar, score double, "
        "prior_score double)"
    )
    con.execute(
        "insert into marts.mart_group_rental_scores values "
        "('G1', 0.9, 0.1), ('D1', 0.8, 0.9), ('G2', 0.1, 0.8), ('N1', 0.0, 0.0), "
        "('G3', 1.0, 1.0)"
    )
    con.close()
    kinds = {
        "G1": "group_rental",
        "G2": "group_rental",
        "G3": "group_rental",
        "D1": "staff_dormitory",
    }
    # G3 was checked: it is not ranked, and k counts the two unchecked group rentals
    result = rank_leads(warehouse, {"G1", "G2", "G3"}, {"G3"}, kinds)
    assert result["k"] == 2
    assert result["learned"] == 0.5 and result["prior"] == 0.5
    assert result["top_k_kinds"] == {
        "learned": {"group_rental": 1, "staff_dormitory": 1},
        "prior": {"staff_dormitory": 1, "group_rental": 1},
    }
    assert _intruders(result) == "staff_dormitory 1"
    assert rank_leads(warehouse, {"G1", "G2"}, set())["top_k_kinds"] is None
