"""The dbt project, its manifest, and the dbt CLI resource.

The manifest is produced offline by ``dbt parse``; it is (re)generated when it is
missing or older than any file of the project, so ``pingan run``, the tests and
``dagster dev`` always load the current models. A file lock keeps parallel
processes (pytest-xdist workers) from parsing at the same time.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from contracts.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
_SOURCE_DIRS = ("models", "macros", "seeds", "tests", "snapshots", "analyses")


class DbtProjectError(RuntimeError):
    """The dbt project cannot be parsed."""


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in ("dbt_project.yml", "profiles.yml", "packages.yml"):
        p = DBT_PROJECT_DIR / name
        if p.exists():
            newest = max(newest, p.stat().st_mtime)
    for sub in _SOURCE_DIRS:
        folder = DBT_PROJECT_DIR / sub
        if folder.is_dir():
            for p in folder.rglob("*"):
                if p.is_file():
                    newest = max(newest, p.stat().st_mtime)
    return newest


def manifest_is_stale() -> bool:
    return not MANIFEST_PATH.exists() or MANIFEST_PATH.stat().st_mtime < _newest_source_mtime()


def ensure_manifest() -> Path:
    """Path of an up-to-date ``manifest.json`` (runs ``dbt parse`` when stale)."""
    if not manifest_is_stale():
        return MANIFEST_PATH
    MANIFEST_PATH.parent.mkdir(parents=True, exist_ok=True)
    with (MANIFEST_PATH.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest_is_stale():  # another process may have parsed while we waited
            invocation = dbt_resource().cli(
                ["parse", "--quiet"], target_path=Path("target"), raise_on_error=False
            )
            invocation.wait()
            if not invocation.is_successful() or not MANIFEST_PATH.exists():
                raise DbtProjectError(
                    f"`dbt parse` failed in {DBT_PROJECT_DIR}; run it there to see why"
                )
    return MANIFEST_PATH


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The dbt of this environment (works without the venv on PATH, e.g. `.venv/bin/python`)."""
    beside = Path(sys.executable).parent / "dbt"
    return os.fspath(beside) if beside.exists() else "dbt"


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=os.fspath(DBT_PROJECT_DIR),
        profiles_dir=os.fspath(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )


def dbt_env_vars(settings: Settings) -> dict[str, str]:
    """Environment the dbt profile and project read (see dbt_project/profiles.yml)."""
    env = {"PINGAN_DB": os.fspath(settings.warehouse)}
    if settings.truth_dir.is_dir():
        env["PINGAN_TRUTH_DIR"] = os.fspath(settings.truth_dir)
    return env


@contextmanager
def dbt_env(settings: Settings) -> Iterator[None]:
    """Point the dbt CLI at ``settings`` for the duration of an invocation.

    DbtCliResource passes the process environment to dbt and has no per-call
    environment argument, hence the temporary override (runs execute one step
    at a time in a process, so nothing else sees it).
    """
    new = dbt_env_vars(settings)
    old = {k: os.environ.get(k) for k in (*new, "PINGAN_TRUTH_DIR")}
    os.environ.pop("PINGAN_TRUTH_DIR", None)
    os.environ.update(new)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
