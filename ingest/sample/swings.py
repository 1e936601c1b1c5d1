"""Planted swings of the safety indicators, and the world's seasonality and overdispersion.

The alerts (``mart_alerts``) must find a district or street whose counts truly
moved, and stay silent where nothing changed even though counts are seasonal,
overdispersed and, in small towns, a handful a month. This module makes the
sample hold both, with the truth written beside it:

- each indicator stream (security complaints, grid disputes, criminal and
  public-order incidents, other 110 incidents) gets, per world, a seasonal
  amplitude and phase and an overdispersion (a gamma multiplier per street and
  month, coefficient of variation ``cv``: variance mu + cv^2 mu^2);
- swings are planted: one-month spikes and lasting steps, at district and street
  level, in several indicators, and drops of the hazard rectification rate.
  A swing is planted only where a command centre could see it (the unit has at
  least a handful of events a month) and is large enough to matter: at least the
  world's drawn multiplier and at least ``MIN_SD`` standard deviations of the
  unit's normal month-to-month variation (Poisson plus the world's overdispersion).

The generator's existing deteriorating district-months (``Period.deteriorations``)
stay; they are written to the same truth file as kind ``deterioration``.

Mechanism: the events' places (and so each street's total over the period) are
drawn as before; :meth:`AlertSwings.retime` redraws the day of the events of a
stream, per street, with day weights = weekday x season x noise x swings (x the
deterioration), keeping the hour of day. So a swing moves events into its months
from the street's other months: its multiplier is relative to the unit's other
months. Its own random stream keeps the rest of the sample unchanged.

Truth: ``truth/alert_swings.csv`` (one row per swing and indicator) and the
world's draws under ``alerts`` in ``truth/world.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ingest.sample.world import World

SWINGS_FILE = "alert_swings.csv"

# Which safety indicators the events of each stream feed.
FEEDS: dict[str, tuple[str, ...]] = {
    "security_complaints": ("security_complaints_per_10k",),
    "grid_disputes": ("grid_disputes_per_10k",),
    "incidents_criminal": ("incidents_110_per_10k", "criminal_cases_per_10k"),
    "incidents_public_order": ("incidents_110_per_10k", "public_order_cases_per_10k"),
    "incidents_other": ("incidents_110_per_10k",),
}
COUNT_INDICATORS = (
    "security_complaints_per_10k",
    "incidents_110_per_10k",
    "criminal_cases_per_10k",
    "public_order_cases_per_10k",
    "grid_disputes_per_10k",
)
RECTIFICATION = "hazard_rectification_rate"
# The share of a stream's events the indicator counts, where it is not all of them: cases
# are opened from about 90% of criminal and 30% of public-order incidents
# (activity.make_incidents: p_case, and the causes' classes). A swing is sized on the
# events the indicator counts.
COUNTED_SHARE = {"criminal_cases_per_10k": 0.9, "public_order_cases_per_10k": 0.3}
# Indicators a district deterioration moves (more events, fewer hazards fixed).
DETERIORATION_INDICATORS = (*COUNT_INDICATORS, RECTIFICATION)
# A swing must stand this many standard deviations of normal variation above the level.
MIN_SD = 5.0
MIN_SD_STEP = 3.5  # per month, for a step lasting at least three months
# Months of history every swing leaves before it (the alerts need a baseline).
MIN_HISTORY = 6
WEEKDAY = np.array([1.05, 1.0, 1.0, 1.0, 1.0, 0.75, 0.7])  # Monday first
MONTH_SEASON = np.array([0.85, 0.8, 0.95, 1.0, 1.02, 1.08, 1.15, 1.15, 1.0, 0.95, 0.97, 0.95])


@dataclass
class Swing:
    swing_id: str
    kind: str  # spike | step | deterioration
    level: str  # district | street
    indicator_code: str
    first: int  # month index
    last: int
    min_multiplier: float  # the world's draw; the planted one may be larger
    district_idx: int = -1
    street_idx: int = -1  # -1 for a district swing
    multiplier: float = 0.0  # planted (count indicators: events x; rectification: unfixed x)
    expected_count: float = 0.0  # the unit's normal events (or hazards due) a month

    @property
    def placed(self) -> bool:
        return self.multiplier > 0


@dataclass
class AlertSwings:
    """The world's alert assumptions for one city and period, and the planted swings."""

    streets: pl.DataFrame  # street_idx, district_idx, district, street
    months: list[str]
    month_of_day: np.ndarray  # month index of each day of the period
    weekday_weight: np.ndarray  # per day
    deteriorations: list[tuple[int, int, int]]
    rng: np.random.Generator
    season: dict[str, np.ndarray]  # stream -> per month index
    noise: dict[str, np.ndarray]  # stream -> (streets x months)
    cv: dict[str, float]
    min_street_count: float
    plan: list[Swing] = field(default_factory=list)

    # ------------------------------------------------------------------ retiming
    def retime(
        self,
        ts: np.ndarray,
        street_idx: np.ndarray,
        streams: np.ndarray | str,
        mask: np.ndarray | None = None,
    ) -> np.ndarray:
        """``ts`` with the day of each masked event redrawn from its street's weights.

        ``streams`` names each event's stream (a key of FEEDS); events outside the
        mask or without a street keep their time."""
        ts = np.asarray(ts).astype("datetime64[s]")
        street_idx = np.asarray(street_idx, dtype=np.float64)
        if isinstance(streams, str):
            streams = np.full(len(ts), streams)
        streams = np.asarray(streams).astype(str)
        ok = ~np.isnan(street_idx) if mask is None else (np.asarray(mask) & ~np.isnan(street_idx))
        street = np.where(ok, street_idx, -1).astype(np.int64)
        self._place_count_swings(street, streams, ok)
        out = ts.copy()
        day0 = ts.astype("datetime64[D]")
        first_day = np.datetime64(self.months[0], "D")
        within = ts - day0.astype("datetime64[s]")
        n_days = len(self.month_of_day)
        for key in np.unique(streams[ok]):
            for st in np.unique(street[ok & (streams == key)]):
                sel = np.flatnonzero(ok & (streams == key) & (street == st))
                w = self.weekday_weight * self._month_weights(key, int(st))[self.month_of_day]
                cdf = np.cumsum(w)
                cdf /= cdf[-1]
                day = np.minimum(np.searchsorted(cdf, self.rng.random(len(sel))), n_days - 1)
                out[sel] = (first_day + day.astype("timedelta64[D]")).astype(
                    "datetime64[s]"
                ) + within[sel]
        return out

    def _month_weights(self, stream: str, street: int) -> np.ndarray:
        w = self.season[stream] * self.noise[stream][street]
        district = int(self.streets["district_idx"][street])
        for d, m0, m1 in self.deteriorations:
            if d == district:
                w[m0 : m1 + 1] *= 1.4  # as Sampler's day weights
        for s in self.plan:
            if s.placed and s.indicator_code in FEEDS[stream] and self._covers(s, street):
                w[s.first : s.last + 1] *= s.multiplier
        return w

    def _covers(self, s: Swing, street: int) -> bool:
        if s.level == "street":
            return s.street_idx == street
        return int(self.streets["district_idx"][street]) == s.district_idx

    def _place_count_swings(self, street: np.ndarray, streams: np.ndarray, ok: np.ndarray) -> None:
        """Choose the unit and the multiplier of the planned swings these events feed."""
        n_months = len(self.months)
        n_streets = self.streets.height
        street_district = self.streets["district_idx"].to_numpy()
        for s in self.plan:
            if s.placed or s.indicator_code == RECTIFICATION:
                continue
            feeding = [k for k in np.unique(streams) if s.indicator_code in FEEDS.get(k, ())]
            feeds = np.isin(streams, feeding) & ok
            if not feeds.any():
                continue
            per_street = (
                np.bincount(street[feeds], minlength=n_streets)
                / n_months
                * COUNTED_SHARE.get(s.indicator_code, 1.0)
            )
            per_district = np.bincount(street_district, weights=per_street)
            cv = max(self.cv[k] for k in FEEDS if s.indicator_code in FEEDS[k])
            busy = self._busy()
            if s.level == "district":
                cand = [
                    d
                    for d in range(len(per_district))
                    if d not in busy["districts"] | busy["touched"]
                    and per_district[d] >= self.min_street_count
                ]
                if not cand:
                    continue
                s.district_idx = int(self.rng.choice(cand))
                mu = float(per_district[s.district_idx])
                # a district's months vary by its streets' noise, averaged
                cv_unit = cv / np.sqrt(max(1, int((street_district == s.district_idx).sum())))
            else:
                cand = [
                    i
                    for i in range(n_streets)
                    if street_district[i] not in busy["districts"]
                    and i not in busy["streets"]
                    and per_street[i] >= self.min_street_count
                ]
                if not cand:
                    continue
                s.street_idx = int(self.rng.choice(cand))
                s.district_idx = int(street_district[s.street_idx])
                mu = float(per_street[s.street_idx])
                cv_unit = cv
            k = MIN_SD if s.kind == "spike" else MIN_SD_STEP
            sd_rel = np.sqrt(1.0 / mu + cv_unit**2)
            s.expected_count = round(mu, 2)
            s.multiplier = round(float(max(s.min_multiplier, 1.0 + k * sd_rel)), 3)

    def _busy(self) -> dict[str, set[int]]:
        """Units a new swing must avoid, so each planted unit-month has one known cause:
        ``districts``: no swing of any level there (deteriorations, district swings);
        ``touched``: districts with a street swing (no district swing there);
        ``streets``: streets already swung."""
        districts = {d for d, _, _ in self.deteriorations}
        touched: set[int] = set()
        streets: set[int] = set()
        for s in self.plan:
            if not s.placed:
                continue
            if s.level == "district":
                districts.add(s.district_idx)
            else:
                touched.add(s.district_idx)
                streets.add(s.street_idx)
        return {"districts": districts, "touched": touched, "streets": streets}

    # ------------------------------------------------------------ rectification
    def fix_probability(
        self, p_fix: np.ndarray, district_idx: np.ndarray, due: np.ndarray
    ) -> np.ndarray:
        """The probability a hazard is fixed, lowered in the months of a planted drop."""
        p_fix = np.asarray(p_fix, dtype=float).copy()
        month = (
            np.asarray(due).astype("datetime64[M]") - np.datetime64(self.months[0], "M")
        ).astype(np.int64)
        n_months = len(self.months)
        for s in self.plan:
            if s.indicator_code != RECTIFICATION or s.placed:
                continue
            # a district's rectification is apart from its streets' counts
            busy = self._busy()["districts"]
            counts = np.bincount(
                np.asarray(district_idx)[(month >= 0) & (month < n_months)],
                minlength=self.streets["district_idx"].n_unique(),
            ) / max(1, n_months)
            cand = [d for d in range(len(counts)) if d not in busy and counts[d] >= 10]
            if not cand:
                continue
            s.level = "district"
            s.district_idx = int(self.rng.choice(cand))
            n = float(counts[s.district_idx])
            base = 1 - float(np.median(p_fix))
            # unfixed share multiplied: at least the draw and MIN_SD binomial sd above normal
            need = base + MIN_SD * np.sqrt(base * (1 - base) / n)
            s.expected_count = round(n, 2)
            s.multiplier = round(float(min(1 / base, max(s.min_multiplier, need / base))), 3)
        for s in self.plan:
            if s.indicator_code == RECTIFICATION and s.placed:
                hit = (np.asarray(district_idx) == s.district_idx) & (
                    (month >= s.first) & (month <= s.last)
                )
                p_fix[hit] = 1 - np.minimum(1.0, (1 - p_fix[hit]) * s.multiplier)
        return p_fix

    # --------------------------------------------------------------------- truth
    def truth(self) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        names = self.streets
        district_names = (
            names.select("district_idx", "district").unique("district_idx").sort("district_idx")
        )
        dname = dict(district_names.iter_rows())
        for s in self.plan:
            if not s.placed:
                continue
            district = dname.get(s.district_idx)
            street = names["street"][s.street_idx] if s.level == "street" else None
            rows.append(
                {
                    "swing_id": s.swing_id,
                    "kind": s.kind,
                    "region_level": s.level,
                    "district": district,
                    "street": street,
                    "region_key": f"{district}/{street}" if street else district,
                    "indicator_code": s.indicator_code,
                    "first_month": self.months[s.first],
                    "last_month": self.months[s.last],
                    "multiplier": s.multiplier,
                    "expected_count": s.expected_count,
                }
            )
        for i, (d, m0, m1) in enumerate(self.deteriorations, start=1):
            for code in DETERIORATION_INDICATORS:
                rows.append(
                    {
                        "swing_id": f"D{i}",
                        "kind": "deterioration",
                        "region_level": "district",
                        "district": dname.get(d),
                        "street": None,
                        "region_key": dname.get(d),
                        "indicator_code": code,
                        "first_month": self.months[m0],
                        "last_month": self.months[m1],
                        "multiplier": 1.4,
                        "expected_count": None,
                    }
                )
        schema = {
            "swing_id": pl.String,
            "kind": pl.String,
            "region_level": pl.String,
            "district": pl.String,
            "street": pl.String,
            "region_key": pl.String,
            "indicator_code": pl.String,
            "first_month": pl.String,
            "last_month": pl.String,
            "multiplier": pl.Float64,
            "expected_count": pl.Float64,
        }
        return pl.DataFrame(rows, schema=schema, orient="row")

    def write_truth(self, truth_dir: Path) -> Path:
        path = Path(truth_dir) / SWINGS_FILE
        self.truth().write_csv(path)
        return path


def plan(
    world: World,
    streets: pl.DataFrame,
    months: list[str],
    deteriorations: list[tuple[int, int, int]],
    rng: np.random.Generator,
) -> AlertSwings:
    """Draw the world's alert assumptions and plan the swings (units chosen at retiming)."""
    wr = world.rng("alerts")
    n_months = len(months)
    first = np.datetime64(months[0], "D")
    end = np.datetime64(months[-1], "M") + np.timedelta64(1, "M")
    days = first + np.arange(int((end.astype("datetime64[D]") - first).astype(np.int64)))
    month_of_day = (days.astype("datetime64[M]") - np.datetime64(months[0], "M")).astype(np.int64)
    weekday = WEEKDAY[(days.astype(np.int64) + 3) % 7]  # 1970-01-01 was a Thursday
    calendar = np.array([int(m[5:7]) - 1 for m in months])
    n_streets = streets.height

    season: dict[str, np.ndarray] = {}
    noise: dict[str, np.ndarray] = {}
    cv: dict[str, float] = {}
    record: dict[str, Any] = {}
    for key in FEEDS:
        amplitude = float(wr.uniform(0.0, 3.0))
        phase = int(wr.integers(0, 12))
        shape = np.roll(MONTH_SEASON, phase)
        season[key] = np.maximum(0.25, 1.0 + amplitude * (shape - 1.0))[calendar]
        cv[key] = float(wr.uniform(0.0, 0.3))
        if cv[key] > 0:
            k = 1.0 / cv[key] ** 2
            noise[key] = wr.gamma(k, 1.0 / k, (n_streets, n_months))
        else:
            noise[key] = np.ones((n_streets, n_months))
        record[key] = {
            "season_amplitude": round(amplitude, 3),
            "season_phase_months": phase,
            "overdispersion_cv": round(cv[key], 3),
        }
    min_street_count = float(wr.uniform(3.0, 8.0))

    planned: list[Swing] = []
    lo = min(MIN_HISTORY, max(1, n_months // 2))

    def add(kind: str, level: str, indicator: str, mult: float) -> None:
        if kind == "spike":
            m0 = int(wr.integers(lo, n_months))
            m1 = m0
        else:
            length = int(wr.integers(3, 7))
            m0 = int(wr.integers(lo, max(lo + 1, n_months - 2)))
            m1 = min(n_months - 1, m0 + length - 1)
        planned.append(
            Swing(f"S{len(planned) + 1}", kind, level, indicator, m0, m1, round(mult, 3))
        )

    if n_months > lo:
        pick = lambda: str(wr.choice(COUNT_INDICATORS))  # noqa: E731
        for _ in range(int(wr.integers(1, 3))):
            add("spike", "district", pick(), wr.uniform(1.5, 2.2))
        add("step", "district", pick(), wr.uniform(1.3, 1.7))
        for _ in range(int(wr.integers(8, 12))):
            add("spike", "street", pick(), wr.uniform(1.8, 3.0))
        for _ in range(int(wr.integers(4, 7))):
            add("step", "street", pick(), wr.uniform(1.5, 2.2))
        add("spike", "district", RECTIFICATION, wr.uniform(3.0, 5.0))
    record["swings"] = {
        "planned": len(planned),
        "min_street_count": round(min_street_count, 2),
        "min_sd_spike": MIN_SD,
        "min_sd_step": MIN_SD_STEP,
    }
    world.record("alerts", record)
    return AlertSwings(
        streets=streets.select("street_idx", "district_idx", "district", "street").sort(
            "street_idx"
        ),
        months=months,
        month_of_day=month_of_day,
        weekday_weight=weekday,
        deteriorations=list(deteriorations),
        rng=rng,
        season=season,
        noise=noise,
        cv=cv,
        min_street_count=min_street_count,
        plan=planned,
    )
