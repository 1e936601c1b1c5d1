"""ID numbers and phones: validation, upgrade, masks and keyed pseudonyms."""

from __future__ import annotations

import os
import stat

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.settings import Settings
from ingest.normalise import apply
from ingest.pii import (
    Pseudonymiser,
    check_character,
    load_pii_key,
    mask_id_number,
    mask_phone,
    normalise_id_numbers,
    normalise_phone,
)

EXAMPLES = settings(max_examples=300, deadline=None)


def ids(values: list[str | None]) -> list[str | None]:
    return normalise_id_numbers(pl.Series(values, dtype=pl.Utf8)).to_list()


bodies = st.builds(
    lambda region, y, m, d, seq: f"{region}{y:04d}{m:02d}{d:02d}{seq:03d}",
    st.sampled_from(["320602", "320612", "320623", "110105", "510107"]),
    st.integers(1930, 2015),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 999),
)


@EXAMPLES
@given(bodies)
def test_valid_id_numbers_pass_and_a_wrong_check_character_fails(body: str) -> None:
    good = body + check_character(body)
    wrong = body + next(c for c in "0123456789X" if c != check_character(body))
    assert ids([good, good.lower(), wrong]) == [good, good, None]


@EXAMPLES
@given(bodies)
def test_legacy_15_digit_numbers_upgrade_to_18(body: str) -> None:
    body = body[:6] + "19" + body[8:]  # 15-digit numbers were issued to people born in 19xx
    legacy = body[:6] + body[8:]
    assert ids([legacy]) == [body + check_character(body)]


def test_impossible_birth_dates_are_invalid() -> None:
    body = "32060219900231123"  # 31 February
    assert ids([body + check_character(body)]) == [None]


@EXAMPLES
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_phone_forms_of_one_mobile_normalise_equal(mobile: str) -> None:
    forms = [
        mobile,
        f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}",
        f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
    ]
    assert apply(normalise_phone, forms) == [mobile] * 3
    assert apply(lambda e: mask_phone(normalise_phone(e)), [mobile]) == [
        f"{mobile[:3]}****{mobile[-4:]}"
    ]


def test_landlines_keep_their_area_code_and_junk_is_invalid() -> None:
    assert apply(normalise_phone, ["0513-85123456", "12345", "abc"]) == ["051385123456", None, None]


def test_id_mask_shows_first_and_last_four() -> None:
    body = "32060219900101123"
    full = body + check_character(body)
    assert apply(mask_id_number, [full]) == [f"3206**********{full[-4:]}"]


def test_pseudonyms_are_keyed_stable_and_domain_separated() -> None:
    a, b = Pseudonymiser(b"key-a"), Pseudonymiser(b"key-b")
    values = pl.Series(["13812345678", None, "13812345678"])
    out = a.series("phone", values).to_list()
    assert out[0] == out[2] and out[1] is None and len(out[0]) == 64
    assert out[0] != b.one("phone", "13812345678")
    assert a.one("phone", "x") != a.one("id_number", "x")


@EXAMPLES
@given(
    st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=20),
    st.binary(min_size=1, max_size=100),
)
def test_vectorised_pseudonyms_equal_the_hmac_reference(values: list[str], key: bytes) -> None:
    pseudonymiser = Pseudonymiser(key)
    out = pseudonymiser.series("phone", pl.Series([*values, None], dtype=pl.Utf8)).to_list()
    assert out == [pseudonymiser.one("phone", v) for v in values] + [None]


def test_missing_key_creates_a_private_key_file_once(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("PINGAN_PII_KEY", raising=False)
    settings_ = Settings(data_dir=tmp_path, warehouse=tmp_path / "w.duckdb")
    first = load_pii_key(settings_)
    assert "created a pseudonym key" in capsys.readouterr().err
    assert stat.S_IMODE(os.stat(settings_.pii_key_file).st_mode) == 0o600
    assert load_pii_key(settings_) == first
    assert capsys.readouterr().err == ""
