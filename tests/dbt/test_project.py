"""The dbt project is a standard, self-contained project: it parses offline, needs no
packages, documents every model and column, and has an exposure per dashboard page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestration.defs.dbt.runner import PROJECT_DIR, parse

REPO = PROJECT_DIR.parent


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A fresh ``dbt parse`` with the resource every dbt invocation uses (raises if it fails)."""
    path = parse(tmp_path_factory.mktemp("dbt_parse"))
    return json.loads(path.read_text(encoding="utf-8"))


def test_project_needs_no_packages_from_the_hub() -> None:
    assert not (PROJECT_DIR / "packages.yml").exists()
    assert not (PROJECT_DIR / "dependencies.yml").exists()


def test_profile_reads_the_warehouse_path_from_the_environment_with_two_threads() -> None:
    text = (PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8")
    assert "env_var('PINGAN_DB'" in text
    assert "threads: 2" in text


def test_every_model_and_column_is_documented(manifest) -> None:
    undocumented = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        if not node["description"].strip():
            undocumented.append(node["name"])
        for col in node["columns"].values():
            if not (col.get("description") or "").strip():
                undocumented.append(f"{node['name']}.{col['name']}")
    assert undocumented == []


def test_every_model_has_data_tests(manifest) -> None:
    tested = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            tested.update(n for n in node["depends_on"]["nodes"] if n.startswith("model."))
    models = {n["unique_id"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert sorted(models - tested) == []


def test_unit_tests_cover_completion_index_and_score(manifest) -> None:
    tested_models = {ut["model"] for ut in manifest["unit_tests"].values()}
    assert {
        "mart_completion_rates",
        "mart_safety_index_components",
        "mart_safety_index",
        "mart_group_rental_scores",
    } <= tested_models


def test_an_exposure_per_dashboard_page(manifest) -> None:
    pages = {p.stem for p in (REPO / "dashboards" / "pages").glob("*.py") if p.stem != "__init__"}
    exposed = {e["name"].removeprefix("dashboard_") for e in manifest["exposures"].values()}
    assert pages <= exposed


def test_the_marts_the_dashboards_read_exist(manifest) -> None:
    names = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for required in [
        "dim_region",
        "dim_dwelling",
        "dim_month",
        "fct_hotline_tickets",
        "fct_grid_events",
        "fct_police_incidents",
        "fct_police_cases",
        "fct_floating_population",
        "fct_rental_hazards",
        "fct_rental_checks",
        "mart_completion_rates",
        "mart_safety_index",
        "mart_alerts",
        "mart_group_rental_scores",
        "mart_group_rental_evaluation",
    ]:
        assert required in names
