"""Normalisation of headers and values, as vectorised polars expressions.

Every parser here takes an expression over a string column and returns an
expression; none loops over rows in Python. ``apply`` runs one on a plain list,
which is how the property tests exercise them one value at a time.

A parser returns NULL for a value it cannot read; the caller compares the
parsed and the delivered column to record a warning (or a rejection, for key
columns) naming the column and the value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import partial

import polars as pl

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space fold to ASCII.
_FULL_WIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000", "\u00a0"]
_HALF_WIDTH = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" ", " "]

MISSING_MARKERS = ("", "-", "无", "/", "--", "—", "——", "null", "NULL", "None", "nan", "NaN", "N/A")

Expr = pl.Expr


# ---------------------------------------------------------------- headers


def normalise_header(header: object) -> str:
    """Fold a header cell for matching: NFKC (full-width forms), no spaces, lower-case.

    Applied to both the delivered header and the contract's names, so
    ``建筑面积（㎡）``, `` 建筑面积(㎡) `` and ``建筑面积(m2)`` all meet.
    """
    if header is None:
        return ""
    text = unicodedata.normalize("NFKC", str(header))
    return re.sub(r"\s+", "", text).lower()


# ---------------------------------------------------------------- text


def fold_width(expr: Expr) -> Expr:
    """Full-width ASCII letters, digits and punctuation to half-width."""
    return expr.str.replace_many(_FULL_WIDTH, _HALF_WIDTH)


def clean_text(expr: Expr) -> Expr:
    """Trim (including full-width spaces); missing markers become NULL."""
    trimmed = expr.str.strip_chars(" \t\r\n\u3000\u00a0\ufeff")
    return pl.when(trimmed.is_in(MISSING_MARKERS)).then(None).otherwise(trimmed)


def clean_enum(expr: Expr) -> Expr:
    """Enumerations: width-folded, inner spaces removed, missing markers to NULL."""
    return clean_text(fold_width(expr).str.replace_all(r"\s+", ""))


def scrub_personal_numbers(expr: Expr) -> Expr:
    """Mask the ID numbers and phones typed into a text (the recogniser of :mod:`ingest.pii`)."""
    # ingest.pii builds on this module's text helpers, so it is imported when first used.
    from ingest.pii import scrub_numbers

    return scrub_numbers(expr)


def clean_free_text(expr: Expr) -> Expr:
    return clean_text(scrub_personal_numbers(expr))


# ---------------------------------------------------------------- numbers

_UNITS = r"(?:㎡|m²|m2|平方米|平米|%|％|人|间|户|个|元|起|件|次)?"
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")


def parse_decimal(expr: Expr) -> Expr:
    """``６０`` / ``60㎡`` / ``60平方米`` / ``1,234.5`` / ``1 234`` -> 60.0 ...; else NULL."""
    text = clean_text(fold_width(expr))
    stripped = text.str.replace_all(r"[,，\s]", "").str.replace(r"^(.*?)" + _UNITS + r"$", "${1}")
    valid = stripped.str.contains(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
    return pl.when(valid).then(stripped.cast(pl.Float64, strict=False)).otherwise(None)


def parse_integer(expr: Expr) -> Expr:
    """As :func:`parse_decimal`, and the value must be whole."""
    value = parse_decimal(expr)
    return (
        pl.when(value.is_not_null() & (value == value.round(0)) & (value.abs() < 9e15))
        .then(value.cast(pl.Int64, strict=False))
        .otherwise(None)
    )


def parse_flag(expr: Expr) -> Expr:
    """是/否 (and Y/N, 1/0, true/false) -> boolean."""
    text = clean_enum(expr).str.to_lowercase()
    return (
        pl.when(text.is_in(["是", "y", "yes", "true", "1"]))
        .then(True)
        .when(text.is_in(["否", "n", "no", "false", "0"]))
        .then(False)
        .otherwise(None)
    )


# ---------------------------------------------------------------- time

# Excel's day zero (the 1900 date system, with Lotus' leap-year bug absorbed).
_EXCEL_EPOCH = pl.datetime(1899, 12, 30)
# Serials of 1970-01-01 .. 2099-12-31: a bare number outside is not a date.
_EXCEL_MIN, _EXCEL_MAX = 25569.0, 73415.0
# Years a source value can mean (birth dates included).
_EARLIEST_YEAR, _LATEST_YEAR = 1900, 2100
# Dates (birth dates) may be older: from serial 1000 (1902-09-26).
_EXCEL_DATE_MIN = 1000.0

_SEPARATED = (
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[T\s]*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?秒?)?分?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_COMPACT = r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$"


def _assemble(groups: Expr, zone: Expr | None) -> Expr:
    def part(i: int, default: str) -> Expr:
        return groups.struct.field(str(i)).fill_null(default).str.zfill(2)

    text = pl.format(
        "{}-{}-{} {}:{}:{}",
        groups.struct.field("1"),
        part(2, "01"),
        part(3, "01"),
        part(4, "00"),
        part(5, "00"),
        part(6, "00"),
    )
    stamp = text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    if zone is None:
        return stamp
    # A value that names its offset (Z, +00:00) is converted to Shanghai wall time (+08:00).
    sign = pl.when(zone.str.slice(0, 1) == "-").then(-1).otherwise(1)
    digits = zone.str.replace(":", "")
    offset_min = sign * (
        digits.str.slice(1, 2).cast(pl.Int64, strict=False) * 60
        + digits.str.slice(3, 2).cast(pl.Int64, strict=False)
    )
    offset_min = pl.when(zone == "Z").then(0).otherwise(offset_min)
    shift = pl.duration(minutes=(8 * 60 - offset_min))
    return pl.when(zone.is_null()).then(stamp).otherwise(stamp + shift)


def parse_timestamp(expr: Expr, earliest_serial: float = _EXCEL_MIN) -> Expr:
    """Every form of the contract -> naive datetime of Asia/Shanghai wall time.

    ``2026-10-03 09:05:00``, ``2026/10/3 9:05``, ``2026年10月3日 09:05``,
    ``20261003090500``, ``20261003``, date-only values, Excel serials
    (``46298.378``), and ISO values with an explicit offset (converted).
    """
    text = clean_text(fold_width(expr))
    separated = text.str.extract_groups(_SEPARATED)
    compact = text.str.extract_groups(_COMPACT)
    serial = text.cast(pl.Float64, strict=False)
    from_serial = _EXCEL_EPOCH + pl.duration(
        milliseconds=(serial * 86_400_000).round(0).cast(pl.Int64, strict=False)
    )
    is_serial = serial.is_between(earliest_serial, _EXCEL_MAX) & text.str.contains(
        r"^\d{4,5}(?:\.\d+)?$"
    )
    return (
        pl.when(separated.struct.field("1").is_not_null())
        .then(_assemble(separated, separated.struct.field("7")))
        .when(compact.struct.field("1").is_not_null())
        .then(_assemble(compact, None))
        .when(is_serial)
        .then(from_serial.dt.round("1s"))
        .otherwise(None)
        .cast(pl.Datetime("us"))
        .pipe(_plausible)
    )


def parse_date(expr: Expr) -> Expr:
    """As :func:`parse_timestamp`; bare Excel serials may reach back to 1902 (birth dates)."""
    return parse_timestamp(expr, earliest_serial=_EXCEL_DATE_MIN).dt.date()


def parse_month(expr: Expr) -> Expr:
    """``2026-10`` / ``2026/10`` / ``2026年10月`` / ``202610`` / a date -> ``2026-10``."""
    text = clean_text(fold_width(expr))
    groups = text.str.extract_groups(r"^(\d{4})(?:[-/.年]?)(\d{1,2})月?(?:[-/.]\d{1,2}日?.*)?$")
    year = groups.struct.field("1")
    month = groups.struct.field("2").cast(pl.Int64, strict=False)
    valid = year.is_not_null() & month.is_between(1, 12)
    return pl.when(valid).then(pl.format("{}-{}", year, month.cast(pl.Utf8).str.zfill(2)))


# ---------------------------------------------------------------- addresses

# Prefixes are stripped however often they repeat (江苏省江苏省…, 南通市南通市崇川区…).
# Province and prefecture names never contain 省/市/区/县, and the county-level unit
# kept never contains 省: so what is left after one stripping cannot look like a prefix
# again, and normalising is idempotent (a normalised address normalises to itself).
_PROVINCE_PREFIX = r"^(?:[^省市区县]{2,7}?省)+"
# The prefecture, only when a county-level unit follows it (so 如皋市如城街道 keeps 如皋市).
_CITY_PREFIX = r"^(?:[^省市区县]{2,4}?市)+([^省市区县]{1,10}?(?:区|县|市))"


def normalise_address(expr: Expr) -> Expr:
    """A comparable form of a free-text address.

    Half-width digits, no spaces or punctuation, 栋/号楼 -> 幢, province and prefecture
    prefix removed, ``88号3-201`` -> ``88号3幢201室``, a trailing room number gets 室.
    The delivered text is kept beside it; this form only serves linking.

    Punctuation and 栋 go first: removed later, they could make a prefix or a room
    number appear that the earlier steps missed, and a second pass would change the
    result (found by the fuzz tests).
    """
    from ingest.pii import scrub_numbers

    # A number typed into an address is no part of it: removed (before the digits and
    # separators are folded, and again after, in case folding joined two halves).
    text = clean_text(fold_width(scrub_numbers(expr, replace=False)).str.replace_all(r"\s+", ""))
    normalised = (
        text.str.replace_all(r"[,，。.、]", "")
        .str.replace_all(r"(\d+)(?:栋|号楼|座)", "${1}幢")
        .str.replace(_PROVINCE_PREFIX, "")
        .str.replace(_CITY_PREFIX, "${1}")
        .str.replace(r"号(\d+)-(\d+)(?:室|号)?$", "号${1}幢${2}室")
        .str.replace(r"幢(\d+)$", "幢${1}室")
    )
    # An address that was only a prefix or punctuation has nothing left to link by.
    return clean_text(scrub_numbers(normalised, replace=False))


# ---------------------------------------------------------------- column-level fast paths

# Layouts read by a plain strptime, tried in turn on what the previous one
# missed; the general regex parser above handles only the residue. Same
# results, a fraction of the cost: the regex extraction dominated ingest time
# when it ran on every value.
_FAST_TIMESTAMPS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d%H%M%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日",
)
# ISO time in UTC (``2026-10-03T01:05:00Z``): read, then moved to Shanghai wall time.
_FAST_UTC = "%Y-%m-%dT%H:%M:%SZ"
_STRIP = " \t\r\n\u3000\u00a0\ufeff"


def _patch(done: pl.Series, text: pl.Series, parse: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """Fill the NULLs of ``done`` where ``text`` has a value, with ``parse`` of those values."""
    todo = done.is_null() & text.is_not_null()
    if not todo.any():
        return done
    return done.scatter(todo.arg_true(), parse(text.filter(todo)).cast(done.dtype))


def on_series(parser: Callable[[Expr], Expr]) -> Callable[[pl.Series], pl.Series]:
    """An expression parser as a function of a Series (same values, same order).

    Run as a lazy query: an eager ``select`` skips common-subexpression elimination, and
    the parsers repeat their inner steps (``clean_text`` reads its trimmed text twice, so
    :func:`normalise_address` would compute its whole chain four times)."""
    return lambda values: (
        pl.DataFrame({"v": values}).lazy().select(parser(pl.col("v")).alias("v")).collect()["v"]
    )


def _strptime(values: pl.Series, layout: str) -> pl.Series:
    # chrono reads "1-1-1" as year 1: the fast path takes four-digit years only.
    parsed = values.str.strptime(pl.Datetime("us"), layout, strict=False)
    return pl.select(pl.when(values.str.contains(r"^[0-9]{4}")).then(parsed)).to_series()


def _plausible(stamps: Expr) -> Expr:
    """Years the sources can mean; anything else (year 0, 9999) is unreadable, not a date."""
    return pl.when(stamps.dt.year().is_between(_EARLIEST_YEAR, _LATEST_YEAR)).then(stamps)


def _by_layouts(text: pl.Series) -> pl.Series:
    """What the strptime layouts read of ``text``, each tried on what the ones before missed."""
    done = pl.Series(text.name, [None] * len(text), dtype=pl.Datetime("us"))
    for layout in _FAST_TIMESTAMPS:
        done = _patch(done, text, partial(_strptime, layout=layout))
    utc = partial(_strptime, layout=_FAST_UTC)
    return _patch(done, text, lambda left: utc(left).dt.offset_by("8h"))


def _fast_timestamps(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The stripped text, and what the strptime layouts read of it (plausible years only);
    full-width digits and punctuation (``２０２６－１０－０３``) folded, on what is left."""
    text = values.str.strip_chars(_STRIP)
    done = _by_layouts(text)
    done = _patch(done, text, lambda left: _by_layouts(on_series(fold_width)(left)))
    return text, pl.select(_plausible(pl.lit(done))).to_series()


def parse_timestamp_column(values: pl.Series) -> pl.Series:
    """:func:`parse_timestamp` over a column, with strptime fast paths."""
    text, done = _fast_timestamps(values)
    return _patch(done, text, on_series(parse_timestamp)).alias(values.name)


def parse_date_column(values: pl.Series) -> pl.Series:
    """:func:`parse_date` over a column, with the timestamp fast paths."""
    text, done = _fast_timestamps(values)
    return _patch(done.dt.date(), text, on_series(parse_date)).alias(values.name)


def clean_free_text_column(values: pl.Series, *, identifier: bool = False) -> pl.Series:
    """Trimmed text with every typed personal number masked (text, free-text, address kinds).

    ``identifier``: a system-issued code, where only mobiles and 18-character ID numbers
    are masked (see :func:`ingest.pii.scrub_numbers`).
    """
    from ingest.pii import scrub_numbers_column

    text = on_series(clean_text)(values)
    kind = "identifier" if identifier else "all"
    return scrub_numbers_column(text, kind=kind).alias(values.name)


def by_distinct(values: pl.Series, parser: Callable[[Expr], Expr]) -> pl.Series:
    """``parser`` applied to each distinct value once, mapped back (low-cardinality columns)."""
    distinct = values.drop_nulls().unique()
    parsed = on_series(parser)(distinct)
    return values.replace_strict(distinct, parsed, default=None, return_dtype=parsed.dtype).alias(
        values.name
    )


def unreadable(parsed: pl.Series, values: pl.Series) -> pl.Series:
    """True where a value was delivered (not a missing marker) but did not parse."""
    candidates = parsed.is_null() & values.is_not_null()
    flags = pl.Series(values.name, [False] * len(values), dtype=pl.Boolean)
    if not candidates.any():
        return flags
    delivered = on_series(clean_text)(values.filter(candidates)).is_not_null()
    return flags.scatter(candidates.arg_true(), delivered)


# ---------------------------------------------------------------- helpers


def apply(parser: Callable[[Expr], Expr], values: Sequence[str | None]) -> list[object]:
    """Run an expression parser on plain values (tests, one-offs)."""
    frame = pl.DataFrame({"v": list(values)}, schema={"v": pl.Utf8})
    return frame.select(parser(pl.col("v")).alias("v"))["v"].to_list()
