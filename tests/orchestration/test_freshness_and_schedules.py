"""Freshness of sources from the ledger, and when the schedules fire."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from dagster._utils.schedules import cron_string_iterator

from contracts.entities import entity
from contracts.support_tables import ensure_raw_schema
from orchestration.defs.ingest import freshness
from orchestration.defs.publish.schedules import (
    PIPELINE_JOB,
    daily_build,
    hourly_freshness,
    monthly_index,
)

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


def _next_ticks(schedule: dg.ScheduleDefinition, start: datetime, n: int) -> list[datetime]:
    it = cron_string_iterator(
        start.timestamp(), schedule.cron_schedule, schedule.execution_timezone
    )
    return [next(it) for _ in range(n)]


def test_daily_build_fires_at_two_in_the_morning_shanghai_time() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    ticks = _next_ticks(daily_build, datetime(2026, 11, 3, 12, 0, tzinfo=tz), 2)
    assert [t.astimezone(tz) for t in ticks] == [
        datetime(2026, 11, 4, 2, 0, tzinfo=tz),
        datetime(2026, 11, 5, 2, 0, tzinfo=tz),
    ]
    # 02:00 in Shanghai is 18:00 UTC the day before.
    assert ticks[0].astimezone(ZoneInfo("UTC")).hour == 18


def test_monthly_index_fires_on_the_first_of_each_month() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    ticks = _next_ticks(monthly_index, datetime(2026, 11, 3, 12, 0, tzinfo=tz), 3)
    assert [(t.astimezone(tz).month, t.astimezone(tz).day) for t in ticks] == [
        (12, 1),
        (1, 1),
        (2, 1),
    ]


def test_scheduled_runs_are_the_pipeline_job_and_let_files_settle() -> None:
    for schedule in (daily_build, monthly_index):
        assert schedule.job_name == PIPELINE_JOB
        ctx = dg.build_schedule_context(
            scheduled_execution_time=datetime(2026, 11, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        )
        [request] = schedule.evaluate_tick(ctx).run_requests
        ops = request.run_config["ops"]
        assert ops["ingest_hotline"]["config"]["settle_seconds"] == 60.0
    assert hourly_freshness.job_name == "source_freshness_job"
