"""Vectorised synthetic personal data: resident ID numbers, phones and names.

Everything here is invented; ID numbers carry a correct GB 11643 checksum (or a
deliberately wrong one when asked), so the ingest validation has real work to do.
"""

from __future__ import annotations

import numpy as np

from simulator import vocab

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.array(list("10X98765432"))


def checksum_char(body17: str) -> str:
    """GB 11643 check character of the first 17 digits (scalar; for tests and docs)."""
    total = sum(int(c) * int(w) for c, w in zip(body17, _WEIGHTS, strict=True))
    return str(_CHECK[total % 11])


def id_numbers(
    rng: np.random.Generator,
    regions: np.ndarray,
    birth_days: np.ndarray,
    sex_male: np.ndarray,
) -> np.ndarray:
    """18-digit ID numbers for the given 6-digit region codes, birth dates and sexes."""
    n = len(regions)
    seq = rng.integers(0, 500, n) * 2 + sex_male.astype(np.int64)  # odd = male
    births = np.datetime_as_string(birth_days.astype("datetime64[D]")).astype("U10")
    body = np.char.add(
        np.char.add(regions.astype("U6"), np.char.replace(births, "-", "")),
        np.char.zfill(seq.astype("U3"), 3),
    )
    digits = body.view("U1").reshape(n, 17).astype(np.int64) if n else np.zeros((0, 17), np.int64)
    check = _CHECK[(digits * _WEIGHTS).sum(axis=1) % 11] if n else np.array([], "U1")
    return np.char.add(body, check)


def legacy_15(ids18: np.ndarray) -> np.ndarray:
    """The pre-1999 15-digit form: region, 2-digit year, month, day, sequence, no checksum."""
    return np.char.add(
        np.char.add(_slice(ids18, 0, 6), _slice(ids18, 8, 14)), _slice(ids18, 14, 17)
    )


def break_checksum(ids18: np.ndarray) -> np.ndarray:
    """The same numbers with a wrong check character."""
    body = _slice(ids18, 0, 17)
    digits = body.view("U1").reshape(len(body), 17).astype(np.int64)
    good = (digits * _WEIGHTS).sum(axis=1) % 11
    return np.char.add(body, _CHECK[(good + 3) % 11])


def _slice(a: np.ndarray, start: int, stop: int) -> np.ndarray:
    chars = a.astype("U18").view("U1").reshape(len(a), 18)[:, start:stop]
    return chars.copy().view(f"U{stop - start}").reshape(len(a))


def digest(ids: np.ndarray) -> np.ndarray:
    """A stable non-negative integer per ID number (weighted digit sum), for per-number choices."""
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    chars = ids.astype("U18").view("U1").reshape(n, 18)[:, :17]
    d = np.where(chars == "", "0", chars).astype(np.int64)
    w = np.array(
        [
            7919,
            104729,
            1299709,
            15485863,
            179424673,
            2038074743,
            3,
            7,
            13,
            31,
            61,
            127,
            251,
            509,
            1021,
            2039,
            4093,
        ],
        dtype=np.int64,
    )
    return (d * w).sum(axis=1) % 1_000_003


def birth_days(
    rng: np.random.Generator, n: int, min_age: int, max_age: int, ref_year: int
) -> np.ndarray:
    years = ref_year - rng.integers(min_age, max_age + 1, n)
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    return start + rng.integers(0, 365, n).astype("timedelta64[D]")


def mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    prefixes = np.array(vocab.MOBILE_PREFIXES)[rng.integers(0, len(vocab.MOBILE_PREFIXES), n)]
    return np.char.add(prefixes, np.char.zfill(rng.integers(0, 100_000_000, n).astype("U8"), 8))


def landlines(rng: np.random.Generator, n: int) -> np.ndarray:
    """Nantong landlines: 0513-8xxxxxxx (written with the area code)."""
    return np.char.add("0513-8", np.char.zfill(rng.integers(0, 10_000_000, n).astype("U7"), 7))


def names(rng: np.random.Generator, n: int) -> np.ndarray:
    sur = np.array(list(vocab.SURNAMES))[rng.integers(0, len(vocab.SURNAMES), n)]
    given_pool = np.array(list(vocab.GIVEN_CHARS))
    g1 = given_pool[rng.integers(0, len(given_pool), n)]
    g2 = given_pool[rng.integers(0, len(given_pool), n)]
    two = rng.random(n) < 0.7
    return np.char.add(np.char.add(sur, g1), np.where(two, g2, ""))
