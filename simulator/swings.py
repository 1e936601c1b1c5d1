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
  least a handful of events a month) and is large enough to be found, not merely
  large on average: at least the world's drawn multiplier, and so large that in
  ``POWER`` of its draws (Poisson x the world's overdispersion) the swing month's
  count reaches a one-sided tail of ``DETECT_P`` (``DETECT_P_STEP`` for each month
  of a step, which the persistence rule adds up) under the unit's normal month,
  seasonality and overdispersion included, with the widening a baseline of
  ``MIN_HISTORY`` months brings (see :func:`count_multiplier`). A swing sized
  only by its mean (say 5 sd above the level) falls short of that in about half
  its draws: it is not a swing a detector can be asked to find every time. Units
  where it would take more than ``MAX_MULTIPLIER`` are not chosen.

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
from scipy import stats

from simulator.world import World

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
# The share of the indicator's counts that the swung streams feed (the rest is not moved):
# a few criminal cases come from public-order fights (故意伤害), a few public-order cases
# from disputes, and a case filed days after its incident may fall in the next month.
FED_SHARE = {"criminal_cases_per_10k": 0.85, "public_order_cases_per_10k": 0.8}
# How findable a planted swing must be (module docstring): the one-sided tail its month
# reaches under the unit's normal month, and in how many of its draws.
DETECT_P = 1e-4
DETECT_P_STEP = 3e-3  # per month, for a step lasting at least three months
POWER = 0.9
MAX_MULTIPLIER = 8.0
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
    expected_count: float = 0.0  # the unit's events (or hazards due) a month, period mean

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
            season = self._season_of(s, feeding, street[feeds], streams[feeds], n_streets)
            busy = self._busy()
            if s.level == "district":
                cand = [
                    d
                    for d in range(len(per_district))
                    if d not in busy["districts"] | busy["touched"]
                    and per_district[d] >= self.min_street_count
                ]
                # a district's months vary by its streets' noise, averaged
                sizes = {
                    d: self._size(
                        s,
                        float(per_district[d]) * season[street_district == d].mean(),
                        cv**2 / max(1, int((street_district == d).sum())),
                    )
                    for d in cand
                }
                cand = [d for d in cand if sizes[d] <= MAX_MULTIPLIER]
                if not cand:
                    continue
                s.district_idx = int(self.rng.choice(cand))
                mu = float(per_district[s.district_idx])
                s.multiplier = sizes[s.district_idx]
            else:
                cand = [
                    i
                    for i in range(n_streets)
                    if street_district[i] not in busy["districts"]
                    and i not in busy["streets"]
                    and per_street[i] >= self.min_street_count
                ]
                sizes = {i: self._size(s, float(per_street[i]) * season[i], cv**2) for i in cand}
                cand = [i for i in cand if sizes[i] <= MAX_MULTIPLIER]
                if not cand:
                    continue
                s.street_idx = int(self.rng.choice(cand))
                s.district_idx = int(street_district[s.street_idx])
                mu = float(per_street[s.street_idx])
                s.multiplier = sizes[s.street_idx]
            s.expected_count = round(mu, 2)

    def _season_of(
        self, s: Swing, feeding: list[str], street: np.ndarray, streams: np.ndarray, n: int
    ) -> np.ndarray:
        """Per street, the seasonal factor of the swing's months (mean over them), the
        feeding streams weighted by the street's events of each."""
        num = np.zeros(n)
        den = np.zeros(n)
        for k in feeding:
            w = np.bincount(street[streams == k], minlength=n).astype(float)
            num += w * float(self.season[k][s.first : s.last + 1].mean())
            den += w
        return np.where(den > 0, num / np.maximum(den, 1e-9), 1.0)

    def _size(self, s: Swing, mu: float, alpha: float) -> float:
        """The planted multiplier of the streams' events: at least the world's draw, and
        findable (:func:`count_multiplier`) given the indicator's fed share."""
        spike = s.kind == "spike"
        fed = FED_SHARE.get(s.indicator_code, 1.0)
        n, length = len(self.months), s.last - s.first + 1
        m = s.min_multiplier
        for _ in range(40):
            # retiming moves the swing's events from the unit's other months, so its
            # normal month is below the period's mean ``mu`` (by the swing's own size)
            normal = mu * n / (n - length + length * m)
            need = count_multiplier(normal, alpha, DETECT_P if spike else DETECT_P_STEP)
            # upward only: a larger multiplier lowers the normal month, which needs a
            # larger one still; letting the search step back can make it cycle (3.95,
            # 4.15, 4.0, ...) and stop on a multiplier too small for its own normal month
            new = max(m, 1.0 + (need - 1.0) / fed)
            if new > MAX_MULTIPLIER:
                return float("inf")  # not rounded: 8.000001 must not pass for 8.0
            if new - m < 0.01:
                m = new
                break
            m = new
        return round(float(m), 3)

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
            base = 1 - float(np.median(p_fix))
            # the unfixed share multiplied: at least the draw, and findable
            sizes = {d: binomial_multiplier(float(counts[d]), base, DETECT_P) for d in cand}
            cand = [d for d in cand if sizes[d] is not None]
            if not cand:
                continue
            s.level = "district"
            s.district_idx = int(self.rng.choice(cand))
            n = float(counts[s.district_idx])
            need = sizes[s.district_idx] or 1.0
            s.expected_count = round(n, 2)
            s.multiplier = round(float(min(1 / base, max(s.min_multiplier, need))), 3)
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


def _count_model(mean: float, alpha: float) -> Any:
    """Poisson (alpha 0) or negative binomial with variance mean + alpha mean^2."""
    if alpha <= 1e-9:
        return stats.poisson(mean)
    size = 1.0 / alpha
    return stats.nbinom(size, size / (size + mean))


def count_multiplier(mu: float, alpha: float, p_detect: float) -> float:
    """The smallest multiplier of a unit's month (normal mean ``mu``, overdispersion
    ``alpha``) whose draws reach, in ``POWER`` of them, a count with a one-sided tail of
    at most ``p_detect`` under the normal month. The normal month is judged as a
    detector with ``MIN_HISTORY`` months of baseline would: its mean is uncertain
    (alpha + 1 / events of the baseline + alpha / months of it)."""
    alpha_judged = alpha * (1 + 1 / MIN_HISTORY) + 1 / (MIN_HISTORY * mu)
    threshold = float(_count_model(mu, alpha_judged).isf(p_detect)) + 1  # P(Y >= t) <= p
    for m in np.arange(1.0, 2 * MAX_MULTIPLIER, 0.05):
        if _count_model(m * mu, alpha).sf(threshold - 1) >= POWER:
            return float(m)
    return float("inf")


def binomial_multiplier(n: float, base: float, p_detect: float) -> float | None:
    """The smallest multiplier of the unfixed share ``base`` of ``n`` hazards due whose
    draws reach, in ``POWER`` of them, a count with a one-sided binomial tail of at most
    ``p_detect`` (the baseline's uncertainty as in :func:`count_multiplier`); None where
    even no hazard fixed would not."""
    trials = max(1, round(n))
    judged = max(1, round(n / (1 + 1 / MIN_HISTORY)))
    share = (float(stats.binom(judged, base).isf(p_detect)) + 1) / judged
    threshold = int(np.ceil(share * trials))
    for m in np.arange(1.0, 1.0 / base + 0.05, 0.05):
        if stats.binom(trials, min(1.0, base * m)).sf(threshold - 1) >= POWER:
            return float(m)
    return None


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
        "detect_p_spike": DETECT_P,
        "detect_p_step_month": DETECT_P_STEP,
        "power": POWER,
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
