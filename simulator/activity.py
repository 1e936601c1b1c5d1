"""Activity over the period: every entity's records and their successive versions.

Each ``make_*`` function returns an :class:`EntityRecords`: ``versions`` holds one
row per exported state of a record (canonical column names, typed values) and
``_ts``, the moment that state was exported (its ``updated_at``, or the event
time for entities without a version column); ``links`` holds, for records that
are about a rental dwelling, the house they truly refer to (the address-link
truth). Rates are per 1,000 residents per year and scale linearly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from contracts import entities
from simulator import addresses, people, vocab
from simulator.city import City
from simulator.swings import AlertSwings
from simulator.world import World

DAY = np.timedelta64(86400, "s")
HOUR = np.timedelta64(3600, "s")
NAT = np.datetime64("NaT", "s")

TICKETS_PER_K = 260.0
EVENTS_PER_K = 45.0
INCIDENTS_PER_K = 65.0
FLOATING_PER_K = 33.0

MONTH_SEASON = {
    1: 0.85,
    2: 0.8,
    3: 0.95,
    4: 1.0,
    5: 1.02,
    6: 1.08,
    7: 1.15,
    8: 1.15,
    9: 1.0,
    10: 0.95,
    11: 0.97,
    12: 0.95,
}
WEEKDAY = np.array([1.05, 1.0, 1.0, 1.0, 1.0, 0.75, 0.7])  # Monday first
HOURS = np.array(
    [
        0.2,
        0.1,
        0.1,
        0.1,
        0.1,
        0.2,
        0.5,
        1.0,
        1.8,
        2.2,
        2.2,
        2.0,
        1.5,
        1.7,
        2.0,
        2.0,
        1.9,
        1.6,
        1.3,
        1.2,
        1.1,
        0.9,
        0.6,
        0.4,
    ]
)


@dataclass
class Period:
    start: np.datetime64  # first second of the first month
    end: np.datetime64  # first second after the last month
    months: list[str]  # YYYY-MM
    # Deteriorating districts: (district_idx, first month index, last month index).
    deteriorations: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def days(self) -> int:
        return int((self.end - self.start) / DAY)

    @property
    def years(self) -> float:
        return self.days / 365.0

    def month_index(self, ts: np.ndarray) -> np.ndarray:
        m = ts.astype("datetime64[M]") - self.start.astype("datetime64[M]")
        return m.astype(np.int64)

    def bad(self, district_idx: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Whether a record falls in a deteriorating district-month."""
        out = np.zeros(len(ts), dtype=bool)
        mi = self.month_index(ts)
        for d, m0, m1 in self.deteriorations:
            out |= (district_idx == d) & (mi >= m0) & (mi <= m1)
        return out


@dataclass
class EntityRecords:
    entity: str
    versions: pl.DataFrame
    links: pl.DataFrame  # record_id, house_idx

    @property
    def records(self) -> int:
        key = self.versions.columns[0]
        return self.versions[key].n_unique()


def ms(a: np.ndarray) -> pl.Series:
    return pl.Series(a.astype("datetime64[ms]"))


def _masked(mask: np.ndarray, values: np.ndarray | pl.Series) -> pl.Series:
    """``values`` where ``mask`` is true, null elsewhere (as strings)."""
    v = values if isinstance(values, pl.Series) else pl.Series(values.astype(str))
    return pl.DataFrame({"m": mask, "v": v.cast(pl.String)}).select(
        pl.when(pl.col("m")).then(pl.col("v"))
    )["v"]


def _choice(
    rng: np.random.Generator,
    items: Sequence[Any],
    n: int,
    p: list[float] | tuple[float, ...] | np.ndarray | None = None,
) -> np.ndarray:
    arr = np.array(items)
    if p is None:
        return arr[rng.integers(0, len(arr), n)]
    pp = np.asarray(p, dtype=float)
    return arr[rng.choice(len(arr), n, p=pp / pp.sum())]


class Sampler:
    """Shared sampling helpers bound to one city and period."""

    def __init__(self, city: City, period: Period, rng: np.random.Generator, *, world: World):
        self.city, self.period, self.rng, self.world = city, period, rng, world
        addr = world.get("addresses")
        # How carefully this world's systems write addresses (passed to addresses.render).
        self.addr_rates = {"typo_rate": addr["typo_rate"], "fullwidth_rate": addr["fullwidth_rate"]}
        # planted alert swings, seasonality and overdispersion (swings.py); set by generate()
        self.swings: AlertSwings | None = None
        days = period.start.astype("datetime64[D]") + np.arange(period.days)
        months = days.astype("datetime64[M]").astype(int) % 12 + 1
        weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        base = np.array([MONTH_SEASON[m] for m in months]) * WEEKDAY[weekday]
        n_d = len(vocab.DISTRICTS)
        w = np.tile(base, (n_d, 1))
        mi = np.arange(period.days)
        mon = (days.astype("datetime64[M]") - period.start.astype("datetime64[M]")).astype(int)
        for d, m0, m1 in period.deteriorations:
            w[d, (mon >= m0) & (mon <= m1)] *= 1.4
        del mi
        self.day_cdf = np.cumsum(w, axis=1)
        self.day_cdf /= self.day_cdf[:, -1:]
        self.dist_pop = (
            city.streets.group_by("district_idx")
            .agg(pl.col("population").sum())
            .sort("district_idx")["population"]
            .to_numpy()
            .astype(float)
        )
        comp = city.compounds.join(
            city.grids.select("grid_idx", "district_idx", "street_idx", "grid_code"),
            on="grid_idx",
            how="left",
        )
        self.comp = comp
        self.comp_district = comp["district_idx"].to_numpy()
        self.comp_size = (
            (comp["buildings"] * comp["floors"] * comp["units"]).to_numpy().astype(float)
        )
        hs = city.houses
        self.house_comp = hs["comp_idx"].to_numpy()
        self.house_district = comp["district_idx"].to_numpy()[self.house_comp]
        self.house_key = pl.DataFrame(
            {
                "comp_idx": hs["comp_idx"],
                "building": hs["building"],
                "room": hs["room"],
                "house_idx": hs["house_idx"].cast(pl.Int64),
            }
        )

    def times(self, district_idx: np.ndarray, hours: np.ndarray = HOURS) -> np.ndarray:
        n = len(district_idx)
        u = self.rng.random(n)
        day = np.empty(n, dtype=np.int64)
        for d in np.unique(district_idx):
            sel = district_idx == d
            day[sel] = np.searchsorted(self.day_cdf[d], u[sel])
        day = np.minimum(day, self.period.days - 1)
        hour = self.rng.choice(24, n, p=hours / hours.sum())
        secs = day * 86400 + hour * 3600 + self.rng.integers(0, 3600, n)
        return self.period.start + secs.astype("timedelta64[s]")

    def uniform_times(self, n: int, lo: np.ndarray | None = None) -> np.ndarray:
        """Times uniform over the period (or from ``lo`` to its end), in office hours."""
        start = self.period.start if lo is None else np.maximum(lo, self.period.start)
        span = ((self.period.end - start) / np.timedelta64(1, "s")).astype(np.int64)
        off = (self.rng.random(n) * np.maximum(span - 86400, 1)).astype(np.int64)
        t = start + off.astype("timedelta64[s]")
        day = t.astype("datetime64[D]")
        office = day + (8 * 3600 + self.rng.integers(0, 10 * 3600, n)).astype("timedelta64[s]")
        return np.maximum(office, start)

    def districts(self, n: int) -> np.ndarray:
        return self.rng.choice(len(self.dist_pop), n, p=self.dist_pop / self.dist_pop.sum())

    def places(self, district_idx: np.ndarray, room_share: float) -> pl.DataFrame:
        """Random places in the given districts: a dwelling for ``room_share`` of them, a
        road-level address otherwise. ``house_idx`` is set when the dwelling is a rental."""
        n = len(district_idx)
        comp = np.empty(n, dtype=np.int64)
        for d in np.unique(district_idx):
            sel = np.flatnonzero(district_idx == d)
            cand = np.flatnonzero(self.comp_district == d)
            w = self.comp_size[cand]
            comp[sel] = cand[self.rng.choice(len(cand), len(sel), p=w / w.sum())]
        c = self.comp
        dwelling = self.rng.random(n) < room_share
        b = (self.rng.random(n) * c["buildings"].to_numpy()[comp]).astype(np.int64) + 1
        fl = (self.rng.random(n) * c["floors"].to_numpy()[comp]).astype(np.int64) + 1
        un = (self.rng.random(n) * c["units"].to_numpy()[comp]).astype(np.int64) + 1
        df = pl.DataFrame(
            {
                "comp_idx": comp,
                "building": np.where(dwelling, b, 0),
                "room": np.where(dwelling, fl * 100 + un, 0),
            }
        )
        return df.join(
            self.house_key, on=["comp_idx", "building", "room"], how="left", maintain_order="left"
        )

    def house_places(self, house_idx: np.ndarray) -> pl.DataFrame:
        hs = self.city.houses
        return pl.DataFrame(
            {
                "comp_idx": hs["comp_idx"].to_numpy()[house_idx],
                "building": hs["building"].to_numpy()[house_idx],
                "room": hs["room"].to_numpy()[house_idx],
                "house_idx": house_idx.astype(np.int64),
            }
        )

    def region_cols(self, comp_idx: np.ndarray) -> pl.DataFrame:
        g = self.comp.select("comp_idx", "grid_idx", "grid_code", "district_idx", "street_idx")
        return (
            pl.DataFrame({"comp_idx": comp_idx})
            .join(g, on="comp_idx", how="left", maintain_order="left")
            .join(
                self.city.grids.select("grid_idx", "district", "street", "community"),
                on="grid_idx",
                how="left",
                maintain_order="left",
            )
        )


def _planted(
    city: City,
    kinds: Mapping[str, float | np.ndarray],
    years: float,
    rng: np.random.Generator,
    quiet: float = 0.25,
) -> np.ndarray:
    """House indices repeated by a Poisson number of planted records per house. A rate is
    per house and year: one number for every house of the kind, or an array over all houses
    (indexed by ``house_idx``)."""
    hs = city.houses
    out = []
    for kind, rate in kinds.items():
        idx = hs.filter(pl.col("kind") == kind)["house_idx"].to_numpy()
        if len(idx) == 0:
            continue
        r = rate[idx] if isinstance(rate, np.ndarray) else rate
        # Signals are noisy: a share of houses produce (almost) none of this signal.
        lam = r * years * np.where(rng.random(len(idx)) < quiet, 0.15, 1.0)
        out.append(np.repeat(idx, rng.poisson(lam)))
    return np.concatenate(out).astype(np.int64) if out else np.array([], dtype=np.int64)


def _ids(prefix: str, ts: np.ndarray, width: int = 5) -> pl.Series:
    """``<prefix><YYYYMMDD><seq>``: ids numbered per day in time order."""
    df = pl.DataFrame({"t": ms(ts)}).with_row_index("i")
    df = df.with_columns(day=pl.col("t").dt.strftime("%Y%m%d"))
    df = df.with_columns(seq=pl.col("t").rank("ordinal").over("day"))
    return df.select(
        pl.lit(prefix) + pl.col("day") + pl.col("seq").cast(pl.String).str.zfill(width)
    )["literal"]


def _expand(
    base: pl.DataFrame, stages: Sequence[tuple[np.ndarray, Mapping[str, Any]]]
) -> pl.DataFrame:
    """Versions of the records: for each stage, the records whose stage time is set,
    with the stage's column overrides; ``_ts`` is the stage time."""
    parts = []
    for ts, overrides in stages:
        cols: dict[str, pl.Series] = {}
        for k, v in overrides.items():
            cols[k] = v.alias(k) if isinstance(v, pl.Series) else pl.Series(k, v)
        part = base.with_columns(_ts=ms(ts), **cols).filter(pl.col("_ts").is_not_null())
        parts.append(part)
    return pl.concat(parts, how="vertical_relaxed")


def _templates(per_kind: Sequence[Sequence[str]], kind: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Template ``idx[i]`` of kind ``kind[i]``, vectorised over a flat template table."""
    flat = np.array([t for ts in per_kind for t in ts])
    offset = np.cumsum([0] + [len(ts) for ts in per_kind[:-1]])
    return flat[offset[kind] + idx]


def _cap(ts: np.ndarray, end: np.datetime64) -> np.ndarray:
    """NaT for times at or after the end of the period (not yet happened)."""
    return np.where(ts < end, ts, NAT)


def make_tickets(s: Sampler) -> EntityRecords:
    rng, city, period = s.rng, s.city, s.period
    n_bg = round(TICKETS_PER_K * city.residents / 1000 * period.years)
    cats = vocab.TICKET_CATEGORIES
    cw = np.array([c[3] for c in cats])
    bg_d = s.districts(n_bg)
    bg_cat = rng.choice(len(cats), n_bg, p=cw / cw.sum())
    bg_places = s.places(bg_d, room_share=0.45)
    cat_idx = {c[0]: i for i, c in enumerate(cats)}
    group = cat_idx["城乡建设>房屋管理>群租房"]
    noise = cat_idx["公共安全>社会治安>噪音扰民"]
    rubbish = cat_idx["城市管理>环境卫生>垃圾清运"]
    ebike = cat_idx["公共安全>消防安全>电动车充电"]

    # Planted complaints about group rentals and the confounders that attract complaints;
    # how many and about what comes from the world.
    gr, conf = s.world.get("group_rental"), s.world.get("confounders")
    rate = gr["complaints_per_year"]
    pl_g = _planted(
        city, {"overcrowded": rate, "under_registered": rate}, period.years, rng, gr["quiet_share"]
    )
    pl_q = _planted(
        city, {"quarrelsome_neighbour": conf["quarrelsome_complaints_per_year"]}, period.years, rng
    )
    pl_t = _planted(
        city, {"typo_address": conf["typo_address_complaints_per_year"]}, period.years, rng
    )
    complaint_mix = [gr[f"complaint_mix_{k}"] for k in ("group", "noise", "rubbish", "ebike")]
    cat_g = _choice(rng, [group, noise, rubbish, ebike], len(pl_g), complaint_mix).astype(np.int64)
    q_group = conf["quarrelsome_group_share"]
    cat_q = _choice(rng, [noise, group], len(pl_q), [1 - q_group, q_group]).astype(np.int64)
    cat_t = _choice(rng, [noise, group, rubbish], len(pl_t), [0.5, 0.3, 0.2]).astype(np.int64)
    # Typo'd complaints are truly about another rental in the same compound (or any rental).
    true_t = _typo_sources(s, pl_t)
    places = pl.concat(
        [
            bg_places,
            s.house_places(pl_g),
            s.house_places(pl_q),
            s.house_places(pl_t).with_columns(house_idx=pl.Series(true_t)),
        ],
        how="vertical_relaxed",
    )
    cat = np.concatenate([bg_cat, cat_g, cat_q, cat_t])
    n = len(cat)
    reg = s.region_cols(places["comp_idx"].to_numpy())
    d_idx = reg["district_idx"].to_numpy()
    received = s.times(d_idx)
    if s.swings is not None:
        # the security complaints the indicator counts are mostly of complaint categories
        security = np.array([c[0].startswith("公共安全") and c[1] == "complaint" for c in cats])[
            cat
        ]
        received = s.swings.retime(
            received, reg["street_idx"].to_numpy(), "security_complaints", security
        )
    dept_of_cat = [vocab.DEPARTMENTS[c[2]] for c in cats]
    dept_pat = np.array([d[0] for d in dept_of_cat])[cat]
    deadline = np.array([d[1] for d in dept_of_cat])[cat]
    ontime_base = np.array([d[2] for d in dept_of_cat])[cat]
    sat_base = np.array([d[3] for d in dept_of_cat])[cat]
    dist_ontime = rng.uniform(-0.05, 0.03, len(vocab.DISTRICTS))[d_idx]
    dist_sat = rng.uniform(-0.06, 0.04, len(vocab.DISTRICTS))[d_idx]
    bad = period.bad(d_idx, received)
    p_ontime = np.clip(ontime_base + dist_ontime - 0.2 * bad, 0.3, 0.995)
    ontime = rng.random(n) < p_ontime
    dispatched = received + (rng.exponential(3.0, n) * 3600).astype("timedelta64[s]")
    due = (dispatched.astype("datetime64[D]") + (deadline + 1).astype("timedelta64[D]")).astype(
        "datetime64[s]"
    ) - np.timedelta64(1, "s")
    dur = np.where(
        ontime,
        rng.uniform(0.05, 1.0, n) * (due - dispatched).astype(np.int64),
        (due - dispatched).astype(np.int64) * (1 + rng.exponential(0.6, n)),
    )
    closed = dispatched + dur.astype(np.int64).astype("timedelta64[s]")
    final = _choice(rng, ["已办结", "已退回", "已撤销"], n, [0.955, 0.03, 0.015])
    p_sat = np.clip(sat_base + dist_sat - 0.25 * bad - 0.2 * ~ontime, 0.2, 0.98)
    u = rng.random(n)
    sat = np.where(
        u < p_sat,
        "满意",
        np.where(
            u < p_sat + (1 - p_sat) * 0.45,
            "基本满意",
            np.where(u < p_sat + (1 - p_sat) * 0.75, "不满意", "未评价"),
        ),
    )
    rtypes = np.empty(n, dtype=object)
    for key, mix in vocab.REQUEST_TYPE_MIX.items():
        sel = np.array([cats[c][1] == key for c in range(len(cats))])[cat]
        rtypes[sel] = _choice(rng, [m[0] for m in mix], int(sel.sum()), [m[1] for m in mix])
    is_repeat = rng.random(n) < 0.06
    phones = np.where(rng.random(n) < 0.9, people.mobiles(rng, n), people.landlines(rng, n))
    q0 = len(bg_cat) + len(pl_g)
    q_sl = slice(q0, q0 + len(pl_q))
    if len(pl_q):
        # The quarrelsome neighbour: one caller complaining again and again.
        q_phone = {h: people.mobiles(rng, 1)[0] for h in np.unique(pl_q)}
        phones[q_sl] = [q_phone[h] for h in pl_q]
        is_repeat[q_sl] = rng.random(len(pl_q)) < 0.8

    addr = addresses.render(places, city.compounds, city.grids, "hotline", rng, **s.addr_rates)
    tpl_idx = (rng.random(n) * np.array([len(c[4]) for c in cats])[cat]).astype(np.int64)
    tpl = _templates([c[4] for c in cats], cat, tpl_idx)
    filler = _choice(rng, vocab.TICKET_FILLERS, n)
    with_phone = rng.random(n) < 0.03
    content = (
        pl.DataFrame(
            {"tpl": tpl, "addr": addr, "x": filler, "ph": people.mobiles(rng, n), "wp": with_phone}
        )
        .select(
            pl.col("tpl")
            .str.replace_all("{addr}", pl.col("addr"), literal=True)
            .str.replace_all("{x}", pl.col("x"), literal=True)
            + pl.when(pl.col("wp")).then(pl.lit("联系电话") + pl.col("ph")).otherwise(pl.lit(""))
        )
        .to_series()
    )
    dept = pl.DataFrame({"p": dept_pat, "d": reg["district"]}).select(
        pl.col("p").str.replace("{d}", pl.col("d"), literal=True)
    )
    base = pl.DataFrame(
        {
            "ticket_id": _ids("NT", received),
            "received_at": ms(received),
            "channel": _choice(
                rng,
                ["电话", "微信", "APP", "网站", "市长信箱", "部门转办"],
                n,
                [0.62, 0.12, 0.1, 0.08, 0.03, 0.05],
            ),
            "caller_name": people.names(rng, n),
            "caller_phone": phones,
            "request_type": rtypes.astype(str),
            "category_path": np.array([c[0] for c in cats])[cat],
            "content": content,
            "address": addr,
            "district": reg["district"],
            "street": reg["street"],
            "department": dept.to_series(),
            "dispatched_at": ms(dispatched),
            "due_at": ms(due),
            "closed_at": ms(np.full(n, NAT)),
            "status": np.full(n, "办理中"),
            "satisfaction": pl.Series([None] * n, dtype=pl.String),
            "is_repeat": np.where(is_repeat, "是", "否"),
            "updated_at": ms(dispatched),
            "_grid_code": reg["grid_code"],
            "_district_idx": d_idx,
            "_house_idx": places["house_idx"],
        }
    )
    end = period.end
    disp_c = _cap(dispatched, end)
    pending = np.isnat(disp_c)
    closed_c = _cap(closed, end)
    st1_ts = np.where(pending, received, dispatched)
    closed_val = np.where(final == "已办结", closed_c, NAT)
    versions = _expand(
        base,
        [
            (
                _cap(st1_ts, end),
                {
                    "status": np.where(pending, "待派单", "办理中"),
                    "dispatched_at": ms(np.where(pending, NAT, dispatched)),
                    "due_at": ms(np.where(pending, NAT, due)),
                    "updated_at": ms(st1_ts),
                },
            ),
            (
                closed_c,
                {
                    "status": final,
                    "closed_at": ms(closed_val),
                    "satisfaction": _masked(final == "已办结", sat),
                    "updated_at": ms(closed),
                },
            ),
        ],
    )
    links = base.filter(pl.col("_house_idx").is_not_null()).select(
        record_id="ticket_id", house_idx="_house_idx"
    )
    return EntityRecords("hotline_tickets", versions, links)


def _typo_sources(s: Sampler, typo_houses: np.ndarray) -> np.ndarray:
    """For records written with a typo-prone house's address: the rental they are truly
    about (another rental in the same compound when there is one)."""
    if len(typo_houses) == 0:
        return typo_houses
    hs = s.city.houses
    comp = hs["comp_idx"].to_numpy()
    normal = np.flatnonzero(hs["label"].to_numpy() == "normal")
    out = np.empty(len(typo_houses), dtype=np.int64)
    for i, h in enumerate(typo_houses):  # few rows: a loop is clearer than a join here
        same = normal[comp[normal] == comp[h]]
        out[i] = (
            same[s.rng.integers(0, len(same))]
            if len(same)
            else normal[s.rng.integers(0, len(normal))]
        )
    return out


def make_grid_events(s: Sampler, tickets: EntityRecords) -> EntityRecords:
    rng, city, period = s.rng, s.city, s.period
    types = vocab.GRID_EVENT_TYPES
    tw = np.array([t[2] for t in types])
    n_total = round(EVENTS_PER_K * city.residents / 1000 * period.years)
    # 12345 transfers: tickets of suitable categories, group-rental complaints more often.
    t = tickets.versions.unique("ticket_id", keep="first", maintain_order=True)
    cat_map = {
        "城乡建设>房屋管理>群租房": 6,
        "公共安全>社会治安>噪音扰民": 0,
        "城市管理>环境卫生>垃圾清运": 8,
        "公共安全>消防安全>电动车充电": 2,
        "城乡建设>物业管理>物业服务": 9,
        "城市管理>违法建设>违章搭建": 9,
    }
    t = t.filter(pl.col("category_path").is_in(list(cat_map)))
    gr, conf = s.world.get("group_rental"), s.world.get("confounders")
    p_tr = np.where(
        t["category_path"].to_numpy() == "城乡建设>房屋管理>群租房", gr["grid_transfer_share"], 0.0
    )
    p_tr = np.where(p_tr == 0, min(0.9, 0.15 * n_total / max(1, t.height)), p_tr)
    tr = t.filter(pl.Series(rng.random(t.height) < p_tr))
    n_tr = tr.height
    # Patrol findings and citizens' reports at random places; planted group-rental findings.
    n_bg = max(0, n_total - n_tr)
    bg_d = s.districts(n_bg)
    bg_places = s.places(bg_d, room_share=0.5)
    bg_type = rng.choice(len(types), n_bg, p=tw / tw.sum())
    # Patrols reach only part of the group rentals (the world's grid coverage).
    reached = rng.random(city.houses.height) < gr["grid_coverage"]
    findings = np.where(reached, gr["grid_findings_per_year"], 0.0)
    pl_g = _planted(
        city,
        {"overcrowded": findings, "under_registered": findings},
        period.years,
        rng,
        gr["quiet_share"],
    )
    pl_t = _planted(
        city, {"typo_address": conf["typo_address_grid_events_per_year"]}, period.years, rng
    )
    true_t = _typo_sources(s, pl_t)
    planted_type = np.where(rng.random(len(pl_g)) < 0.7, 6, 7)
    places = pl.concat(
        [
            bg_places.select("comp_idx", "building", "room", "house_idx"),
            s.house_places(pl_g),
            s.house_places(pl_t).with_columns(house_idx=pl.Series(true_t)),
        ],
        how="vertical_relaxed",
    )
    etype = np.concatenate([bg_type, planted_type, np.full(len(pl_t), 6)]).astype(np.int64)
    n_own = len(etype)
    reg = s.region_cols(places["comp_idx"].to_numpy())
    own_ts = s.times(reg["district_idx"].to_numpy())
    if s.swings is not None:
        dispute = np.array([t[0] == "矛盾纠纷" for t in types])[etype]
        own_ts = s.swings.retime(own_ts, reg["street_idx"].to_numpy(), "grid_disputes", dispute)
    own_addr = addresses.render(places, city.compounds, city.grids, "grid", rng, **s.addr_rates)
    origin_own = _choice(rng, ["网格员巡查", "群众反映", "部门移交"], n_own, [0.72, 0.17, 0.11])
    origin_own[len(bg_type) :] = "网格员巡查"

    # Transferred events take the ticket's place and text.
    tr_comp_grid = tr["_grid_code"]
    tr_ts = tr["dispatched_at"].fill_null(tr["received_at"]).to_numpy().astype("datetime64[s]")
    tr_ts = tr_ts + (rng.uniform(1, 30, n_tr) * 3600).astype("timedelta64[s]")
    tr_type = np.array([cat_map[c] for c in tr["category_path"].to_list()], dtype=np.int64)

    n = n_own + n_tr
    etype_all = np.concatenate([etype, tr_type])
    ts = np.concatenate([own_ts, tr_ts])
    grid_code = pl.concat([reg["grid_code"], tr_comp_grid])
    d_idx = np.concatenate([reg["district_idx"].to_numpy(), tr["_district_idx"].to_numpy()])
    house = pl.concat([places["house_idx"], tr["_house_idx"]])
    tpl_idx = (rng.random(n) * np.array([len(t[3]) for t in types])[etype_all]).astype(np.int64)
    tpl = _templates([t[3] for t in types], etype_all, tpl_idx)
    addr = pl.concat([own_addr, tr["address"]])
    desc = (
        pl.DataFrame({"tpl": tpl, "a": addr})
        .select(pl.col("tpl").str.replace_all("{addr}", pl.col("a"), literal=True))
        .to_series()
    )
    desc = pl.concat([desc.slice(0, n_own), "12345转办：" + tr["content"]])
    # Reporter: a worker of the grid.
    w = city.workers.select("worker_id", "grid_code").with_columns(
        k=pl.int_range(pl.len()).over("grid_code"), m=pl.len().over("grid_code")
    )
    pick = (
        pl.DataFrame({"grid_code": grid_code, "r": rng.random(n)})
        .join(
            w.group_by("grid_code").agg(pl.col("worker_id")),
            on="grid_code",
            how="left",
            maintain_order="left",
        )
        .select(
            pl.col("worker_id").list.get(
                (pl.col("r") * pl.col("worker_id").list.len()).cast(pl.Int64).clip(0, None),
                null_on_oob=True,
            )
        )
    )
    level = _choice(rng, entities.HANDLING_LEVELS, n, [0.5, 0.3, 0.15, 0.04, 0.01])
    regs = pl.DataFrame({"grid_code": grid_code}).join(
        city.grids.select("grid_code", "community", "street", "district"),
        on="grid_code",
        how="left",
        maintain_order="left",
    )
    dept = np.select(
        [level == "网格", level == "社区", level == "街道", level == "区县"],
        [
            np.char.add(regs["community"].to_numpy().astype(str), "网格工作站"),
            np.char.add(regs["community"].to_numpy().astype(str), "居委会"),
            np.char.add(regs["street"].to_numpy().astype(str), "综治中心"),
            np.char.add(regs["district"].to_numpy().astype(str), "社会治理现代化指挥中心"),
        ],
        "南通市社会治理现代化指挥中心",
    )
    due_days = np.select([level == "网格", level == "社区", level == "街道"], [3, 5, 7], 15)
    due = ts + (due_days * 86400).astype("timedelta64[s]")
    bad = period.bad(d_idx, ts)
    completes = rng.random(n) < np.where(bad, 0.93, 0.988)
    dur = rng.uniform(0.05, 0.9, n) * due_days * 86400
    late = rng.random(n) < np.where(bad, 0.2, 0.05)
    dur = np.where(late, due_days * 86400 * (1 + rng.exponential(0.5, n)), dur)
    closed = ts + dur.astype(np.int64).astype("timedelta64[s]")
    archived = closed + (rng.uniform(1, 6, n) * 86400).astype(np.int64).astype("timedelta64[s]")
    archive = rng.random(n) < 0.6
    returned = ~completes & (rng.random(n) < 0.5)
    accepted = ts + (rng.uniform(0.1, 6, n) * 3600).astype("timedelta64[s]")
    base = pl.DataFrame(
        {
            "event_id": _ids("SJ", ts, 6),
            "grid_code": grid_code,
            "reporter_id": pick.to_series(),
            "reported_at": ms(ts),
            "origin": np.concatenate([origin_own, np.full(n_tr, "12345转办")]),
            "category": np.array([t[0] for t in types])[etype_all],
            "subcategory": np.array([t[1] for t in types])[etype_all],
            "description": desc,
            "address": addr,
            "urgency": _choice(rng, entities.URGENCY, n, [0.85, 0.12, 0.03]),
            "handling_level": level,
            "department": dept,
            "status": np.full(n, "已上报"),
            "due_at": ms(due),
            "closed_at": ms(np.full(n, NAT)),
            "hotline_ticket_id": pl.concat(
                [pl.Series([None] * n_own, dtype=pl.String), tr["ticket_id"]]
            ),
            "updated_at": ms(ts),
            "_house_idx": house,
        }
    )
    end = period.end
    close_ts = _cap(np.where(completes, closed, NAT), end)
    ret_ts = _cap(np.where(returned, accepted + 2 * DAY, NAT), end)
    versions = _expand(
        base,
        [
            (_cap(ts, end), {}),
            (
                _cap(accepted, end),
                {
                    "status": np.where(rng.random(n) < 0.5, "已受理", "处置中"),
                    "updated_at": ms(accepted),
                },
            ),
            (ret_ts, {"status": np.full(n, "已退回"), "updated_at": ms(accepted + 2 * DAY)}),
            (
                close_ts,
                {"status": np.full(n, "已办结"), "closed_at": ms(closed), "updated_at": ms(closed)},
            ),
            (
                _cap(np.where(archive & completes, archived, NAT), end),
                {
                    "status": np.full(n, "已归档"),
                    "closed_at": ms(closed),
                    "updated_at": ms(archived),
                },
            ),
        ],
    )
    links = base.filter(pl.col("_house_idx").is_not_null()).select(
        record_id="event_id", house_idx="_house_idx"
    )
    return EntityRecords("grid_events", versions, links)


def _station(street: pl.Series) -> pl.Series:
    return street.str.replace(r"(街道|镇)$", "") + "派出所"


def make_incidents(s: Sampler) -> tuple[EntityRecords, EntityRecords]:
    """110 incidents and the cases opened from them."""
    rng, city, period = s.rng, s.city, s.period
    types = vocab.INCIDENT_TYPES
    tw = np.array([t[2] for t in types])
    n_bg = round(INCIDENTS_PER_K * city.residents / 1000 * period.years)
    bg_d = s.districts(n_bg)
    bg_type = rng.choice(len(types), n_bg, p=tw / tw.sum())
    room_share = np.where(np.isin(bg_type, [0, 1, 2, 4, 6, 7, 10]), 0.6, 0.1)
    bg_places = s.places(bg_d, room_share=float(room_share.mean()))
    gr, conf = s.world.get("group_rental"), s.world.get("confounders")
    rate = gr["incidents_per_year"]
    pl_g = _planted(
        city, {"overcrowded": rate, "under_registered": rate}, period.years, rng, gr["quiet_share"]
    )
    pl_q = _planted(
        city, {"quarrelsome_neighbour": conf["quarrelsome_incidents_per_year"]}, period.years, rng
    )
    planted = np.concatenate([pl_g, pl_q])
    p_type = _choice(rng, [1, 4, 5, 7, 10], len(planted), [0.35, 0.3, 0.15, 0.1, 0.1]).astype(
        np.int64
    )
    places = pl.concat(
        [bg_places.select("comp_idx", "building", "room", "house_idx"), s.house_places(planted)],
        how="vertical_relaxed",
    )
    itype = np.concatenate([bg_type, p_type]).astype(np.int64)
    n = len(itype)
    reg = s.region_cols(places["comp_idx"].to_numpy())
    ts = s.times(reg["district_idx"].to_numpy(), hours=np.roll(HOURS, 3))
    if s.swings is not None:
        kind = np.array([t[0] for t in types])[itype]
        stream = np.where(
            kind == "刑事",
            "incidents_criminal",
            np.where(kind == "治安", "incidents_public_order", "incidents_other"),
        )
        ts = s.swings.retime(ts, reg["street_idx"].to_numpy(), stream)
    addr = addresses.render(places, city.compounds, city.grids, "police", rng, **s.addr_rates)
    cat = np.array([t[0] for t in types])[itype]
    sub = np.array([t[1] for t in types])[itype]
    tpl_idx = (rng.random(n) * np.array([len(t[3]) for t in types])[itype]).astype(np.int64)
    tpl = _templates([t[3] for t in types], itype, tpl_idx)
    summary = (
        pl.DataFrame({"tpl": tpl, "a": addr})
        .select(pl.col("tpl").str.replace_all("{addr}", pl.col("a"), literal=True))
        .to_series()
    )
    p_case = np.select([cat == "刑事", cat == "治安", cat == "纠纷"], [0.9, 0.35, 0.03], 0.0)
    opened = rng.random(n) < p_case
    outcome = _choice(rng, vocab.INCIDENT_OUTCOMES, n)
    outcome = np.where(
        opened, "已立案侦查", np.where(outcome == "已立案侦查", "已现场处置", outcome)
    )
    station = _station(reg["street"])
    inc = pl.DataFrame(
        {
            "incident_id": _ids("J" + "", ts, 6),
            "reported_at": ms(ts),
            "report_channel": _choice(rng, entities.INCIDENT_CHANNELS, n, [0.85, 0.03, 0.05, 0.07]),
            "category": cat,
            "subcategory": sub,
            "summary": summary,
            "address": addr,
            "station": station,
            "district": reg["district"],
            "outcome": outcome,
            "case_opened": np.where(opened, "是", "否"),
            "_house_idx": places["house_idx"],
            "_street": reg["street"],
        }
    )
    end = period.end
    versions = _expand(inc, [(_cap(ts, end), {})])
    links = inc.filter(pl.col("_house_idx").is_not_null()).select(
        record_id="incident_id", house_idx="_house_idx"
    )
    incidents = EntityRecords("police_incidents", versions, links)

    # Cases from incidents with a case opened.
    c = inc.filter(pl.Series(opened))
    m = c.height
    cause_by_sub = {"盗窃": "盗窃", "诈骗": "诈骗", "赌博": "赌博", "打架斗殴": "殴打他人"}
    cause = np.array(
        [cause_by_sub.get(x, "寻衅滋事") for x in c["subcategory"].to_list()], dtype=object
    )
    hurt = (cause == "殴打他人") & (rng.random(m) < 0.3)
    cause[hurt] = "故意伤害"
    cause = cause.astype(str)
    klass = np.array([vocab.CASE_CAUSES[x] for x in cause]) if m else np.array([], dtype=str)
    occurred = c["reported_at"].to_numpy().astype("datetime64[s]") - (
        rng.exponential(2, m) * 3600
    ).astype("timedelta64[s]")
    filed = c["reported_at"].to_numpy().astype("datetime64[s]") + (
        rng.uniform(0.2, 3, m) * 86400
    ).astype("timedelta64[s]")
    criminal = klass == "刑事案件"
    investigating = filed + (rng.uniform(1, 10, m) * 86400).astype("timedelta64[s]")
    solves = rng.random(m) < np.where(criminal, 0.5, 0.9)
    solved = filed + (rng.uniform(2, 60, m) * 86400).astype("timedelta64[s]")
    concluded = solved + (rng.uniform(10, 30, m) * 86400).astype("timedelta64[s]")
    withdrawn = ~solves & (rng.random(m) < 0.1)
    base = pl.DataFrame(
        {
            "case_id": _ids("A", filed, 6),
            "case_class": klass,
            "cause": cause,
            "occurred_at": ms(occurred),
            "filed_at": ms(filed),
            "address": c["address"],
            "station": c["station"],
            "district": c["district"],
            "street": c["_street"],
            "status": np.full(m, "已立案"),
            "solved_at": ms(np.full(m, NAT)),
            "updated_at": ms(filed),
            "_house_idx": c["_house_idx"],
        }
    )
    cases = _expand(
        base,
        [
            (_cap(filed, end), {}),
            (
                _cap(np.where(criminal, investigating, NAT), end),
                {"status": np.full(m, "侦查中"), "updated_at": ms(investigating)},
            ),
            (
                _cap(np.where(solves, solved, NAT), end),
                {"status": np.full(m, "已破案"), "solved_at": ms(solved), "updated_at": ms(solved)},
            ),
            (
                _cap(np.where(solves, concluded, NAT), end),
                {
                    "status": np.full(m, "已结案"),
                    "solved_at": ms(solved),
                    "updated_at": ms(concluded),
                },
            ),
            (
                _cap(np.where(withdrawn, concluded, NAT), end),
                {"status": np.full(m, "已撤案"), "updated_at": ms(concluded)},
            ),
        ],
    )
    clinks = base.filter(pl.col("_house_idx").is_not_null()).select(
        record_id="case_id", house_idx="_house_idx"
    )
    return incidents, EntityRecords("police_cases", cases, clinks)


def make_floating(s: Sampler) -> EntityRecords:
    rng, city, period = s.rng, s.city, s.period
    hs = city.houses
    gr, conf = s.world.get("group_rental"), s.world.get("confounders")
    # A group rental's tenants move in and out (occupants / stay per year); the world says
    # what share of those moves is registered as floating population.
    moves = hs["occupants"].to_numpy() * 365.0 / gr["stay_days"]
    group_rate = gr["floating_register_share"] * moves
    groups = {
        "group": _planted(
            city,
            {"overcrowded": group_rate, "under_registered": group_rate},
            period.years,
            rng,
            gr["quiet_share"],
        ),
        "dorm": _planted(
            city,
            {"staff_dormitory": conf["staff_dormitory_registrations_per_year"]},
            period.years,
            rng,
        ),
        "student": _planted(
            city,
            {"student_housing": conf["student_housing_registrations_per_year"]},
            period.years,
            rng,
        ),
        "family": _planted(
            city, {"large_family": conf["large_family_registrations_per_year"]}, period.years, rng
        ),
        "flat": _planted(
            city, {"flat_share": conf["flat_share_registrations_per_year"]}, period.years, rng
        ),
    }
    # The planted registrations are part of the city's total, not on top of it.
    total = round(FLOATING_PER_K * city.residents / 1000 * period.years)
    n_bg = max(total // 2, total - sum(len(v) for v in groups.values()))
    n_rent = int(n_bg * 0.75)
    letting = np.flatnonzero(
        (hs["status"].to_numpy() == "在租") & (hs["label"].to_numpy() == "normal")
    )
    bg_h = letting[rng.integers(0, len(letting), n_rent)]
    other = s.places(s.districts(n_bg - n_rent), room_share=1.0)
    places = pl.concat(
        [s.house_places(bg_h), other.select("comp_idx", "building", "room", "house_idx")]
        + [s.house_places(v) for v in groups.values()],
        how="vertical_relaxed",
    )
    n = places.height
    kind = np.concatenate([np.full(n_bg, "bg")] + [np.full(len(v), k) for k, v in groups.items()])
    reg = s.region_cols(places["comp_idx"].to_numpy())
    # Registrations at a rental house come after the house's own registration.
    hidx = places["house_idx"].fill_null(0).to_numpy()
    reg_at = hs["registered_at"].to_numpy().astype("datetime64[s]")[hidx]
    lo = np.where(places["house_idx"].is_not_null().to_numpy(), reg_at, s.period.start)
    registered = s.uniform_times(n, lo=lo)
    # Students arrive around the start of the academic year.
    stud = kind == "student"
    if stud.any():
        years = registered[stud].astype("datetime64[Y]").astype(int) + 1970
        sept = (np.char.add(years.astype(str), "-08-25")).astype("datetime64[D]").astype(
            "datetime64[s]"
        ) + (rng.uniform(0, 25, stud.sum()) * 86400).astype("timedelta64[s]")
        registered[stud] = np.where(
            (sept >= period.start) & (sept < period.end), sept, registered[stud]
        )
    stay_days = np.select(
        [kind == "group", kind == "dorm", kind == "student", kind == "family", kind == "flat"],
        [
            rng.uniform(0.3, 1.7, n) * gr["stay_days"],
            rng.exponential(400, n),
            rng.uniform(250, 320, n),
            rng.exponential(700, n),
            rng.uniform(0.5, 1.5, n) * conf["flat_share_stay_days"],
        ],
        rng.exponential(300, n),
    )
    dereg = registered + (stay_days * 86400).astype(np.int64).astype("timedelta64[s]")
    reason = _choice(rng, entities.RESIDENCE_REASONS, n, [0.7, 0.1, 0.05, 0.1, 0.05])
    reason = np.select(
        [kind == "dorm", kind == "student", kind == "family"], ["务工", "就学", "投亲靠友"], reason
    )
    reason = np.where((kind == "group") & (rng.random(n) < 0.8), "务工", reason)
    male = rng.random(n) < np.where(kind == "group", 0.7, 0.55)
    age_lo = np.where(stud, 18, 18)
    births = np.where(
        stud, people.birth_days(rng, n, 18, 24, 2026), people.birth_days(rng, n, 18, 60, 2026)
    )
    del age_lo
    reg_pick = rng.integers(0, len(vocab.MIGRANT_REGIONS), n)
    region = np.array([r[0] for r in vocab.MIGRANT_REGIONS])[reg_pick]
    hukou = np.array([r[1] for r in vocab.MIGRANT_REGIONS])[reg_pick]
    ids = people.id_numbers(rng, region, births, male)
    addr = addresses.render(places, city.compounds, city.grids, "police", rng, **s.addr_rates)
    hid_share = s.world.get("addresses")["floating_house_id_share"]
    has_hid = places["house_idx"].is_not_null().to_numpy() & (
        rng.random(n) < np.where(kind == "dorm", 0.8, hid_share)
    )
    house_ids = pl.DataFrame({"h": places["house_idx"]}).join(
        hs.select(pl.col("house_idx").cast(pl.Int64).alias("h"), "house_id"),
        on="h",
        how="left",
        maintain_order="left",
    )["house_id"]
    base = pl.DataFrame(
        {
            "registration_id": _ids("LD", registered, 6),
            "name": people.names(rng, n),
            "id_number": ids,
            "sex": np.where(male, "男", "女"),
            "birth_date": pl.Series(births.astype("datetime64[D]")),
            "hukou_place": hukou,
            "address": addr,
            "house_id": _masked(has_hid, house_ids),
            "registered_at": ms(registered),
            "reason": reason,
            "deregistered_at": ms(np.full(n, NAT)),
            "phone": people.mobiles(rng, n),
            "_house_idx": places["house_idx"],
            "_district": reg["district"],
        }
    )
    versions = _expand(
        base,
        [
            (_cap(registered, period.end), {}),
            (_cap(dereg, period.end), {"deregistered_at": ms(dereg)}),
        ],
    )
    links = base.filter(pl.col("_house_idx").is_not_null()).select(
        record_id="registration_id", house_idx="_house_idx"
    )
    return EntityRecords("police_floating_population", versions, links)


def make_hazards(s: Sampler) -> EntityRecords:
    rng, city, period = s.rng, s.city, s.period
    hs = city.houses
    letting = np.flatnonzero(
        (hs["status"].to_numpy() == "在租") & (hs["label"].to_numpy() == "normal")
    )
    hz, gr = s.world.get("hazards"), s.world.get("group_rental")
    n_bg = round(hz["background_per_rental"] * hs.height * period.years)
    bg_h = letting[rng.integers(0, len(letting), n_bg)]
    rate = gr["hazards_per_year"]
    pl_g = _planted(
        city, {"overcrowded": rate, "under_registered": rate}, period.years, rng, gr["quiet_share"]
    )
    pl_d = _planted(city, {"staff_dormitory": 0.5}, period.years, rng)
    house = np.concatenate([bg_h, pl_g, pl_d]).astype(np.int64)
    n = len(house)
    htype = np.concatenate(
        [
            _choice(rng, entities.HAZARD_TYPES, n_bg, [0.2, 0.2, 0.15, 0.25, 0.1, 0.03, 0.07]),
            _choice(
                rng, ["违规隔断", "电动车违规充电", "电线私拉乱接"], len(pl_g), [0.4, 0.35, 0.25]
            ),
            _choice(rng, entities.HAZARD_TYPES, len(pl_d)),
        ]
    )
    reg_at = hs["registered_at"].to_numpy().astype("datetime64[s]")
    found = s.uniform_times(n, lo=reg_at[house] + DAY)
    d_idx = s.house_district[house]
    due = found + (rng.integers(7, 31, n) * 86400).astype("timedelta64[s]")
    bad = period.bad(d_idx, found)
    p_fix = np.where(bad, hz["fixed_share"] - 0.095, hz["fixed_share"])
    if s.swings is not None:
        p_fix = s.swings.fix_probability(p_fix, d_idx, due)
    fixed_ok = rng.random(n) < p_fix
    fix_dur = rng.uniform(0.1, 1.0, n) * (due - found).astype(np.int64)
    fix_dur = np.where(rng.random(n) < 0.05, (due - found).astype(np.int64) * 1.3, fix_dur)
    fixed = found + fix_dur.astype(np.int64).astype("timedelta64[s]")
    progress = found + (rng.uniform(1, 3, n) * 86400).astype("timedelta64[s]")
    in_progress = rng.random(n) < 0.5
    base = pl.DataFrame(
        {
            "hazard_id": _ids("YH", found, 5),
            "house_id": hs["house_id"].to_numpy()[house],
            "found_at": ms(found),
            "hazard_type": htype,
            "found_by": _choice(rng, entities.HAZARD_FINDERS, n, [0.2, 0.5, 0.15, 0.15]),
            "due_at": ms(due),
            "status": np.full(n, "未整改"),
            "fixed_at": ms(np.full(n, NAT)),
            "updated_at": ms(found),
            "_house_idx": house,
        }
    )
    end = period.end
    overdue = due + DAY
    versions = _expand(
        base,
        [
            (_cap(found, end), {}),
            (
                _cap(np.where(in_progress & (progress < fixed), progress, NAT), end),
                {"status": np.full(n, "整改中"), "updated_at": ms(progress)},
            ),
            (
                _cap(np.where(fixed_ok, fixed, NAT), end),
                {"status": np.full(n, "已整改"), "fixed_at": ms(fixed), "updated_at": ms(fixed)},
            ),
            (
                _cap(np.where(~fixed_ok | (fixed > overdue), overdue, NAT), end),
                {"status": np.full(n, "逾期未整改"), "updated_at": ms(overdue)},
            ),
        ],
    )
    # A late fix comes after the overdue state; the newest version wins.
    links = base.select(record_id="hazard_id", house_idx="_house_idx")
    return EntityRecords("rental_hazards", versions, links)


def _visible_signals(
    city: City, earlier: Mapping[str, EntityRecords]
) -> tuple[np.ndarray, np.ndarray]:
    """Per house, what the police could see before deciding where to check: a simple count
    of the records linked to it (floating registrations count a third) plus registry
    crowding, and the number of 12345 complaints about it."""
    hs = city.houses
    seen = np.zeros(hs.height)
    complaints = np.zeros(hs.height)
    for name, rec in earlier.items():
        if name == "rental_houses" or rec.links.height == 0:
            continue
        idx = rec.links["house_idx"].drop_nulls().to_numpy().astype(np.int64)
        np.add.at(seen, idx, 1 / 3 if name == "police_floating_population" else 1.0)
        if name == "hotline_tickets":
            np.add.at(complaints, idx, 1.0)
    per_room = hs["registered_tenants"].to_numpy() / np.maximum(hs["rooms"].to_numpy(), 1)
    return seen + 2.0 * np.maximum(0.0, per_room - 2.0), complaints


def make_checks(s: Sampler, earlier: Mapping[str, EntityRecords]) -> EntityRecords:
    """Police checks of rental houses. Most are targeted: they follow an earlier lead (the
    houses a simple ranking of visible signals puts on top) or a complaint; the rest are
    random. The world sets how many, the share that follows leads, how often a check
    confirms and how often it records 实住人数."""
    rng, city, period = s.rng, s.city, s.period
    ch, ad = s.world.get("checks"), s.world.get("addresses")
    hs = city.houses
    label = hs["label"].to_numpy()
    n_h = hs.height
    naive, complaints = _visible_signals(city, earlier)
    n_targeted = round(ch["targeted_per_group_rental"] * int((label == "group_rental").sum()))
    n_lead = round(n_targeted * ch["lead_share"])
    # Leads: drawn from a pool twice their number at the top of the simple ranking
    # (ties broken at random), as not every lead gets a visit.
    top = np.argsort(-(naive + rng.random(n_h) * 0.5), kind="stable")[: 2 * n_lead]
    lead_h = rng.choice(top, min(n_lead, len(top)), replace=False)
    w = complaints.copy()
    w[lead_h] = 0.0
    n_compl = min(n_targeted - len(lead_h), int((w > 0).sum()))
    compl_h = (
        rng.choice(n_h, n_compl, replace=False, p=w / w.sum()) if n_compl else np.array([], int)
    )
    targeted = np.zeros(n_h, dtype=bool)
    targeted[lead_h] = targeted[compl_h] = True
    follows_lead = np.zeros(n_h, dtype=bool)
    follows_lead[lead_h] = True
    randomly = ~targeted & (rng.random(n_h) < ch["random_per_rental_per_year"] * period.years)
    house = np.flatnonzero(targeted | randomly)
    n = len(house)
    lab = label[house]
    # Targeted checks come in the second half of the period, after the signals.
    half = period.start + (period.end - period.start) // 2
    reg_at = hs["registered_at"].to_numpy().astype("datetime64[s]")[house]
    checked = np.where(
        targeted[house],
        s.uniform_times(n, lo=np.full(n, half)),
        s.uniform_times(n, lo=reg_at + DAY),
    )
    u = rng.random(n)
    c, f = ch["confirm_rate"], ch["false_confirm_rate"]
    verdict = np.where(
        lab == "group_rental",
        np.where(u < c, "确认群租", np.where(u < c + (1 - c) * 0.55, "确认出租", "无法核实")),
        np.where(
            u < f,
            "确认群租",
            np.where(u < 0.86, "确认出租", np.where(u < 0.92, "非出租", "无法核实")),
        ),
    )
    occ = np.maximum(0, hs["occupants"].to_numpy()[house] + rng.integers(-1, 2, n))
    occ = np.where(np.isin(verdict, ["确认出租", "确认群租"]), np.maximum(occ, 1), occ)
    occ = np.where(verdict == "无法核实", 0, occ)
    occ_given = rng.random(n) < ch["occupants_given_share"]
    haz = np.where(lab == "group_rental", rng.poisson(2.0, n), rng.poisson(0.2, n))
    addr = addresses.render(
        s.house_places(house), city.compounds, city.grids, "police", rng, **s.addr_rates
    )
    has_lead = follows_lead[house] & (rng.random(n) < 0.95)
    leads = lead_ids(hs["house_id"].to_numpy()[house])
    street = hs["street"].to_numpy()[house]
    base = pl.DataFrame(
        {
            "check_id": _ids("HC", checked, 5),
            "lead_id": _masked(has_lead, leads),
            "house_id": _masked(
                rng.random(n) < ad["check_house_id_share"], hs["house_id"].to_numpy()[house]
            ),
            "address": addr,
            "checked_at": ms(checked),
            "unit": _station(pl.Series(street.astype(str))),
            "verdict": verdict,
            "occupants_found": pl.DataFrame({"o": occ, "g": occ_given}).select(
                pl.when(pl.col("g")).then(pl.col("o"))
            )["o"],
            "hazards_found": haz,
            "_house_idx": house.astype(np.int64),
        }
    )
    versions = _expand(base, [(_cap(checked, period.end), {})])
    links = base.select(record_id="check_id", house_idx="_house_idx")
    return EntityRecords("police_rental_checks", versions, links)


def lead_ids(house_ids: np.ndarray) -> np.ndarray:
    """The lead id the warehouse issues for a house: ``QZ`` and the first ten hex digits of
    the MD5 of the house id, upper-cased (``mart_group_rental_scores``). A Python loop: there is
    no vectorised MD5 in numpy or polars, and checks are few."""
    return np.array(
        ["QZ" + hashlib.md5(h.encode()).hexdigest()[:10].upper() for h in house_ids.tolist()],
        dtype=str,
    )


def make_houses(s: Sampler) -> tuple[EntityRecords, pl.DataFrame]:
    """Registry versions (daily increments) and the state of every house per month end."""
    rng, city, period = s.rng, s.city, s.period
    hs = city.houses
    n = hs.height
    addr = addresses.render(
        s.house_places(np.arange(n)), city.compounds, city.grids, "rental", rng, **s.addr_rates
    )
    reg_at = hs["registered_at"].to_numpy().astype("datetime64[s]")
    base = hs.select(
        "house_id",
        pl.lit(None, pl.String).alias("address"),
        "district",
        "street",
        "community",
        "landlord_name",
        "landlord_id_number",
        "landlord_phone",
        "floor_area_m2",
        "rooms",
        "rent_mode",
        "registered_tenants",
        "lease_start",
        "lease_end",
        "registered_at",
        "status",
        "lon",
        "lat",
        pl.col("registered_at").alias("updated_at"),
    ).with_columns(address=addr)
    # ~10% of houses change during the period: a tenant count or a status.
    changes = (rng.random(n) < 0.10) & (hs["label"].to_numpy() == "normal")
    change_ts = np.where(changes, s.uniform_times(n, lo=reg_at + DAY), NAT)
    change_ts = np.where(change_ts > reg_at, change_ts, NAT)
    new_status = np.where(rng.random(n) < 0.5, "空置", hs["status"].to_numpy())
    new_tenants = np.clip(hs["registered_tenants"].to_numpy() + rng.integers(-1, 2, n), 0, None)
    overrides = {
        "status": pl.Series(new_status),
        "registered_tenants": pl.Series(new_tenants),
        "updated_at": ms(change_ts),
    }
    in_period = np.where(reg_at >= period.start, reg_at, NAT)
    versions = _expand(base, [(in_period, {}), (change_ts, overrides)])
    # Monthly state: the latest version before each month end.
    both = _expand(base, [(reg_at, {}), (change_ts, overrides)])
    links = hs.select(record_id="house_id", house_idx=pl.col("house_idx").cast(pl.Int64))
    return EntityRecords("rental_houses", versions, links), both
