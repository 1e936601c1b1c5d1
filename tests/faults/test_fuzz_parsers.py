"""Fuzzing the parsers: about twenty thousand values each, no exception escapes but the
typed rejection."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.entities import ENTITIES
from ingest.normalise import (
    apply,
    normalise_address,
    parse_decimal,
    parse_integer,
    parse_month,
    parse_timestamp,
    parse_timestamp_column,
)
from ingest.pii import normalise_id_numbers, normalise_phone
from ingest.readers import FileRejected, match_header, read_export

# 200 examples of up to 20 lists of up to 20 values, parsed as one column per example: the
# values of 2,000 examples of one list each, in a tenth of the parser calls (a call's fixed
# cost, not the values, was most of the time). The properties hold value by value.
THOUSANDS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like the values the parsers meet, and plain noise.
digits = st.text(alphabet="0123456789０１２３４５６７８９", max_size=20)
datey = st.text(alphabet="0123456789-/: 年月日时分秒T.Z+", max_size=25)
numbery = st.text(alphabet="0123456789.,，-+ ㎡平方米%６０", max_size=15)
addressy = st.text(
    alphabet="江苏省南通市崇川区如皋县工农路号楼幢栋座室单元小社-0123456789８８ ,，。.、",
    max_size=30,
)
noise = st.text(max_size=40)
one_list = st.lists(
    st.one_of(digits, datey, numbery, addressy, noise, st.none()), min_size=1, max_size=20
)
values = st.lists(one_list, min_size=1, max_size=20).map(lambda ls: list(itertools.chain(*ls)))


@THOUSANDS
@given(values)
def test_timestamp_parsers_never_raise(texts: list[str | None]) -> None:
    expr = apply(parse_timestamp, texts)
    column = parse_timestamp_column(pl.Series("v", texts, dtype=pl.Utf8)).to_list()
    assert column == expr


@THOUSANDS
@given(values)
def test_number_parsers_never_raise(texts: list[str | None]) -> None:
    for value in apply(parse_integer, texts):
        assert value is None or isinstance(value, int)
    apply(parse_decimal, texts)
    apply(parse_month, texts)


@THOUSANDS
@given(values)
def test_id_and_phone_parsers_never_raise_and_return_valid_forms(texts: list[str | None]) -> None:
    for value in normalise_id_numbers(pl.Series("v", texts, dtype=pl.Utf8)).to_list():
        assert value is None or (len(value) == 18 and value[:17].isdigit())
    for value in apply(normalise_phone, texts):
        assert value is None or value.isdigit()


@THOUSANDS
@given(values)
def test_address_normalisation_never_raises_and_is_idempotent(texts: list[str | None]) -> None:
    once = apply(normalise_address, texts)
    assert apply(normalise_address, once) == once


headers = [h for e in ENTITIES for c in e.columns for h in c.headers]


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(headers), noise, st.none()), max_size=25), noise)
def test_header_matching_never_raises(cells: list[str | None], file_name: str) -> None:
    match = match_header(cells, file_name)
    assert match is None or set(match.columns) <= set(range(len(cells)))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_whole_file_reader_raises_only_the_typed_rejection(content: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"12345_工单_fuzz{suffix}"
        path.write_bytes(content)
        try:
            records = read_export(path, Path(tmp))
        except FileRejected as exc:
            assert exc.reason and "\n" not in exc.reason
        else:
            assert records.rows_read == records.frame.height + records.rejected.height


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.one_of(noise, datey, st.just('"'), st.just(",")), max_size=8), max_size=15)
)
def test_csv_with_a_real_header_and_fuzzed_rows_raises_only_the_typed_rejection(
    rows: list[list[str]],
) -> None:
    header = ["工单编号", "来电时间", "工单状态", "所属区县"]
    text = "\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "12345_工单_fuzz.csv"
        path.write_bytes(text.encode("utf-8"))
        try:
            records = read_export(path, Path(tmp))
        except FileRejected as exc:
            assert exc.reason and "\n" not in exc.reason
        else:
            assert records.rows_read == records.frame.height + records.rejected.height
