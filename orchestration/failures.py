"""Recording run failures, with a hook point for notification.

Every failed run (from ``pingan run``, a schedule or a sensor) is appended as a
JSON line to ``<data dir>/logs/run_failures.jsonl`` and handed to the notifiers
registered with :func:`register_notifier` (none by default: a deployment adds
one, e.g. a WeCom/DingTalk webhook or e-mail, without touching the pipeline).
If ``PINGAN_NOTIFY_COMMAND`` is set, it is run with the failure as JSON on stdin.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from contracts.settings import Settings


@dataclass(frozen=True)
class RunFailure:
    run_id: str
    job: str
    message: str
    failed_at: str  # Asia/Shanghai local time, ISO format


Notifier = Callable[[RunFailure], None]
_NOTIFIERS: list[Notifier] = []


def register_notifier(notifier: Notifier) -> None:
    """Call ``notifier`` for every recorded run failure."""
    _NOTIFIERS.append(notifier)


def root_message(error: Any) -> str:
    """The innermost cause of a Dagster step error (a SerializableErrorInfo), on one line."""
    while error is not None and error.cause is not None:
        error = error.cause
    text = error.message.strip() if error is not None else ""
    text = re.sub(r"^dagster\._core\.[\w.]+?\.(\w+): ", "", text)
    # Pingan's own errors are written for the reader: their class path adds nothing.
    text = re.sub(r"^(?:ingest|orchestration|dashboards)\.[\w.]+?\.\w+: ", "", text)
    return " ".join(text.split())


def failure_log(settings: Settings) -> Path:
    return settings.data_dir / "logs" / "run_failures.jsonl"


def _command_notifier(failure: RunFailure) -> None:
    command = os.environ.get("PINGAN_NOTIFY_COMMAND")
    if command:
        subprocess.run(
            command,
            shell=True,
            input=json.dumps(asdict(failure), ensure_ascii=False),
            text=True,
            timeout=30,
            check=False,
        )


def record_failure(settings: Settings, run_id: str, job: str, message: str) -> RunFailure:
    from ingest.load import shanghai_now

    failure = RunFailure(run_id, job, message, shanghai_now().isoformat(timespec="seconds"))
    path = failure_log(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(failure), ensure_ascii=False) + "\n")
    for notify in [*_NOTIFIERS, _command_notifier]:
        try:
            notify(failure)
        except Exception as exc:  # a broken notifier must not hide the failure itself
            with path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"run_id": run_id, "notifier_error": str(exc)}) + "\n")
    return failure
