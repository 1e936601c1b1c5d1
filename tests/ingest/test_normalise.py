"""Value parsers: every form the contract lists, and properties over generated values."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.normalise import (
    apply,
    clean_enum,
    clean_free_text,
    clean_text,
    normalise_address,
    normalise_header,
    parse_date,
    parse_decimal,
    parse_flag,
    parse_integer,
    parse_month,
    parse_timestamp,
)

FW = str.maketrans("0123456789", "０１２３４５６７８９")
EXAMPLES = settings(max_examples=300, deadline=None)


@pytest.mark.parametrize(
    "text",
    [
        "2026-10-03 09:05:00",
        "2026/10/3 9:05",
        "2026年10月3日 09:05",
        "20261003090500",
        "２０２６-１０-０３ ０９:０５:００",
        " 2026-10-03 09:05 ",
        "2026-10-03T01:05:00Z",
        "2026-10-03T09:05:00+08:00",
    ],
)
def test_every_timestamp_form_of_the_contract_reads_as_shanghai_time(text: str) -> None:
    assert apply(parse_timestamp, [text]) == [dt.datetime(2026, 10, 3, 9, 5)]


def test_excel_serial_and_date_only_values_are_timestamps() -> None:
    assert apply(parse_timestamp, ["46298.378472222", "2026-10-03", "20261003"]) == [
        dt.datetime(2026, 10, 3, 9, 5),
        dt.datetime(2026, 10, 3),
        dt.datetime(2026, 10, 3),
    ]


@pytest.mark.parametrize("text", ["", "-", "无", "/", "  ", None])
def test_missing_markers_are_null_in_every_parser(text: str | None) -> None:
    for parser in (
        parse_timestamp,
        parse_decimal,
        parse_integer,
        clean_text,
        clean_enum,
        parse_month,
    ):
        assert apply(parser, [text]) == [None], parser.__name__


@pytest.mark.parametrize("text", ["2026-02-30 10:00", "yesterday", "12345", "2026-13-01"])
def test_impossible_timestamps_are_null_not_guessed(text: str) -> None:
    assert apply(parse_timestamp, [text]) == [None]


def test_month_boundary_second_stays_in_its_month() -> None:
    stamps = apply(parse_timestamp, ["2026-10-31 23:59:59", "2026-11-01 00:00:00"])
    assert [s.month for s in stamps] == [10, 11]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("６０", 60.0),
        ("60㎡", 60.0),
        ("60平方米", 60.0),
        ("1,234.5", 1234.5),
        ("８５.５ ㎡", 85.5),
        ("12%", 12.0),
    ],
)
def test_numbers_with_full_width_digits_units_and_separators(text: str, value: float) -> None:
    assert apply(parse_decimal, [text]) == [value]


def test_integers_must_be_whole() -> None:
    assert apply(parse_integer, ["3", "3.0", "3.5", "3间", "abc"]) == [3, 3, None, 3, None]


def test_flags_and_months() -> None:
    assert apply(parse_flag, ["是", "否", " 是", "也许"]) == [True, False, True, None]
    assert (
        apply(parse_month, ["2026-10", "2026/10", "2026年10月", "202610", "2026-10-01"])
        == ["2026-10"] * 5
    )


def test_enumerations_are_trimmed_and_width_folded() -> None:
    assert apply(clean_enum, [" 已办结 ", "ＡＰＰ", "已\u3000办结"]) == ["已办结", "APP", "已办结"]


def test_addresses_of_one_dwelling_in_the_contracts_forms_normalise_equal() -> None:
    forms = [
        "江苏省南通市崇川区工农路88号3幢201室",
        "崇川区工农路88号3-201",
        "南通市崇川区 工农路 88 号 3 栋 201",
        "崇川区工农路８８号３幢２０１室",
        "崇川区工农路88号3号楼201",
    ]
    assert set(apply(normalise_address, forms)) == {"崇川区工农路88号3幢201室"}


def test_county_level_city_is_not_taken_for_the_prefecture() -> None:
    assert (
        apply(normalise_address, ["江苏省南通市如皋市如城街道解放路8号", "如皋市如城街道解放路8号"])
        == ["如皋市如城街道解放路8号"] * 2
    )


def test_free_text_keeps_words_but_masks_embedded_numbers() -> None:
    out = apply(
        clean_free_text, ["请回电13812345678，身份证320602199001011234。工单NT2026100300123"]
    )[0]
    assert "13812345678" not in out and "320602199001011234" not in out
    assert "138****5678" in out and "NT2026100300123" in out


def test_header_folding_meets_full_width_and_spaced_variants() -> None:
    assert normalise_header(" 建筑面积（㎡） ") == normalise_header("建筑面积(㎡)")
    assert normalise_header("所属 街道") == normalise_header("所属街道")


# ---------------------------------------------------------------- properties

moments = st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


@EXAMPLES
@given(moments)
def test_timestamp_renderings_round_trip(moment: dt.datetime) -> None:
    minute = moment.replace(second=0)
    renderings = {
        moment.strftime("%Y-%m-%d %H:%M:%S"): moment,
        f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment.minute:02d}": minute,
        f"{moment.year}年{moment.month}月{moment.day}日 {moment.hour:02d}:{moment.minute:02d}": minute,
        moment.strftime("%Y%m%d%H%M%S"): moment,
        moment.strftime("%Y-%m-%d %H:%M:%S").translate(FW): moment,
    }
    assert apply(parse_timestamp, list(renderings)) == list(renderings.values())


@EXAMPLES
@given(moments)
def test_excel_serials_round_trip_to_the_second(moment: dt.datetime) -> None:
    serial = (moment - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    assert apply(parse_timestamp, [f"{serial:.10f}"]) == [moment]
    assert apply(parse_date, [moment.strftime("%Y-%m-%d")]) == [moment.date()]


@EXAMPLES
@given(
    st.integers(min_value=0, max_value=10**9),
    st.sampled_from(["", "㎡", "平方米", " ㎡"]),
    st.booleans(),
    st.booleans(),
)
def test_number_renderings_round_trip(n: int, unit: str, full_width: bool, grouped: bool) -> None:
    text = f"{n:,}" if grouped else str(n)
    text = text.translate(FW) if full_width else text
    assert apply(parse_integer, [text + unit]) == [n]
    assert apply(parse_decimal, [f"{n}.25{unit}"]) == [n + 0.25]


@EXAMPLES
@given(st.text(max_size=60))
def test_parsers_never_raise_on_arbitrary_text(text: str) -> None:
    for parser in (
        parse_timestamp,
        parse_decimal,
        parse_integer,
        parse_flag,
        parse_month,
        normalise_address,
        clean_free_text,
    ):
        apply(parser, [text])


roads = st.sampled_from(["工农路", "人民中路", "青年东路", "钟秀街"])


@EXAMPLES
@given(
    st.sampled_from(["崇川区", "通州区", "海门区", "如皋市", "南通经济技术开发区"]),
    roads,
    st.integers(1, 999),
    st.integers(1, 40),
    st.integers(101, 3208),
)
def test_address_variants_of_one_dwelling_normalise_equal_and_idempotent(
    district: str, road: str, number: int, building: int, room: int
) -> None:
    canonical = f"{district}{road}{number}号{building}幢{room}室"
    variants = [
        f"江苏省南通市{district}{road}{number}号{building}幢{room}室",
        f"{district}{road}{number}号{building}-{room}",
        f"南通市{district} {road} {number} 号 {building} 栋 {room}",
        f"{district}{road}{str(number).translate(FW)}号{building}幢{room}室",
    ]
    normalised = apply(normalise_address, variants)
    assert set(normalised) == {canonical}
    assert apply(normalise_address, normalised) == normalised


@EXAMPLES
@given(st.lists(moments, min_size=1, max_size=40), st.lists(st.text(max_size=25), max_size=10))
def test_timestamp_fast_paths_agree_with_the_general_parser(
    moments_: list[dt.datetime], junk: list[str]
) -> None:
    import polars as pl

    from ingest.normalise import parse_timestamp_column

    texts = []
    for i, m in enumerate(moments_):
        forms = [
            m.strftime("%Y-%m-%d %H:%M:%S"),
            f"{m.year}/{m.month}/{m.day} {m.hour}:{m.minute:02d}",
            m.strftime("%Y/%m/%d %H:%M:%S"),
            m.strftime("%Y-%m-%d"),
            m.strftime("%Y%m%d%H%M%S"),
            f"{m.year}年{m.month}月{m.day}日 {m.hour:02d}:{m.minute:02d}",
        ]
        texts.append(forms[i % len(forms)])
    texts += [*junk, None, "-"]
    column = parse_timestamp_column(pl.Series("v", texts, dtype=pl.Utf8)).to_list()
    assert column == apply(parse_timestamp, texts)


@EXAMPLES
@given(
    st.lists(
        st.sampled_from(["是", "否", " 是 ", "-", "x", None, "６０", "60㎡", "2026年10月"]),
        max_size=30,
    )
)
def test_parsing_distinct_values_equals_parsing_every_value(values: list[str | None]) -> None:
    import polars as pl

    from ingest.normalise import by_distinct

    series = pl.Series("v", values, dtype=pl.Utf8)
    for parser in (parse_flag, parse_decimal, parse_month, clean_enum):
        assert by_distinct(series, parser).to_list() == apply(parser, values)


def test_repeated_prefixes_are_stripped_in_one_pass() -> None:
    assert apply(normalise_address, ["江苏省江苏省南通市南通市崇川区工农路88号", "00省"]) == [
        "崇川区工农路88号",
        None,
    ]


def test_bare_excel_serials_in_date_columns_reach_back_before_1970() -> None:
    import polars as pl

    from ingest.normalise import parse_date_column

    assert apply(parse_date, ["24430", "1000"]) == [dt.date(1966, 11, 19), dt.date(1902, 9, 26)]
    assert (
        parse_date_column(pl.Series(["24430", "1966-11-19"])).to_list()
        == [dt.date(1966, 11, 19)] * 2
    )
    assert apply(parse_timestamp, ["24430"]) == [None]  # an event time that early is not a serial


def test_short_and_implausible_years_are_unreadable_on_both_paths() -> None:
    import polars as pl

    from ingest.normalise import parse_timestamp_column

    texts = ["1-1-1", "0-1-1", "0000-01-01 00:00:00", "9999-01-01", "2026-10-03"]
    expected = [None, None, None, None, dt.datetime(2026, 10, 3)]
    assert apply(parse_timestamp, texts) == expected
    assert parse_timestamp_column(pl.Series(texts)).to_list() == expected


def test_punctuation_and_building_words_do_not_hide_a_prefix_or_a_room() -> None:
    # Each of these used to change on a second pass (found by tests/faults fuzzing).
    messy = [
        "江苏省南通市崇川区工农路88号3-201。",  # trailing 。 hid the 3-201 room form
        "南通市崇川区工农路88号3栋201.",  # trailing . hid the room number
        "南,通市崇川区工农路88号",  # a comma made the prefecture look too long
        "0000市00市省",  # stripping the prefecture exposed a "province"
    ]
    once = apply(normalise_address, messy)
    assert once == [
        "崇川区工农路88号3幢201室",
        "崇川区工农路88号3幢201室",
        "崇川区工农路88号",
        "00市省",  # (prefecture 0000市, county-level 00市) kept as is from here on
    ]
    assert apply(normalise_address, once) == once
