"""Number and date formatting the Chinese way, in one place.

Counts of ten thousand and more are written in 万 (and 亿 from a hundred
million), rates are percentages to one decimal place, months are ``2026年10月``.
Every helper accepts ``None``/NaN and returns ``—`` for it, so a page never
prints ``nan``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pandas as pd

MISSING = "—"


def missing(value: Any) -> bool:
    """None, NaN, NaT, pd.NA (but not a list or other container)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def count(value: Any) -> str:
    """A count: ``9,876``, ``1.2万``, ``3.45亿``."""
    if missing(value):
        return MISSING
    n = float(value)
    sign = "-" if n < 0 else ""
    n = abs(n)
    if n >= 1e8:
        return f"{sign}{n / 1e8:.2f}亿"
    if n >= 1e4:
        return f"{sign}{n / 1e4:.1f}万"
    return f"{sign}{round(n):,}"


def pct(value: Any) -> str:
    """A rate given as a fraction (0.934) -> ``93.4%``."""
    if missing(value):
        return MISSING
    return f"{float(value) * 100:.1f}%"


def pct_points(value: Any) -> str:
    """A change of a rate, as a fraction -> signed percentage points ``+1.2个百分点``."""
    if missing(value):
        return MISSING
    return f"{float(value) * 100:+.1f}个百分点"


def score(value: Any) -> str:
    """An index score (0-100) to one decimal place."""
    if missing(value):
        return MISSING
    return f"{float(value):.1f}"


def signed(value: Any, digits: int = 1) -> str:
    """A signed change: ``+1.2`` / ``-0.5``."""
    if missing(value):
        return MISSING
    return f"{float(value):+.{digits}f}"


def month(value: Any) -> str:
    """``2026-10`` (or a date) -> ``2026年10月``."""
    if missing(value) or value == "":
        return MISSING
    if isinstance(value, (date, datetime)):
        return f"{value.year}年{value.month}月"
    text = str(value)
    year, _, mon = text.partition("-")
    if not mon:
        return text
    return f"{int(year)}年{int(mon[:2])}月"


def period(first: Any, last: Any) -> str:
    """A period of months: ``2025年11月—2026年10月`` (one month alone when equal)."""
    if first == last:
        return month(first)
    return f"{month(first)}—{month(last)}"


def day(value: Any) -> str:
    if missing(value) or value == "":
        return MISSING
    if isinstance(value, (date, datetime)):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def moment(value: Any) -> str:
    """A timestamp to the minute: ``2026年10月3日 09:05``."""
    if missing(value) or value == "":
        return MISSING
    if isinstance(value, datetime):
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    return day(value)


def age(hours: Any) -> str:
    """How old something is, from hours: ``3小时`` / ``2天``."""
    if missing(hours):
        return MISSING
    h = float(hours)
    if h < 1:
        return "不到1小时"
    if h < 48:
        return f"{int(h)}小时"
    return f"{int(h // 24)}天"


# Every ASCII punctuation character may be backslash-escaped in CommonMark (and in the
# GFM Streamlit renders), which then shows it literally: escaping them all turns any
# link, image, emphasis, heading, HTML tag, ``:red[...]`` directive or ``$`` formula in
# a data value into plain text. Hand-written because Streamlit offers no escape for its
# markdown and a markdown library renders, it does not escape.
_MARKDOWN_SPECIAL = {c: "\\" + c for c in "\\`*_{}[]()<>#+-.!|~:$&\"'=^%;@,/?"}
_MARKDOWN_SPECIAL.update({"\n": " ", "\r": " ", "\t": " "})
_ESCAPE = str.maketrans(_MARKDOWN_SPECIAL)


# Streamlit's GFM also turns bare addresses into links (``http://…``, ``www.…``,
# ``a@b.cn``) after escapes are resolved, so an invisible word joiner (U+2060) is put
# inside each such marker: the text reads and copies the same, nothing links.
_WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")


def plain(value: Any) -> str:
    """A data value (or URL parameter) as literal text inside markdown: titles, captions,
    metric labels, errors. Line breaks become spaces, so a value can never start a
    heading, list or table either; ``—`` for a missing value."""
    if missing(value):
        return MISSING
    text = _AUTOLINK.sub(lambda m: m.group(0)[0] + _WORD_JOINER + m.group(0)[1:], str(value))
    return text.translate(_ESCAPE)


def rank_interval(low: Any, high: Any) -> str:
    """A rank's uncertainty interval: ``第2—5名`` (``第3名`` when it is a point)."""
    if missing(low) or missing(high):
        return MISSING
    lo, hi = int(low), int(high)
    return f"第{lo}名" if lo == hi else f"第{lo}—{hi}名"


# A rank change that stays inside the rank's uncertainty interval.
NOISE_LABEL = "变化在误差范围内"


def rank_change(change: Any, within_interval: Any) -> str:
    """位次变化 in words (``change`` = previous rank - rank); a change that stays inside
    this month's rank interval (mart_safety_index_uncertainty) is labelled as noise."""
    if missing(change):
        return MISSING
    steps = int(change)
    if steps == 0:
        return "持平"
    moved = f"上升{steps}位" if steps > 0 else f"下降{-steps}位"
    noise = not missing(within_interval) and bool(within_interval)
    return f"{moved}（{NOISE_LABEL}）" if noise else moved
