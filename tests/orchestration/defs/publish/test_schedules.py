"""When the schedules fire and what they run (orchestration/defs/publish/schedules.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._utils.schedules import cron_string_iterator

from orchestration.defs.dbt.runner import FULL_REFRESH_TAG
from orchestration.defs.publish.schedules import (
    PIPELINE_JOB,
    daily_build,
    hourly_freshness,
    monthly_index,
    weekly_full_refresh,
)


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


def test_sunday_night_is_a_full_refresh_and_the_daily_build_skips_it() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 11, 3, 12, 0, tzinfo=tz)  # a Tuesday
    daily = [t.astimezone(tz) for t in _next_ticks(daily_build, start, 6)]
    weekly = [t.astimezone(tz) for t in _next_ticks(weekly_full_refresh, start, 2)]
    assert [t.day for t in daily] == [4, 5, 6, 7, 9, 10]  # 8 November is a Sunday
    assert weekly == [
        datetime(2026, 11, 8, 2, 0, tzinfo=tz),
        datetime(2026, 11, 15, 2, 0, tzinfo=tz),
    ]
    ctx = dg.build_schedule_context(scheduled_execution_time=weekly[0])
    [request] = weekly_full_refresh.evaluate_tick(ctx).run_requests
    assert request.tags[FULL_REFRESH_TAG] == "true"
    [daily_request] = daily_build.evaluate_tick(ctx).run_requests
    assert FULL_REFRESH_TAG not in daily_request.tags


def test_monthly_index_fires_on_the_first_of_each_month() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    ticks = _next_ticks(monthly_index, datetime(2026, 11, 3, 12, 0, tzinfo=tz), 3)
    assert [(t.astimezone(tz).month, t.astimezone(tz).day) for t in ticks] == [
        (12, 1),
        (1, 1),
        (2, 1),
    ]


def test_scheduled_runs_are_the_pipeline_job_and_let_files_settle() -> None:
    for schedule in (daily_build, weekly_full_refresh, monthly_index):
        assert schedule.job_name == PIPELINE_JOB
        ctx = dg.build_schedule_context(
            scheduled_execution_time=datetime(2026, 11, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        )
        [request] = schedule.evaluate_tick(ctx).run_requests
        ops = request.run_config["ops"]
        assert ops["ingest_hotline"]["config"]["settle_seconds"] == 60.0
    assert hourly_freshness.job_name == "source_freshness_job"
