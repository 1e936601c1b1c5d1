"""Personal data: validate, pseudonymise and mask ID numbers and phones.

The warehouse never stores an ID number or phone in clear. Each is replaced by
a keyed pseudonym, HMAC-SHA256 over the normalised value with a key that lives
outside the warehouse, so the same person gets the same pseudonym in every
system and nobody without the key can reverse or re-compute it. A masked form
(``3206**********123X``, ``138****5678``) may be stored for display.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sys

import duckdb
import polars as pl

from contracts.settings import Settings
from ingest.normalise import clean_text, fold_width

Expr = pl.Expr

# GB 11643-1999: weights of the 17 digits, and the check character for sum mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def load_pii_key(settings: Settings) -> bytes:
    """The pseudonym key: ``PINGAN_PII_KEY``, else a key file created once (mode 0600)."""
    env_key = os.environ.get("PINGAN_PII_KEY")
    if env_key:
        return env_key.encode("utf-8")
    path = settings.pii_key_file
    if path.exists():
        return path.read_text(encoding="ascii").strip().encode("ascii")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    print(
        f"pingan: PINGAN_PII_KEY is not set; created a pseudonym key in {path} (mode 0600). "
        "Keep it outside the warehouse and back it up: without it, pseudonyms of new "
        "deliveries will not match earlier ones.",
        file=sys.stderr,
    )
    return key.encode("ascii")


# ---------------------------------------------------------------- ID numbers


def check_character(first17: str) -> str:
    """The GB 11643 check character of 17 digits (pure Python; used by tests and the generator)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def normalise_id_numbers(values: pl.Series) -> pl.Series:
    """Valid 18-character ID numbers (legacy 15-digit upgraded), else NULL.

    Checks the form, a real birth date, and the GB 11643 check character. Works
    on the distinct values in small stages: one big nested expression costs
    far more to plan than to run.
    """
    text = pl.DataFrame({"v": values.cast(pl.Utf8)}).select(
        clean_text(fold_width(pl.col("v")).str.replace_all(r"\s+", ""))
        .str.to_uppercase()
        .alias("v")
    )["v"]
    distinct = pl.DataFrame({"v": text.drop_nulls().unique()})
    body = pl.col("body17")
    # Legacy 15-digit numbers omit the century (always 19xx) and the check character.
    checked = (
        distinct.with_columns(
            is18=pl.col("v").str.contains(r"^[1-9][0-9]{16}[0-9X]$"),
            is15=pl.col("v").str.contains(r"^[1-9][0-9]{14}$"),
        )
        .with_columns(
            body17=pl.when("is18")
            .then(pl.col("v").str.slice(0, 17))
            .when("is15")
            .then(
                pl.concat_str(
                    [pl.col("v").str.slice(0, 6), pl.lit("19"), pl.col("v").str.slice(6, 9)]
                )
            )
        )
        .with_columns(
            total=pl.sum_horizontal(
                body.str.slice(i, 1).cast(pl.Int64, strict=False) * w
                for i, w in enumerate(ID_WEIGHTS)
            ),
            birth=body.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False),
        )
        .with_columns(check=pl.lit(ID_CHECK).str.slice(pl.col("total") % 11, 1))
        .with_columns(
            full=pl.when("is18").then(pl.col("v")).when("is15").then(body + pl.col("check"))
        )
        .with_columns(
            valid=pl.col("full").is_not_null()
            & pl.col("birth").is_between(pl.date(1900, 1, 1), pl.date(2030, 12, 31))
            & (pl.col("full").str.slice(17, 1) == pl.col("check"))
        )
        .select("v", pl.when("valid").then(pl.col("full")).alias("id"))
    )
    mapping = dict(zip(checked["v"].to_list(), checked["id"].to_list(), strict=True))
    return text.replace_strict(mapping, default=None, return_dtype=pl.Utf8).alias(values.name)


def mask_id_number(expr: Expr) -> Expr:
    """``320602199001011234`` -> ``3206**********1234``."""
    return pl.concat_str([expr.str.slice(0, 4), pl.lit("*" * 10), expr.str.slice(14, 4)])


# ---------------------------------------------------------------- phones


def normalise_phone(expr: Expr) -> Expr:
    """Digits only: mobiles as 11 digits (country code dropped), landlines with area code."""
    digits = fold_width(expr).str.replace_all(r"[^0-9]", "")
    digits = digits.str.replace(r"^(?:0086|86)(1[3-9][0-9]{9})$", "${1}")
    valid = digits.str.contains(r"^1[3-9][0-9]{9}$") | digits.str.contains(r"^0[1-9][0-9]{8,10}$")
    return pl.when(valid).then(digits)


def mask_phone(expr: Expr) -> Expr:
    """``13812345678`` -> ``138****5678``; landline ``051385123456`` -> ``0513****3456``."""
    head = (
        pl.when(expr.str.starts_with("0"))
        .then(expr.str.slice(0, 4))
        .otherwise(expr.str.slice(0, 3))
    )
    return pl.concat_str([head, pl.lit("****"), expr.str.slice(-4, 4)])


# ---------------------------------------------------------------- pseudonyms


class Pseudonymiser:
    """HMAC-SHA256 pseudonyms of normalised values, domain-separated by kind.

    Neither polars nor DuckDB has a keyed hash, but HMAC is two SHA-256 passes
    over the key XOR-ed with fixed pads (RFC 2104), and DuckDB's ``sha256`` is
    vectorised: columns are pseudonymised in SQL, several times faster than a
    Python ``hmac`` loop. ``one`` is the plain ``hmac`` reference the tests
    compare against.
    """

    BLOCK = 64  # SHA-256 block size in bytes

    def __init__(self, key: bytes) -> None:
        self._key = key
        block_key = key if len(key) <= self.BLOCK else hashlib.sha256(key).digest()
        block_key = block_key.ljust(self.BLOCK, b"\0")
        self._ipad = bytes(b ^ 0x36 for b in block_key)
        self._opad = bytes(b ^ 0x5C for b in block_key)
        self._con = duckdb.connect()

    def one(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def series(self, kind: str, values: pl.Series) -> pl.Series:
        # Every value, in order: phones and ID numbers are mostly distinct, so
        # de-duplicating first costs more than it saves. NULL stays NULL.
        messages = (
            pl.DataFrame({"m": values.cast(pl.Utf8)})
            .select(pl.concat_str([pl.lit(f"{kind}:"), pl.col("m")]).alias("m"))
            .to_arrow()
        )
        self._con.register("messages", messages)
        try:
            digests = self._con.sql(
                "select sha256(?::blob || unhex(sha256(?::blob || encode(m)))) as h from messages",
                params=[self._opad, self._ipad],
            ).pl()["h"]
        finally:
            self._con.unregister("messages")
        return digests.alias(values.name)


# ---------------------------------------------------------------- numbers typed into text
#
# People type ID numbers and phones into every text field (notes, addresses, unit
# names), in whatever form: ``138 1234 5678``, ``138.1234.5678``, ``138－1234－5678``,
# ``1 3 8 1 2 3 4 5 6 7 8``, ``3206 8219 9001 0112 34``, full-width digits, ``+86``,
# ``(0513)85123456``, several in a row. The recogniser below is the one place that
# says what such a number looks like; ingest masks with it and the scan of everything
# Pingan writes looks with it.
#
# How it works, vectorised (polars' regex has no look-around, so one replace_all
# cannot both respect boundaries and mask adjacent numbers):
#
# 1. A value is cut into tokens: *runs* (digits joined by separators: spaces, dots,
#    dashes of every kind, slashes, brackets; an ID number's final X) and the text
#    between them.
# 2. Within a run, the separators cut *groups*. A personal number is a sequence of
#    whole groups whose digits form one or more shapes (mobile, with or without
#    86/0086; ID number of 18 or 15; landline with area code, or +86 without its 0).
#    The latest-starting such sequence is masked first, then the rest of the run
#    before it is searched again: so ``3-201 13812345678`` keeps its room number
#    ``3-201`` and masks the mobile, and ``138 1234 5678 139 1234 5678`` masks both.
#
# False positives chosen: a run of whole groups that forms a shape is masked even if
# it was meant otherwise (a 15-digit number starting 1-9, an 18-digit bank card, a
# decimal ``13.812345678``); a run that forms no shape is never touched (ticket ids
# ``NT2026100300123``, dates, times, amounts, house numbers, 13-digit grid codes).
# Not recognised: local landlines without area code (``85123456``), which cannot be
# told from dates (``20261003``) and amounts.

_D = "[0-9０-９]"
_SEP = r"[\s.．·\-－—–‐‑‒―−_/／\\()（）~～]"
_J = _SEP + "*"  # what may stand between two digits of one number


def _c(low: str, high: str | None = None) -> str:
    """A class of half- and full-width digits from ``low`` to ``high``."""
    high = high or low
    full = chr(ord(low) + 0xFEE0), chr(ord(high) + 0xFEE0)
    return f"[{low}-{high}{full[0]}-{full[1]}]"


def _number_shapes(kind: str, joiner: str, landline_digits: str = "{8,10}") -> list[str]:
    """The regexes of one personal number each, ``joiner`` allowed between digits.

    ID numbers must carry a possible birth date (month 01-12, day 01-31; 18xx-20xx in
    the 18-digit form): that is what tells a legacy 15-digit ID number from a 15-digit
    code or two halves of other numbers.
    """
    j = joiner

    def digits(count: str) -> str:
        return f"(?:{j}{_D}){count}"

    region = f"{_c('1', '8')}{digits('{5}')}"
    month = f"(?:{_c('0')}{j}{_c('1', '9')}|{_c('1')}{j}{_c('0', '2')})"
    day = f"(?:{_c('0')}{j}{_c('1', '9')}|{_c('1', '2')}{j}{_D}|{_c('3')}{j}{_c('0', '1')})"
    century = f"(?:{_c('1')}{j}{_c('8', '9')}|{_c('2')}{j}{_c('0')})"
    birth15 = f"{j}{_D}{j}{_D}{j}{month}{j}{day}"
    id18 = f"{region}{j}{century}{birth15}{digits('{3}')}{j}[0-9０-９XxＸｘ]"
    id15 = f"{region}{birth15}{digits('{3}')}"
    prefix86 = f"(?:{_c('0')}{j}{_c('0')}{j})?{_c('8')}{j}{_c('6')}{j}"
    mobile = f"(?:{prefix86})?{_c('1')}{j}{_c('3', '9')}{digits('{9}')}"
    landline = f"(?:{_c('0')}|{prefix86}){j}{_c('1', '9')}{digits(landline_digits)}"
    # Identifiers (ticket ids, grid codes, house ids) are issued by systems and may be
    # long digit strings: in them only the two forms no code takes are masked.
    return [id18, mobile] if kind == "identifier" else [id18, id15, mobile, landline]


def _shapes(kind: str, joiner: str) -> str:
    """A run of one or more personal numbers as a regex, ``joiner`` allowed between digits."""
    one = "(?:" + "|".join(_number_shapes(kind, joiner)) + ")"
    return f"{one}(?:{joiner}{one})*"


NUMBER_RUN = f"{_D}(?:{_J}{_D})*(?:{_J}[XxＸｘ])?"
_TOKEN = f"{NUMBER_RUN}|[^0-9０-９]+"
# A value can hold a personal number only if it has a run of ten digits or more.
_SUSPECT = f"{_D}(?:{_J}{_D}){{9,}}"
_TAIL = f"((?:{_SEP}.*)?)$"
# Where in a run the next number is, in order of preference (head, number, tail):
# 1. the latest mobile or 18-digit ID written without separators, at most six digits after
#    it (``2026-10-03 13812345678``);
# 2. the earliest after a head of at most six digits (``3-201 138 1234 5678``; so the
#    groups of ``3206 8220 0501 0112 34`` are not cut into a head and a landline);
# 3. the latest one anywhere.
_SPLITS = {
    kind: (
        f"(?s)^((?:.*{_SEP})?)({_shapes('identifier', '')})((?:{_SEP}+(?:{_D}{_J}){{0,6}})?)$",
        f"(?s)^((?:(?:{_D}{_J}){{0,5}}?{_D}{_SEP}+)??)({_shapes(kind, _J)}){_TAIL}",
        f"(?s)^((?:.*{_SEP})?)({_shapes(kind, _J)}){_TAIL}",
    )
    for kind in ("all", "identifier")
}
_ANYWHERE = {kind: _shapes(kind, _J) for kind in ("all", "identifier")}
_PASSES = 4  # numbers masked per run one by one; a run with more is masked whole
_FULL_DIGITS = [chr(0xFF10 + i) for i in range(10)] + ["Ｘ", "ｘ", "x"]
_HALF_DIGITS = [str(i) for i in range(10)] + ["X", "X", "X"]


def _plain_digits(expr: Expr) -> Expr:
    """The digits (and X) of a number as written, half-width, separators dropped."""
    return expr.str.replace_many(_FULL_DIGITS, _HALF_DIGITS).str.replace_all(r"[^0-9X]", "")


def _masked(number: Expr) -> Expr:
    """``13812345678`` -> ``138****5678``; ID numbers and landlines keep four in front."""
    digits = _plain_digits(number)
    n = digits.str.len_chars()
    keep = pl.when((n >= 15) | digits.str.starts_with("0")).then(4).otherwise(3)
    middle = digits.str.slice(keep, n - keep - 4).str.replace_all(".", "*")
    return pl.concat_str([digits.str.slice(0, keep), middle, digits.str.slice(-4, 4)])


def _split(rest: pl.Series, kind: str) -> pl.DataFrame:
    """``h``, ``n``, ``t``: (head, number, tail) of the next personal number in each run;
    ``n`` NULL if none. The patterns of :data:`_SPLITS` in order of preference, each tried
    only on the runs the ones before it missed (capture groups cost far more than a test)."""
    # Three Series of their own: scatter writes in place.
    parts = {name: pl.Series([None] * len(rest), dtype=pl.Utf8) for name in "hnt"}
    todo = pl.Series("i", range(len(rest)), dtype=pl.UInt32)
    for pattern in _SPLITS[kind]:
        if todo.is_empty():
            break
        groups = rest.gather(todo).str.extract_groups(pattern).struct.unnest()
        hit = groups["2"].is_not_null()
        if hit.any():
            at = todo.filter(hit)
            for name, field in zip("hnt", "123", strict=True):
                parts[name] = parts[name].scatter(at, groups[field].filter(hit))
        todo = todo.filter(~hit)
    return pl.DataFrame(parts)


_TAIL_DIGITS = f"^({_SEP}+{_D}(?:{_J}{_D})*)"
_TAIL_KEPT = 3  # digits a tail may show beside the four a mask ends with (``201``), under eight


def _tail_hidden(tail: Expr) -> Expr:
    """A number's tail with its leading digits starred when there are more than a few.

    The shapes are ambiguous where numbers are joined by separators: in
    ``13000000000/0102000000/1 3 0 0 0 0 0 0 0 0 0`` the landline (8 to 10 digits) can take
    the next mobile's first digits, whose rest then forms no shape. Digits that run on
    from a masked number are part of some number, so they are hidden too.
    """
    lead = tail.str.extract(_TAIL_DIGITS, 1).fill_null("")
    many = _plain_digits(lead).str.len_chars() > _TAIL_KEPT
    hidden = pl.concat_str(
        [lead.str.replace_all("[0-9０-９XxＸｘ]", "*"), tail.str.slice(lead.str.len_chars())]
    )
    return pl.when(many).then(hidden).otherwise(tail)


def _scrub_runs(runs: pl.Series, kind: str, replace: bool) -> tuple[pl.Series, list[str]]:
    """Runs with their personal numbers masked (``replace``) or removed; and the numbers.

    One number per pass, the frame materialised between passes (nesting the passes in
    one expression would repeat the earlier ones in every later one). A pass looks only
    at the runs the one before found a number in: the others are unchanged, so it would
    find nothing in them again.
    """
    rest = runs.cast(pl.Utf8).clone()  # scatter writes in place: not into the caller's runs
    done = pl.Series([""] * len(runs), dtype=pl.Utf8)
    live = pl.Series("i", range(len(runs)), dtype=pl.UInt32)
    numbers: list[str] = []
    for _ in range(_PASSES):
        parts = _split(rest.gather(live), kind)
        hit = parts["n"].is_not_null()
        if not hit.any():
            break
        live = live.filter(hit)
        parts = parts.filter(hit).with_columns(done=done.gather(live))
        numbers.extend(parts.select(_plain_digits(pl.col("n")))["n"].drop_nulls().to_list())
        shown = _masked(pl.col("n")) if replace else pl.lit("")
        joined = parts.select(pl.concat_str([shown, _tail_hidden(pl.col("t")), "done"]))
        rest = rest.scatter(live, parts["h"])
        done = done.scatter(live, joined.to_series())
    frame = pl.DataFrame({"rest": rest, "done": done})
    # More numbers than passes: what is left is masked whole rather than kept in clear.
    left = pl.col("rest").str.contains(_SPLITS[kind][2])
    whole = _masked(pl.col("rest")) if replace else pl.lit("")
    out = frame.select(
        pl.concat_str([pl.when(left).then(whole).otherwise("rest"), "done"]).alias("r")
    )["r"]
    return out, numbers


def _tokens(text: pl.Series) -> pl.DataFrame:
    """``row`` (index into ``text``), ``t`` (token, in order), ``run`` (a digit run worth a look)."""
    tokens = pl.DataFrame({"t": text.str.extract_all(_TOKEN)}).with_row_index("row").explode("t")
    return tokens.with_columns(run=pl.col("t").str.contains(_SUSPECT).fill_null(False))


def _scrub_series(values: pl.Series, kind: str, replace: bool, rounds: int = 2) -> pl.Series:
    text = values.cast(pl.Utf8)
    # One regex pass first: a value without any shape (not even inside a longer run, like
    # the digits of NT2026100300123) needs no tokenising; and a value without a digit
    # needs not even that pass (a literal class: far cheaper than the shapes' regex).
    has_digit = text.str.contains(_D).fill_null(False)
    if not has_digit.any():
        return text
    at = has_digit.arg_true()
    suspect = pl.Series([False] * len(text), dtype=pl.Boolean).scatter(
        at, text.gather(at).str.contains(_ANYWHERE[kind]).fill_null(False)
    )
    if not suspect.any():
        return text
    at = suspect.arg_true()
    tokens = _tokens(text.gather(at))
    runs = tokens["run"]
    scrubbed, numbers = _scrub_runs(tokens["t"].filter(runs), kind, replace)
    tokens = tokens.with_columns(tokens["t"].scatter(runs.arg_true(), scrubbed))
    joined = tokens.group_by("row", maintain_order=True).agg(pl.col("t").str.join(""))
    # A number after the one a pass took (in its tail) is found by one more round, which
    # needs to look only at the values this one changed (the others had no number).
    scrubbed_values = joined["t"]
    if numbers and rounds > 1:
        scrubbed_values = _scrub_series(scrubbed_values, kind, replace, rounds - 1)
    return text.scatter(at, scrubbed_values)


def scrub_numbers(expr: Expr, *, kind: str = "all", replace: bool = True) -> Expr:
    """Every personal number in a text masked (``138****5678``), or removed (``replace=False``).

    ``kind="identifier"`` masks only mobiles and 18-character ID numbers (for system-issued
    codes, which may be long digit strings). Text without such a number is returned as is.
    Vectorised: only values with a run of ten digits are tokenised, in polars.
    """
    return expr.map_batches(
        lambda values: _scrub_series(values, kind, replace),
        return_dtype=pl.Utf8,
        is_elementwise=True,
    )


def scrub_numbers_column(values: pl.Series, *, kind: str = "all") -> pl.Series:
    """:func:`scrub_numbers` over a column."""
    return _scrub_series(values, kind, replace=True).alias(values.name)


def personal_numbers(values: pl.Series) -> set[str]:
    """The personal numbers written in some values (digits, half-width, X upper-case).

    The same recogniser as :func:`scrub_numbers`: the PII scan of what Pingan writes
    uses it to know what it must not find.
    """
    text = values.cast(pl.Utf8).drop_nulls()
    text = text.filter(text.str.contains(_SUSPECT))
    if text.is_empty():
        return set()
    found = _every_reading(text)
    for _ in range(2):  # a second round finds the numbers in the tails of the first
        tokens = _tokens(text)
        runs, numbers = _scrub_runs(tokens["t"].filter(tokens["run"]), "all", replace=True)
        found.update(numbers)
        text = runs.filter(runs.str.contains(_SUSPECT))
        if not numbers or text.is_empty():
            break
    return found


# The longest single number (an 18-digit ID number, or 0086 and a 11-digit landline).
_LONGEST_NUMBER = 18
# Each landline length apart, so that every reading of a run is tried.
_ONE_NUMBER = [
    re.compile(shape)
    for count in ("{8}", "{9}", "{10}")
    for shape in _number_shapes("all", _J, landline_digits=count)
]
_GROUP_START = re.compile(f"(?:^|(?<={_SEP})){_D}")
_SEPARATOR = re.compile(_SEP)


def _readings_of(run: str) -> set[str]:
    """Every number a run can be read to hold (digits as written, separators kept).

    A reading starts a group, or right where another reading ends (numbers glued), and
    ends at a separator, at the end of the run, or where another reading starts.
    """
    readings_from: dict[int, list[re.Match[str]]] = {}  # start -> the readings from it

    def from_(start: int) -> list[re.Match[str]]:
        if start not in readings_from:  # a reading always moves on: no cycles
            hits = [h for h in (shape.match(run, start) for shape in _ONE_NUMBER) if h]
            readings_from[start] = [
                h
                for h in hits
                if h.end() == len(run) or _SEPARATOR.match(run, h.end()) or from_(h.end())
            ]
        return readings_from[start]

    for group in _GROUP_START.finditer(run):
        from_(group.start())
    # the readings from group starts and, reached from them, from where glued ones end
    return {h.group(0) for hits in readings_from.values() for h in hits}


def _every_reading(text: pl.Series) -> set[str]:
    """Every number a run too long for one number can be read to hold.

    Where numbers are joined by single separators or none, the digits can be read more
    than one way (``0102000000 1 3 0 0 ...``: a 12-digit landline, or a 10-digit one and
    a mobile). The masking hides every digit of such a run (see :func:`_tail_hidden`), but
    the scan must know each reading to look for it in Pingan's output. Python's ``re``
    because the readings are searched from many starts (rare: runs over 18 digits only).
    """
    runs = pl.DataFrame({"r": text.str.extract_all(NUMBER_RUN)}).explode("r").drop_nulls()["r"]
    long_runs = runs.filter(_plain_digits_series(runs).str.len_chars() > _LONGEST_NUMBER)
    readings = {r for run in long_runs.unique().to_list() for r in _readings_of(run)}
    return set(_plain_digits_series(pl.Series(sorted(readings), dtype=pl.Utf8)).to_list())


def _plain_digits_series(values: pl.Series) -> pl.Series:
    return values.to_frame("v").select(_plain_digits(pl.col("v")))["v"]


def digit_runs(values: pl.Series, min_digits: int = 10) -> set[str]:
    """Every run of digits (any separators, full-width folded) of ``min_digits`` or more.

    What the scan of Pingan's output compares with :func:`personal_numbers` of the input:
    a clear number is found however it was re-spaced on the way.
    """
    text = values.cast(pl.Utf8).drop_nulls()
    runs = pl.DataFrame({"r": text.str.extract_all(NUMBER_RUN)}).explode("r").drop_nulls()
    digits = runs.select(_plain_digits(pl.col("r")).alias("d"))["d"]
    return set(digits.filter(digits.str.len_chars() >= min_digits).to_list())
