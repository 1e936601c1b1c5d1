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
