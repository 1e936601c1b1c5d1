"""The recogniser of personal numbers typed into text (ingest/pii.py), property-tested.

A generator writes ID numbers and phones the ways people type them (any grouping and
separators, full-width digits, prefixes, several in a row) inside random Chinese text:
every one must come out masked. Text without such numbers must come out unchanged.
"""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.normalise import apply, normalise_address
from ingest.pii import check_character, digit_runs, personal_numbers, scrub_numbers

SEPARATORS = [" ", "  ", "   ", "-", "－", "—", "–", "‐", ".", "·", "_", "/", "\u3000", " - "]
JOINERS = ["、", ",", "，", ";", "；", " ", "", "/", " 或 ", "和"]
PREFIXES_MOBILE = ["", "+86", "+86 ", "86", "0086", "0086-", "(+86)", "+86-"]
WORDS = ["", "手机", "电话:", "电话：", "联系电话", "身份证号", "身份证号码:", "tel:", "联系方式 "]
# Chinese text around the numbers: no digits (the generator's numbers are the only ones).
HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经之进着等部度家电力里如水化高自理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展果料象员革位入常文总品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指区强放决西被干做必战先回则任取据处队南给色光门即保治北造规热领海口东导器压志世金增争济阶油思术极交受联什认共权收证改清己美再采转更单风切打白教速花带安场身车例真务具每目至达走积示议声报斗完类离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
PUNCTUATION = "。、，：；！？（）《》 ()-.·/"
# Chinese text around the numbers: no digits (the generator's numbers are the only ones).
CHINESE = st.text(alphabet=st.sampled_from(HANZI + PUNCTUATION), max_size=12)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    return (
        "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    )


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["320602", "320682", "110105", "130102", "440305", "510107"]))
    birth = draw(st.dates(dt.date(1920, 1, 1), dt.date(2025, 12, 31))).strftime("%Y%m%d")
    body = region + birth + draw(st.text("0123456789", min_size=3, max_size=3))
    if draw(st.booleans()) or not birth.startswith("19"):
        return body + check_character(body)
    return body[:6] + body[8:17]  # a legacy 15-digit number


@st.composite
def landlines(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(["010", "021", "025", "0513", "0514", "0755", "0898"]))
    local = draw(st.sampled_from("2345678")) + draw(st.text("0123456789", min_size=6, max_size=7))
    return area + local


@st.composite
def written(draw: st.DrawFn) -> tuple[str, str]:
    """(the number's digits, the number as someone typed it)."""
    kind = draw(st.sampled_from(["mobile", "id", "landline"]))
    number = draw({"mobile": mobiles(), "id": id_numbers(), "landline": landlines()}[kind])
    if kind == "id" and number.endswith("X") and draw(st.booleans()):
        number = number[:-1] + "x"
    groups: list[str]
    # Groupings people use. Arbitrary cuts (``320602 19900101123 4``) are not generated: a
    # group of a cut ID number can itself look like a mobile, and is then masked as one.
    style = draw(st.sampled_from(["plain", "every digit", "fours", "standard"]))
    if style == "plain":
        groups = [number]
    elif style == "every digit":
        groups = list(number)
    elif style == "fours":
        groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    elif style == "standard":
        cut = {"mobile": (3, 7), "id": (6, 14), "landline": (4 if number[1] != "1" else 3,)}
        edges = [0, *cut[kind], len(number)]
        groups = [number[a:b] for a, b in itertools.pairwise(edges) if number[a:b]]
    sep = draw(st.sampled_from(SEPARATORS))
    text = sep.join(groups)
    if kind == "landline" and draw(st.booleans()):
        area = 3 if number[1] in "12" else 4
        text = f"({number[:area]}){number[area:]}"
    if kind == "mobile":
        text = draw(st.sampled_from(PREFIXES_MOBILE)) + text
    if draw(st.integers(0, 4)) == 0:
        text = full_width(text)
    return number.upper(), draw(st.sampled_from(WORDS)) + text


@st.composite
def texts_with_numbers(draw: st.DrawFn) -> tuple[list[str], str]:
    numbers = draw(st.lists(written(), min_size=1, max_size=3))
    joiner = draw(st.sampled_from(JOINERS))
    body = joiner.join(text for _, text in numbers)
    return [digits for digits, _ in numbers], draw(CHINESE) + body + draw(CHINESE)


def visible_digits(text: str) -> set[str]:
    return digit_runs(pl.Series([text]), min_digits=1)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts_with_numbers(), min_size=1, max_size=8))
def test_every_typed_number_in_chinese_text_is_masked(cases: list[tuple[list[str], str]]) -> None:
    masked = apply(scrub_numbers, [text for _, text in cases])
    for (numbers, text), out in zip(cases, masked, strict=True):
        assert isinstance(out, str)
        runs = visible_digits(out)
        for number in numbers:
            # no digit run of the output holds more than the masked form shows
            assert not any(number[:7] in run or number[-8:] in run for run in runs), (text, out)
        assert personal_numbers(pl.Series([out])) == set(), (text, out)
        assert apply(scrub_numbers, [out]) == [out]  # masking is idempotent


@settings(max_examples=100, deadline=None)
@given(st.lists(texts_with_numbers(), min_size=1, max_size=5))
def test_the_scan_finds_every_typed_number(cases: list[tuple[list[str], str]]) -> None:
    found = personal_numbers(pl.Series([text for _, text in cases]))
    for numbers, _ in cases:
        for number in numbers:
            assert any(number in f for f in found), (number, found)


def test_the_scan_reads_runs_of_several_numbers_every_way() -> None:
    # Found by hypothesis: a landline of 8 to 10 digits can take the next number's first
    # digits when they are joined by one space or nothing; the scan must report both readings.
    cases = {
        "话13000000000 0102000000 1 3 0 0 0 0 0 0 0 0 1话": {"0102000000", "13000000001"},
        "０１０２００００００１ ３ ０ ０ ０ ０ ０ ０ ０ ０ ０": {"0102000000", "13000000000"},
    }
    found = personal_numbers(pl.Series(list(cases)))
    for numbers in cases.values():
        assert numbers <= found, (numbers, found)
    # a date and a time before a mobile are not read as a landline crossing into it
    assert personal_numbers(pl.Series(["2026-10-03 12:30:45 13812345678"])) == {"13812345678"}


DATES = st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31))
MOMENTS = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2099, 12, 31))
ORDINARY = st.one_of(
    CHINESE,
    st.builds(lambda d: f"NT{d:%Y%m%d}{0:05d}", DATES),
    st.builds(lambda n: f"NT2026100{n:06d}", st.integers(0, 999_999)),
    st.builds(lambda d: d.strftime("%Y-%m-%d %H:%M:%S"), MOMENTS),
    st.builds(lambda d: d.strftime("%Y年%m月%d日"), DATES),
    st.builds(lambda d: d.strftime("%Y%m%d%H%M%S"), MOMENTS),
    st.builds(lambda n: f"{n}平方米", st.integers(1, 100_000)),
    st.builds(lambda n: f"{n:,}元", st.integers(1, 10**9)),
    st.builds(lambda x: f"{x:.2f}", st.floats(0, 1e6)),
    st.builds(
        lambda road, no, b, r: f"江苏省南通市崇川区{road}{no}号{b}幢{r}室",
        st.sampled_from(["工农路", "人民中路", "钟秀街"]),
        st.integers(1, 999),
        st.integers(1, 40),
        st.integers(101, 3202),
    ),
    st.builds(
        lambda no, b, r: f"工农路{no}号{b}-{r}",
        st.integers(1, 999),
        st.integers(1, 40),
        st.integers(101, 3202),
    ),
    st.builds(lambda n: f"CZFW320602{n:07d}", st.integers(0, 9_999_999)),
    st.builds(lambda n: f"320602001{n:04d}", st.integers(0, 9999)),  # a 13-digit grid code
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(ORDINARY, ORDINARY).map("；".join), min_size=1, max_size=10))
def test_text_without_personal_numbers_is_unchanged(texts: list[str]) -> None:
    assert apply(scrub_numbers, texts) == texts


def test_known_forms_are_masked_and_neighbours_kept() -> None:
    cases = {
        "13812345678、13912345678": "138****5678、139****5678",
        "电话：138 1234 5678，身份证号3206 8219 9001 0112 34": "电话：138****5678，身份证号3206**********1234",
        "手机+86 138-1234-5678": "手机+861******5678",
        "1 3 8 1 2 3 4 5 6 7 8": "138****5678",
        "１３８１２３４５６７８": "138****5678",
        "工农路88号3-201 13812345678": "工农路88号3-201 138****5678",
        "2026-10-03 138 1234 5678": "2026-10-03 138****5678",
        "0513－8512 3456": "0513****3456",
        "32068219900101123x": "3206**********123X",
        "1381234567813912345678": "1381**************5678",
        "NT2026100300123,13812345678": "NT2026100300123,138****5678",
    }
    assert apply(scrub_numbers, list(cases)) == list(cases.values())


def test_identifiers_keep_long_codes_but_not_mobiles() -> None:
    codes = ["320602001001001", "051385123456", "NT2026100300123", "13812345678"]
    got = apply(lambda e: scrub_numbers(e, kind="identifier"), codes)
    assert got == ["320602001001001", "051385123456", "NT2026100300123", "138****5678"]


def test_an_address_keeps_its_link_form_when_a_number_is_typed_into_it() -> None:
    plain = "江苏省南通市崇川区工农路88号3幢201室"
    typed = [
        plain + " 13812345678",
        plain + "，电话138 1234 5678",
        "工农路88号3-201 320682199001011234",
        plain + "（0513-85123456）",
    ]
    out = apply(normalise_address, [plain, *typed])
    assert out[0] == "崇川区工农路88号3幢201室"
    assert out[1] == out[0] and out[3] == "工农路88号3幢201室"
    assert "138" not in str(out[2]) and "0513" not in str(out[4])
