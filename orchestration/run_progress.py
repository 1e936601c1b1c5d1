"""Live progress of a ``pingan run``: the Dagster run's own event log, followed as it grows.

The pipeline job runs in-process (:func:`orchestration.run.execute`); a thread reads the
run's events from the instance, the records the Dagster UI shows, and counts on an
:class:`ingest.progress.Progress`:

* files and rows: the ingest steps log each file's line (``FileResult.line``);
* dbt models ``n/N``: materialisations of the job's dbt assets;
* checks ``n/N``: asset-check evaluations (dbt tests, GX checks, freshness), failures counted;
* publish: the published snapshot's materialisation;

and writes a line when a step starts, succeeds or fails.
"""

from __future__ import annotations

import threading
from typing import Any

from ingest.load import FileResult
from ingest.progress import Progress

POLL_SECONDS = 0.5
# Asset-key roots that are not dbt models: raw tables (ingest), the lead model, the snapshot.
NOT_DBT = ("raw", "leads", "published_warehouse")


def job_totals(job: Any) -> tuple[int, int]:
    """(dbt models and seeds, asset checks) the job materialises and evaluates."""
    layer = job.asset_layer
    models = sum(1 for key in layer.executable_asset_keys if key.path[0] not in NOT_DBT)
    return models, len(layer.asset_graph.asset_check_keys)


class RunWatcher:
    """Follows one run's events on ``instance`` from a thread; ``stop()`` reads the rest."""

    def __init__(
        self, instance: Any, run_id: str, progress: Progress, models: int, checks: int
    ) -> None:
        self.instance = instance
        self.run_id = run_id
        self.progress = progress
        self.files = progress.task("files", None, "files")
        self.models = progress.task("dbt models", models, "built")
        self.checks = progress.task("checks", checks, "evaluated")
        self.publish = progress.task("publish", 1, "snapshot")
        self.cursor: str | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._follow, name="pingan-run-progress", daemon=True)

    def __enter__(self) -> RunWatcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=30)
        self.read_new()  # events written after the last poll
        for task in (self.files, self.models, self.checks, self.publish):
            task.finish(task.summary())

    def _follow(self) -> None:
        while not self.done.wait(POLL_SECONDS):
            try:
                self.read_new()
            except Exception:  # a busy event-log database: the next poll reads on
                continue

    def read_new(self) -> None:
        with self.progress.lock:  # the closing read and the thread's never interleave
            while True:
                conn = self.instance.get_records_for_run(self.run_id, cursor=self.cursor)
                for record in conn.records:
                    self.on_entry(record.event_log_entry)
                self.cursor = conn.cursor
                if not conn.has_more:
                    return

    def on_entry(self, entry: Any) -> None:
        event = entry.dagster_event
        if event is None:  # a log message: an ingest step's line per file
            step = entry.step_key or ""
            rows = FileResult.rows_in_line(entry.user_message or "")
            if step.startswith("ingest_") and rows is not None:
                self.files.advance(rows=rows)
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.progress.line(f"step {event.step_key}: started")
        elif kind == "STEP_SUCCESS":
            self.progress.line(f"step {event.step_key}: done")
        elif kind == "STEP_FAILURE":
            self.progress.line(f"step {event.step_key}: FAILED")
        elif kind == "ASSET_MATERIALIZATION":
            root = event.asset_key.path[0] if event.asset_key else ""
            if root == "published_warehouse":
                self.publish.advance()
            elif root not in NOT_DBT:
                self.models.advance()
        elif kind == "ASSET_CHECK_EVALUATION":
            passed = bool(getattr(event.event_specific_data, "passed", True))
            if passed:
                self.checks.advance()
            else:
                # the label has a space, so it can only be passed as **dict, which mypy
                # also matches against the named parameters (steps, item)
                self.checks.advance(**{"not passed": 1})  # type: ignore[arg-type]
