"""The one way Pingan runs dbt: project, profile, environment, target folder, invocation.

``pingan run`` (the Dagster dbt assets), ``pingan build`` (:mod:`.build`), the tests and
the benchmarks all start dbt through :func:`invoke`, with the same ``DbtCliResource``,
the same environment and the same folders, so the marts a test sees are built the way
production builds them.

Why dagster-dbt's ``DbtCliResource`` for everyone rather than dbt's in-process
``dbtRunner``: production runs dbt as ``@dbt_assets``, whose lineage, asset checks and
metadata come from the resource's event stream, so that path cannot change; a second,
in-process path for the CLI and the tests would be a copy whose settings drift (they
did: two environments, two target folders). The price is one dbt process per
invocation; the gain besides one path is that the warehouse lock is released when that
process exits (the in-process runner kept a DuckDB handle open and had to be pried
loose).

The manifest Dagster loads its assets from is produced offline by ``dbt parse``; it is
(re)generated when it is missing or older than any file of the project, so ``pingan
run``, the tests and ``dagster dev`` always load the current models. A file lock keeps
parallel processes (pytest-xdist workers) from parsing at the same time.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging import version

from contracts.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
# profiles.yml sits in the project: the warehouse path comes from PINGAN_DB (below)
PROFILES_DIR = PROJECT_DIR
# The parse that gives Dagster its manifest writes into the project's own target folder
# (it does not depend on a data dir); its partial-parse file seeds every run's folder.
MANIFEST_PATH = PROJECT_DIR / "target" / "manifest.json"
_SOURCE_DIRS = ("models", "macros", "seeds", "tests", "snapshots", "analyses")

# The staging models are a step of their own so the GX checks of staging can block the
# marts (orchestration.defs.quality).
STAGING_SELECT = "path:models/staging"
# dbt runs in two steps around the training of the group-rental lead model: the models
# that score from the fitted model (schema leads, a dbt source) and everything after
# them are the second step. Dagster's dbt_leads asset and `pingan build` split on it.
LEADS_SELECT = "source:leads+"
# A run with this tag set to "true" rebuilds every incremental model from scratch
# (`pingan run --full-refresh`, the weekly schedule); others rebuild what was delivered.
FULL_REFRESH_TAG = "pingan/full_refresh"
FULL_REFRESH_TAGS = {FULL_REFRESH_TAG: "true"}


def is_full_refresh(run_tags: Mapping[str, str]) -> bool:
    """Whether a run with these tags asked for a full refresh (:data:`FULL_REFRESH_TAGS`)."""
    return run_tags.get(FULL_REFRESH_TAG) == FULL_REFRESH_TAGS[FULL_REFRESH_TAG]


class DbtProjectError(RuntimeError):
    """The dbt project cannot be parsed."""


# ---------------------------------------------------------------- folders and environment


def target_dir(settings: Settings) -> Path:
    """dbt's artifacts of this data dir (manifest, run_results, compiled SQL).

    One folder per data dir, reused by every invocation, instead of dagster-dbt's
    default of a new folder per invocation: runs that write the warehouse execute one at
    a time (orchestration.instance), and a folder per invocation would keep a manifest
    of several MB for every step of every daily run. Reuse also keeps dbt's partial
    parse warm.
    """
    return settings.data_dir / "dbt" / "target"


def log_dir(settings: Settings) -> Path:
    """``dbt.log`` of every invocation on this data dir, appended (dbt rotates it)."""
    return settings.data_dir / "dbt" / "logs"


def dbt_env_vars(settings: Settings) -> dict[str, str]:
    """The environment ``profiles.yml`` and ``dbt_project.yml`` read.

    ``PINGAN_TRUTH_DIR`` is always set: to the data dir's planted truth when it has one,
    else to '' (what the project's ``env_var`` default means: no truth). A value
    inherited from the caller's shell must never point a data dir without truth at
    another city's truth. (The two former copies agreed on that; one set '' and the
    other removed the variable, which dbt reads the same way.)
    """
    truth = settings.truth_dir
    return {
        "PINGAN_DB": os.fspath(settings.warehouse),
        "PINGAN_TRUTH_DIR": os.fspath(truth) if truth.is_dir() else "",
    }


@contextmanager
def dbt_env(settings: Settings) -> Iterator[None]:
    """Point dbt at ``settings`` while an invocation starts.

    ``DbtCliResource.cli`` passes a copy of the process environment to the dbt process
    and has no per-call environment argument, hence the temporary override (steps
    execute one at a time in a process, so nothing else sees it).
    """
    new = dbt_env_vars(settings)
    old = {k: os.environ.get(k) for k in new}
    os.environ.update(new)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ---------------------------------------------------------------- the resource


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROFILES_DIR)


def dbt_executable() -> str:
    """The dbt of this environment (works without the venv on PATH, e.g. `.venv/bin/python`)."""
    beside = _dbt_beside_python()
    return beside if os.path.exists(beside) else "dbt"


class PinganDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two start-up costs Pingan does not use.

    Before each invocation the resource builds a dbt adapter in the calling process
    (2.8 s at every dbt step: it loads dbt's macros); the adapter only serves
    ``fetch_row_counts`` / ``fetch_column_metadata``, which Pingan does not call (row
    counts are in the run summary). And once per resource it runs ``dbt --version``
    (4.4 s: a Python process importing dbt) to tell dbt Core from Fusion; the dbt beside
    this interpreter is the dbt-core package of this environment, whose version the
    package metadata gives without a process. Both were measured in the city bench's
    daily run: 12.8 s of its 3 dbt steps. Overridden, not patched: the names are
    dagster-dbt's, pinned by the lockfile, and a test runs every dbt step through them.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        if self.dbt_executable == _dbt_beside_python():
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version  # another dbt on PATH: ask it

    # the caller holds the adapter as `BaseAdapter | None` and skips what needs it on None
    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def _dbt_beside_python() -> str:
    return os.fspath(Path(sys.executable).parent / "dbt")


@cache
def dbt_resource() -> DbtCliResource:
    """The dbt CLI resource (one per process)."""
    return PinganDbtCliResource(
        project_dir=os.fspath(PROJECT_DIR),
        profiles_dir=os.fspath(PROFILES_DIR),
        dbt_executable=dbt_executable(),
    )


def dbt_args(
    settings: Settings,
    command: str,
    *,
    select: str | None = None,
    exclude: str | None = None,
    dbt_vars: dict[str, object] | None = None,
    full_refresh: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """The arguments of a dbt command on ``settings`` (the executable comes from the resource)."""
    args = [
        command,
        # every invocation appends to one dbt.log per data dir, at info level (the file
        # default, debug, writes every SQL statement)
        "--log-path",
        os.fspath(log_dir(settings)),
        "--log-level-file",
        "info",
        "--log-format-file",
        "text",
        # no colour codes in the messages (dbt colours them by the console flag), neither
        # in dbt.log nor in the events Dagster shows
        "--no-use-colors",
        "--no-use-colors-file",
    ]
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    if dbt_vars:
        # overrides of dbt_project.yml vars for this run (e.g. a sensitivity study)
        args += ["--vars", json.dumps(dbt_vars, ensure_ascii=False)]
    if full_refresh:
        args.append("--full-refresh")
    return [*args, *extra]


def invoke(
    settings: Settings,
    args: Sequence[str],
    *,
    dbt: DbtCliResource | None = None,
    context: Any = None,
    raise_on_error: bool = True,
) -> DbtCliInvocation:
    """Start dbt with ``args`` (from :func:`dbt_args`) on ``settings``.

    Dagster's dbt assets pass their ``context`` (which adds the assets' selection) and
    stream the returned invocation; the others wait for it (:func:`run_quietly`).
    """
    target = target_dir(settings)
    target.mkdir(parents=True, exist_ok=True)
    # a failed parse writes no run_results: never read the previous invocation's
    (target / "run_results.json").unlink(missing_ok=True)
    with dbt_env(settings):
        return (dbt or dbt_resource()).cli(
            list(args), context=context, target_path=target, raise_on_error=raise_on_error
        )


def run_quietly(
    settings: Settings, args: Sequence[str]
) -> tuple[DbtCliInvocation, list[dict[str, Any]]]:
    """Run dbt to its end without echoing its events; (the invocation, its raw events).

    dagster-dbt writes every event it reads to stdout; outside Dagster they only repeat
    ``dbt.log``, so they are dropped here and the caller reports what matters.
    """
    import contextlib

    invocation = invoke(settings, args, raise_on_error=False)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        events = [event.raw_event for event in invocation.stream_raw_events()]
    return invocation, events


def run_results(settings: Settings) -> dict[str, Any] | None:
    """``run_results.json`` of the last invocation on ``settings`` (None when dbt wrote none)."""
    path = target_dir(settings) / "run_results.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def error_lines(events: Sequence[dict[str, Any]]) -> list[str]:
    """The messages dbt logged at level error, in order."""
    return [str(e["info"].get("msg", "")) for e in events if e["info"].get("level") == "error"]


# ---------------------------------------------------------------- the manifest


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in ("dbt_project.yml", "profiles.yml", "packages.yml"):
        p = PROJECT_DIR / name
        if p.exists():
            newest = max(newest, p.stat().st_mtime)
    for sub in _SOURCE_DIRS:
        folder = PROJECT_DIR / sub
        if folder.is_dir():
            for p in folder.rglob("*"):
                if p.is_file():
                    newest = max(newest, p.stat().st_mtime)
    return newest


def manifest_is_stale() -> bool:
    return not MANIFEST_PATH.exists() or MANIFEST_PATH.stat().st_mtime < _newest_source_mtime()


def parse(target: Path) -> Path:
    """``dbt parse`` into ``target`` (offline: the project needs no packages); the manifest."""
    invocation = dbt_resource().cli(["parse", "--quiet"], target_path=target, raise_on_error=False)
    invocation.wait()
    manifest = target / "manifest.json"
    if not invocation.is_successful() or not manifest.exists():
        raise DbtProjectError(f"`dbt parse` failed in {PROJECT_DIR}; run it there to see why")
    return manifest


def ensure_manifest() -> Path:
    """Path of an up-to-date ``manifest.json`` (runs ``dbt parse`` when stale)."""
    if not manifest_is_stale():
        return MANIFEST_PATH
    MANIFEST_PATH.parent.mkdir(parents=True, exist_ok=True)
    with (MANIFEST_PATH.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest_is_stale():  # another process may have parsed while we waited
            parse(MANIFEST_PATH.parent)
    return MANIFEST_PATH
