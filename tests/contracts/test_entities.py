"""The entity declarations agree with the shared contract of the source exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts.entities import ENTITIES, ENTITIES_BY_NAME, validate_declarations
from ingest.normalise import normalise_header

CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "source-exports.md"


def contract_tables() -> dict[str, list[tuple[str, list[str], str]]]:
    """table name -> [(header, aliases, canonical)] from the markdown contract."""
    text = CONTRACT.read_text(encoding="utf-8")
    tables: dict[str, list[tuple[str, list[str], str]]] = {}
    current = None
    for line in text.splitlines():
        named = re.search(r"table `([a-z_]+)`", line)
        if named:
            current = named.group(1)
            tables.setdefault(current, [])
        if current and current.startswith("reference_") and not line.startswith("|"):
            # Reference entities are described in prose: 年份 `year`, 所属区县 `district`, ...
            for header, canonical in re.findall(r"([^\s,，:：`]+) `([a-z_]+)`", line):
                if canonical != current:
                    tables[current].append((header, [], canonical))
            continue
        if named:
            continue
        cells = (
            [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        )
        if (
            current
            and len(cells) >= 3
            and cells[0] not in ("column", "---")
            and not cells[0].startswith("-")
        ):
            canonical = re.match(r"[a-z_0-9]+", cells[2].strip("` "))
            if canonical:
                aliases = [a.strip() for a in cells[1].split("/") if a.strip()]
                tables[current].append((cells[0], aliases, canonical.group(0)))
    return tables


def test_declarations_are_consistent() -> None:
    assert validate_declarations() == []


@pytest.mark.skipif(
    not CONTRACT.exists(), reason="shared/source-exports.md is not beside the checkout"
)
def test_every_contract_column_is_declared_with_its_header_and_aliases() -> None:
    tables = contract_tables()
    assert set(tables) == {e.name for e in ENTITIES}
    for table, columns in tables.items():
        declared = ENTITIES_BY_NAME[table]
        for header, aliases, canonical in columns:
            col = declared.column(canonical)
            known = {normalise_header(h) for h in col.headers}
            assert normalise_header(header) in known, f"{table}.{canonical}: header {header}"
            for alias in aliases:
                assert normalise_header(alias) in known, f"{table}.{canonical}: alias {alias}"
        assert {c for _, _, c in columns} == {c.canonical for c in declared.columns}, table


def test_every_entity_has_a_required_key_and_a_unique_file_prefix() -> None:
    prefixes = [e.file_prefix for e in ENTITIES]
    assert len(set(prefixes)) == len(prefixes)
    for ent in ENTITIES:
        assert any(ent.column(k).required for k in ent.key), ent.name


def test_entity_reference_is_generated_from_the_declarations() -> None:
    from ingest.docs import TARGET, render

    assert TARGET.read_text(encoding="utf-8") == render(), "run: python -m ingest.docs"
