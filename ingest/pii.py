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
import secrets
import sys

import duckdb
import polars as pl

from ingest.normalise import clean_text, fold_width
from ingest.settings import Settings

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
