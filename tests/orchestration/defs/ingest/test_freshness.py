"""Freshness of sources from the ledger (orchestration/defs/ingest/freshness.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from contracts.entities import entity
from contracts.support_tables import ensure_raw_schema
from orchestration.defs.ingest import freshness

NOW = datetime(2026, 11, 3, 12, 0)


def test_daily_source_delivered_two_days_ago_is_late_by_twelve_hours() -> None:
    f = freshness.evaluate(entity("hotline_tickets"), NOW - timedelta(days=2), NOW)
    assert not f.passed
    assert f.late_hours == 12.0
    assert "late by 12.0 h" in f.message


def test_daily_source_delivered_this_morning_is_fresh() -> None:
    f = freshness.evaluate(entity("hotline_tickets"), NOW - timedelta(hours=5), NOW)
    assert f.passed and f.late_hours == 0


def test_monthly_source_gets_its_month_and_grace() -> None:
    ent = entity("reference_indicators")
    assert freshness.evaluate(ent, NOW - timedelta(days=35), NOW).passed
    late = freshness.evaluate(ent, NOW - timedelta(days=40), NOW)
    assert not late.passed and "4.0 days" in late.message


def test_never_delivered_source_fails_with_a_clear_message() -> None:
    f = freshness.evaluate(entity("police_cases"), None, NOW)
    assert not f.passed and "no delivery recorded" in f.message


def test_freshness_reads_the_last_recognised_delivery_from_the_ledger(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    rows = [
        ("a.csv", "hotline_tickets", "loaded", NOW - timedelta(days=3)),
        ("b.csv", "hotline_tickets", "duplicate", NOW - timedelta(hours=2)),
        ("c.csv", None, "rejected", NOW - timedelta(hours=1)),
        ("d.csv", "police_cases", "rejected", NOW - timedelta(hours=1)),
        ("e.csv", "police_cases", "loaded", NOW - timedelta(days=4)),
    ]
    for seq, (name, ent, status, ts) in enumerate(rows):
        con.execute(
            "insert into raw.load_ledger (file_name, file_sha256, entity, status, rows_read, "
            "rows_loaded, rows_rejected, ingested_at, delivery_seq) values (?, ?, ?, ?, 0, 0, 0, ?, ?)",
            [name, name, ent, status, ts, seq],
        )
    result = freshness.evaluate_all(con, NOW)
    con.close()
    assert result["hotline_tickets"].passed  # the duplicate re-delivery counts as a delivery
    assert not result["police_cases"].passed  # a rejected file does not
    assert result["police_cases"].late_hours == pytest.approx(60.0)
    assert result["grid_events"].last_delivery is None
