"""Run failures are recorded with their message and handed to the notification hook."""

from __future__ import annotations

import json
from pathlib import Path

from orchestration import failures
from tests.orchestration.helpers import settings_for


def test_failure_is_appended_to_the_log_and_notified(tmp_path: Path, monkeypatch) -> None:
    settings = settings_for(tmp_path / "data")
    got: list[failures.RunFailure] = []
    monkeypatch.setattr(failures, "_NOTIFIERS", [])
    failures.register_notifier(got.append)
    failures.record_failure(settings, "run-1", "pingan_pipeline", "gx_staging: closed_at ...")
    failures.record_failure(settings, "run-2", "ingest_hotline_job", "ingest_hotline: disk full")
    lines = [json.loads(x) for x in failures.failure_log(settings).read_text().splitlines()]
    assert [(x["run_id"], x["job"]) for x in lines] == [
        ("run-1", "pingan_pipeline"),
        ("run-2", "ingest_hotline_job"),
    ]
    assert [f.message for f in got] == ["gx_staging: closed_at ...", "ingest_hotline: disk full"]


def test_notify_command_receives_the_failure_as_json(tmp_path: Path, monkeypatch) -> None:
    settings = settings_for(tmp_path / "data")
    out = tmp_path / "notified.json"
    monkeypatch.setattr(failures, "_NOTIFIERS", [])
    monkeypatch.setenv("PINGAN_NOTIFY_COMMAND", f"cat > {out}")
    failures.record_failure(settings, "run-3", "pingan_pipeline", "boom")
    assert json.loads(out.read_text())["message"] == "boom"


def test_a_broken_notifier_does_not_hide_the_failure(tmp_path: Path, monkeypatch) -> None:
    settings = settings_for(tmp_path / "data")

    def broken(_: failures.RunFailure) -> None:
        raise RuntimeError("webhook down")

    monkeypatch.setattr(failures, "_NOTIFIERS", [broken])
    failures.record_failure(settings, "run-4", "pingan_pipeline", "boom")
    lines = failures.failure_log(settings).read_text().splitlines()
    assert json.loads(lines[0])["message"] == "boom"
    assert "webhook down" in lines[1]


def test_run_failure_sensor_records_the_failing_step_and_its_error(
    tmp_path: Path, monkeypatch
) -> None:
    import dagster as dg

    from orchestration.defs.publish.sensors import record_run_failures
    from orchestration.resources import PinganResource

    monkeypatch.setattr(failures, "_NOTIFIERS", [])

    @dg.op
    def load_something() -> None:
        raise RuntimeError("warehouse file is corrupt")

    @dg.job
    def broken_job() -> None:
        load_something()

    instance = dg.DagsterInstance.ephemeral()
    result = broken_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure_event = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name="record_run_failures",
        dagster_event=failure_event,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"pingan": PinganResource.from_settings(settings_for(tmp_path / "data"))},
    ).for_run_failure()
    record_run_failures(context)
    [line] = failures.failure_log(settings_for(tmp_path / "data")).read_text().splitlines()
    record = json.loads(line)
    assert record["job"] == "broken_job" and record["run_id"] == result.run_id
    assert (
        "load_something" in record["message"] and "warehouse file is corrupt" in record["message"]
    )
