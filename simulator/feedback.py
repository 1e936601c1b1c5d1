"""The command centre's OA feedback on the notices (提示单) the warehouse issued.

The simulator stands in for the source systems and cannot read the warehouse, so it
cannot know every notice the alert rule will raise (that depends on the statistics
and on chance). What it does know is where it planted swings: a planted swing is a
notice the warehouse must issue (recall of planted swings is a goal of the alert
rule). So the OA here answers those notices: every planted unit-month when the
generator passes its planted swings, else each deteriorating district-month's district
and its most populous street. Other notices the warehouse issues simply stay
unanswered (已下发, then overdue), as some do in practice; a planted swing the alerts
miss makes its feedback unmatched.

The OA quotes the number printed on the notice. The numbering rule is defined once, in
dbt (``mart_notice_register``, with its parameters in ``dbt_project.yml`` vars): a
number depends only on the unit and the month (N = month x block + the unit's place
among districts then streets ordered by region key), so this module replays the same
rule with the same vars on the same unit list, and the numbers match exactly.

Quirks (``../shared/source-exports.md``, centre section), each counted in the manifest:

* ``feedback_unknown_notice``: a number the warehouse never issued, typed by hand;
* ``feedback_unit_without_district`` / ``feedback_unit_with_district``: a street
  written as ``和平桥街道`` or ``崇川区和平桥街道``;
* ``feedback_before_notice``: a unit signs for the last month's notice before the
  notice is published (the OA clock and the centre's workflow are not the warehouse's);
* the same feedback record in several daily files as its status moves (the daily
  delivery keeps each record's state at export time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml

from contracts.entities import NOTICE_STATUSES
from simulator import people
from simulator.activity import Period

ISSUED, SIGNED, REPORTED, CLOSED, RETURNED = NOTICE_STATUSES
DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"
MEASURES = (
    "已组织专题会议研究部署，开展集中排查整治",
    "已对重点点位加强巡查，落实网格员每日走访",
    "已联合公安、住建等部门开展联合执法检查",
    "已建立问题清单，逐项明确责任人和整改时限",
    "已召开辖区平安建设推进会，压实属地责任",
)
RETURN_REASON = "反馈材料不完整，请补充整改佐证"


@dataclass(frozen=True)
class NoticeRule:
    """The numbering and timing of notices, as dbt's vars define them."""

    prefix: str
    block: int
    issue_day: int
    issue_hour: int
    due_days: int

    def number(self, month: str, unit_seq: int) -> str:
        year, mon = int(month[:4]), int(month[5:7])
        return f"{self.prefix}〔{year}〕第{mon * self.block + unit_seq}号"

    def issued_at(self, month: str) -> dt.datetime:
        year, mon = int(month[:4]), int(month[5:7])
        first_next = dt.date(year + (mon == 12), mon % 12 + 1, 1)
        return dt.datetime.combine(first_next, dt.time()) + dt.timedelta(
            days=self.issue_day - 1, hours=self.issue_hour
        )


@cache
def notice_rule(path: Path = DBT_PROJECT) -> NoticeRule:
    """Read the notice vars from ``dbt_project.yml`` (declared there once)."""
    v: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))["vars"]
    return NoticeRule(
        prefix=str(v["notice_number_prefix"]),
        block=int(v["notice_number_block"]),
        issue_day=int(v["notice_issue_day"]),
        issue_hour=int(v["notice_issue_hour"]),
        due_days=int(v["notice_due_days"]),
    )


def unit_numbers(streets: pl.DataFrame) -> dict[tuple[str, str | None], int]:
    """Each unit's place in the registry: (district, street or None) -> 1-based sequence.

    Same order as mart_notice_register: region_level ('district' < 'street'), then
    region_key (the district name, or ``district/street``), in code-point order.
    """
    keys: list[tuple[str, str, tuple[str, str | None]]] = []
    for district in sorted(set(streets["district"].to_list())):
        keys.append(("district", district, (district, None)))
    for district, street in streets.select("district", "street").iter_rows():
        keys.append(("street", f"{district}/{street}", (district, street)))
    keys.sort(key=lambda k: (k[0], k[1]))
    return {unit: i for i, (_level, _key, unit) in enumerate(keys, start=1)}


@dataclass(frozen=True)
class Notice:
    notice_id: str
    month: str
    district: str
    street: str | None
    issued_at: dt.datetime


def planted_unit_months(
    planted: pl.DataFrame, months: list[str]
) -> list[tuple[str, str | None, str]]:
    """(district, street or None, month) of every planted swing, from a table with the
    columns of ``truth/alert_swings.csv`` (district, street, first_month, last_month)."""
    out: set[tuple[str, str | None, str]] = set()
    for district, street, first, last in planted.select(
        "district", "street", "first_month", "last_month"
    ).iter_rows():
        for month in months:
            if district and first <= month <= last:
                out.add((str(district), str(street) if street else None, month))
    return sorted(out, key=lambda u: (u[2], u[1] is not None, u[0], u[1] or ""))


def expected_notices(
    streets: pl.DataFrame,
    period: Period,
    rule: NoticeRule,
    planted: pl.DataFrame | None = None,
) -> list[Notice]:
    """The notices the planted swings call for: each planted unit-month when the swings
    are given (``planted``, the swings' truth table), else each deteriorating
    district-month, for the district and for its most populous street."""
    seq = unit_numbers(streets)
    if planted is not None:
        units = [u for u in planted_unit_months(planted, period.months) if (u[0], u[1]) in seq]
    else:
        units = []
        by_idx: dict[int, str] = {
            int(i): str(d)
            for i, d in streets.select("district_idx", "district").unique().iter_rows()
        }
        for d_idx, m0, m1 in period.deteriorations:
            district = by_idx.get(d_idx)
            if district is None:
                continue
            top = str(
                streets.filter(pl.col("district") == district)
                .sort("population", "street", descending=[True, False])
                .row(0, named=True)["street"]
            )
            for month in period.months[m0 : m1 + 1]:
                units += [(district, None, month), (district, top, month)]
    return [
        Notice(
            notice_id=rule.number(month, seq[(district, street)]),
            month=month,
            district=district,
            street=street,
            issued_at=rule.issued_at(month),
        )
        for district, street, month in units
    ]


def _count(counts: dict[str, int], quirk: str) -> None:
    counts[quirk] = counts.get(quirk, 0) + 1


@dataclass
class _Versions:
    """The versions of one feedback record, appended to ``rows`` as its status moves."""

    rows: list[dict[str, Any]]
    end: dt.datetime
    feedback_id: str
    notice_id: str
    unit: str
    handler: str
    phone: str

    def add(
        self,
        status: str,
        at: dt.datetime,
        *,
        signed: dt.datetime | None = None,
        reported: dt.datetime | None = None,
        measures: str | None = None,
    ) -> bool:
        """Add the state reached at ``at``; False (nothing added) after the period ends."""
        if at >= self.end:
            return False
        self.rows.append(
            {
                "feedback_id": self.feedback_id,
                "notice_id": self.notice_id,
                "unit": self.unit,
                "signed_at": signed,
                "reported_at": reported,
                "measures": measures,
                "status": status,
                "handler_name": self.handler,
                "handler_phone": self.phone,
                "updated_at": at,
                "_ts": at,
            }
        )
        return True


def feedback_versions(
    streets: pl.DataFrame,
    period: Period,
    rng: np.random.Generator,
    counts: dict[str, int],
    rule: NoticeRule | None = None,
    planted: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every version of every feedback record (one row per state change), with ``_ts``
    (the export moment) and only states reached before the period ends. ``planted``:
    the planted swings (see :func:`expected_notices`)."""
    rule = rule or notice_rule()
    end = period.end.astype("datetime64[s]").astype(dt.datetime)
    rows: list[dict[str, Any]] = []
    notices = expected_notices(streets, period, rule, planted)
    n = len(notices) + 1
    handlers = people.names(rng, n)
    phones = people.mobiles(rng, n)

    def versions_of(i: int, fid: str, notice_id: str, unit: str) -> _Versions:
        return _Versions(rows, end, fid, notice_id, unit, str(handlers[i]), str(phones[i]))

    last_month = period.months[-1]
    for i, nt in enumerate(notices):
        if nt.street is None:
            unit = nt.district
        elif rng.random() < 0.5:
            unit = nt.street
            _count(counts, "feedback_unit_without_district")
        else:
            unit = nt.district + nt.street
            _count(counts, "feedback_unit_with_district")
        v = versions_of(i, f"FK{nt.month.replace('-', '')}{i + 1:04d}", nt.notice_id, unit)
        if nt.month == last_month:
            # Signed in the OA before the notice's official publication.
            signed = nt.issued_at - dt.timedelta(hours=float(rng.integers(12, 40)))
            if v.add(SIGNED, signed, signed=signed):
                _count(counts, "feedback_before_notice")
            continue
        signed = nt.issued_at + dt.timedelta(hours=float(rng.integers(2, 72)))
        reported = signed + dt.timedelta(days=float(rng.integers(3, 18)))
        what = str(MEASURES[int(rng.integers(0, len(MEASURES)))])
        if rng.random() < 0.3:  # some reports name the officer to call back (masked at ingest)
            what += f"，联系人电话{phones[i]}"
        decided = reported + dt.timedelta(days=float(rng.integers(1, 6)))
        v.add(SIGNED, signed, signed=signed)
        v.add(REPORTED, reported, signed=signed, reported=reported, measures=what)
        if rng.random() < 0.25:  # sent back, reported again
            v.add(RETURNED, decided, signed=signed, reported=reported, measures=RETURN_REASON)
            reported = decided + dt.timedelta(days=float(rng.integers(2, 7)))
            what += "；已补充佐证材料"
            v.add(REPORTED, reported, signed=signed, reported=reported, measures=what)
            decided = reported + dt.timedelta(days=float(rng.integers(1, 4)))
        v.add(CLOSED, decided, signed=signed, reported=reported, measures=what)

    # A number never issued: typed by hand, a place in the block no unit has.
    month = period.months[len(period.months) // 2]
    typed = rule.issued_at(month) + dt.timedelta(days=3)
    any_street = str(streets.sort("street").row(0, named=True)["street"])
    v = versions_of(
        len(notices),
        f"FK{month.replace('-', '')}9999",
        rule.number(month, rule.block - 1),
        any_street,
    )
    if v.add(SIGNED, typed, signed=typed):
        _count(counts, "feedback_unknown_notice")
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "feedback_id": pl.String,
        "notice_id": pl.String,
        "unit": pl.String,
        "signed_at": pl.Datetime("ms"),
        "reported_at": pl.Datetime("ms"),
        "measures": pl.String,
        "status": pl.String,
        "handler_name": pl.String,
        "handler_phone": pl.String,
        "updated_at": pl.Datetime("ms"),
        "_ts": pl.Datetime("ms"),
    }
    return pl.DataFrame(rows, schema=schema, orient="row").sort("_ts", "feedback_id")
