"""dbt models as assets, in two steps so data-quality checks can sit between them.

``dbt_staging``  the staging views (one per raw entity), built and tested first;
``dbt_marts``    everything after staging (intermediate, marts, seeds).

The Great Expectations suites of the staging models are blocking asset checks
(orchestration.defs.quality): when a critical expectation fails, ``dbt_marts``
does not run, so the marts keep their last good state and nothing is published.
With a single dbt invocation the checks could only run after the marts were
already rebuilt.

dbt sources map to the raw ingest assets (``raw/<entity>``), so lineage reads
landing folder -> raw table -> staging -> marts -> published warehouse.
"""

import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypedDict

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from contracts.entities import ENTITIES_BY_NAME
from orchestration.defs.dbt.runner import (
    LEADS_SELECT,
    STAGING_SELECT,
    dbt_args,
    dbt_project,
    ensure_manifest,
    invoke,
    is_full_refresh,
    manifest_is_stale,
)
from orchestration.instance import WAREHOUSE_TAGS
from orchestration.resources import PinganResource

# The lead scoring reads the fitted model (source leads, written by the training asset
# orchestration/defs/leads): it and everything after it are a third step, dbt_leads.


class PinganDbtTranslator(DagsterDbtTranslator):
    """Sources of the raw layer are the ingest assets; models are grouped by layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props.get("schema") == "raw":
                return dg.AssetKey(["raw", dbt_resource_props["name"]])
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn") or []
        if len(fqn) > 2 and fqn[1] in ("staging", "intermediate", "marts", "evaluation"):
            return fqn[1]
        return "dbt"


TRANSLATOR = PinganDbtTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True,
        # the enumeration and key tests of the raw sources (run by dbt_staging, whose
        # path selects the sources' yml) are checks of the raw ingest assets
        enable_source_tests_as_checks=True,
        enable_code_references=False,
    )
)


@cache
def _load_manifest(path: str, mtime_ns: int) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def manifest() -> dict[str, Any]:
    """The current manifest (re-parsed when the project changed since the last call)."""
    path = ensure_manifest()
    return _load_manifest(str(path), path.stat().st_mtime_ns)


def _models() -> list[dict[str, Any]]:
    return [n for n in manifest()["nodes"].values() if n["resource_type"] == "model"]


def _is_staging(node: Mapping[str, Any]) -> bool:
    return str(node.get("original_file_path", "")).startswith("models/staging/")


def relation(node: Mapping[str, Any]) -> str:
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def staging_models_by_entity() -> dict[str, dict[str, Any]]:
    """Entity name -> the staging model that reads its raw table (from the manifest)."""
    sources = manifest().get("sources", {})
    out: dict[str, dict[str, Any]] = {}
    for node in _models():
        if not _is_staging(node):
            continue
        raw = [
            sources[s]["name"]
            for s in node.get("depends_on", {}).get("nodes", [])
            if s in sources and sources[s].get("schema") == "raw"
        ]
        if len(raw) == 1 and raw[0] in ENTITIES_BY_NAME:
            out[raw[0]] = node
    return out


def mart_models() -> list[dict[str, Any]]:
    """The models of schema marts (models/marts/ and the evaluation marts)."""
    return [n for n in _models() if n.get("schema") == "marts"]


def model_key(node: Mapping[str, Any]) -> dg.AssetKey:
    return TRANSLATOR.get_asset_key(node)


def _has_nodes(select_staging: bool) -> bool:
    return any(_is_staging(n) == select_staging for n in _models())


def _reads_leads(node: Mapping[str, Any], seen: dict[str, bool] | None = None) -> bool:
    """The model reads source leads, directly or through another model."""
    nodes = manifest()["nodes"]
    seen = {} if seen is None else seen
    uid = node["unique_id"]
    if uid not in seen:
        seen[uid] = False
        deps = node.get("depends_on", {}).get("nodes", [])
        seen[uid] = any(d.startswith("source.pingan.leads.") for d in deps) or any(
            d in nodes and _reads_leads(nodes[d], seen) for d in deps
        )
    return seen[uid]


def _build(
    context: AssetExecutionContext, dbt: DbtCliResource, pingan: PinganResource
) -> Iterator[Any]:
    settings = pingan.settings
    args = dbt_args(settings, "build", full_refresh=is_full_refresh(context.run.tags))
    try:
        # the same invocation as `pingan build` (runner.invoke); the context adds this
        # asset's selection
        yield from invoke(settings, args, dbt=dbt, context=context).stream()
    except KeyError as exc:
        if not manifest_is_stale():
            raise
        # dbt built a node the loaded definitions do not know: say what to do instead
        # of dagster-dbt's bare KeyError.
        raise dg.Failure(
            f"the dbt project changed after the Dagster definitions were loaded ({exc}): "
            "reload the code location (or rerun `pingan run`)"
        ) from None


class _Common(TypedDict):
    """What the three dbt steps share (typed, so ``**common`` is checked)."""

    manifest: dict[str, Any]
    dagster_dbt_translator: DagsterDbtTranslator
    project: DbtProject
    op_tags: dict[str, str]


def build_dbt_assets() -> list[dg.AssetsDefinition]:
    assets: list[dg.AssetsDefinition] = []
    common = _Common(
        manifest=manifest(),
        dagster_dbt_translator=TRANSLATOR,
        project=dbt_project(),
        op_tags=WAREHOUSE_TAGS,
    )
    if _has_nodes(True):

        @dbt_assets(select=STAGING_SELECT, name="dbt_staging", **common)
        def dbt_staging(
            context: AssetExecutionContext, dbt: DbtCliResource, pingan: PinganResource
        ) -> Iterator[Any]:
            yield from _build(context, dbt, pingan)

        assets.append(dbt_staging)
    if _has_nodes(False):

        @dbt_assets(exclude=f"{STAGING_SELECT} {LEADS_SELECT}", name="dbt_marts", **common)
        def dbt_marts(
            context: AssetExecutionContext, dbt: DbtCliResource, pingan: PinganResource
        ) -> Iterator[Any]:
            yield from _build(context, dbt, pingan)

        assets.append(dbt_marts)
    if any(_reads_leads(n) for n in _models()):

        @dbt_assets(select=LEADS_SELECT, name="dbt_leads", **common)
        def dbt_leads(
            context: AssetExecutionContext, dbt: DbtCliResource, pingan: PinganResource
        ) -> Iterator[Any]:
            yield from _build(context, dbt, pingan)

        assets.append(dbt_leads)
    return assets
