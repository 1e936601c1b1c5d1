"""The dbt sources and staging models are generated from the entity contracts."""

from __future__ import annotations

from pathlib import Path

import yaml

from contracts.entities import ENTITIES, LINEAGE_COLUMNS
from ingest.dbt_sources import (
    PROJECT_DIR,
    generated_files,
    main,
    staging_model_name,
    stale_sources,
    write_sources,
)


def test_committed_generated_files_equal_what_the_contracts_produce() -> None:
    assert stale_sources() == [], "run: python -m ingest.dbt_sources"
    assert main(["--check"]) == 0


def test_check_reports_a_hand_edited_file(tmp_path: Path, capsys) -> None:
    project = tmp_path / "dbt_project"
    write_sources(project)
    assert stale_sources(project) == []
    victim = project / "models" / "staging" / "police" / "_police__sources.yml"
    victim.write_text(victim.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert stale_sources(project) == [victim]


def test_every_entity_is_a_source_with_all_raw_columns_and_its_key_in_meta() -> None:
    sources = {}
    for path, text in generated_files().items():
        if path.name.endswith("__sources.yml"):
            for source in yaml.safe_load(text)["sources"]:
                for table in source["tables"]:
                    sources[table["name"]] = (source["name"], source["schema"], table)
    assert set(sources) == {e.name for e in ENTITIES}
    for ent in ENTITIES:
        system, schema, table = sources[ent.name]
        assert (system, schema) == (ent.system, "raw")
        names = [c["name"] for c in table["columns"]]
        expected = [n for n, _, _ in ent.stored_columns()] + [n for n, _, _ in LINEAGE_COLUMNS]
        assert names == expected
        assert table["meta"]["key"] == list(ent.key)
        assert table["meta"]["version_column"] == ent.version_column
        assert all(c["description"] for c in table["columns"])


def test_personal_data_appears_only_as_pseudonyms_and_masks() -> None:
    for path, text in generated_files().items():
        if not path.name.endswith("__sources.yml"):
            continue
        for source in yaml.safe_load(text)["sources"]:
            for table in source["tables"]:
                ent = next(e for e in ENTITIES if e.name == table["name"])
                names = {c["name"] for c in table["columns"]}
                for col in ent.columns:
                    if col.pii:
                        assert col.canonical not in names


def test_one_staging_model_per_entity_named_by_system() -> None:
    names = {staging_model_name(e) for e in ENTITIES}
    assert "stg_hotline__tickets" in names
    assert "stg_police__floating_population" in names
    assert "stg_reference__population" in names
    for ent in ENTITIES:
        sql = PROJECT_DIR / "models" / "staging" / ent.system / f"{staging_model_name(ent)}.sql"
        assert f"staging_newest('{ent.system}', '{ent.name}')" in sql.read_text(encoding="utf-8")


def _generated(suffix: str, key: str) -> dict[str, dict]:
    out = {}
    for path, text in generated_files().items():
        if path.name.endswith(suffix):
            doc = yaml.safe_load(text)
            for item in doc[key]:
                for table in item.get("tables", [item]):
                    out[table["name"]] = table
    return out


def test_each_check_is_generated_in_one_layer() -> None:
    """Enumerations (by share) and required keys on raw; keys again after dedup on staging."""
    sources = _generated("__sources.yml", "sources")
    models = _generated("__models.yml", "models")
    for ent in ENTITIES:
        raw = {c["name"]: c.get("data_tests", []) for c in sources[ent.name]["columns"]}
        stg = {
            c["name"]: c.get("data_tests", []) for c in models[staging_model_name(ent)]["columns"]
        }
        for col in ent.columns:
            if col.kind == "enum":
                assert raw[col.canonical] == [
                    {"out_of_contract_share": {"arguments": {"values": list(col.values)}}}
                ]
            if col.canonical in stg:
                assert not any(
                    isinstance(t, dict) and "accepted_values" in t for t in stg[col.canonical]
                ), f"{ent.name}.{col.canonical}: enumerations are tested on raw only"
        for k in ent.key:
            if ent.column(k).required:
                assert "not_null" in raw[k]
                assert "not_null" in stg[k]
        if len(ent.key) == 1:
            assert "unique" in stg[ent.key[0]]
        else:
            tests = models[staging_model_name(ent)]["data_tests"]
            assert tests == [{"unique_combination": {"arguments": {"columns": list(ent.key)}}}]
